/**
 * The host side of operations, run for real: publish-metrics.sh against a temporary root
 * with a certificate from testing/pki, a CRL status as the refresh writes it, the real PM2
 * (node_modules/pm2: its daemon, its jlist, its restart counts) and the AWS stand-in
 * (testing/replica/aws-standin.ts, which records what put-metric-data sent); the renewal
 * result recorder; install_cloudwatch_agent with real ACLs (setfacl, package acl) for a
 * stand-in agent user and a stand-in amazon-cloudwatch-agent-ctl; log()'s own files.
 * The scripts need root (runuser, chown, ACLs); without root these tests are skipped.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { createRootCa, issueServerCert } from '../../testing/pki';
import { isRoot, readLines, REPO, runBash, runLib, SCRIPTS, writeBundle, writeExecutable, type BashResult } from '../../testing/host-scripts';
import { AGENT_USER, type CloudWatchAgentConfig } from '../cloudwatch-agent/agent-config';
import { HOST_METRICS_NAMESPACE, PUBLISHED_HOST_METRICS } from '../cloudwatch-agent/host-metrics';
import { writeAwsStandinBin } from '../../testing/aws-standin-bin';

const DOMAIN = 'provider.example.test';
const DAY = 24 * 60 * 60 * 1000;
const PM2 = join(REPO, 'node_modules', 'pm2', 'bin', 'pm2');
// A value in the app's environment that must never reach CloudWatch or a log.
const APP_SECRET = 'tok_metrics_test_5f1c0a9e7d';
const PEM_LABEL = ['PRIVATE', 'KEY'].join(' ');

let dir: string;
let root: string;
let env: Record<string, string>;

const path = (...parts: string[]) => join(root, ...parts);
function put(file: string, text: string, mode = 0o644) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
}


beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'metrics-'));
  chmodSync(dir, 0o755); // the stand-in agent user must be able to reach the logs below
  root = join(dir, 'root');
  mkdirSync(root, { mode: 0o755 });
  const bundle = join(dir, 'bundle');
  writeBundle(bundle, 'console.log("app");\n');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeAwsStandinBin(bin);
  mkdirSync(join(dir, 'aws'));
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    PH_AWS_STANDIN_ROOT: join(dir, 'aws'),
    // The contract settings (host.env's), from the caller's environment as the replica's overrides.
    PH_DOMAIN: DOMAIN, PH_REGION: 'eu-west-2', PH_ENVIRONMENT: 'example', PH_BUCKET: 'bucket', PH_BUNDLE_KEY: 'bundles/test.zip',
    PH_ISSUER: 'https://issuer.example.test', PH_CLIENT_ID: 'provider', PH_SCOPE: 'energydata', PH_TLS_CERT_PARAM: '/p/cert',
    PH_TLS_KEY_PARAM: '/p/key', PH_HOST_CONFIG_PARAM: '/p/host-config',
    // This host's layout, under the temporary root.
    PH_ETC: path('etc/provider-host'), PH_PREFIX: path('opt/provider-host'), PH_CURRENT: bundle, PH_STATE: path('var/lib/provider-host'),
    PH_USER: 'root', PH_GROUP: 'root', PH_USER_HOME: path('home/provider'), PH_PM2: PM2, PH_PM2_HOME: path('home/provider/.pm2'),
    PH_NODE: process.execPath, PH_AWS: 'aws', PH_LE_DIR: path('etc/letsencrypt'), PH_LE_LOGS_DIR: path('var/log/letsencrypt'),
    PH_NGINX_LOG_DIR: path('var/log/nginx'), PH_HOST_LOG_DIR: path('var/log/provider-host'), PH_CLOUD_INIT_LOG: path('var/log/cloud-init-output.log'),
    PH_SYSTEMD: '0', PH_SYSTEMD_DIR: path('etc/systemd/system'), PH_LOGROTATE_DIR: path('etc/logrotate.d'),
  };
  for (const folder of ['etc/provider-host', 'var/lib/provider-host', 'home/provider']) mkdirSync(path(folder), { recursive: true, mode: 0o755 });
  chmodSync(path('home/provider'), 0o750);
});

afterEach(() => {
  // Stop this test's PM2 daemon (by its home), if it started one.
  if (existsSync(join(env.PH_PM2_HOME, 'pm2.pid'))) spawnSync(process.execPath, [PM2, 'kill'], { env: { ...process.env, PM2_HOME: env.PH_PM2_HOME }, encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
});

const publish = (extra: Record<string, string> = {}): Promise<BashResult> => runBash([join(SCRIPTS, 'publish-metrics.sh')], { ...env, ...extra });

interface Recorded { namespace: string; region: string; metrics: { name: string; value: number; unit: string; dimensions: Record<string, string> }[] }
const recorded = (): Recorded[] => readLines(join(dir, 'aws', 'cloudwatch', 'metrics.jsonl')).map((line) => JSON.parse(line) as Recorded);
const lastValues = (): Record<string, number> => Object.fromEntries((recorded().pop()?.metrics ?? []).map((m) => [m.name, m.value]));

/** The certificate nginx serves (and its key beside it), notAfter `days` from now. */
function serveCertificate(days: number): Date {
  const ca = createRootCa({ subject: { commonName: 'Metrics CA' } });
  const notAfter = new Date(Math.floor((Date.now() + days * DAY) / 1000) * 1000);
  const cert = issueServerCert(ca, { commonName: DOMAIN, dnsNames: [DOMAIN], notAfter });
  put(path('etc/letsencrypt/live', DOMAIN, 'fullchain.pem'), cert.certPem + ca.certPem);
  put(path('etc/letsencrypt/live', DOMAIN, 'privkey.pem'), cert.keyPem, 0o600);
  return notAfter;
}

