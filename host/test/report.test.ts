/**
 * The daily access report's host side, without AWS: the keys the script writes are the
 * bucket layout's, the rendered units pass systemd-analyze and carry the hour, the timer
 * is installed only when the report is on (and removed when it is turned off), and the
 * renderer's command reads only the log files that can hold the day. The whole run on the
 * replica's real logs, through the AWS stand-in, is test/e2e/operations.e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { decodeHostEnv, encodeHostEnv } from '../../contract/host-settings';
import { renderTemplateFile } from '../../lib/render-template';
import { builtHostRenderer } from '../../testing/host-renderer';
import { isRoot, REPO, runLib, writeBundle } from '../../testing/host-scripts';
import { appLogRe, dailyReportCommand, dayStart, logFilesSince, NGINX_ACCESS_LOG_RE, ReportError } from '../render/report-commands';

const REPORT_SH = readFileSync(join(REPO, 'host', 'scripts', 'lib', 'report.sh'), 'utf8');
const SYSTEMD = join(REPO, 'host', 'systemd');
const BASE = {
  domain: 'provider.example.test', region: 'eu-west-2', environment: 'test', bucket: 'test-bucket', bundleKey: 'bundles/x.zip',
  issuer: 'https://auth.example.test/', clientId: 'provider', scope: 'datasets', tlsCertParam: '/t/cert', tlsKeyParam: '/t/key', hostConfigParam: '/t/host-config',
};
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('the script writes exactly the keys of the bucket layout (the keys the instance role may write)', () => {
  expect(REPORT_SH).toContain(`PH_REPORT_HTML_KEY=${BUCKET_LAYOUT.accessReportHtmlKey}\n`);
  expect(REPORT_SH).toContain(`PH_REPORT_JSON_KEY=${BUCKET_LAYOUT.accessReportJsonKey}\n`);
});

it('the units pass systemd-analyze verify once rendered: daily at the hour (UTC), persistent, sandboxed like the PM2 unit', () => {
  writeFileSync(join(dir, 'provider-host-report.service'), renderTemplateFile(join(SYSTEMD, 'provider-host-report.service.tmpl'), {
    ph_etc: '/etc/provider-host', script: '/opt/provider-host/current/host/scripts/daily-report.sh', state_dir: '/var/lib/provider-host', host_log_dir: '/var/log/provider-host',
  }));
  const timer = renderTemplateFile(join(SYSTEMD, 'provider-host-report.timer.tmpl'), { hour: '06' });
  writeFileSync(join(dir, 'provider-host-report.timer'), timer);
  expect(timer.split('\n')).toEqual(expect.arrayContaining(['OnCalendar=*-*-* 06:00:00 UTC', 'Persistent=true', 'RandomizedDelaySec=10min']));
  const result = spawnSync('systemd-analyze', ['verify', 'provider-host-report.service', 'provider-host-report.timer'], { cwd: dir, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const service = readFileSync(join(dir, 'provider-host-report.service'), 'utf8').split('\n');
  const pm2Sandbox = readFileSync(join(SYSTEMD, 'pm2-hardening.conf.tmpl'), 'utf8').split('\n').filter((line) => /^(NoNewPrivileges|ProtectSystem|Private|Protect|Restrict|LockPersonality)/.test(line) && !line.startsWith('ProtectHome'));
  expect(service).toEqual(expect.arrayContaining([...pm2Sandbox, 'ProtectHome=read-only', 'ReadWritePaths=-/var/lib/provider-host -/var/log/provider-host']));
});

(isRoot ? it : it.skip)('install_report_timer writes the units at PH_REPORT_HOUR when the report is on, and removes them when it is turned off', async () => {
  const bundle = join(dir, 'bundle');
  writeBundle(bundle, 'console.log("app");\n');
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  const units = join(dir, 'systemd');
  const env = {
    PATH: process.env.PATH!, PH_ETC: etc, PH_CURRENT: bundle, PH_PREFIX: join(dir, 'opt'), PH_STATE: join(dir, 'state'), PH_SYSTEMD: '0', PH_SYSTEMD_DIR: units,
    PH_RENDER: builtHostRenderer(), PH_NODE: process.execPath, PH_HOST_LOG_DIR: join(dir, 'log'),
  };
  mkdirSync(env.PH_STATE);
  writeFileSync(join(etc, 'host.env'), encodeHostEnv({ ...BASE, reportSender: 'reports@provider.example.test', reportRecipients: 'ops@example.org', reportHour: 7 }));
  const on = await runLib('set_defaults; install_report_timer; echo "changes=$PH_CHANGES"', env);
  expect(on.stderr).toContain('provider-host-report.timer');
  expect(on.stdout).toContain('changes=3'); // the units' folder, the service, the timer
  expect(readFileSync(join(units, 'provider-host-report.timer'), 'utf8')).toContain('OnCalendar=*-*-* 07:00:00 UTC');
  expect(readFileSync(join(units, 'provider-host-report.service'), 'utf8')).toContain(`ExecStart=/bin/bash ${join(dir, 'opt')}/current/host/scripts/daily-report.sh`);
  expect((await runLib('set_defaults; install_report_timer; echo "changes=$PH_CHANGES"', env)).stdout).toContain('changes=0');

  writeFileSync(join(etc, 'host.env'), encodeHostEnv(BASE));
  const off = await runLib('set_defaults; install_report_timer; echo "changes=$PH_CHANGES"', env);
  expect(off.stderr).toContain('provider-host-report.timer removed (operations.report is off)');
  expect(existsSync(join(units, 'provider-host-report.timer'))).toBe(false);
  expect(existsSync(join(units, 'provider-host-report.service'))).toBe(false);
  expect((await runLib('set_defaults; install_report_timer; echo "changes=$PH_CHANGES"', env)).stdout).toContain('changes=0');
}, 60000);

describe('host-render daily-report', () => {
  const day = '2026-12-04';
  const since = dayStart(day);

  it('reads the access log and the rotated copies written since the day began, oldest first; not older copies, not other files', () => {
    const touch = (name: string, ms: number) => {
      writeFileSync(join(dir, name), '');
      utimesSync(join(dir, name), ms / 1000, ms / 1000);
    };
    touch('access.json.log', since + 30 * 3600_000);
    touch('access.json.log.1', since + 3600_000);
    touch('access.json.log.2.gz', since - 3600_000);
    touch('error.log', since + 3600_000);
    touch('provider-out.log', since + 3600_000);
    touch('provider-error.log.1', since + 2 * 3600_000);
    touch('other-out.log', since + 3600_000);
    expect(logFilesSince(dir, NGINX_ACCESS_LOG_RE, since)).toEqual([join(dir, 'access.json.log.1'), join(dir, 'access.json.log')]);
    expect(logFilesSince(dir, appLogRe('provider'), since)).toEqual([join(dir, 'provider-out.log'), join(dir, 'provider-error.log.1')]);
    expect(logFilesSince(join(dir, 'missing'), NGINX_ACCESS_LOG_RE, since)).toEqual([]);
  });

  it('refuses a day that is not one, and runs only when the report is on', async () => {
    expect(() => dayStart('2026-02-30')).toThrow('day="2026-02-30" is not a day; use YYYY-MM-DD');
    const off = decodeHostEnv(encodeHostEnv(BASE));
    await expect(dailyReportCommand(off, { day, nginx_log_dir: dir, pm2_log_dir: dir, app: 'provider', out_dir: dir }, () => undefined, new Date())).rejects.toThrow(ReportError);
    const on = decodeHostEnv(encodeHostEnv({ ...BASE, reportSender: 'reports@provider.example.test', reportRecipients: 'ops@example.org,data@example.org' }));
    await expect(dailyReportCommand(on, { day, nginx_log_dir: dir, pm2_log_dir: dir, app: 'provider' }, () => undefined, new Date())).rejects.toThrow('daily-report needs out_dir=');
    const lines: string[] = [];
    expect(await dailyReportCommand(on, { day, nginx_log_dir: dir, pm2_log_dir: dir, app: 'provider', out_dir: dir }, (line) => lines.push(line), new Date())).toBe(
      `${day}: 0 requests, 0 bytes, 0 refused, 0 consumers, 0 datasets from 0 nginx and 0 app log file(s)\n`,
    );
    expect(lines.join('\n')).toContain('no nginx access log written since 2026-12-04');
    expect(JSON.parse(readFileSync(join(dir, 'mail-destination.json'), 'utf8'))).toEqual({ ToAddresses: ['ops@example.org', 'data@example.org'] });
    const content = JSON.parse(readFileSync(join(dir, 'mail-content.json'), 'utf8')) as { Simple: { Subject: { Data: string }; Body: { Html: { Data: string }; Text: { Data: string } } } };
    expect(content.Simple.Subject.Data).toBe('Access report provider.example.test 2026-12-04: 0 requests, 0 consumers, 0 refused');
    expect(content.Simple.Body.Html.Data).toBe(readFileSync(join(dir, 'access-report.html'), 'utf8'));
    expect(content.Simple.Body.Text.Data).toContain('No requests in this window.');
    expect(content.Simple.Body.Text.Data).toContain('s3://test-bucket/host-status/access-report.html');
  });
});
