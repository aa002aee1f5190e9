/**
 * The PH_SYSTEMD=1 branches of the host scripts, which the replica (no
 * systemd, PH_SYSTEMD=0) never runs: nginx_apply / nginx_ensure_running
 * (lib/common.sh), ensure_pm2_startup (lib/app.sh) and install_renewal_timer
 * (lib/renewal.sh), with systemctl, pm2 and nginx stand-ins that record argv.
 */
import { builtHostRenderer } from '../../testing/host-renderer';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, readLines, REPO, runLib, writeExecutable, writePm2Stub, writeSystemctlStub } from '../../testing/host-scripts';

const touch = (path: string) => writeFileSync(path, '');

let dir: string;
let bin: string;
let state: string;
let calls: string;
let env: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'systemd-branches-'));
  bin = join(dir, 'bin');
  state = join(dir, 'systemctl-state');
  calls = join(dir, 'calls.log');
  mkdirSync(bin);
  mkdirSync(join(dir, 'systemd'));
  writeSystemctlStub(bin, state, calls);
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    PH_SCRIPT_NAME: 'setup.sh',
    PH_SYSTEMD: '1',
    PH_SYSTEMD_DIR: join(dir, 'systemd'),
    PH_NGINX_LOG_DIR: join(dir, 'nginx-logs'),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const changes = (stderr: string) => stderr.split('\n').filter((line) => line.includes(': changed: '));