/** The real PM2 as the app user runs it: a 2-instance cluster whose first instance crashes once. */
function startApp(): void {
  const app = join(dir, 'app.js');
  writeFileSync(app, `const fs = require('fs'); const m = ${JSON.stringify(join(dir, 'crashed'))};\nif (!fs.existsSync(m)) { fs.writeFileSync(m, ''); process.exit(1); }\nsetInterval(() => {}, 1000);\n`);
  pm2('start', app, '--name', 'provider', '-i', '2');
  // Wait until PM2 has restarted the crashed instance (restart_time 1).
  const deadline = Date.now() + 15000;
  while (restartTotal() < 1 && Date.now() < deadline) spawnSync('sleep', ['0.2']);
  expect(restartTotal()).toBe(1);
}
function pm2(...args: string[]): string {
  const result = spawnSync(process.execPath, [PM2, ...args], { env: { PATH: process.env.PATH ?? '', HOME: env.PH_USER_HOME, PM2_HOME: env.PH_PM2_HOME, APP_TOKEN: APP_SECRET }, encoding: 'utf8' });
  expect({ args, status: result.status }).toEqual({ args, status: 0 });
  return result.stdout;
}
function restartTotal(): number {
  const out = pm2('jlist');
  const list = JSON.parse(out.slice(out.search(/^\[/m))) as { name: string; pm2_env: { restart_time: number } }[];
  return list.filter((p) => p.name === 'provider').reduce((sum, p) => sum + p.pm2_env.restart_time, 0);
}

function crlStatus(fields: object): void {
  put(path('etc/provider-host/revocation/status.json'), `${JSON.stringify({ state: 'ok', checkedAt: new Date().toISOString(), lastSuccessAt: new Date().toISOString(), lastError: null, warnHours: 24, hoursToNextUpdate: 100, uncoveredIssuers: [], crls: [], ...fields }, null, 2)}\n`);
}

function serveRelease(sinceSecondsAgo: number): void {
  put(path('var/lib/provider-host/release/serving'), 'r-20260101-01\n');
  put(path('var/lib/provider-host/release/serving-since'), `${new Date(Date.now() - sinceSecondsAgo * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}\n`);
}

(isRoot ? describe : describe.skip)('publish-metrics.sh', () => {
  jest.setTimeout(90000);

  it('publishes every metric from the host\'s real inputs in one put-metric-data, with Environment=<name>, and no secret anywhere', async () => {
    const notAfter = serveCertificate(40);
    crlStatus({ hoursToNextUpdate: 100, lastError: null });
    startApp();
    serveRelease(600);
    mkdirSync(path('var/log/provider-host'), { recursive: true }); // install_host_logs' folder: log() writes there
    const result = await publish();
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('publish-metrics.sh: published to ProviderHost (Environment=example): CertificateDaysLeft=') });
    const calls = recorded();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ namespace: HOST_METRICS_NAMESPACE, region: 'eu-west-2' });
    expect(calls[0]!.metrics.map((m) => m.name)).toEqual(Object.values(PUBLISHED_HOST_METRICS).map((m) => m.name));
    for (const m of calls[0]!.metrics) expect(m.dimensions).toEqual({ Environment: 'example' });
    const values = lastValues();
    expect(values.CertificateDaysLeft).toBeCloseTo((notAfter.getTime() - Date.now()) / DAY, 1);
    expect(values.CertificateRenewalFailed).toBe(0);
    expect(values.CrlHoursToNextUpdate).toBeCloseTo(100, 0);
    expect(values.CrlRefreshFailed).toBe(0);
    // The first publication takes PM2's count as its baseline.
    expect(values.AppRestarts).toBe(0);
    expect(values.DataReleaseAgeSeconds).toBeGreaterThanOrEqual(600);
    expect(values.DataReleaseAgeSeconds).toBeLessThan(660);

    // What left the host, what it logged, and what it keeps: names and numbers only.
    const state = path('var/lib/provider-host/metrics');
    const kept = readdirSync(state).map((name) => readFileSync(join(state, name), 'utf8')).join('\n');
    const everything = [readFileSync(join(dir, 'aws', 'cloudwatch', 'metrics.jsonl'), 'utf8'), readFileSync(join(dir, 'aws', 'calls.log'), 'utf8'), result.stdout, result.stderr, kept,
      readFileSync(path('var/log/provider-host/publish-metrics.log'), 'utf8')].join('\n');
    expect(everything).not.toContain('-----BEGIN');
    expect(everything).not.toContain(PEM_LABEL);
    expect(everything).not.toContain(APP_SECRET);
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}|AKIA[0-9A-Z]{16}|tok_[a-z0-9_]{8,}/);
    expect(readdirSync(state)).toEqual(expect.arrayContaining(['metric-data.json', 'restarts.json']));
    expect(readdirSync(state)).not.toContain('jlist.json'); // PM2's list (the app's environment) is not kept
    expect((statSync(state).mode & 0o777).toString(8)).toBe('700');
  });

  it('AppRestarts: the restarts since the previous publication, per PM2 daemon, never negative', async () => {
    serveCertificate(40);
    startApp();
    expect((await publish()).status).toBe(0);
    expect(lastValues().AppRestarts).toBe(0);
    pm2('restart', 'provider'); // both instances: 2 restarts
    expect((await publish()).status).toBe(0);
    expect(lastValues().AppRestarts).toBe(2);
    expect((await publish()).status).toBe(0);
    expect(lastValues().AppRestarts).toBe(0);

    // A put that fails keeps the baseline: the next run still counts those restarts.
    pm2('restart', 'provider');
    const denied = writeExecutable(join(dir, 'denied-aws'), '#!/bin/sh\necho "An error occurred (AccessDenied) when calling the PutMetricData operation" >&2\nexit 254\n');
    const failed = await publish({ PH_AWS: denied });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain('ERROR: cannot put the metrics into CloudWatch (ProviderHost, eu-west-2): An error occurred (AccessDenied) when calling the PutMetricData operation');
    expect((await publish()).status).toBe(0);
    expect(lastValues().AppRestarts).toBe(2);

    // A new daemon (a reboot, pm2 kill) counts from 0 again: its count is all new, not negative.
    pm2('kill');
    pm2('start', join(dir, 'app.js'), '--name', 'provider', '-i', '2');
    expect((await publish()).status).toBe(0);
    expect(lastValues().AppRestarts).toBe(0);
    expect(recorded().flatMap((call) => call.metrics).filter((m) => m.name === 'AppRestarts').every((m) => m.value >= 0)).toBe(true);
  });

  it('leaves out what the host does not have: no certificate yet, PM2 not running (never started by asking), no CRL checks, no release', async () => {
    const result = await publish({ PH_REVOCATION: 'false' });
    expect(result.status).toBe(0);
    expect(recorded()[0]!.metrics.map((m) => m.name)).toEqual(['CertificateRenewalFailed']);
    expect(result.stderr).toContain('left out or noted: CertificateDaysLeft: no certificate yet; CRL metrics: revocation checking is off; AppRestarts: PM2 is not running; DataReleaseAgeSeconds: no data release served yet');
    // `pm2 jlist` would have started a daemon: it was not asked.
    expect(existsSync(join(env.PH_PM2_HOME, 'pm2.pid'))).toBe(false);
  });

  it('CrlRefreshFailed and CrlHoursToNextUpdate from the refresh\'s status.json', async () => {
    crlStatus({ state: 'warning', hoursToNextUpdate: 20, lastError: 'http://crl.example.test/ca.crl: unreachable: timeout' });
    expect((await publish()).status).toBe(0);
    expect(lastValues()).toMatchObject({ CrlHoursToNextUpdate: 20, CrlRefreshFailed: 1 });
    crlStatus({ state: 'disabled' });
    expect((await publish()).status).toBe(0);
    expect(Object.keys(lastValues())).toEqual(['CertificateRenewalFailed']);
  });

  it('publishes nothing, and says why, without the environment name (a host config older than operations)', async () => {
    const result = await publish({ PH_ENVIRONMENT: '' });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('no metrics published: PH_ENVIRONMENT is empty (a host config older than operations; deploy the stack again)');
    expect(existsSync(join(dir, 'aws', 'cloudwatch'))).toBe(false);
  });

  it('uses the namespace and the agent user of their one definition', () => {
    const metricsSh = readFileSync(join(SCRIPTS, 'lib', 'metrics.sh'), 'utf8');
    expect(/^PH_METRICS_NAMESPACE=(\S+)$/m.exec(metricsSh)?.[1]).toBe(HOST_METRICS_NAMESPACE);
    const commonSh = readFileSync(join(SCRIPTS, 'lib', 'common.sh'), 'utf8');
    expect(/: "\$\{PH_CWAGENT_USER:=([^}]+)\}"/.exec(commonSh)?.[1]).toBe(AGENT_USER);
  });
});

