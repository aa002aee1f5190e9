/**
 * Test support for preflight: a generated PKI, an environment folder, and a fake AWS
 * account behind aws-sdk-client-mock, all in one mutable description that each test
 * breaks in one place. Keys are generated at test time and written to a temp folder
 * only; no key material lives in the repository.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client, type Subnet, type Vpc } from '@aws-sdk/client-ec2';
import {
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  NoSuchHostedZone,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { DescribeParametersCommand, GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { stringify } from 'yaml';
import { AMI_PARAMETER_PREFIX } from '../stacks/constructs/host';
import { createIntermediateCa, createRootCa, issueServerCert, type CertificateAuthority, type IssuedCertificate } from './pki';
import type { PreflightDeps } from '../tools/preflight/aws-clients';
import { runPreflightCli, type PreflightCliDeps } from '../tools/preflight/cli';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The clock every test runs at (whole seconds: certificates carry no milliseconds). */
export const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
export const ACCOUNT_ID = '123456789012';
export const CALLER_ARN = 'arn:aws:iam::123456789012:user/ops';
export const REGION = 'eu-west-2';
export const ZONE_ID = 'Z0123456789ABCDEFGHIJ';
export const ZONE_NAME = 'energydata.org.uk';
export const DOMAIN = 'provider.energydata.org.uk';
export const CERT_PARAMETER = '/provider-host/test/transport-cert';
export const KEY_PARAMETER = '/provider-host/test/transport-key';
export const AMI_PARAMETER = `${AMI_PARAMETER_PREFIX}arm64`;
export const ROUTE53_NS = ['ns-1.awsdns-01.org', 'ns-2.awsdns-02.co.uk', 'ns-3.awsdns-03.com', 'ns-4.awsdns-04.net'];

/** `new Date(NOW + days)` */
export const daysFromNow = (days: number): Date => new Date(NOW.getTime() + days * DAY_MS);
export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

export interface Pki {
  readonly root: CertificateAuthority;
  readonly intermediate: CertificateAuthority;
  /** Valid for 365 days from NOW. */
  readonly leaf: IssuedCertificate;
  /** Another leaf: its key does not match `leaf`. */
  readonly other: IssuedCertificate;
  readonly expired: IssuedCertificate;
  readonly inThreeDays: IssuedCertificate;
  readonly inTwentyDays: IssuedCertificate;
}

export function createPki(): Pki {
  const root = createRootCa({ subject: { commonName: 'Test Trust Root', organization: 'Preflight Tests' }, notBefore: daysFromNow(-30), notAfter: daysFromNow(3650) });
  const intermediate = createIntermediateCa(root, { subject: { commonName: 'Test Issuing CA' }, notBefore: daysFromNow(-30), notAfter: daysFromNow(1825) });
  const server = (notBefore: Date, notAfter: Date): IssuedCertificate => issueServerCert(intermediate, { commonName: DOMAIN, dnsNames: [DOMAIN], notBefore, notAfter });
  return {
    root,
    intermediate,
    leaf: server(daysFromNow(-1), daysFromNow(365)),
    other: server(daysFromNow(-1), daysFromNow(365)),
    expired: server(daysFromNow(-400), daysFromNow(-10)),
    inThreeDays: server(daysFromNow(-100), new Date(daysFromNow(3).getTime() + 60 * 60 * 1000)),
    inTwentyDays: server(daysFromNow(-100), new Date(daysFromNow(20).getTime() + 60 * 60 * 1000)),
  };
}

export interface FakeParameter {
  readonly Type: string;
  readonly Tier: string;
  readonly Value: string;
}

/** The state of the fake account; a test changes one thing and runs preflight. */
export interface FakeAccount {
  /** Thrown by GetCallerIdentity (and every other call) when set. */
  callerError?: Error;
  /** Thrown by one call, by command name, e.g. `{ DescribeVpcs: accessDenied }`. */
  failing?: Record<string, Error>;
  vpcs: Vpc[];
  subnets: Subnet[];
  zones: Array<{ Id: string; Name: string; PrivateZone: boolean; NameServers: string[] }>;
  /** What public DNS answers for the zone's NS, or the node:dns error. */
  publicNs: string[] | Error;
  records: ResourceRecordSet[];
  /** By name; an Error is what GetParameter throws for a listed parameter. */
  parameters: Record<string, FakeParameter | Error>;
  ami: string | Error;
  /** `terraform version -json` output per binary; absent: ENOENT. */
  terraform: Record<string, string>;
}

export const terraformJson = (version: string): string =>
  JSON.stringify({ terraform_version: version, platform: 'linux_amd64', provider_selections: {}, terraform_outdated: false });

