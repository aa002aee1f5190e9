/**
 * Static checks of everything in host/ that runs on the instance: shellcheck
 * on every script, systemd-analyze on the rendered renewal units.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { renderTemplateFile } from '../../lib/render-template';

const HOST = resolve(__dirname, '..');
const REPO = resolve(HOST, '..');

function shellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return shellScripts(path);
    return name.endsWith('.sh') ? [path] : [];
  });
}

describe('host scripts', () => {
  const scripts = [...shellScripts(HOST), join(REPO, 'testing', 'replica', 'bin', 'aws')];

  it('finds the scripts it checks', () => {
    const names = scripts.map((path) => relative(REPO, path));
    expect(names).toEqual(expect.arrayContaining(['host/scripts/setup.sh', 'host/scripts/update.sh', 'host/scripts/certbot-deploy-hook.sh', 'host/scripts/lib/common.sh']));
  });

  it.each(scripts.map((path) => [relative(REPO, path), path]))('%s is shellcheck-clean', (_name, path) => {
    const result = spawnSync('shellcheck', ['--external-sources', '--source-path=SCRIPTDIR', path], { encoding: 'utf8', cwd: join(path, '..') });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('never traces commands (set -x would print secrets)', () => {
    for (const path of scripts) {
      const text = readFileSync(path, 'utf8');
      expect({ path, traced: /^\s*set\s+-[a-z]*x/m.test(text) }).toEqual({ path, traced: false });
    }
  });
});

describe('renewal units', () => {
  it('pass systemd-analyze verify once rendered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    try {
      writeFileSync(
        join(dir, 'provider-certbot-renew.service'),
        renderTemplateFile(join(HOST, 'systemd', 'provider-certbot-renew.service.tmpl'), {
          certbot: '/usr/bin/certbot',
          ph_etc: '/etc/provider-host',
          le_dir: '/etc/letsencrypt',
          le_work_dir: '/var/lib/letsencrypt',
          le_logs_dir: '/var/log/letsencrypt',
          result_script: '/opt/provider-host/current/host/scripts/certbot-renew-result.sh',
        }),
      );
      // Each cadence lib/renewal.sh renders (twice a day; every 2 hours; every 5 minutes).
      for (const [calendarTime, delay] of [['03,15:00:00', '1h'], ['00/2:00:00', '1800s'], ['*:00/5:00', '75s']] as const) {
        writeFileSync(
          join(dir, 'provider-certbot-renew.timer'),
          renderTemplateFile(join(HOST, 'systemd', 'provider-certbot-renew.timer.tmpl'), { calendar_time: calendarTime, randomized_delay: delay }),
        );
        const result = spawnSync('systemd-analyze', ['verify', 'provider-certbot-renew.service', 'provider-certbot-renew.timer'], { cwd: dir, encoding: 'utf8' });
        expect({ calendarTime, stderr: result.stderr, status: result.status }).toEqual({ calendarTime, stderr: '', status: 0 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metrics units', () => {
  it('pass systemd-analyze verify once rendered, publishing every 5 minutes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    try {
      writeFileSync(
        join(dir, 'provider-host-metrics.service'),
        renderTemplateFile(join(HOST, 'systemd', 'provider-host-metrics.service.tmpl'), {
          ph_etc: '/etc/provider-host',
          script: '/opt/provider-host/current/host/scripts/publish-metrics.sh',
        }),
      );
      const timer = readFileSync(join(HOST, 'systemd', 'provider-host-metrics.timer'), 'utf8');
      writeFileSync(join(dir, 'provider-host-metrics.timer'), timer);
      expect(timer.split('\n')).toContain('OnUnitActiveSec=5min');
      const result = spawnSync('systemd-analyze', ['verify', 'provider-host-metrics.service', 'provider-host-metrics.timer'], { cwd: dir, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the metadata guard unit and the PM2 sandbox drop-in', () => {
  it('pass systemd-analyze verify once rendered (the drop-in on a unit like the one pm2 startup writes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    try {
      writeFileSync(
        join(dir, 'provider-host-metadata-guard.service'),
        renderTemplateFile(join(HOST, 'systemd', 'provider-host-metadata-guard.service.tmpl'), { nft: '/usr/sbin/nft', rules: '/etc/provider-host/metadata-guard.nft' }),
      );
      // What `pm2 startup systemd -u provider` writes (PM2 7), with commands that exist here.
      writeFileSync(
        join(dir, 'pm2-provider.service'),
        '[Unit]\nDescription=PM2 process manager\nAfter=network.target\n\n[Service]\nType=forking\nUser=root\nLimitNOFILE=infinity\n'
          + 'Environment=PM2_HOME=/home/provider/.pm2\nPIDFile=/home/provider/.pm2/pm2.pid\nRestart=on-failure\n'
          + 'ExecStart=/usr/bin/true resurrect\nExecReload=/usr/bin/true reload all\nExecStop=/usr/bin/true kill\n\n[Install]\nWantedBy=multi-user.target\n',
      );
      mkdirSync(join(dir, 'pm2-provider.service.d'));
      const dropIn = renderTemplateFile(join(HOST, 'systemd', 'pm2-hardening.conf.tmpl'), { pm2_home: '/home/provider/.pm2', run_dir: '/run/provider' });
      writeFileSync(join(dir, 'pm2-provider.service.d', 'provider-host-hardening.conf'), dropIn);
      // The unit path holds only this folder (plus the defaults: the trailing colon), so the drop-in is read with its unit.
      const env = { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` };
      const result = spawnSync('systemd-analyze', ['verify', 'pm2-provider.service', 'provider-host-metadata-guard.service'], { cwd: dir, encoding: 'utf8', env });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);

      // The drop-in is read (an unknown key in it would be reported), and lowers the unit's exposure.
      const exposure = () => {
        const security = spawnSync('systemd-analyze', ['security', '--offline=yes', 'pm2-provider.service'], { cwd: dir, encoding: 'utf8', env });
        return Number(/Overall exposure level for pm2-provider\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
      };
      const sandboxed = exposure();
      writeFileSync(join(dir, 'pm2-provider.service.d', 'provider-host-hardening.conf'), `${dropIn}ProtectBogus=yes\n`);
      expect(spawnSync('systemd-analyze', ['verify', 'pm2-provider.service'], { cwd: dir, encoding: 'utf8', env }).stderr).toContain("Unknown key 'ProtectBogus'");
      rmSync(join(dir, 'pm2-provider.service.d'), { recursive: true });
      expect(sandboxed).toBeLessThan(exposure());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