(isRoot ? describe : describe.skip)('the renewal result (ExecStopPost of provider-certbot-renew.service)', () => {
  const record = (systemd: Record<string, string>) => runBash([join(SCRIPTS, 'certbot-renew-result.sh')], { ...env, ...systemd });

  it('a failed run sets CertificateRenewalFailed to 1 until a run succeeds', async () => {
    const failed = await record({ SERVICE_RESULT: 'exit-code', EXIT_CODE: 'exited', EXIT_STATUS: '1' });
    expect(failed.status).toBe(0);
    expect(failed.stderr).toContain('certbot-renew-result.sh: ERROR: the certificate renewal failed (exit-code, exited/1)');
    expect(readFileSync(path('var/lib/provider-host/renewal-result'), 'utf8')).toMatch(/^exit-code \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ exited\/1\n$/);
    await publish();
    expect(lastValues().CertificateRenewalFailed).toBe(1);

    expect((await record({ SERVICE_RESULT: 'success', EXIT_CODE: 'exited', EXIT_STATUS: '0' })).status).toBe(0);
    await publish();
    expect(lastValues().CertificateRenewalFailed).toBe(0);
  });

  it('keeps only the words systemd uses (nothing else from the environment reaches the file)', async () => {
    await record({ SERVICE_RESULT: 'x; rm -rf /', EXIT_CODE: '$(id)', EXIT_STATUS: '1' });
    expect(readFileSync(path('var/lib/provider-host/renewal-result'), 'utf8')).toMatch(/^unknown \S+ unknown\n$/);
  });
});