export function goodAccount(pki: Pki): FakeAccount {
  return {
    vpcs: [{ VpcId: 'vpc-0abc1234def567890', IsDefault: true }],
    subnets: [],
    zones: [
      { Id: '/hostedzone/ZOTHERZONE0000000001', Name: 'example.net.', PrivateZone: false, NameServers: ['ns-9.awsdns-09.org'] },
      { Id: `/hostedzone/${ZONE_ID}`, Name: `${ZONE_NAME}.`, PrivateZone: false, NameServers: ROUTE53_NS },
    ],
    publicNs: ROUTE53_NS.map((ns) => ns.toUpperCase()).reverse(),
    records: [
      { Name: `${ZONE_NAME}.`, Type: 'NS', ResourceRecords: ROUTE53_NS.map((Value) => ({ Value: `${Value}.` })) },
      { Name: `www.${ZONE_NAME}.`, Type: 'A', ResourceRecords: [{ Value: '198.51.100.7' }] },
    ],
    parameters: {
      [CERT_PARAMETER]: { Type: 'SecureString', Tier: 'Standard', Value: pki.leaf.chainPem },
      [KEY_PARAMETER]: { Type: 'SecureString', Tier: 'Standard', Value: pki.leaf.keyPem },
    },
    ami: 'ami-0123456789abcdef0',
    terraform: { terraform: terraformJson('1.11.4') },
  };
}

const named = (name: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { name, ...extra });

export const errors = {
  noCredentials: (): Error => named('CredentialsProviderError', 'Could not load credentials from any providers'),
  accessDenied: (action: string): Error => named('AccessDeniedException', `User: ${CALLER_ARN} is not authorized to perform: ${action}`),
  parameterNotFound: (): Error => new ParameterNotFound({ $metadata: {}, message: '' }),
  dns: (code: string): Error => named('Error', `queryNs ${code} ${ZONE_NAME}`, { code }),
};

const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const route53 = mockClient(Route53Client);
const ssm = mockClient(SSMClient);

