/**
 * Static checks of everything in host/ that runs on the instance: shellcheck
 * on every script, systemd-analyze on the rendered renewal units.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
        }),
      );
      copyFileSync(join(HOST, 'systemd', 'provider-certbot-renew.timer'), join(dir, 'provider-certbot-renew.timer'));
      const result = spawnSync('systemd-analyze', ['verify', 'provider-certbot-renew.service', 'provider-certbot-renew.timer'], { cwd: dir, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
