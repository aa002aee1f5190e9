/**
 * The host's revocation pieces that the replica (no systemd) does not run: the timer
 * units rendered with the configured period, checked by systemd-analyze, installed and
 * enabled once (systemctl stand-in); and the status key the script writes agrees with
 * the bucket layout the stack grants. The refresh itself runs through the replica
 * (test/e2e/revocation.e2e.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { builtHostRenderer } from '../../testing/host-renderer';
import { isRoot, readLines, REPO, runLib, writeSystemctlStub } from '../../testing/host-scripts';

let dir: string;
let calls: string;
let env: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'revocation-timer-'));
  const bin = join(dir, 'bin');
  calls = join(dir, 'calls.log');
  for (const sub of ['bin', 'systemd', 'state', 'systemctl-state']) mkdirSync(join(dir, sub));
  writeSystemctlStub(bin, join(dir, 'systemctl-state'), calls);
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    PH_SCRIPT_NAME: 'setup.sh',
    PH_SYSTEMD: '1',
    PH_SYSTEMD_DIR: join(dir, 'systemd'),
    PH_CURRENT: REPO,
    PH_PREFIX: '/opt/provider-host',
    PH_STATE: join(dir, 'state'),
    PH_ETC: '/etc/provider-host',
    PH_CRL_REFRESH_MINUTES: '7',
    PH_RENDER: builtHostRenderer(),
    PH_NODE: process.execPath,
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the revocation timer', () => {
  it('the status object the host writes is the key the instance role may write', () => {
    const lib = readFileSync(join(REPO, 'host', 'scripts', 'lib', 'revocation.sh'), 'utf8');
    expect(lib).toContain(`PH_REVOCATION_STATUS_KEY=${BUCKET_LAYOUT.revocationStatusKey}\n`);
  });

  (isRoot ? it : it.skip)('renders the units with the configured period, which systemd accepts, and enables the timer once', async () => {
    const first = await runLib('install_revocation_timer; echo "changes=$PH_CHANGES"', env);
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=3\n');
    expect(readLines(calls)).toEqual([
      'systemctl daemon-reload',
      'systemctl is-enabled --quiet provider-host-revocation.timer',
      'systemctl enable --now --quiet provider-host-revocation.timer',
    ]);
    const timer = readFileSync(join(dir, 'systemd', 'provider-host-revocation.timer'), 'utf8');
    expect(timer).toMatch(/^OnUnitActiveSec=7min$/m);
    const service = readFileSync(join(dir, 'systemd', 'provider-host-revocation.service'), 'utf8');
    expect(service).toMatch(/^ExecStart=\/bin\/bash \/opt\/provider-host\/current\/host\/scripts\/revocation-refresh\.sh$/m);
    const verify = spawnSync('systemd-analyze', ['verify', 'provider-host-revocation.service', 'provider-host-revocation.timer'], { cwd: join(dir, 'systemd'), encoding: 'utf8' });
    // The script path does not exist here; everything else must be clean.
    expect(verify.stderr.split('\n').filter((line) => line && !/revocation-refresh\.sh|Command .* is not executable|No such file/.test(line))).toEqual([]);

    // A new period is a changed unit: systemd reloads, the timer is not enabled twice.
    rmSync(calls);
    const second = await runLib('install_revocation_timer; echo "changes=$PH_CHANGES"', { ...env, PH_CRL_REFRESH_MINUTES: '30' });
    expect(second.stdout).toBe('changes=1\n');
    expect(readLines(calls)).toEqual(['systemctl daemon-reload', 'systemctl is-enabled --quiet provider-host-revocation.timer']);
    expect(readFileSync(join(dir, 'systemd', 'provider-host-revocation.timer'), 'utf8')).toMatch(/^OnUnitActiveSec=30min$/m);
  });
});