(isRoot ? describe : describe.skip)('install_cloudwatch_agent', () => {
  const agent = 'nobody'; // stands in for cwagent: an unprivileged user that exists here
  const ctlCalls = () => join(dir, 'ctl.log');
  const ctlState = () => join(dir, 'ctl-state');
  let agentEnv: Record<string, string>;

  beforeEach(() => {
    mkdirSync(ctlState());
    // amazon-cloudwatch-agent-ctl: status from a state file; fetch-config keeps the file it loads.
    writeExecutable(
      join(dir, 'bin', 'amazon-cloudwatch-agent-ctl'),
      `#!/usr/bin/env bash\nprintf 'ctl %s\\n' "$*" >>'${ctlCalls()}'\nstate='${ctlState()}'\ncase $2 in\n`
        + `  status) if [[ -e $state/running ]]; then echo '{ "status": "running", "configstatus": "configured" }'; else echo '{ "status": "stopped", "configstatus": "configured" }'; fi ;;\n`
        + `  fetch-config) if [[ -e $state/fail ]]; then echo 'Configuration validation second phase failed'; exit 1; fi; src=\${*: -1}; cp "\${src#file:}" "$state/loaded.json"; touch "$state/running" ;;\n`
        + '  *) exit 1 ;;\nesac\n',
    );
    // The logs the agent ships, with the modes their owners give them on AL2023.
    put(path('var/log/nginx/access.json.log'), '{"status":200}\n', 0o640);
    put(path('var/log/nginx/error.log'), '', 0o640);
    chmodSync(path('var/log/nginx'), 0o711);
    put(path('home/provider/.pm2/logs/provider-out.log'), '{"level":30}\n');
    put(path('home/provider/.pm2/logs/provider-error.log'), '');
    put(path('var/log/letsencrypt/letsencrypt.log'), '2026-01-01 00:00:00,000:DEBUG:certbot\n', 0o600);
    chmodSync(path('var/log/letsencrypt'), 0o700);
    put(path('var/log/cloud-init-output.log'), 'Cloud-init finished\n', 0o640);
    serveCertificate(40);
    agentEnv = { ...env, PH_CWAGENT_USER: agent, PH_CWAGENT_CONFIG: path('etc/provider-host/cloudwatch-agent.json'), PH_SCRIPT_NAME: 'setup.sh' };
  });

  const install = (extra: Record<string, string> = {}) => runLib('set_defaults; install_cloudwatch_agent; echo "changes=$PH_CHANGES"', { ...agentEnv, ...extra });
  const canRead = (file: string) => spawnSync('runuser', ['-u', agent, '--', 'cat', file], { encoding: 'utf8' }).status === 0;
  const collected = (): string[] => {
    const config = JSON.parse(readFileSync(agentEnv.PH_CWAGENT_CONFIG!, 'utf8')) as CloudWatchAgentConfig;
    return config.logs.logs_collected.files.collect_list.flatMap((f) => {
      if (!f.file_path.includes('*')) return [f.file_path];
      const folder = dirname(f.file_path);
      const pattern = new RegExp(`^${f.file_path.slice(folder.length + 1).replace(/[.]/g, '\\.').replace('*', '.*')}$`);
      return readdirSync(folder).filter((name) => pattern.test(name)).map((name) => join(folder, name));
    });
  };

  (spawnSync('sh', ['-c', 'command -v setfacl']).status === 0 ? it : it.skip)(
    'renders the configuration on the host, lets the agent read exactly what it ships (ACLs), loads it once; a second run changes nothing',
    async () => {
      const first = await install();
      expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: expect.not.stringContaining('WARNING') });
      expect(readLines(ctlCalls())).toEqual([`ctl -a fetch-config -m ec2 -s -c file:${agentEnv.PH_CWAGENT_CONFIG}`]);
      expect(readFileSync(join(ctlState(), 'loaded.json'), 'utf8')).toBe(readFileSync(agentEnv.PH_CWAGENT_CONFIG!, 'utf8'));

      // Valid for the agent, this host's paths, the environment's log groups.
      const config = JSON.parse(readFileSync(agentEnv.PH_CWAGENT_CONFIG!, 'utf8')) as CloudWatchAgentConfig;
      const { $schema: _draft, ...schema } = JSON.parse(readFileSync(join(REPO, 'host', 'cloudwatch-agent', 'schema.json'), 'utf8')) as Record<string, unknown>;
      void _draft;
      const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
      expect({ ok: validate(config), errors: validate.errors ?? [] }).toEqual({ ok: true, errors: [] });
      expect(config.logs.logs_collected.files.collect_list.map((f) => [f.file_path, f.log_group_name])).toEqual([
        [path('var/log/nginx/access.json.log'), '/provider-host/example/nginx-access'],
        [path('var/log/nginx/error.log'), '/provider-host/example/nginx-error'],
        [path('home/provider/.pm2/logs/provider-*.log'), '/provider-host/example/app'],
        [path('var/log/provider-host/*.log'), '/provider-host/example/host-scripts'],
        [path('var/log/cloud-init-output.log'), '/provider-host/example/host-scripts'],
        [path('var/log/letsencrypt/letsencrypt.log'), '/provider-host/example/host-scripts'],
      ]);

      // The agent's user reads every file it ships (the host scripts' own log included),
      // new ones too (logrotate's, nginx's), and nothing else.
      const shipped = collected();
      expect(shipped).toEqual(expect.arrayContaining([path('var/log/provider-host/setup.log'), path('home/provider/.pm2/logs/provider-error.log')]));
      for (const file of shipped) expect({ file, readable: canRead(file) }).toEqual({ file, readable: true });
      put(path('var/log/nginx/access.json.log.new'), 'x\n', 0o640);
      expect(canRead(path('var/log/nginx/access.json.log.new'))).toBe(true);
      expect(canRead(path('etc/letsencrypt/live', DOMAIN, 'privkey.pem'))).toBe(false);
      // The folders keep their modes (ensure_dir finds nothing to change).
      expect((statSync(path('home/provider')).mode & 0o777).toString(8)).toBe('750');
      expect((statSync(path('var/log/provider-host')).mode & 0o777).toString(8)).toBe('750');

      rmSync(ctlCalls());
      const second = await install();
      expect(second.stdout).toBe('changes=0\n');
      expect(readLines(ctlCalls())).toEqual(['ctl -a status']);
    },
  );

  it('loads the configuration again when the agent is not running, or when the configuration changed', async () => {
    await install();
    rmSync(join(ctlState(), 'running'));
    rmSync(ctlCalls());
    expect((await install()).stdout).toBe('changes=1\n');
    expect(readLines(ctlCalls())).toEqual(['ctl -a status', `ctl -a fetch-config -m ec2 -s -c file:${agentEnv.PH_CWAGENT_CONFIG}`]);

    rmSync(ctlCalls());
    const other = await install({ PH_ENVIRONMENT: 'staging' });
    expect(other.stderr).toContain(`changed: ${agentEnv.PH_CWAGENT_CONFIG}`);
    expect(readLines(ctlCalls())).toEqual([`ctl -a fetch-config -m ec2 -s -c file:${agentEnv.PH_CWAGENT_CONFIG}`]);
    expect(readFileSync(join(ctlState(), 'loaded.json'), 'utf8')).toContain('/provider-host/staging/nginx-access');
  });

  it('a configuration the agent refuses is a warning, not a failed setup', async () => {
    writeFileSync(join(ctlState(), 'fail'), '');
    const result = await install();
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`WARNING: the CloudWatch agent did not take ${agentEnv.PH_CWAGENT_CONFIG} (Configuration validation second phase failed )`);
  });

  it('without the agent (the replica, tests): one line, the scripts\' log folder and its rotation still installed, nothing else', async () => {
    const result = await install({ PH_CWAGENT_CTL: 'no-such-amazon-cloudwatch-agent-ctl' });
    expect(result.status).toBe(0);
    expect(result.stderr.split('\n').filter((line) => line.includes('CloudWatch agent'))).toEqual([
      expect.stringMatching(/setup\.sh: no CloudWatch agent here \(no-such-amazon-cloudwatch-agent-ctl not found\): logs and memory\/disk metrics are not shipped$/),
    ]);
    expect(existsSync(agentEnv.PH_CWAGENT_CONFIG!)).toBe(false);
    expect(statSync(path('var/log/provider-host')).isDirectory()).toBe(true);
    const rotation = path('etc/logrotate.d/provider-host-scripts');
    expect(readFileSync(rotation, 'utf8')).toContain(`${path('var/log/provider-host')}/*.log {`);
    const dryRun = spawnSync('logrotate', ['-d', '-s', join(dir, 'logrotate.status'), rotation], { encoding: 'utf8' });
    expect(dryRun.stderr).not.toMatch(/error/i);
    expect(dryRun.status).toBe(0);
    const again = await install({ PH_CWAGENT_CTL: 'no-such-amazon-cloudwatch-agent-ctl' });
    expect(again.stdout).toBe('changes=0\n');
  });
});

