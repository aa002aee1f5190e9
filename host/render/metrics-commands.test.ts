/**
 * The host's metrics, computed from the files the host keeps (host-render metrics-data),
 * and the CloudWatch agent's configuration as the host renders it (host-render
 * cloudwatch-agent-config): GIVEN real inputs (a certificate from testing/pki, a CRL
 * status as the refresh writes it, PM2's jlist shape), WHEN computed, THEN each metric has
 * the value its definition (host/cloudwatch-agent/host-metrics.ts) says.
 */
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { createRootCa, issueServerCert } from '../../testing/pki';
import { encodeHostEnv } from '../../contract/host-settings';
import { HOST_METRICS, HOST_INFO_METRICS, PUBLISHED_HOST_METRICS } from '../cloudwatch-agent/host-metrics';
import { hostMetricData, pm2RestartTotal, restartsSince, type MetricInputs } from './metrics-commands';
import { runHostRender, type RenderIo } from './host-render';

const NOW = new Date('2026-06-01T12:00:00Z');
const HOUR = 60 * 60 * 1000;
const ca = createRootCa({ subject: { commonName: 'Metrics Test CA' } });
/** A certificate whose notAfter is 30.5 days after NOW (a whole second, as X.509 keeps it). */
const NOT_AFTER = new Date(NOW.getTime() + 30.5 * 24 * HOUR);
const served = issueServerCert(ca, { commonName: 'provider.example.test', dnsNames: ['provider.example.test'], notBefore: new Date(NOW.getTime() - 60 * 24 * HOUR), notAfter: NOT_AFTER });
const fullchain = served.certPem + ca.certPem;

/** `pm2 jlist` as PM2 prints it: a banner may come first; each process has its whole pm2_env. */
const jlist = (restarts: readonly number[], extra: object[] = []): string =>
  `[PM2] Spawning PM2 daemon with pm2_home=/home/provider/.pm2\n${JSON.stringify([
    ...restarts.map((restart_time, pm_id) => ({ pid: 1000 + pm_id, name: 'provider', pm_id, monit: { memory: 1, cpu: 0 }, pm2_env: { status: 'online', restart_time, unstable_restarts: 0, env: { PROVIDER_CONFIG: '/etc/provider-host/provider.json' } } })),
    ...extra,
  ])}\n`;

const crlStatus = (fields: object): string =>
  JSON.stringify({ state: 'ok', checkedAt: new Date(NOW.getTime() - HOUR / 2).toISOString(), lastSuccessAt: NOW.toISOString(), lastError: null, warnHours: 24, hoursToNextUpdate: 48, uncoveredIssuers: [], crls: [], ...fields });

const inputs = (overrides: Partial<MetricInputs> = {}): MetricInputs => ({
  environment: 'example',
  now: NOW,
  certificatePem: fullchain,
  renewalResult: 'success 2026-06-01T03:12:00Z exited/0\n',
  revocation: true,
  crlStatus: crlStatus({}),
  crlRefreshMinutes: 15,
  pm2: { jlist: jlist([1, 2]), pid: '4242' },
  appName: 'provider',
  previousRestarts: JSON.stringify({ pm2Pid: '4242', restartTime: 1 }),
  releaseServing: 'r-20260601-01\n',
  releaseSince: '2026-06-01T11:00:00Z\n',
  ...overrides,
});

const valueOf = (overrides: Partial<MetricInputs>, name: string): number | undefined =>
  hostMetricData(inputs(overrides)).data.find((d) => d.MetricName === name)?.Value;

