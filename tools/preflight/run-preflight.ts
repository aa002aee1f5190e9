/**
 * Runs the checks in order and returns the report. Checks that need AWS are skipped
 * when the credentials do not work, the record check when there is no zone; the
 * local checks (trust bundle, terraform) always run. Never throws for a bad account:
 * every problem is a line.
 */
import * as path from 'node:path';
import type { EnvironmentConfig } from '../../config/load';
import { PROJECT_ROOT } from '../../lib/project-paths';
import { checkAccount, type AccountCheck } from './account-check';
import { checkAmi } from './ami-check';
import type { PreflightDeps } from './aws-clients';
import { fail, formatCheck, skip, type CheckResult } from './check-result';
import { checkNetwork } from './network-check';
import { checkSecrets } from './secret-checks';
import { checkTerraform } from './terraform-check';
import { checkTrustBundle } from './trust-bundle-check';
import { checkDnsRecord, checkHostedZone, type FoundZone, type HostedZoneCheck, type ZoneSettings } from './zone-checks';

export interface PreflightOptions {
  /** Warn when a certificate expires within this many days. @default 30 */
  readonly warnDays?: number;
  /** Fail when a certificate expires within this many days. @default 7 */
  readonly failDays?: number;
  /** @default new Date() */
  readonly now?: Date;
  /** TERRAFORM_BINARY_NAME, as cdktf reads it; absent: terraform, else tofu. */
  readonly terraformBinaryName?: string;
}

export interface PreflightReport {
  readonly environment: string;
  readonly region: string;
  readonly checks: readonly CheckResult[];
  /** No check failed (warnings and skips allowed). */
  readonly ok: boolean;
}

/** A check that throws despite itself becomes its own failed line, never a stack trace. */
async function guarded<T>(name: string, run: () => Promise<T> | T, onError: (result: CheckResult) => T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return onError(fail(name, `unexpected error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`));
  }
}

/** `config/examples/x.pem` inside the project, else the absolute path. */
function shownPath(file: string): string {
  const relative = path.relative(PROJECT_ROOT, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

export async function runPreflight(config: EnvironmentConfig, deps: PreflightDeps, options: PreflightOptions = {}): Promise<PreflightReport> {
  const region = config.region;
  const days = { warnDays: options.warnDays ?? 30, failDays: options.failDays ?? 7, now: options.now ?? new Date() };
  const checks: CheckResult[] = [];
  const one = (name: string, run: () => Promise<CheckResult> | CheckResult): Promise<CheckResult> => guarded(name, run, (r) => r);

  const account = await guarded<AccountCheck>('account', () => checkAccount(deps.sts, region), (result) => ({ result }));
  checks.push(account.result);
  const aws = account.accountId !== undefined;
  const noCredentials = 'needs working AWS credentials (see account)';

  checks.push(aws ? await one('network', () => checkNetwork(deps.ec2, { region, subnetId: config.instance.subnetId, ipv6: config.instance.ipv6 })) : skip('network', noCredentials));

  const zoneSettings: ZoneSettings = { domain: config.domain, hostedZone: config.hostedZone, ipv6: config.instance.ipv6 };
  let zone: FoundZone | undefined;
  if (aws) {
    const zoneCheck = await guarded<HostedZoneCheck>('hosted zone', () => checkHostedZone(deps.route53, deps.resolveNs, zoneSettings), (result) => ({ result }));
    checks.push(zoneCheck.result);
    zone = zoneCheck.zone;
    const found = zone;
    checks.push(found ? await one('DNS record', () => checkDnsRecord(deps.route53, found, zoneSettings)) : skip('DNS record', 'no usable hosted zone (see hosted zone)'));
  } else {
    checks.push(skip('hosted zone', noCredentials), skip('DNS record', noCredentials));
  }

  if (aws) {
    const secretSettings = {
      region,
      certParameter: config.secrets.tlsCertParameter,
      keyParameter: config.secrets.tlsKeyParameter,
      kmsKeyArn: config.secrets.kmsKeyArn,
      ...days,
    };
    checks.push(...(await guarded('transport certificate', () => checkSecrets(deps.ssm, secretSettings), (r) => [r, skip('transport key', 'see transport certificate')])));
  } else {
    checks.push(skip('transport certificate', noCredentials), skip('transport key', noCredentials));
  }

  const bundle = config.content.trustBundleFile;
  checks.push(await one('trust bundle', () => checkTrustBundle({ file: bundle, shownAs: shownPath(bundle), ...days })));
  checks.push(aws ? await one('AMI', () => checkAmi(deps.ssm, config.instance.architecture, region)) : skip('AMI', noCredentials));
  checks.push(await one('terraform', () => checkTerraform(deps.runTerraformVersion, options.terraformBinaryName)));

  return { environment: config.name, region, checks, ok: checks.every((c) => c.status !== 'fail') };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report as printed: a heading, one line per check, a summary. */
export function formatReport(report: PreflightReport): string {
  const count = (status: CheckResult['status']): number => report.checks.filter((c) => c.status === status).length;
  const [failed, warned, skipped] = [count('fail'), count('warn'), count('skip')];
  const extras = [warned ? plural(warned, 'warning') : '', skipped ? `${skipped} skipped` : ''].filter(Boolean).join(', ');
  const summary = failed > 0
    ? `${plural(failed, 'check')} failed${extras ? ` (${extras})` : ''}`
    : `all ${report.checks.length - skipped} checks passed${extras ? ` (${extras})` : ''}`;
  return [`Preflight for environment "${report.environment}" (${report.region})`, ...report.checks.map((c) => formatCheck(c)), summary].join('\n');
}