describe('nginx_apply with systemd', () => {
  beforeEach(() => {
    writeExecutable(join(bin, 'nginx'), `#!/usr/bin/env bash\nprintf 'nginx %s\\n' "$*" >>'${calls}'\n[[ ! -e '${dir}/nginx-t-fails' ]]\n`);
    env.PH_NGINX_BIN = 'nginx';
    env.PH_NGINX_ARGS = '';
  });

  it('checks the configuration, enables and starts nginx once, then only reloads it', async () => {
    const first = await runLib('nginx_apply; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual([
      'nginx -t -q',
      'systemctl is-enabled --quiet nginx',
      'systemctl enable --quiet nginx',
      'systemctl is-active --quiet nginx',
      'systemctl start nginx',
    ]);
    expect(changes(first.stderr)).toEqual([expect.stringMatching(/changed: nginx enabled$/)]);

    rmSync(calls);
    const second = await runLib('nginx_apply; echo "changes=$PH_CHANGES"', env);
    expect(second.stdout).toBe('changes=0\n');
    expect(readLines(calls)).toEqual(['nginx -t -q', 'systemctl is-enabled --quiet nginx', 'systemctl is-active --quiet nginx', 'systemctl reload nginx']);
  });

  it('does not touch the running nginx when nginx -t rejects the configuration', async () => {
    touch(join(dir, 'nginx-t-fails'));
    const result = await runLib('nginx_apply || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('ERROR: nginx -t rejected the configuration; the previous site keeps serving');
    expect(readLines(calls)).toEqual(['nginx -t -q']);
  });

  it('fails, naming it, when systemctl reload nginx fails (even where set -e does not hold)', async () => {
    touch(join(state, 'enabled.nginx'));
    touch(join(state, 'active.nginx'));
    touch(join(state, 'fail.reload'));
    const result = await runLib('nginx_apply || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('ERROR: systemctl reload nginx failed; see: journalctl -u nginx');
  });

  it('nginx_ensure_running leaves a running nginx alone and starts a stopped one', async () => {
    touch(join(state, 'enabled.nginx'));
    touch(join(state, 'active.nginx'));
    await runLib('nginx_ensure_running', env);
    expect(readLines(calls)).toEqual(['systemctl is-active --quiet nginx']);

    rmSync(calls);
    rmSync(join(state, 'active.nginx'));
    const result = await runLib('nginx_ensure_running', env);
    expect(result.status).toBe(0);
    expect(readLines(calls)).toEqual([
      'systemctl is-active --quiet nginx',
      'nginx -t -q',
      'systemctl is-enabled --quiet nginx',
      'systemctl is-active --quiet nginx',
      'systemctl start nginx',
    ]);
  });
});

// ensure_pm2_startup installs the sandbox drop-in as root:root.
(isRoot ? describe : describe.skip)('ensure_pm2_startup with systemd (as root)', () => {
  const unitPath = () => join(dir, 'systemd', 'pm2-provider.service');
  const dropIn = () => join(dir, 'systemd', 'pm2-provider.service.d', 'provider-host-hardening.conf');
  beforeEach(() => {
    writePm2Stub({ bin, log: calls, pm2State: join(dir, 'pm2-state'), systemdDir: join(dir, 'systemd'), systemctlState: state });
    mkdirSync(join(dir, 'state'));
    Object.assign(env, {
      PH_PM2: 'pm2',
      PH_USER: 'provider',
      PH_USER_HOME: '/home/provider',
      PH_PM2_HOME: '/home/provider/.pm2',
      PH_RUN: '/run/provider',
      PH_CURRENT: REPO,
      PH_STATE: join(dir, 'state'),
      PH_RENDER: builtHostRenderer(),
      PH_NODE: process.execPath,
    });
  });

  it('runs pm2 startup systemd once for the app user and home, adds the sandbox drop-in and reloads systemd, then nothing', async () => {
    const first = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=3\n');
    expect(readLines(calls)).toEqual(['pm2 startup systemd -u provider --hp /home/provider --service-name pm2-provider', 'systemctl daemon-reload']);
    expect(changes(first.stderr).map((line) => line.replace(/^.*changed: /, ''))).toEqual([unitPath(), `${unitPath()}.d/`, dropIn()]);
    const text = readFileSync(dropIn(), 'utf8');
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=read-only',
      'ReadWritePaths=-/home/provider/.pm2 -/run/provider',
      'PrivateTmp=yes',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'RestrictSUIDSGID=yes',
      'IPAddressDeny=169.254.169.254 fd00:ec2::254',
      'After=provider-host-metadata-guard.service',
    ]) {
      expect(text.split('\n')).toContain(line);
    }

    rmSync(calls);
    const second = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', env);
    expect(second.stdout).toBe('changes=0\n');
    expect(readLines(calls)).toEqual(['systemctl is-enabled --quiet pm2-provider']);
  });

  it('runs pm2 startup again when the unit exists but is not enabled', async () => {
    touch(unitPath());
    const result = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', env);
    expect(result.stdout).toBe('changes=3\n');
    expect(readLines(calls)).toEqual([
      'systemctl is-enabled --quiet pm2-provider',
      'pm2 startup systemd -u provider --hp /home/provider --service-name pm2-provider',
      'systemctl daemon-reload',
    ]);
  });

  it('reloads systemd when only the drop-in changed (another PM2 home), without pm2 startup', async () => {
    await runLib('ensure_pm2_startup', env);
    rmSync(calls);
    const result = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', { ...env, PH_PM2_HOME: '/home/provider/.pm2-other' });
    expect(result.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual(['systemctl is-enabled --quiet pm2-provider', 'systemctl daemon-reload']);
    expect(readFileSync(dropIn(), 'utf8')).toContain('ReadWritePaths=-/home/provider/.pm2-other -/run/provider');
  });

  it('fails, naming it, when pm2 startup fails', async () => {
    touch(join(dir, 'pm2-state', 'fail.startup'));
    const result = await runLib('ensure_pm2_startup || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('ERROR: pm2 startup systemd failed');
  });

  it('fails, naming it, when systemd cannot reload the drop-in (even where set -e does not hold)', async () => {
    touch(join(state, 'fail.daemon-reload'));
    const result = await runLib('ensure_pm2_startup || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('ERROR: systemctl daemon-reload failed; the sandbox of pm2-provider.service is not loaded');
  });

  it('skips it without systemd (PH_SYSTEMD=0, the replica)', async () => {
    const result = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', { ...env, PH_SYSTEMD: '0' });
    expect(result.stdout).toBe('changes=0\n');
    expect(result.stderr).toContain('no systemd (PH_SYSTEMD=0): skipping pm2 startup');
    expect(readLines(calls)).toEqual([]);
  });
});

// The rule file and the unit are installed as root:root; nft is a stand-in here
// (the real rule set is proven in a network namespace by test/e2e/hardening-host.e2e.test.ts).
(isRoot ? describe : describe.skip)('install_metadata_guard with systemd (as root)', () => {
  const rules = () => join(dir, 'etc', 'metadata-guard.nft');
  beforeEach(() => {
    mkdirSync(join(dir, 'state'));
    mkdirSync(join(dir, 'etc'));
    // nft stand-in: `-f FILE` loads (a state file), `list table` succeeds once loaded.
    writeExecutable(
      join(bin, 'nft'),
      `#!/usr/bin/env bash\nprintf 'nft %s\\n' "$*" >>'${calls}'\nif [[ -e '${dir}/nft-fails' ]]; then echo 'Error: Could not process rule' >&2; exit 1; fi\ncase $1 in -f) touch '${dir}/nft-loaded' ;; list) [[ -e '${dir}/nft-loaded' ]] ;; esac\n`,
    );
    Object.assign(env, {
      PH_USER: 'nobody',
      PH_ETC: join(dir, 'etc'),
      PH_CURRENT: REPO,
      PH_STATE: join(dir, 'state'),
      PH_RENDER: builtHostRenderer(),
      PH_NODE: process.execPath,
      PH_NFT: 'nft',
    });
  });

  it('writes the rules for the app user\'s uid and the boot unit, enables it and loads the rules once; a second run changes nothing', async () => {
    const uid = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    const first = await runLib('install_metadata_guard; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=4\n');
    expect(readLines(calls)).toEqual([
      'systemctl daemon-reload',
      'systemctl is-enabled --quiet provider-host-metadata-guard.service',
      'systemctl enable --quiet provider-host-metadata-guard.service',
      `nft -f ${rules()}`,
    ]);
    expect(changes(first.stderr).map((line) => line.replace(/^.*changed: /, ''))).toEqual([
      rules(),
      join(dir, 'systemd', 'provider-host-metadata-guard.service'),
      'provider-host-metadata-guard.service enabled',
      'metadata guard loaded (nft table inet provider_host)',
    ]);
    const text = readFileSync(rules(), 'utf8');
    expect(text).toContain(`meta skuid ${uid} ip daddr 169.254.169.254 counter reject`);
    expect(text).toContain(`meta skuid ${uid} ip6 daddr fd00:ec2::254 counter reject`);
    expect(readFileSync(join(dir, 'systemd', 'provider-host-metadata-guard.service'), 'utf8')).toMatch(new RegExp(`^ExecStart=\\S*nft -f ${rules()}$`, 'm'));

    rmSync(calls);
    const second = await runLib('install_metadata_guard; echo "changes=$PH_CHANGES"', env);
    expect(second.stdout).toBe('changes=0\n');
    expect(readLines(calls)).toEqual(['systemctl is-enabled --quiet provider-host-metadata-guard.service', 'nft list table inet provider_host']);
  });

  it('loads the rules again when the table is not in the kernel (flushed by hand), without rewriting anything', async () => {
    await runLib('install_metadata_guard', env);
    rmSync(join(dir, 'nft-loaded'));
    rmSync(calls);
    const result = await runLib('install_metadata_guard; echo "changes=$PH_CHANGES"', env);
    expect(result.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual([
      'systemctl is-enabled --quiet provider-host-metadata-guard.service',
      'nft list table inet provider_host',
      `nft -f ${rules()}`,
    ]);
  });

  it('fails, naming the risk, when nft cannot load the rules (even where set -e does not hold)', async () => {
    touch(join(dir, 'nft-fails'));
    const result = await runLib('install_metadata_guard || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`ERROR: nft could not load ${rules()}: the app user could reach the instance metadata`);
  });

  it('writes the rules and the unit but loads nothing without systemd (PH_SYSTEMD=0, the replica)', async () => {
    const result = await runLib('install_metadata_guard; echo "changes=$PH_CHANGES"', { ...env, PH_SYSTEMD: '0' });
    expect(result.stdout).toBe('changes=2\n');
    expect(result.stderr).toContain('no systemd (PH_SYSTEMD=0): metadata guard rules and unit written, not loaded');
    expect(readLines(calls)).toEqual([]);
  });
});

(isRoot ? describe : describe.skip)('install_logrotate (as root)', () => {
  const rotation = () => join(dir, 'logrotate.d', 'provider-host');
  beforeEach(() => {
    writePm2Stub({ bin, log: calls, pm2State: join(dir, 'pm2-state') });
    mkdirSync(join(dir, 'state'));
    mkdirSync(join(dir, 'pm2-home', 'logs'), { recursive: true });
    writeFileSync(join(dir, 'pm2-home', 'logs', 'provider-out.log'), 'a line\n');
    Object.assign(env, {
      PH_PM2: 'pm2',
      PH_USER: 'root',
      PH_GROUP: 'root',
      PH_USER_HOME: dir,
      PH_PM2_HOME: join(dir, 'pm2-home'),
      PH_LOGROTATE_DIR: join(dir, 'logrotate.d'),
      PH_APP_CONFIG: join(dir, 'provider.json'),
      PH_APP_INSTANCES: '2',
      PH_APP_NAME: 'provider',
      PH_CURRENT: REPO,
      PH_STATE: join(dir, 'state'),
      PH_RENDER: builtHostRenderer(),
      PH_NODE: process.execPath,
    });
  });

  it('writes a logrotate file for the PM2 logs that logrotate -d accepts, enables logrotate.timer once; a second run changes nothing', async () => {
    const first = await runLib('install_logrotate; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=3\n');
    const text = readFileSync(rotation(), 'utf8');
    expect(text).toContain(`${join(dir, 'pm2-home', 'logs')}/*.log {`);
    for (const directive of ['su root root', 'daily', 'rotate 14', 'maxsize 50M', 'compress', 'copytruncate']) expect(text.split('\n').map((l) => l.trim())).toContain(directive);
    expect(readLines(calls)).toEqual(['pm2 jlist', 'systemctl is-enabled --quiet logrotate.timer', 'systemctl enable --now --quiet logrotate.timer']);
    const dryRun = spawnSync('logrotate', ['-d', '-s', join(dir, 'logrotate.status'), rotation()], { encoding: 'utf8' });
    expect(dryRun.stderr).not.toMatch(/error/i);
    expect(dryRun.stderr).toContain(`considering log ${join(dir, 'pm2-home', 'logs', 'provider-out.log')}`);
    expect(dryRun.status).toBe(0);

    rmSync(calls);
    const second = await runLib('install_logrotate; echo "changes=$PH_CHANGES"', env);
    expect(second.stdout).toBe('changes=0\n');
  });

  it('a forced rotation truncates the log in place (PM2 keeps writing to the same file) and keeps the old lines compressed', () => {
    return runLib('install_logrotate', env).then(() => {
      const log = join(dir, 'pm2-home', 'logs', 'provider-out.log');
      const forced = spawnSync('logrotate', ['-f', '-s', join(dir, 'logrotate.status'), rotation()], { encoding: 'utf8' });
      expect(forced.stderr).toBe('');
      expect(forced.status).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe('');
      expect(readFileSync(`${log}.1`, 'utf8')).toBe('a line\n'); // delaycompress: the newest rotation stays plain
    });
  });

  it('removes the pm2-logrotate module an older host installed', async () => {
    touch(join(dir, 'pm2-state', 'module.pm2-logrotate'));
    const result = await runLib('install_logrotate; echo "changes=$PH_CHANGES"', { ...env, PH_SYSTEMD: '0' });
    expect(result.stdout).toBe('changes=3\n');
    expect(readLines(calls)).toEqual(['pm2 jlist', 'pm2 uninstall pm2-logrotate', 'pm2 save --force']);
    expect(changes(result.stderr).pop()).toContain('changed: pm2: pm2-logrotate removed (logrotate rotates the PM2 logs)');
  });
});

// install_renewal_timer installs the units as root:root.
(isRoot ? describe : describe.skip)('install_renewal_timer with systemd (as root)', () => {
  beforeEach(() => {
    writeExecutable(join(bin, 'certbot'), '#!/bin/sh\nexit 1\n');
    mkdirSync(join(dir, 'state'));
    Object.assign(env, {
      PH_CERTBOT: 'certbot',
      PH_PREFIX: '/opt/provider-host',
      PH_CURRENT: REPO,
      PH_STATE: join(dir, 'state'),
      PH_ETC: '/etc/provider-host',
      PH_LE_DIR: '/etc/letsencrypt',
      PH_LE_WORK_DIR: '/var/lib/letsencrypt',
      PH_LE_LOGS_DIR: '/var/log/letsencrypt',
      // The unit is rendered by the shipped renderer.
      PH_RENDER: builtHostRenderer(),
      PH_NODE: process.execPath,
    });
  });

  it('writes the units, reloads systemd and enables the timer once; a second run changes nothing', async () => {
    const first = await runLib('install_renewal_timer; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=3\n');
    expect(readLines(calls)).toEqual([
      'systemctl daemon-reload',
      'systemctl is-enabled --quiet provider-certbot-renew.timer',
      'systemctl enable --now --quiet provider-certbot-renew.timer',
    ]);
    // The renewal's result is recorded for the metrics (CertificateRenewalFailed), never failing the unit.
    expect(readFileSync(join(dir, 'systemd', 'provider-certbot-renew.service'), 'utf8').split('\n'))
      .toContain('ExecStopPost=-/bin/bash /opt/provider-host/current/host/scripts/certbot-renew-result.sh');
    expect(changes(first.stderr).map((line) => line.replace(/^.*changed: /, ''))).toEqual([
      join(dir, 'systemd', 'provider-certbot-renew.service'),
      join(dir, 'systemd', 'provider-certbot-renew.timer'),
      'provider-certbot-renew.timer enabled',
    ]);

    rmSync(calls);
    const second = await runLib('install_renewal_timer; echo "changes=$PH_CHANGES"', env);
    expect(second.stdout).toBe('changes=0\n');
    expect(readLines(calls)).toEqual(['systemctl is-enabled --quiet provider-certbot-renew.timer']);
  });

  it('reloads systemd, without enabling again, when a unit changed', async () => {
    await runLib('install_renewal_timer', env);
    rmSync(calls);
    const result = await runLib('install_renewal_timer; echo "changes=$PH_CHANGES"', { ...env, PH_LE_LOGS_DIR: '/var/log/letsencrypt-other' });
    expect(result.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual(['systemctl daemon-reload', 'systemctl is-enabled --quiet provider-certbot-renew.timer']);
  });

  it('fails, naming it, when the timer cannot be enabled (even where set -e does not hold)', async () => {
    touch(join(state, 'fail.enable'));
    const result = await runLib('install_renewal_timer || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'ERROR: cannot enable provider-certbot-renew.timer: certificates would not renew; see: systemctl status provider-certbot-renew.timer',
    );
    expect(result.stderr).not.toContain('changed: provider-certbot-renew.timer enabled');
  });

  it('writes the units but enables nothing without systemd (PH_SYSTEMD=0, the replica)', async () => {
    const result = await runLib('install_renewal_timer; echo "changes=$PH_CHANGES"', { ...env, PH_SYSTEMD: '0' });
    expect(result.stdout).toBe('changes=2\n');
    expect(readLines(calls)).toEqual([]);
  });
});
