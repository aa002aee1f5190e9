/**
 * The PM2 daemon gets the same V8 flags whoever starts it: a pm2 command of the host
 * scripts (as_app_user, lib/common.sh) or the boot unit `pm2 startup` wrote (the
 * pm2-hardening drop-in). The figures behind the choice: docs/operations.md "Memory".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../testing/host-scripts';

it('gives the PM2 daemon one set of node options, in the scripts and in the boot unit, and none to the app workers', () => {
  const common = readFileSync(join(REPO, 'host', 'scripts', 'lib', 'common.sh'), 'utf8');
  const dropIn = readFileSync(join(REPO, 'host', 'systemd', 'pm2-hardening.conf.tmpl'), 'utf8');
  const flags = /^PH_PM2_NODE_OPTIONS=(.+)$/m.exec(common)?.[1];
  expect(flags).toBe('--lite-mode');
  expect(common).toContain('PM2_NODE_OPTIONS="$PH_PM2_NODE_OPTIONS"');
  expect(dropIn).toMatch(new RegExp(`^Environment=PM2_NODE_OPTIONS=${flags}$`, 'm'));
  expect(readFileSync(join(REPO, 'provider-app', 'ecosystem.config.js'), 'utf8')).not.toMatch(/lite-mode|node_args/);
});
