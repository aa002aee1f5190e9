/**
 * host/bootstrap.sh run for real (bash, flock, unzip) against a local stand-in for the
 * `aws` CLI (AWS is the one thing that cannot exist here) and for `npm -g`. Every
 * production path is redirected through the script's own PH_* variables.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../config/paths';
import { folderWith, removeTempDirs, tempDir } from './support';

const BOOTSTRAP = path.join(PROJECT_ROOT, 'host', 'bootstrap.sh');
const PARAM = '/provider-host/test/host-config';

const AWS_STANDIN = `#!/bin/bash
# Stand-in for the aws CLI: SSM parameters and S3 objects are files under $FAKE_AWS.
set -euo pipefail
echo "aws $*" >>"$FAKE_AWS/calls.log"
name="" ; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --region|--query|--output) shift 2 ;;
    --only-show-errors) shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "\${args[0]} \${args[1]}" in
  "ssm get-parameter") cat "$FAKE_AWS/ssm$name" ;;
  "s3 cp") src="\${args[2]#s3://}"; cp "$FAKE_AWS/s3/$src" "\${args[3]}" ;;
  *) echo "stand-in aws: unsupported: \${args[*]}" >&2; exit 2 ;;
esac
`;

const NPM_STANDIN = `#!/bin/bash
echo "npm $*" >>"$FAKE_AWS/calls.log"
case "$1" in
  ls) [ -f "$FAKE_AWS/pm2-installed" ] ;;
  install) touch "$FAKE_AWS/pm2-installed" ;;
esac
`;

const HOST_SCRIPT = (name: string) => `#!/bin/bash
set -eu
echo "${name} domain=$PH_DOMAIN release=$PH_RELEASE etc=$PH_ETC" >>"$PH_STATE/host-scripts.log"
`;

interface Sandbox {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly fake: string;
}

function sandbox(): Sandbox {
  const root = tempDir('bootstrap');
  const fake = path.join(root, 'aws');
  const bin = folderWith('bin', { aws: AWS_STANDIN, npm: NPM_STANDIN });
  fs.chmodSync(path.join(bin, 'aws'), 0o755);
  fs.chmodSync(path.join(bin, 'npm'), 0o755);
  const etc = path.join(root, 'etc');
  fs.mkdirSync(etc, { recursive: true });
  fs.mkdirSync(path.join(fake, 'ssm', path.dirname(PARAM)), { recursive: true });
  fs.writeFileSync(path.join(etc, 'bootstrap.env'), `PH_REGION=eu-west-2\nPH_HOST_CONFIG_PARAM=${PARAM}\nPH_NODE_MAJOR=22\nPH_PM2_VERSION=7.0.4\n`);
  return {
    root,
    fake,
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_AWS: fake,
      PH_ETC: etc,
      PH_PREFIX: path.join(root, 'opt'),
      PH_STATE: path.join(root, 'state'),
      PH_LOCK: path.join(root, 'bootstrap.lock'),
      PH_AWS_ATTEMPTS: '1',
    },
  };
}

/** Publishes a bundle zip and the host config naming it, as a deploy would. */
function publish(box: Sandbox, hash: string, extraConfig = ''): void {
  const tree = folderWith('tree', { 'host/scripts/setup.sh': HOST_SCRIPT('setup'), 'host/scripts/update.sh': HOST_SCRIPT('update'), VERSION: `${hash}\n` });
  const zip = path.join(box.fake, 's3', 'bucket-1', 'bundles', `${hash}.zip`);
  fs.mkdirSync(path.dirname(zip), { recursive: true });
  execFileSync('python3', ['-m', 'zipfile', '-c', zip, 'host', 'VERSION'], { cwd: tree });
  fs.writeFileSync(path.join(box.fake, 'ssm', PARAM), `PH_DOMAIN=example.energydata.org.uk\nPH_REGION=eu-west-2\nPH_BUCKET=bucket-1\nPH_BUNDLE_KEY=bundles/${hash}.zip\n${extraConfig}`);
}

function run(box: Sandbox, ...args: string[]) {
  return spawnSync('bash', [BOOTSTRAP, ...args], { env: box.env, encoding: 'utf8', timeout: 20000 });
}