const bare = (id: string): string => id.replace(/^\/hostedzone\//, '');

/** Points the four mocked clients at `account` (call in beforeEach; the state is read at call time). */
export function installAccount(account: FakeAccount): void {
  for (const client of [sts, ec2, route53, ssm]) client.reset();
  const guard = (command: string): void => {
    if (account.callerError) throw account.callerError;
    const failure = account.failing?.[command];
    if (failure) throw failure;
  };
  sts.on(GetCallerIdentityCommand).callsFake(() => {
    guard('GetCallerIdentity');
    return { Account: ACCOUNT_ID, Arn: CALLER_ARN, UserId: 'AIDAEXAMPLE' };
  });
  ec2.on(DescribeVpcsCommand).callsFake(() => {
    guard('DescribeVpcs');
    return { Vpcs: account.vpcs.filter((v) => v.IsDefault) };
  });
  ec2.on(DescribeSubnetsCommand).callsFake((input: { SubnetIds?: string[] }) => {
    guard('DescribeSubnets');
    const found = account.subnets.filter((s) => input.SubnetIds?.includes(s.SubnetId ?? ''));
    if (found.length === 0) throw named('InvalidSubnetID.NotFound', `The subnet ID '${input.SubnetIds?.join(',')}' does not exist`);
    return { Subnets: found };
  });
  route53.on(ListHostedZonesByNameCommand).callsFake(() => {
    guard('ListHostedZonesByName');
    return { HostedZones: account.zones.map((z) => ({ Id: z.Id, Name: z.Name, CallerReference: 'x', Config: { PrivateZone: z.PrivateZone } })), IsTruncated: false, MaxItems: 100 };
  });
  route53.on(GetHostedZoneCommand).callsFake((input: { Id?: string }) => {
    guard('GetHostedZone');
    const zone = account.zones.find((z) => bare(z.Id) === bare(input.Id ?? ''));
    if (!zone) throw new NoSuchHostedZone({ $metadata: {}, message: `No hosted zone found with ID: ${input.Id}` });
    return {
      HostedZone: { Id: zone.Id, Name: zone.Name, CallerReference: 'x', Config: { PrivateZone: zone.PrivateZone } },
      DelegationSet: { NameServers: zone.NameServers },
    };
  });
  route53.on(ListResourceRecordSetsCommand).callsFake(() => {
    guard('ListResourceRecordSets');
    return { ResourceRecordSets: account.records, IsTruncated: false, MaxItems: 20 };
  });
  ssm.on(DescribeParametersCommand).callsFake((input: { ParameterFilters?: Array<{ Values?: string[] }> }) => {
    guard('DescribeParameters');
    const name = input.ParameterFilters?.[0]?.Values?.[0] ?? '';
    const parameter = account.parameters[name];
    if (parameter === undefined) return { Parameters: [] };
    // an Error is thrown by GetParameter: the parameter is listed, reading it fails
    if (parameter instanceof Error) return { Parameters: [{ Name: name, Type: 'SecureString', Tier: 'Standard' }] };
    return { Parameters: [{ Name: name, Type: parameter.Type, Tier: parameter.Tier }] };
  });
  ssm.on(GetParameterCommand).callsFake((input: { Name?: string }) => {
    guard('GetParameter');
    if (input.Name === AMI_PARAMETER) {
      if (account.ami instanceof Error) throw account.ami;
      return { Parameter: { Name: input.Name, Type: 'String', Value: account.ami } };
    }
    const parameter = account.parameters[input.Name ?? ''];
    if (parameter instanceof Error) throw parameter;
    if (parameter === undefined) throw errors.parameterNotFound();
    return { Parameter: { Name: input.Name, Type: parameter.Type, Value: parameter.Value } };
  });
}

/** Real SDK clients (their `send` is mocked above) plus fakes for DNS and terraform reading `account`. */
export function fakeDeps(account: FakeAccount): (region: string) => PreflightDeps {
  return (region) => ({
    sts: new STSClient({ region }),
    ec2: new EC2Client({ region }),
    route53: new Route53Client({ region }),
    ssm: new SSMClient({ region }),
    resolveNs: async (zone) => {
      if (account.publicNs instanceof Error) throw account.publicNs;
      return zone === ZONE_NAME ? account.publicNs : [];
    },
    runTerraformVersion: async (binary) => {
      const output = account.terraform[binary];
      if (output === undefined) throw Object.assign(new Error(`spawn ${binary} ENOENT`), { code: 'ENOENT' });
      return output;
    },
  });
}

/** A temp folder with an environment file `test.yaml`, its trust bundle and datasets folder. */
export interface EnvironmentFolder {
  readonly dir: string;
  readonly bundleFile: string;
  /** Writes `test.yaml` with `overrides` merged over the defaults (one level deep; an undefined field is left out). */
  write(overrides?: Record<string, unknown>): string;
  remove(): void;
}

export function createEnvironmentFolder(pki: Pki): EnvironmentFolder {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-'));
  mkdirSync(join(dir, 'shared_data'));
  const bundleFile = join(dir, 'trust-bundle.pem');
  writeFileSync(bundleFile, pki.root.certPem + pki.intermediate.certPem);
  const base: Record<string, Record<string, unknown> | string> = {
    name: 'test',
    region: REGION,
    domain: DOMAIN,
    hostedZone: { name: ZONE_NAME },
    instance: { type: 't4g.small' },
    acme: { email: 'ops@example.org' },
    oauth: { clientId: 'test-client', scope: 'energydata' },
    revocation: { crlUrls: ['http://crl.example.org/root.crl'] },
    content: { trustBundleFile: 'trust-bundle.pem', datasetsDir: 'shared_data' },
  };
  return {
    dir,
    bundleFile,
    write(overrides = {}) {
      const merged: Record<string, unknown> = { ...base };
      for (const [key, value] of Object.entries(overrides)) {
        const current = merged[key];
        merged[key] = value !== null && typeof value === 'object' && typeof current === 'object' ? { ...current, ...value } : value;
      }
      const file = join(dir, 'test.yaml');
      writeFileSync(file, stringify(merged));
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** The printed line of check `name`, e.g. `line('account')`. */
  line(name: string): string;
}

/** Every secret text a run must never print: each line of each key and the certificate bodies. */
export function secretLines(pki: Pki): string[] {
  const bodyLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
  return [pki.leaf, pki.other, pki.expired, pki.inThreeDays, pki.inTwentyDays].flatMap((c) => [...bodyLines(c.keyPem), ...bodyLines(c.certPem)]);
}

/** Runs the CLI against `account`; fails the test if any secret text appears in stdout or stderr. */
export async function runPreflight(account: FakeAccount, args: string[], pki: Pki, cli: Pick<PreflightCliDeps, 'env' | 'environmentsDir'> = {}): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let outText = '';
  let errText = '';
  out.on('data', (c: Buffer) => (outText += c.toString()));
  err.on('data', (c: Buffer) => (errText += c.toString()));
  installAccount(account);
  const code = await runPreflightCli(args, out, err, { env: {}, ...cli, makeDeps: fakeDeps(account), now: NOW });
  const printed = outText + errText;
  const leaked = secretLines(pki).filter((line) => printed.includes(line));
  if (leaked.length > 0 || /-----(BEGIN|END) /.test(printed)) throw new Error(`preflight printed secret material (${leaked.length} PEM lines)`);
  return {
    code,
    out: outText,
    err: errText,
    line: (name) => outText.split('\n').find((l) => l.slice(2, 28).trimEnd() === name) ?? `(no line "${name}")`,
  };
}
