/**
 * What the checks talk to, built once per run and passed in: the AWS SDK clients for
 * the environment's region, a public DNS resolver and the Terraform runner. Tests pass
 * mocked clients (aws-sdk-client-mock) and fakes for the other two.
 */
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

/** The NS records of `zone` as public DNS answers them. Rejects with node:dns codes (ENOTFOUND, ENODATA, ETIMEOUT, …). */
export type ResolveNs = (zone: string) => Promise<string[]>;

/**
 * Runs `<binary> version -json` and resolves with its stdout. Rejects with
 * `code: 'ENOENT'` when the binary is not on PATH.
 */
export type RunTerraformVersion = (binary: string) => Promise<string>;

export interface PreflightDeps {
  readonly sts: STSClient;
  readonly ec2: EC2Client;
  readonly route53: Route53Client;
  readonly ssm: SSMClient;
  readonly resolveNs: ResolveNs;
  readonly runTerraformVersion: RunTerraformVersion;
}

/** Resolvers outside the operator's network, so that a split-horizon or cached answer does not hide a missing delegation. */
export const PUBLIC_RESOLVERS: readonly string[] = ['1.1.1.1', '8.8.8.8'];

/** NS look-ups through PUBLIC_RESOLVERS, bounded in time. */
export function publicResolveNs(servers: readonly string[] = PUBLIC_RESOLVERS): ResolveNs {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  resolver.setServers([...servers]);
  return (zone) => resolver.resolveNs(zone);
}

/** `<binary> version -json` through execFile (no shell), at most 30 s. */
export const execTerraformVersion: RunTerraformVersion = (binary) =>
  new Promise((resolveRun, reject) => {
    execFile(binary, ['version', '-json'], { timeout: 30_000, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolveRun(stdout);
    });
  });

/** The real dependencies for `region`: credentials from the SDK's default chain (AWS_PROFILE, env, SSO, …). */
export function createPreflightDeps(region: string): PreflightDeps {
  const common = { region, maxAttempts: 2 };
  return {
    sts: new STSClient(common),
    ec2: new EC2Client(common),
    route53: new Route53Client(common),
    ssm: new SSMClient(common),
    resolveNs: publicResolveNs(),
    runTerraformVersion: execTerraformVersion,
  };
}
