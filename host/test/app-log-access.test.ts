/**
 * ib1: the app user reads nginx's JSON access log (the heartbeat counts from it) and
 * writes its state folder — ensure_folders and grant_app_access_log_read
 * (host/scripts/lib/accounts.sh), tried for real as that user with runuser.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, runLib } from '../../testing/host-scripts';

const USER = 'nobody';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'app-log-'));
  chmodSync(dir, 0o755);
  // As AL2023 ships it: the folder 0711 root, nginx's logs 0640 (no group would help).
  mkdirSync(join(dir, 'nginx'), { mode: 0o711 });
  writeFileSync(join(dir, 'nginx', 'access.json.log'), '{"status":200}\n', { mode: 0o640 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readAs = (file: string) => spawnSync('runuser', ['-u', USER, '--', 'cat', file], { encoding: 'utf8' });

function grant(profile: string) {
  return runLib('grant_app_access_log_read', {
    PATH: process.env.PATH ?? '',
    PH_SCRIPT_NAME: 'setup.sh',
    PH_TRUST_PROFILE: profile,
    PH_USER: USER,
    PH_NGINX_LOG_DIR: join(dir, 'nginx'),
  });
}

(isRoot ? describe : describe.skip)('the app user and nginx\'s access log', () => {
  it('open-energy: no access (the app has no use for it)', async () => {
    expect((await grant('open-energy')).status).toBe(0);
    expect(readAs(join(dir, 'nginx', 'access.json.log')).status).not.toBe(0);
  });

  it('ib1: reads the log, and the file nginx or logrotate creates next, but cannot list the folder', async () => {
    const result = await grant('ib1');
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/nobody may r-- \(ACL\)/);
    expect(readAs(join(dir, 'nginx', 'access.json.log')).stdout).toBe('{"status":200}\n');
    // A rotated log: a new file, created as logrotate's "create 0640" would.
    writeFileSync(join(dir, 'nginx', 'access.json.log.new'), 'next\n', { mode: 0o640 });
    expect(readAs(join(dir, 'nginx', 'access.json.log.new')).stdout).toBe('next\n');
    expect(spawnSync('runuser', ['-u', USER, '--', 'ls', join(dir, 'nginx')]).status).not.toBe(0);
    // Idempotent: a second run changes nothing.
    expect((await grant('ib1')).stderr).not.toMatch(/changed:/);
  });

  it('ensure_folders gives the app user its own state folder (0750)', async () => {
    const state = join(dir, 'state', 'app');
    const result = await runLib('ensure_folders', {
      PATH: process.env.PATH ?? '',
      PH_SCRIPT_NAME: 'setup.sh',
      PH_TRUST_PROFILE: 'open-energy',
      PH_USER: USER,
      PH_GROUP: 'nogroup',
      PH_NGINX_GROUP: 'nogroup',
      PH_ETC: join(dir, 'etc'),
      PH_SECRETS_DIR: join(dir, 'etc', 'secrets'),
      PH_STATE: join(dir, 'state'),
      PH_APP_STATE_DIR: state,
      PH_ACME_WEBROOT: join(dir, 'state', 'acme'),
      PH_USER_HOME: join(dir, 'home'),
      PH_SRV: join(dir, 'srv'),
      PH_APP_DIR: join(dir, 'app'),
      PH_NGINX_LOG_DIR: join(dir, 'nginx'),
      PH_RUN: join(dir, 'run'),
      PH_TMPFILES_DIR: join(dir, 'tmpfiles'),
    });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.status).toBe(0);
    expect(statSync(state).mode & 0o7777).toBe(0o750);
    expect(spawnSync('runuser', ['-u', USER, '--', 'touch', join(state, 'heartbeat.json')]).status).toBe(0);
  });
});