describe('hostMetricData', () => {
  it('computes every metric from real inputs, in the order of their one definition, each with Environment=<name> and its unit', () => {
    const { data, restartsState, notes } = hostMetricData(inputs());
    expect(notes).toEqual([]);
    expect(data).toEqual([
      { MetricName: 'CertificateDaysLeft', Dimensions: [{ Name: 'Environment', Value: 'example' }], Value: 30.5, Unit: 'None' },
      { MetricName: 'CertificateRenewalFailed', Dimensions: [{ Name: 'Environment', Value: 'example' }], Value: 0, Unit: 'Count' },
      { MetricName: 'CrlHoursToNextUpdate', Dimensions: [{ Name: 'Environment', Value: 'example' }], Value: 47.5, Unit: 'None' },
      { MetricName: 'CrlRefreshFailed', Dimensions: [{ Name: 'Environment', Value: 'example' }], Value: 0, Unit: 'Count' },
      { MetricName: 'AppRestarts', Dimensions: [{ Name: 'Environment', Value: 'example' }], Value: 2, Unit: 'Count' },
      { MetricName: 'DataReleaseAgeSeconds', Dimensions: [{ Name: 'Environment', Value: 'example' }], Value: 3600, Unit: 'Seconds' },
    ]);
    expect(data.map((d) => d.MetricName)).toEqual(Object.values(PUBLISHED_HOST_METRICS).map((m) => m.name));
    expect(restartsState).toEqual({ pm2Pid: '4242', restartTime: 3 });
  });

  it('publishes every alarmed metric (HOST_METRICS) and the informational ones, nothing else', () => {
    expect(Object.keys(PUBLISHED_HOST_METRICS)).toEqual([...Object.keys(HOST_METRICS), ...Object.keys(HOST_INFO_METRICS)]);
  });

  it('CertificateDaysLeft: from the served (first) certificate of fullchain.pem; none before the first certificate', () => {
    expect(valueOf({ now: new Date(NOT_AFTER.getTime() + 12 * HOUR) }, 'CertificateDaysLeft')).toBe(-0.5);
    expect(valueOf({ certificatePem: ca.certPem + served.certPem }, 'CertificateDaysLeft')).toBeGreaterThan(3000); // the CA's own, 10 years
    const none = hostMetricData(inputs({ certificatePem: undefined }));
    expect(none.data.map((d) => d.MetricName)).not.toContain('CertificateDaysLeft');
    expect(none.notes).toEqual(['CertificateDaysLeft: no certificate yet']);
    expect(hostMetricData(inputs({ certificatePem: 'not a certificate' })).notes).toEqual(['CertificateDaysLeft: the certificate cannot be read (no PEM certificate in it)']);
  });

  it('CertificateRenewalFailed: 1 while the last renewal run did not succeed, 0 after a success or before any run', () => {
    expect(valueOf({ renewalResult: 'exit-code 2026-06-01T03:12:00Z exited/1\n' }, 'CertificateRenewalFailed')).toBe(1);
    expect(valueOf({ renewalResult: 'timeout 2026-06-01T03:12:00Z killed/TERM\n' }, 'CertificateRenewalFailed')).toBe(1);
    expect(valueOf({ renewalResult: 'success 2026-06-01T15:12:00Z exited/0\n' }, 'CertificateRenewalFailed')).toBe(0);
    expect(valueOf({ renewalResult: undefined }, 'CertificateRenewalFailed')).toBe(0);
  });

  it('CrlHoursToNextUpdate counts down from the refresh to now; CrlRefreshFailed follows lastError, a missing CRL and a refresh that stopped', () => {
    expect(valueOf({ crlStatus: crlStatus({ hoursToNextUpdate: 10, checkedAt: new Date(NOW.getTime() - 2 * HOUR).toISOString() }) }, 'CrlHoursToNextUpdate')).toBe(8);
    expect(valueOf({ crlStatus: crlStatus({ state: 'warning', lastError: 'http://crl.example.test/ca.crl: unreachable: timeout' }) }, 'CrlRefreshFailed')).toBe(1);
    // No CRL while nginx checks them: it refuses the clients (fail closed), as an expired one.
    const missing = hostMetricData(inputs({ crlStatus: crlStatus({ state: 'missing', hoursToNextUpdate: null, lastError: null }) })).data;
    expect(missing.filter((d) => d.MetricName.startsWith('Crl')).map((d) => [d.MetricName, d.Value])).toEqual([['CrlHoursToNextUpdate', 0], ['CrlRefreshFailed', 1]]);
    // Three refreshes missed (15 min each, + 10): the status is stale, the refresh counts as failed.
    const stale = hostMetricData(inputs({ crlStatus: crlStatus({ checkedAt: new Date(NOW.getTime() - 56 * 60 * 1000).toISOString() }) }));
    expect(stale.data.find((d) => d.MetricName === 'CrlRefreshFailed')?.Value).toBe(1);
    expect(stale.notes).toEqual(['CRL metrics: status.json is older than 55 min; counted as a failed refresh']);
    expect(valueOf({ crlStatus: crlStatus({ checkedAt: new Date(NOW.getTime() - 54 * 60 * 1000).toISOString() }) }, 'CrlRefreshFailed')).toBe(0);
    expect(valueOf({ crlStatus: '{"state":' }, 'CrlRefreshFailed')).toBe(1);
  });

  it('no CRL metric where CRLs are not checked: revocation off, status "disabled", or no refresh yet', () => {
    for (const overrides of [{ revocation: false }, { crlStatus: JSON.stringify({ state: 'disabled', checkedAt: NOW.toISOString() }) }, { crlStatus: undefined }]) {
      expect(hostMetricData(inputs(overrides)).data.map((d) => d.MetricName).filter((n) => n.startsWith('Crl'))).toEqual([]);
    }
  });

  it('AppRestarts: the increase of restart_time summed over the app\'s instances; other apps do not count', () => {
    const other = { name: 'pm2-logrotate', pm2_env: { status: 'online', restart_time: 50 } };
    expect(valueOf({ pm2: { jlist: jlist([3, 4], [other]), pid: '4242' }, previousRestarts: JSON.stringify({ pm2Pid: '4242', restartTime: 5 }) }, 'AppRestarts')).toBe(2);
    expect(pm2RestartTotal(jlist([3, 4], [other]), 'provider')).toBe(7);
    expect(pm2RestartTotal('[]', 'provider')).toBe(0);
    expect(pm2RestartTotal('[PM2] daemon not running', 'provider')).toBeUndefined();
  });

  it('AppRestarts: never negative; a new PM2 daemon or a lower total starts the count anew; the first run takes the baseline', () => {
    const state = (pm2Pid: string, restartTime: number) => ({ pm2Pid, restartTime });
    expect(restartsSince(undefined, state('1', 9))).toBe(0);
    expect(restartsSince(state('1', 4), state('1', 9))).toBe(5);
    expect(restartsSince(state('1', 9), state('2', 1))).toBe(1); // reboot / pm2 kill: a new daemon
    expect(restartsSince(state('1', 9), state('1', 2))).toBe(2); // instances deleted and started again
    for (const [a, b, p] of [[0, 0, '1'], [5, 0, '1'], [5, 0, '2'], [0, 5, '2'], [7, 7, '1']] as const) {
      expect(restartsSince(state('1', a), state(p, b))).toBeGreaterThanOrEqual(0);
    }
    expect(valueOf({ previousRestarts: 'garbage' }, 'AppRestarts')).toBe(0);
  });

  it('AppRestarts left out (and the baseline kept) when PM2 does not run or prints no list', () => {
    const down = hostMetricData(inputs({ pm2: undefined }));
    expect(down.data.map((d) => d.MetricName)).not.toContain('AppRestarts');
    expect(down.restartsState).toBeUndefined();
    expect(down.notes).toEqual(['AppRestarts: PM2 is not running']);
    expect(hostMetricData(inputs({ pm2: { jlist: 'error', pid: '1' } })).notes).toEqual(['AppRestarts: pm2 jlist printed no process list']);
  });

  it('DataReleaseAgeSeconds: since the host started serving its release; none before the first', () => {
    expect(valueOf({ releaseSince: '2026-06-01T12:00:05Z' }, 'DataReleaseAgeSeconds')).toBe(0);
    for (const overrides of [{ releaseServing: undefined }, { releaseServing: 'none\n' }, { releaseSince: 'yesterday' }]) {
      expect(hostMetricData(inputs(overrides)).data.map((d) => d.MetricName)).not.toContain('DataReleaseAgeSeconds');
    }
  });

  it('writes nothing from its inputs but numbers, names and the environment (no PEM, no process environment)', () => {
    const text = JSON.stringify(hostMetricData(inputs()));
    expect(text).not.toMatch(/BEGIN|PROVIDER_CONFIG|provider\.json|r-20260601/);
  });
});

