/**
 * The PH_SYSTEMD=1 branches of the host scripts, which the replica (no
 * systemd, PH_SYSTEMD=0) never runs: nginx_apply / nginx_ensure_running
 * (lib/common.sh), ensure_pm2_startup (lib/app.sh) and install_renewal_timer
 * (lib/renewal.sh), with systemctl, pm2 and nginx stand-ins that record argv.
 */
import { builtHostRenderer } from '../../testing/host-renderer';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

describe('ensure_pm2_startup with systemd', () => {
  beforeEach(() => {
    writePm2Stub({ bin, log: calls, pm2State: join(dir, 'pm2-state'), systemdDir: join(dir, 'systemd'), systemctlState: state });
    Object.assign(env, { PH_PM2: 'pm2', PH_USER: 'provider', PH_USER_HOME: '/home/provider' });
  });

  it('runs pm2 startup systemd once for the app user and home, then nothing', async () => {
    const first = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual(['pm2 startup systemd -u provider --hp /home/provider --service-name pm2-provider']);
    expect(changes(first.stderr)).toEqual([expect.stringContaining(`changed: ${join(dir, 'systemd', 'pm2-provider.service')}`)]);

    rmSync(calls);
    const second = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', env);
    expect(second.stdout).toBe('changes=0\n');
    expect(readLines(calls)).toEqual(['systemctl is-enabled --quiet pm2-provider']);
  });

  it('runs pm2 startup again when the unit exists but is not enabled', async () => {
    touch(join(dir, 'systemd', 'pm2-provider.service'));
    const result = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', env);
    expect(result.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual([
      'systemctl is-enabled --quiet pm2-provider',
      'pm2 startup systemd -u provider --hp /home/provider --service-name pm2-provider',
    ]);
  });

  it('fails, naming it, when pm2 startup fails', async () => {
    touch(join(dir, 'pm2-state', 'fail.startup'));
    const result = await runLib('ensure_pm2_startup || true; echo survived', env);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('ERROR: pm2 startup systemd failed');
  });

  it('skips it without systemd (PH_SYSTEMD=0, the replica)', async () => {
    const result = await runLib('ensure_pm2_startup; echo "changes=$PH_CHANGES"', { ...env, PH_SYSTEMD: '0' });
    expect(result.stdout).toBe('changes=0\n');
    expect(result.stderr).toContain('no systemd (PH_SYSTEMD=0): skipping pm2 startup');
    expect(readLines(calls)).toEqual([]);
  });
});

// install_renewal_timer installs the units as root:root.
(isRoot ? describe : describe.skip)('install_renewal_timer with systemd (as root)', () => {
  beforeEach(() => {
    writeExecutable(join(bin, 'certbot'), '#!/bin/sh\nexit 1\n');
    mkdirSync(join(dir, 'state'));
    Object.assign(env, {
      PH_CERTBOT: 'certbot',
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