const hostLog = (box: Sandbox) => fs.readFileSync(path.join(box.root, 'state', 'host-scripts.log'), 'utf8');
const current = (box: Sandbox) => fs.readlinkSync(path.join(box.root, 'opt', 'current'));

afterAll(removeTempDirs);

describe('host/bootstrap.sh', () => {
  it('setup: installs PM2, writes host.env from SSM, unpacks the bundle as a release and runs setup.sh', () => {
    const box = sandbox();
    publish(box, 'aaa111');
    const result = run(box, 'setup');
    expect(result.stderr).toContain('setup done');
    expect(result.status).toBe(0);

    expect(fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8')).toMatch(/npm install -g --no-fund --no-audit pm2@7\.0\.4/);
    expect(fs.readFileSync(path.join(box.root, 'etc', 'host.env'), 'utf8')).toBe(fs.readFileSync(path.join(box.fake, 'ssm', PARAM), 'utf8'));
    expect(current(box)).toBe(path.join(box.root, 'opt', 'releases', 'aaa111'));
    expect(fs.readFileSync(path.join(box.root, 'opt', 'current', 'VERSION'), 'utf8')).toBe('aaa111\n');
    expect(hostLog(box)).toBe(`setup domain=example.energydata.org.uk release=aaa111 etc=${path.join(box.root, 'etc')}\n`);
    expect(fs.existsSync(path.join(box.root, 'state', 'setup.done'))).toBe(true);
  });

  it('update: switches to the new release, runs update.sh, keeps the last three releases', () => {
    const box = sandbox();
    publish(box, 'rel1');
    expect(run(box, 'setup').status).toBe(0);
    for (const hash of ['rel2', 'rel3', 'rel4']) {
      publish(box, hash);
      const result = run(box, 'update', '--bundle-hash', hash, '--data-hash', 'd1', '--public-hash', 'p1', '--trust-hash', 't1');
      expect(result.stderr).toContain('update done');
      expect(result.status).toBe(0);
      expect(current(box)).toBe(path.join(box.root, 'opt', 'releases', hash));
    }
    expect(hostLog(box).trim().split('\n').map((l) => l.split(' ').slice(0, 1).concat(l.split(' ')[2]).join(' '))).toEqual([
      'setup release=rel1', 'update release=rel2', 'update release=rel3', 'update release=rel4',
    ]);
    expect(fs.readdirSync(path.join(box.root, 'opt', 'releases')).filter((d) => !d.startsWith('.')).sort()).toEqual(['rel2', 'rel3', 'rel4']);
    expect(fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8').match(/npm install/g)).toHaveLength(1);
  });

  it('update: refuses a host config that names another bundle than the deploy ships', () => {
    const box = sandbox();
    publish(box, 'old1');
    expect(run(box, 'setup').status).toBe(0);
    const result = run(box, 'update', '--bundle-hash', 'new2');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('host config names bundle old1 but this deploy ships new2; the parameter is stale');
    expect(current(box)).toBe(path.join(box.root, 'opt', 'releases', 'old1'));
  });

  it('update before a completed first boot runs setup instead', () => {
    const box = sandbox();
    publish(box, 'first1');
    const result = run(box, 'update', '--bundle-hash', 'first1');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('first-boot setup has not completed; running setup instead of update');
    expect(hostLog(box)).toMatch(/^setup /);
  });

  it('never sources a host config with a line that is not PH_KEY=shell-safe-value', () => {
    const box = sandbox();
    publish(box, 'evil1', `PH_SCOPE=$(touch ${path.join(box.root, 'pwned')})\n`);
    const result = run(box, 'setup');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`SSM parameter ${PARAM} has lines that are not PH_KEY=shell-safe-value`);
    expect(fs.existsSync(path.join(box.root, 'pwned'))).toBe(false);
    expect(fs.existsSync(path.join(box.root, 'etc', 'host.env'))).toBe(false);
  });

  it('fails clearly when the host config cannot be read', () => {
    const box = sandbox();
    const result = run(box, 'setup');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`cannot read SSM parameter ${PARAM}`);
  });

  it('rejects unknown commands and options with usage', () => {
    const box = sandbox();
    expect(run(box, 'deploy').stderr).toContain('usage: provider-host-bootstrap setup | update');
    publish(box, 'x1');
    expect(run(box, 'setup').status).toBe(0);
    expect(run(box, 'update', '--force').stderr).toContain('unknown option --force');
  });
});