describe('host-render metrics-data and cloudwatch-agent-config (as the scripts call them)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metrics-commands-'));
    writeFileSync(join(dir, 'host.env'), encodeHostEnv({
      domain: 'provider.example.com', region: 'eu-west-2', environment: 'example', bucket: 'bucket-1', bundleKey: 'bundles/abc.zip',
      issuer: 'https://issuer.example.com/', clientId: 'client-1', scope: 'energydata', tlsCertParam: '/p/cert', tlsKeyParam: '/p/key', hostConfigParam: '/p/host-config',
    }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const io = (env: Record<string, string> = {}): RenderIo => ({ env: { PH_ETC: dir, ...env }, readFile: (file) => readFileSync(file, 'utf8'), stdin: () => '' });

  it('metrics-data writes the MetricData file and the next restarts baseline, and prints one summary line', () => {
    writeFileSync(join(dir, 'fullchain.pem'), fullchain);
    writeFileSync(join(dir, 'jlist.json'), jlist([2]));
    const summary = runHostRender([
      'metrics-data', `out=${join(dir, 'data.json')}`, `restarts_state=${join(dir, 'restarts.json')}`, `restarts_next=${join(dir, 'restarts.next')}`,
      `certificate=${join(dir, 'fullchain.pem')}`, `renewal=${join(dir, 'none')}`, `crl=${join(dir, 'none')}`, `release=${join(dir, 'none')}`,
      'app=provider', `jlist=${join(dir, 'jlist.json')}`, 'pm2_pid=77',
    ], io());
    expect(summary).toMatch(/^CertificateDaysLeft=-?\d+(\.\d+)? CertificateRenewalFailed=0 AppRestarts=0; left out or noted: CRL metrics: no status\.json yet \(no CRL refresh has run\); DataReleaseAgeSeconds: no data release served yet\n$/);
    const data = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')) as { MetricName: string }[];
    expect(data.map((d) => d.MetricName)).toEqual(['CertificateDaysLeft', 'CertificateRenewalFailed', 'AppRestarts']);
    expect(JSON.parse(readFileSync(join(dir, 'restarts.next'), 'utf8'))).toEqual({ pm2Pid: '77', restartTime: 2 });
    expect((fs.statSync(join(dir, 'data.json')).mode & 0o777).toString(8)).toBe('600');
  });

  it('both refuse to run without the environment name, naming the setting and the fix', () => {
    writeFileSync(join(dir, 'host.env'), readFileSync(join(dir, 'host.env'), 'utf8').replace('PH_ENVIRONMENT=example\n', ''));
    expect(() => runHostRender(['cloudwatch-agent-config', 'nginx_log_dir=/n', 'pm2_log_dir=/p', 'app=provider', 'host_log_dir=/h', 'cloud_init_log=/c.log', 'le_logs_dir=/l'], io()))
      .toThrow('PH_ENVIRONMENT (environment) is empty: the host config predates operations; deploy the stack again');
    expect(() => runHostRender(['metrics-data', 'out=/x'], io())).toThrow(/^metrics-data needs restarts_next=… restarts_state=…/);
  });

  it('cloudwatch-agent-config: this host\'s paths, the environment\'s log groups, valid against the agent\'s schema', () => {
    const text = runHostRender(['cloudwatch-agent-config', 'nginx_log_dir=/srv/x/nginx', 'pm2_log_dir=/srv/x/pm2/logs', 'app=provider', 'host_log_dir=/srv/x/ph', 'cloud_init_log=/srv/x/ci.log', 'le_logs_dir=/srv/x/le'], io());
    const config = JSON.parse(text) as { logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string }[] } } } };
    expect(config.logs.logs_collected.files.collect_list.map((f) => [f.file_path, f.log_group_name])).toEqual([
      ['/srv/x/nginx/access.json.log', '/provider-host/example/nginx-access'],
      ['/srv/x/nginx/error.log', '/provider-host/example/nginx-error'],
      ['/srv/x/pm2/logs/provider-*.log', '/provider-host/example/app'],
      ['/srv/x/ph/*.log', '/provider-host/example/host-scripts'],
      ['/srv/x/ci.log', '/provider-host/example/host-scripts'],
      ['/srv/x/le/letsencrypt.log', '/provider-host/example/host-scripts'],
    ]);
    const { $schema: _draft, ...schema } = JSON.parse(fs.readFileSync(join(__dirname, '..', 'cloudwatch-agent', 'schema.json'), 'utf8')) as Record<string, unknown>;
    void _draft;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect({ ok: validate(config), errors: validate.errors ?? [] }).toEqual({ ok: true, errors: [] });
    expect(() => runHostRender(['cloudwatch-agent-config', 'nginx_log_dir=relative', 'pm2_log_dir=/p', 'app=provider', 'host_log_dir=/h', 'cloud_init_log=/c.log', 'le_logs_dir=/l'], io()))
      .toThrow(/path nginxAccess "relative\/access.json.log" is not an absolute path/);
  });
});
