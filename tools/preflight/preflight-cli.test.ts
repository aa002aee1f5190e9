import { ExpiredTokenException } from '@aws-sdk/client-sts';
import {
  ACCOUNT_ID,
  CALLER_ARN,
  CERT_PARAMETER,
  createEnvironmentFolder,
  createPki,
  daysFromNow,
  errors,
  goodAccount,
  isoDay,
  KEY_PARAMETER,
  runPreflight,
  ZONE_ID,
  type EnvironmentFolder,
  type FakeAccount,
  type Pki,
} from '../../testing/preflight-account';
import { PREFLIGHT_HELP } from './cli';

describe('preflight CLI', () => {
  let pki: Pki;
  let folder: EnvironmentFolder;
  let account: FakeAccount;
  let config: string;
  beforeAll(() => {
    pki = createPki();
    folder = createEnvironmentFolder(pki);
  });
  afterAll(() => folder.remove());
  beforeEach(() => {
    account = goodAccount(pki);
    config = folder.write();
  });

  it('GIVEN a good account WHEN preflight runs THEN every line is ✔ and the exit code is 0', async () => {
    const run = await runPreflight(account, ['--config', config], pki);
    expect(run.out).toBe(
      [
        'Preflight for environment "test" (eu-west-2)',
        `✔ account                    ${ACCOUNT_ID} as ${CALLER_ARN}, region eu-west-2`,
        '✔ network                    default VPC vpc-0abc1234def567890 in eu-west-2',
        `✔ hosted zone                energydata.org.uk (${ZONE_ID}) public, delegated: public DNS answers its 4 Route53 name servers`,
        '✔ DNS record                 no A/CAA record for provider.energydata.org.uk yet: the deploy creates it',
        `✔ transport certificate      ${CERT_PARAMETER}: SecureString (Standard, ${Buffer.byteLength(pki.leaf.chainPem)} bytes), CN=provider.energydata.org.uk + 1 intermediate, expires ${isoDay(daysFromNow(365))} (in 365 days)`,
        `✔ transport key              ${KEY_PARAMETER}: SecureString (Standard, ${Buffer.byteLength(pki.leaf.keyPem)} bytes), RSA private key matching the certificate`,
        `✔ trust bundle               2 CA certificates in ${folder.bundleFile}, earliest expiry ${isoDay(daysFromNow(1825))} (CN=Test Issuing CA)`,
        '✔ AMI                        ami-0123456789abcdef0 (AL2023 arm64, /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64)',
        '✔ terraform                  Terraform 1.11.4 (≥ 1.5.0)',
        'all 9 checks passed',
        '',
      ].join('\n'),
    );
    expect(run.code).toBe(0);
    expect(run.err).toBe('');
  });

  const SKIPPED = [
    '- network                    skipped: needs working AWS credentials (see account)',
    '- hosted zone                skipped: needs working AWS credentials (see account)',
    '- DNS record                 skipped: needs working AWS credentials (see account)',
    '- transport certificate      skipped: needs working AWS credentials (see account)',
    '- transport key              skipped: needs working AWS credentials (see account)',
  ];

  it('GIVEN no AWS credentials THEN one ✘ line names the problem and the fix, the AWS checks are skipped, the local ones run', async () => {
    account.callerError = errors.noCredentials();
    const run = await runPreflight(account, ['--config', config], pki);
    const lines = run.out.split('\n');
    expect(lines[1]).toBe(
      '✘ account                    no usable AWS credentials (Could not load credentials from any providers); run "aws configure" or set AWS_PROFILE=<profile> (after "aws sso login --profile <profile>" for SSO)',
    );
    expect(lines.slice(2, 7)).toEqual(SKIPPED);
    expect(lines[7]).toMatch(/^✔ trust bundle +2 CA certificates/);
    expect(lines[8]).toBe('- AMI                        skipped: needs working AWS credentials (see account)');
    expect(lines[9]).toBe('✔ terraform                  Terraform 1.11.4 (≥ 1.5.0)');
    expect(lines[10]).toBe('1 check failed (6 skipped)');
    expect(run.code).toBe(1);
    expect(run.out + run.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('GIVEN expired credentials (ExpiredToken) THEN one ✘ line says so and how to refresh them', async () => {
    account.callerError = new ExpiredTokenException({ $metadata: {}, message: 'The security token included in the request is expired' });
    const run = await runPreflight(account, ['--config', config], pki);
    expect(run.line('account')).toBe(
      '✘ account                    the AWS credentials have expired (ExpiredTokenException); refresh them ("aws sso login --profile <profile>" or a new session token) or run "aws configure" or set AWS_PROFILE=<profile> (after "aws sso login --profile <profile>" for SSO)',
    );
    expect(run.out.split('\n').slice(2, 7)).toEqual(SKIPPED);
    expect(run.code).toBe(1);
  });

  it('GIVEN STS cannot be reached THEN the account line says so and the AWS checks are skipped', async () => {
    account.callerError = Object.assign(new Error('getaddrinfo ENOTFOUND sts.eu-west-2.amazonaws.com'), { code: 'ENOTFOUND' });
    const run = await runPreflight(account, ['--config', config], pki);
    expect(run.line('account')).toBe(
      '✘ account                    cannot identify the caller in eu-west-2: cannot reach AWS (ENOTFOUND: getaddrinfo ENOTFOUND sts.eu-west-2.amazonaws.com); check the network, proxy and region',
    );
    expect(run.line('network')).toBe(SKIPPED[0]);
  });

  it('never prints the key or certificate text, whatever fails', async () => {
    const failures: Array<(a: FakeAccount) => void> = [
      () => undefined,
      (a) => (a.parameters[KEY_PARAMETER] = { Type: 'SecureString', Tier: 'Standard', Value: pki.other.keyPem }),
      (a) => (a.parameters[KEY_PARAMETER] = { Type: 'String', Tier: 'Standard', Value: pki.leaf.keyPem }),
      (a) => (a.parameters[KEY_PARAMETER] = { Type: 'SecureString', Tier: 'Standard', Value: pki.leaf.keyPem.replace(/[A-Za-z]{8}\n/, '!!!!!!!!\n') }),
      (a) => (a.parameters[CERT_PARAMETER] = { Type: 'SecureString', Tier: 'Standard', Value: pki.leaf.keyPem }),
      (a) => (a.parameters[KEY_PARAMETER] = { Type: 'SecureString', Tier: 'Standard', Value: pki.leaf.chainPem }),
      (a) => (a.parameters[CERT_PARAMETER] = { Type: 'SecureString', Tier: 'Standard', Value: pki.expired.chainPem }),
      (a) => (a.parameters[KEY_PARAMETER] = { Type: 'SecureString', Tier: 'Standard', Value: pki.leaf.keyPem.repeat(3) }),
      (a) => (a.parameters[KEY_PARAMETER] = errors.accessDenied('kms:Decrypt')),
    ];
    for (const breakIt of failures) {
      account = goodAccount(pki);
      breakIt(account);
      // runPreflight (test-support) throws when any line of any test key or certificate body is printed
      const run = await runPreflight(account, ['--config', config], pki);
      expect(run.out).not.toContain(pki.leaf.keyPem);
      expect(run.out + run.err).not.toMatch(/-----BEGIN|-----END/);
      for (const line of pki.leaf.keyPem.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----'))) {
        expect(run.out + run.err).not.toContain(line);
      }
    }
  });

  describe('usage', () => {
    it.each([['--help'], ['-h'], ['help']])('%s prints the usage, exit 0', async (arg) => {
      const run = await runPreflight(account, [arg], pki);
      expect(run.out).toBe(`${PREFLIGHT_HELP}\n`);
      expect(run.out.split('\n').length).toBeLessThanOrEqual(14);
      expect(run.code).toBe(0);
    });

    it('a bad flag is a usage error (exit 2), not a check', async () => {
      const run = await runPreflight(account, ['--region', 'us-east-1'], pki);
      expect(run.err).toBe("error: Unknown option '--region'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--region\"\n  hint: npm run preflight -- --help\n");
      expect(run.out).toBe('');
      expect(run.code).toBe(2);
    });

    it.each([
      [['--env', 'a', '--config', 'b.yaml'], 'error: give --env <name> or --config <file>, not both'],
      [['--warn-days', 'soon'], 'error: --warn-days must be a whole number of days, got "soon"'],
      [['--fail-days', '40'], 'error: --fail-days (40) must not exceed --warn-days (30)'],
      [['staging'], 'error: unexpected argument "staging"; name the environment with --env <name>'],
    ])('%j → exit 2 with "%s"', async (args, message) => {
      const run = await runPreflight(account, args, pki);
      expect(run.err).toBe(`${message}\n  hint: npm run preflight -- --help\n`);
      expect(run.code).toBe(2);
    });

    it('a bad environment file prints the ConfigError (fields and fixes), no stack trace, exit 2', async () => {
      const bad = folder.write({ region: 'europe' });
      const run = await runPreflight(account, ['--config', bad], pki);
      expect(run.err).toBe(`Invalid configuration in ${bad}:\n  - region: "europe" is not an AWS region code; use e.g. "eu-west-2"\n`);
      expect(run.out).toBe('');
      expect(run.code).toBe(2);
    });

    it('an unknown --env name lists the known ones, exit 2', async () => {
      const run = await runPreflight(account, ['--env', 'prod'], pki, { environmentsDir: folder.dir });
      expect(run.err).toBe(`Invalid configuration in ${folder.dir}:\n  - no environment "prod" (prod.yaml); known: test\n`);
      expect(run.code).toBe(2);
    });

    it('--env <name> reads <environments>/<name>.yaml; without it PROVIDER_ENV, else "example"', async () => {
      expect((await runPreflight(account, ['--env', 'test'], pki, { environmentsDir: folder.dir })).out).toMatch(/^Preflight for environment "test" \(eu-west-2\)\n/);
      expect((await runPreflight(account, [], pki, { environmentsDir: folder.dir, env: { PROVIDER_ENV: 'test' } })).out).toMatch(/^Preflight for environment "test"/);
      const none = await runPreflight(account, [], pki, { environmentsDir: folder.dir });
      expect(none.err).toBe(`Invalid configuration in ${folder.dir}:\n  - no environment "example" (example.yaml); known: test\n`);
      const two = await runPreflight(account, [], pki, { environmentsDir: folder.dir, env: { PROVIDER_ENV: 'test,prod' } });
      expect(two.err).toBe('error: PROVIDER_ENV names 2 environments (test, prod); preflight checks one: pass --env <name> or --config <file>\n  hint: npm run preflight -- --help\n');
      expect(two.code).toBe(2);
    });
  });
});
