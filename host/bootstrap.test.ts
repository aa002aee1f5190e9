/**
 * host/bootstrap.sh run for real (bash, flock, unzip) against a local stand-in for the
 * `aws` CLI (AWS is the one thing that cannot exist here) and for `npm ci`. Every
 * production path is redirected through the script's own PH_* variables.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../lib/project-paths';
import { folderWith, removeTempDirs, tempDir } from '../testing/synth';

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

/** npm: \`npm ci\` installs a pm2 stand-in in the current folder, which must hold the lockfile. */
const NPM_STANDIN = `#!/bin/bash
echo "npm $* (in $PWD)" >>"$FAKE_AWS/calls.log"
case "$1" in
  ci)
    [ -f package-lock.json ] || { echo "npm ci: no package-lock.json" >&2; exit 1; }
    mkdir -p node_modules/pm2/bin && printf '#!/bin/sh\\n' >node_modules/pm2/bin/pm2 && chmod +x node_modules/pm2/bin/pm2 ;;
  *) echo "npm stand-in: unexpected $*" >&2; exit 1 ;;
esac
`;
const RUNTIME = path.join(PROJECT_ROOT, 'host', 'runtime');
const runtimeFiles = () => ({
  'host/runtime/package.json': fs.readFileSync(path.join(RUNTIME, 'package.json'), 'utf8'),
  'host/runtime/package-lock.json': fs.readFileSync(path.join(RUNTIME, 'package-lock.json'), 'utf8'),
});

/**
 * Stand-ins for rpm and dnf: installed packages are files under $FAKE_AWS/rpm; dnf
 * fails while $FAKE_AWS/dnf-failures holds a count above 0 (a network blip).
 */
const RPM_STANDIN = `#!/bin/bash
[ "$1" = -q ] && [ "$2" = --quiet ] && [ -f "$FAKE_AWS/rpm/$3" ]
`;
const DNF_STANDIN = `#!/bin/bash
echo "dnf $*" >>"$FAKE_AWS/calls.log"
failures=$(cat "$FAKE_AWS/dnf-failures" 2>/dev/null || echo 0)
if [ "$failures" -gt 0 ]; then echo $((failures - 1)) >"$FAKE_AWS/dnf-failures"; echo "Curl error (6): Could not resolve host" >&2; exit 1; fi
mkdir -p "$FAKE_AWS/rpm"
for arg in "$@"; do case "$arg" in install|-y|--setopt=*) ;; *) touch "$FAKE_AWS/rpm/$arg" ;; esac; done
`;

const PACKAGES = 'nginx,certbot,nodejs22,tar,diffutils';

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
  const bin = folderWith('bin', { aws: AWS_STANDIN, npm: NPM_STANDIN, rpm: RPM_STANDIN, dnf: DNF_STANDIN });
  for (const command of ['aws', 'npm', 'rpm', 'dnf']) fs.chmodSync(path.join(bin, command), 0o755);
  const etc = path.join(root, 'etc');
  fs.mkdirSync(etc, { recursive: true });
  fs.mkdirSync(path.join(fake, 'ssm', path.dirname(PARAM)), { recursive: true });
  fs.writeFileSync(path.join(etc, 'bootstrap.env'), `PH_REGION=eu-west-2\nPH_HOST_CONFIG_PARAM=${PARAM}\nPH_NODE_MAJOR=22\nPH_PM2_VERSION=7.0.4\nPH_PACKAGES=${PACKAGES}\nPH_PACKAGE_ATTEMPTS=3\n`);
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
      PH_BIN_DIR: path.join(root, 'usr-local-bin'),
      PH_AWS_ATTEMPTS: '1',
      PH_RETRY_SLEEP: '0',
    },
  };
}