describe('log(): stderr as always, and the script\'s own file for the agent', () => {
  const logLines = (script: string, extra: Record<string, string>) => runLib(script, { PATH: process.env.PATH ?? '', PH_SCRIPT_NAME: 'update.sh', ...extra });

  it('appends each line to $PH_HOST_LOG_DIR/<script>.log once that folder exists, and writes stderr unchanged', async () => {
    const logs = join(dir, 'logs');
    const before = await logLines('log "before the folder"', { PH_HOST_LOG_DIR: logs });
    expect(before.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ update\.sh: before the folder\n$/);
    mkdirSync(logs);
    const result = await logLines('log "one"; log "two words"; changed "a thing"', { PH_HOST_LOG_DIR: logs });
    expect(result.status).toBe(0);
    const file = readFileSync(join(logs, 'update.log'), 'utf8');
    expect(file).toBe(result.stderr);
    expect(file.split('\n').map((line) => line.replace(/^\S+ /, ''))).toEqual(['update.sh: one', 'update.sh: two words', 'update.sh: changed: a thing', '']);
  });

  it('never fails the script when the file cannot be written', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(join(logs, 'update.log'), { recursive: true }); // a folder where the file would be
    const result = await logLines('log "still here"; echo survived', { PH_HOST_LOG_DIR: logs });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('survived\n');
    expect(result.stderr).toMatch(/update\.sh: still here\n$/);
  });
});