/** Publishes a bundle zip and the host config naming it, as a deploy would. */
function publish(box: Sandbox, hash: string, extraConfig = '', runtime: Record<string, string> = runtimeFiles()): void {
  const tree = folderWith('tree', { 'host/scripts/setup.sh': HOST_SCRIPT('setup'), 'host/scripts/update.sh': HOST_SCRIPT('update'), VERSION: `${hash}\n`, ...runtime });
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
  it('setup: installs PM2 from the bundle\'s lockfile (npm ci --ignore-scripts), writes host.env from SSM, unpacks the bundle as a release and runs setup.sh', () => {
    const box = sandbox();
    publish(box, 'aaa111');
    const result = run(box, 'setup');
    expect(result.stderr).toContain('setup done');
    expect(result.status).toBe(0);

    // PM2 from the bundle's lockfile, no install script, nothing global.
    const npmCalls = fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8').split('\n').filter((l) => l.startsWith('npm '));
    expect(npmCalls).toEqual([expect.stringMatching(new RegExp(`^npm ci --ignore-scripts --omit=dev --no-audit --no-fund \\(in ${box.root}/opt/\\.runtime\\.\\w+\\)$`))]);
    expect(npmCalls.join('\n')).not.toMatch(/install|-g\b/);
    expect(fs.readFileSync(path.join(box.root, 'opt', 'runtime', 'package-lock.json'), 'utf8')).toBe(fs.readFileSync(path.join(RUNTIME, 'package-lock.json'), 'utf8'));
    expect(fs.readlinkSync(path.join(box.root, 'usr-local-bin', 'pm2'))).toBe(path.join(box.root, 'opt', 'runtime', 'node_modules', 'pm2', 'bin', 'pm2'));
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
    // The same lockfile in every release: installed once.
    expect(fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8').match(/npm ci/g)).toHaveLength(1);
    expect(fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8')).not.toMatch(/npm install/);
  });

  it('reinstalls the runtime when a release ships another lockfile, and refuses one that pins another PM2 than app.pm2Version', () => {
    const box = sandbox();
    publish(box, 'rel1');
    expect(run(box, 'setup').status).toBe(0);
    const files = runtimeFiles();
    const lock = JSON.parse(files['host/runtime/package-lock.json']) as { packages: Record<string, { version?: string }> };
    lock.packages['node_modules/pm2']!.version = '7.0.5';
    publish(box, 'rel2', '', { ...files, 'host/runtime/package-lock.json': JSON.stringify(lock, null, 2) });
    const refused = run(box, 'update', '--bundle-hash', 'rel2');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('ERROR: the bundle pins pm2@7.0.5 (host/runtime/package-lock.json) but app.pm2Version is 7.0.4');
    expect(fs.existsSync(path.join(box.root, 'state', 'host-scripts.log')) && hostLog(box)).not.toContain('update');

    publish(box, 'rel3', '', { ...files, 'host/runtime/package-lock.json': files['host/runtime/package-lock.json'].replace(/\n$/, '\n\n') });
    expect(run(box, 'update', '--bundle-hash', 'rel3').status).toBe(0);
    expect(fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8').match(/npm ci --ignore-scripts/g)).toHaveLength(2);
    expect(fs.existsSync(path.join(box.root, 'opt', 'runtime', 'node_modules', 'pm2', 'bin', 'pm2'))).toBe(true);
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

  it('installs the packages with retries: a dnf failure at first boot (network blip) does not stop setup', () => {
    const box = sandbox();
    publish(box, 'pkg1');
    fs.writeFileSync(path.join(box.fake, 'dnf-failures'), '2');
    const result = run(box, 'setup');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('installing packages: nginx certbot nodejs22 tar diffutils');
    expect(result.stderr).toContain('attempt 2 of 3 failed: dnf; retrying');
    expect(fs.readdirSync(path.join(box.fake, 'rpm')).sort()).toEqual(['certbot', 'diffutils', 'nginx', 'nodejs22', 'tar']);
  });

  it('a package step that keeps failing stops setup naming the packages, and the next run installs only what is missing', () => {
    const box = sandbox();
    publish(box, 'pkg2');
    fs.mkdirSync(path.join(box.fake, 'rpm'));
    fs.writeFileSync(path.join(box.fake, 'rpm', 'nginx'), '');
    fs.writeFileSync(path.join(box.fake, 'dnf-failures'), '3');
    const failed = run(box, 'setup');
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("dnf could not install certbot nodejs22 tar diffutils after 3 attempts; the retry timer, the next deploy or 'sudo provider-host-bootstrap setup' tries again");
    expect(fs.existsSync(path.join(box.root, 'state', 'host-scripts.log'))).toBe(false);

    const deploy = run(box, 'update', '--bundle-hash', 'pkg2');
    expect(deploy.status).toBe(0);
    const calls = fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8').split('\n').filter((l) => l.startsWith('dnf '));
    expect(calls[calls.length - 1]).toBe('dnf install -y --setopt=install_weak_deps=False certbot nodejs22 tar diffutils');
    expect(hostLog(box)).toMatch(/^setup /);
  });

  it('installs nothing when every package is there', () => {
    const box = sandbox();
    publish(box, 'pkg3');
    fs.mkdirSync(path.join(box.fake, 'rpm'));
    for (const p of PACKAGES.split(',')) fs.writeFileSync(path.join(box.fake, 'rpm', p), '');
    expect(run(box, 'setup').status).toBe(0);
    expect(fs.readFileSync(path.join(box.fake, 'calls.log'), 'utf8')).not.toMatch(/^dnf /m);
  });

  it('retry-setup: runs setup while none has completed, then does nothing', () => {
    const box = sandbox();
    publish(box, 'retry1');
    fs.writeFileSync(path.join(box.fake, 'ssm', PARAM), 'PH_BROKEN');
    const first = run(box, 'setup');
    expect(first.status).not.toBe(0);

    publish(box, 'retry1');
    const retried = run(box, 'retry-setup');
    expect(retried.stderr).toContain('first-boot setup has not completed; trying it again');
    expect(retried.status).toBe(0);
    expect(hostLog(box)).toMatch(/^setup domain=example.energydata.org.uk release=retry1/);
    expect(fs.existsSync(path.join(box.root, 'state', 'setup.done'))).toBe(true);

    const again = run(box, 'retry-setup');
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('setup has completed; nothing to retry');
    expect(hostLog(box).trim().split('\n')).toHaveLength(1);
  });

  it('retry-setup: leaves a run in progress alone instead of waiting for its lock', () => {
    const box = sandbox();
    publish(box, 'retry2');
    const holder = spawn('flock', [path.join(box.root, 'bootstrap.lock'), 'sleep', '5'], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 3000;
      while (!fs.existsSync(path.join(box.root, 'bootstrap.lock')) && Date.now() < deadline) execFileSync('sleep', ['0.05']);
      execFileSync('sleep', ['0.2']);
      const started = Date.now();
      const result = run(box, 'retry-setup');
      expect(result.status).toBe(0);
      expect(result.stderr).toContain('another bootstrap run is in progress; nothing to retry now');
      expect(Date.now() - started).toBeLessThan(4000);
      expect(fs.existsSync(path.join(box.root, 'state', 'host-scripts.log'))).toBe(false);
    } finally {
      holder.kill();
    }
  });

  it('rejects unknown commands and options with usage', () => {
    const box = sandbox();
    expect(run(box, 'deploy').stderr).toContain('usage: provider-host-bootstrap setup | retry-setup | update');
    publish(box, 'x1');
    expect(run(box, 'setup').status).toBe(0);
    expect(run(box, 'update', '--force').stderr).toContain('unknown option --force');
  });
});
