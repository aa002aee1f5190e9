/**
 * setup.sh and update.sh run for real against a temporary root, with
 * stand-ins for AWS (S3/SSM from folders), nginx, certbot and PM2 that record
 * their argv. A certificate is already in place (the ACME path is the e2e's),
 * so a run takes a second. The scripts need root (they chown to the app user,
 * here root itself); without root these tests are skipped.
 */
import { spawnSync } from 'node:child_process';
import { publishDatasets } from '../../testing/replica/release-seed';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isRoot, readLines, runBash, runLib, SCRIPTS, setAppCode, writeBundle, writeExecutable, writePm2Stub, type BashResult } from '../../testing/host-scripts';

const DOMAIN = 'provider.example.test';
const ACME = 'https://acme.example.test/dir';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
// A stand-in, not a key; the PEM label is assembled so that no scan of the repository mistakes it for one.
const KEY_LABEL = ['PRIVATE', 'KEY'].join(' ');
const KEY = `-----BEGIN ${KEY_LABEL}-----\nMIIE\n-----END ${KEY_LABEL}-----\n`;

let dir: string;
let root: string;
let bundle: string;
let env: Record<string, string>;

const path = (...parts: string[]) => join(root, ...parts);
const pm2Log = () => join(dir, 'pm2.log');
const nginxLog = () => join(dir, 'nginx.log');

function put(file: string, text: string) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
const s3 = (key: string, text: string) => put(join(dir, 's3', 'bucket', key), text);
const ssm = (name: string, text: string) => put(join(dir, 'ssm', name.replace(/\//g, '_')), text);

function writeStubs(bin: string) {
  mkdirSync(bin, { recursive: true });
  // The AWS CLI calls the host scripts make, served from $dir/s3/<bucket>/<key> and $dir/ssm/<name>.
  writeExecutable(
    join(bin, 'aws'),
    `#!/usr/bin/env bash
set -euo pipefail
store='${dir}/s3'
[[ $1 == --region ]] && shift 2
service=$1 verb=$2
shift 2
args=()
while (($#)); do
  case $1 in
    --name) name=$2; shift 2 ;;
    --query | --output) shift 2 ;;
    --*) shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$service $verb" in
  'ssm get-parameter')
    file='${dir}/ssm/'"\${name//\\//_}"
    if [[ -e '${dir}/ssm-denied' ]]; then echo "An error occurred (AccessDeniedException) when calling the GetParameter operation: User is not authorized" >&2; exit 254; fi
    if [[ ! -f $file ]]; then echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter $name not found." >&2; exit 254; fi
    cat "$file" ;;
  's3 ls') [[ -e $store/\${args[0]#s3://} ]] ;;
  's3 cp')
    if [[ \${args[0]} == s3://* ]]; then cp "$store/\${args[0]#s3://}" "\${args[1]}"
    else mkdir -p "$(dirname "$store/\${args[1]#s3://}")"; cp "\${args[0]}" "$store/\${args[1]#s3://}"; fi ;;
  's3 sync')
    src=$store/\${args[0]#s3://} dest=\${args[1]}
    find "$dest" -mindepth 1 -delete
    if [[ -d $src ]]; then cp -R "$src/." "$dest/"; fi ;;
  *) echo "aws stub: unexpected $service $verb" >&2; exit 1 ;;
esac
`,
  );
  writeExecutable(join(bin, 'nginx'), `#!/usr/bin/env bash\nprintf 'nginx %s\\n' "$*" >>'${nginxLog()}'\n`);
  writeExecutable(join(bin, 'certbot'), `#!/usr/bin/env bash\necho 'certbot stub: not expected here' >&2\nexit 1\n`);
  writePm2Stub({ bin, log: pm2Log(), pm2State: join(dir, 'pm2-state'), socket: path('run', 'provider', 'provider.sock') });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'setup-update-'));
  root = join(dir, 'root');
  bundle = join(dir, 'bundle');
  writeBundle(bundle, 'console.log("v1");\n');
  writeStubs(join(dir, 'bin'));
  s3('trust/ca-bundle.pem', CERT);
  s3('shared_data/half-hourly-consumption.csv', 'time,kwh\n00:00,1\n');
  s3('public/index.html', '<p>hello</p>\n');
  ssm('/provider/tls-cert', CERT);
  ssm('/provider/tls-key', KEY);
  // A certificate from the configured ACME directory is already there.
  put(path('etc/letsencrypt/live', DOMAIN, 'fullchain.pem'), CERT);
  put(path('etc/letsencrypt/live', DOMAIN, 'privkey.pem'), KEY);
  put(path('etc/letsencrypt/renewal', `${DOMAIN}.conf`), `server = ${ACME}\n`);
  mkdirSync(path('etc/nginx/conf.d'), { recursive: true });
  // nginx "runs": its PID file names a live process (this one).
  put(path('run/nginx.pid'), `${process.pid}\n`);
  env = {
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
    PH_DOMAIN: DOMAIN,
    PH_REGION: 'eu-west-2',
    PH_BUCKET: 'bucket',
    PH_BUNDLE_KEY: 'bundles/test.zip',
    PH_TRUST_BUNDLE_KEY: 'trust/ca-bundle.pem',
    PH_SCOPE: 'energydata',
    PH_HOST_CONFIG_PARAM: '/provider/host-config',
    PH_ISSUER: 'https://issuer.example.test',
    PH_CLIENT_ID: 'provider',
    PH_TLS_CERT_PARAM: '/provider/tls-cert',
    PH_TLS_KEY_PARAM: '/provider/tls-key',
    PH_ACME_SERVER: ACME,
    PH_ETC: path('etc/provider-host'),
    PH_PREFIX: path('opt/provider-host'),
    PH_CURRENT: bundle,
    PH_STATE: path('var/lib/provider-host'),
    PH_SRV: path('srv/provider'),
    PH_RUN: path('run/provider'),
    PH_USER: 'root',
    PH_GROUP: 'root',
    PH_USER_HOME: path('home/provider'),
    PH_NGINX_GROUP: 'root',
    PH_NGINX_BIN: 'nginx',
    PH_NGINX_PID: path('run/nginx.pid'),
    PH_NGINX_CONF_DIR: path('etc/nginx/conf.d'),
    PH_NGINX_MAIN_CONF: path('etc/nginx/nginx.conf'),
    PH_NGINX_DEFAULT_D: path('etc/nginx/default.d'),
    PH_NGINX_SHARE: path('etc/nginx/provider-host'),
    PH_NGINX_LOG_DIR: path('var/log/nginx'),
    PH_LE_DIR: path('etc/letsencrypt'),
    PH_LE_WORK_DIR: path('var/lib/letsencrypt'),
    PH_LE_LOGS_DIR: path('var/log/letsencrypt'),
    PH_SYSTEMD: '0',
    PH_SYSTEMD_DIR: path('etc/systemd/system'),
    PH_TMPFILES_DIR: path('etc/tmpfiles.d'),
    PH_NODE: process.execPath,
    PH_PM2: 'pm2',
    PH_AWS: 'aws',
    PH_CERTBOT: 'certbot',
    PH_LOGROTATE_DIR: path('etc/logrotate.d'),
    PH_HOST_LOG_DIR: path('var/log/provider-host'),
    PH_CLOUD_INIT_LOG: path('var/log/cloud-init-output.log'),
    PH_WAIT_SOCKET_SECONDS: '5',
    // The fake trust bundle here is no certificate: CRLs are host/test/revocation.test.ts's.
    PH_REVOCATION: 'false',
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (script: 'setup' | 'update', extra: Record<string, string> = {}): Promise<BashResult> =>
  runBash([join(SCRIPTS, `${script}.sh`)], { ...env, ...extra });

/** Runs setup.sh, failing the test with its log when it does not succeed. */
async function setupOk(extra: Record<string, string> = {}): Promise<BashResult> {
  const result = await run('setup', extra);
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('setup complete') });
  return result;
}

function pm2AppCalls(): string[] {
  return readLines(pm2Log()).filter((line) => !line.startsWith('pm2 jlist'));
}

const ecosystem = () => path('opt/provider-host/app/provider-app/ecosystem.config.js');

(isRoot ? describe : describe.skip)('setup.sh with the app already online (a first boot that failed after PM2 started it)', () => {
  it('starts the app on a first run, and a second run changes nothing', async () => {
    const first = await setupOk();
    expect(pm2AppCalls()).toEqual([`pm2 start ${ecosystem()} --update-env`, 'pm2 save --force']);
    expect(first.stderr).toContain('changed: pm2: provider started');
    rmSync(pm2Log());
    const second = await setupOk();
    expect(second.stderr).toMatch(/setup complete: 0 change\(s\)\n$/);
    expect(pm2AppCalls()).toEqual([]);
  });

  it('reloads it (zero downtime) when the code changed, instead of leaving the old code serving', async () => {
    await setupOk();
    rmSync(pm2Log());
    setAppCode(bundle, 'console.log("v2");\n');
    const result = await setupOk();
    expect(readFileSync(path('opt/provider-host/app/dist/provider-app/start-provider-app.js'), 'utf8')).toBe('console.log("v2");\n');
    expect(pm2AppCalls()).toEqual([`pm2 startOrReload ${ecosystem()} --update-env`, 'pm2 save --force']);
    expect(result.stderr).toContain('setup.sh: reloading provider with PM2');
    expect(result.stderr).toContain('changed: pm2: provider reloaded');
  });

  it('reloads it when only its config changed', async () => {
    await setupOk();
    rmSync(pm2Log());
    const result = await setupOk({ PH_ACCEL_REDIRECT: 'false' });
    expect(result.stderr).toContain(`changed: ${path('etc/provider-host/provider.json')}`);
    expect(pm2AppCalls()).toEqual([`pm2 startOrReload ${ecosystem()} --update-env`, 'pm2 save --force']);
  });

  it('reloads it when only a secret changed', async () => {
    await setupOk();
    rmSync(pm2Log());
    ssm('/provider/tls-key', KEY.replace('MIIE', 'MIIF'));
    const result = await setupOk();
    expect(result.stderr).toContain(`changed: ${path('etc/provider-host/secrets/transport.key')}`);
    expect(pm2AppCalls()).toEqual([`pm2 startOrReload ${ecosystem()} --update-env`, 'pm2 save --force']);
  });

  it('reloads nginx when only the trust bundle changed', async () => {
    await setupOk();
    rmSync(nginxLog());
    rmSync(pm2Log());
    s3('trust/ca-bundle.pem', CERT + CERT.replace('MIIB', 'MIIC'));
    const result = await setupOk();
    expect(result.stderr).toContain(`changed: ${path('etc/provider-host/trust-bundle.pem')}`);
    expect(readLines(nginxLog())).toEqual(['nginx -t -q', 'nginx -s reload']);
    expect(pm2AppCalls()).toEqual([]);
  });
});

(isRoot ? describe : describe.skip)("setup.sh takes the distribution's port-80 default server over", () => {
  it('drops default_server from nginx.conf, closes the catch-all server, and changes nothing the second time', async () => {
    const al2023 = [
      'http {',
      '    include /etc/nginx/conf.d/*.conf;',
      '    server {',
      '        listen       80 default_server;',
      '        listen       [::]:80 default_server;',
      '        server_name  _;',
      '        include /etc/nginx/default.d/*.conf;',
      '    }',
      '}',
      '',
    ].join('\n');
    put(path('etc/nginx/nginx.conf'), al2023);
    mkdirSync(path('etc/nginx/default.d'), { recursive: true });
    const first = await setupOk();
    const conf = readFileSync(path('etc/nginx/nginx.conf'), 'utf8');
    expect(conf).not.toContain('default_server');
    expect(conf).toContain('listen       80;');
    expect(conf).toContain('listen       [::]:80;');
    expect(readFileSync(path('etc/nginx/default.d/provider-host.conf'), 'utf8')).toContain('return 444;');
    expect(first.stderr).toContain(`changed: ${path('etc/nginx/nginx.conf')}`);
    const second = await setupOk();
    expect(second.stderr).not.toContain('nginx.conf');
  });
});

(isRoot ? describe : describe.skip)('setup.sh with a secret missing or wrong', () => {
  it('a secret not created yet: the certificate and the mTLS site are in place, and the error names the parameter and the fix', async () => {
    rmSync(join(dir, 'ssm', '_provider_tls-key'));
    const result = await run('setup');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'setup.sh: ERROR: SSM parameter /provider/tls-key does not exist; create it as a SecureString (docs/stack.md, "Creating the secrets"): '
        + 'aws ssm put-parameter --region eu-west-2 --name /provider/tls-key --type SecureString --value file://FILE (add --tier Advanced when FILE is over 4096 bytes)',
    );
    expect(result.stderr).not.toContain('instance role');
    expect(existsSync(path('etc/nginx/conf.d/provider.conf'))).toBe(true);
    expect(readLines(nginxLog())).toContain('nginx -t -q');
    expect(pm2AppCalls()).toEqual([]);
  });

  it('a role that may not read it: the error blames IAM/KMS, naming the parameter', async () => {
    put(join(dir, 'ssm-denied'), '');
    const result = await run('setup');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('setup.sh: ERROR: the instance role may not read SSM parameter /provider/tls-cert ((AccessDeniedException)); it needs ssm:GetParameter on it and kms:Decrypt');
  });

  it('a truncated certificate (no END line) is refused with the tier hint, and nothing is installed', async () => {
    ssm('/provider/tls-cert', CERT.split('\n').slice(0, 2).join('\n'));
    const result = await run('setup');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('SSM parameter /provider/tls-cert does not hold a complete PEM certificate (1 BEGIN, 0 END line(s)): put the whole PEM file (a chain over 4096 bytes needs --tier Advanced)');
    expect(existsSync(path('etc/provider-host/secrets/transport.crt'))).toBe(false);
  });

  it('never prints a secret, whatever fails', async () => {
    ssm('/provider/tls-key', KEY.replace('-----END', 'TRUNCATED'));
    const result = await run('setup');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('does not hold a complete PEM');
    expect(result.stderr + result.stdout).not.toContain('MIIE');
  });
});

(isRoot ? describe : describe.skip)('a failing step fails the run (set -e holds inside every step)', () => {
  /** A mv that fails for the staged datasets tree, as on a read-only or full file system. */
  function failingMv(): Record<string, string> {
    const failbin = join(dir, 'failbin');
    mkdirSync(failbin);
    writeExecutable(
      join(failbin, 'mv'),
      `#!/usr/bin/env bash
for arg in "$@"; do
  if [[ $arg == */.staging-shared_data.* ]]; then echo "mv: cannot move '$arg': Read-only file system" >&2; exit 1; fi
done
exec '${realpathSync('/usr/bin/mv')}' "$@"
`,
    );
    return { PATH: `${failbin}:${env.PATH}` };
  }

  it.each(['update', 'setup'] as const)(
    'a data swap whose mv fails: %s.sh exits non-zero naming it, and shared_data keeps the previous tree',
    async (script) => {
      // Datasets are published releases (provider-host publish's code, into the fake bucket).
      await publishDatasets(join(dir, 's3', 'bucket'), { 'half-hourly-consumption.csv': 'time,kwh\n00:00,1\n' }, join(dir, 'release-1'));
      await setupOk();
      const link = path('srv/provider/shared_data');
      const before = readlinkSync(link);
      await publishDatasets(join(dir, 's3', 'bucket'), { 'half-hourly-consumption.csv': 'time,kwh\n00:00,2\n' }, join(dir, 'release-2'));
      const result = await run(script, failingMv());
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(`${script}\\.sh: ERROR: cannot move \\S+/\\.staging-shared_data\\.\\w+ to \\S+/shared_data-[\\w-]+; ${link} still points to \\S+/${before.split('/').pop()}\\. Check that`),
      );
      expect(result.stderr).not.toContain(`changed: ${link}`);
      expect(result.stderr).not.toContain('complete:');
      expect(readlinkSync(link)).toBe(before);
      expect(readFileSync(join(link, 'half-hourly-consumption.csv'), 'utf8')).toBe('time,kwh\n00:00,1\n');
    },
  );

  it('install_content into a folder that does not exist (the nginx site): setup.sh exits non-zero naming it', async () => {
    const site = path('etc/nginx/missing/provider.conf');
    const result = await run('setup', { PH_NGINX_SITE: site });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`setup.sh: ERROR: cannot create a temporary file next to ${site} (does ${dirname(site)} exist, and is it writable?)`);
    expect(result.stderr).not.toContain('complete:');
    expect(existsSync(site)).toBe(false);
    // It stopped there: nginx was neither reloaded nor started, the app not started.
    expect(readLines(nginxLog())).toEqual([]);
    expect(pm2AppCalls()).toEqual([]);
  });
});

/**
 * The certificate backup lives in a bucket the instance can write: a tampered
 * archive must not make certbot (root) run anything, nor write outside
 * /etc/letsencrypt, nor give anyone the key.
 */
(isRoot ? describe : describe.skip)('restoring a tampered certificate backup', () => {
  const marker = () => join(dir, 'pwned');
  const ourHook = () => `renew_hook = bash ${bundle}/host/scripts/certbot-deploy-hook.sh`;

  /** A backup as certbot lays it out, plus what an attacker with the role would add. */
  function tamperedBackup(): void {
    const tree = join(dir, 'backup');
    const file = (rel: string, text: string) => put(join(tree, rel), text);
    file(`archive/${DOMAIN}/cert1.pem`, CERT);
    file(`archive/${DOMAIN}/chain1.pem`, CERT);
    file(`archive/${DOMAIN}/fullchain1.pem`, CERT);
    file(`archive/${DOMAIN}/privkey1.pem`, KEY);
    mkdirSync(join(tree, 'live', DOMAIN), { recursive: true });
    for (const name of ['cert', 'chain', 'fullchain', 'privkey']) symlinkSync(`../../archive/${DOMAIN}/${name}1.pem`, join(tree, 'live', DOMAIN, `${name}.pem`));
    file('accounts/acme.example.test/directory/abc/regr.json', '{}\n');
    file(
      `renewal/${DOMAIN}.conf`,
      `version = 2.1.0\narchive_dir = /etc/letsencrypt/archive/${DOMAIN}\n\n[renewalparams]\nauthenticator = webroot\nserver = ${ACME}\n`
        + `renew_hook = bash ${bundle}/host/scripts/certbot-deploy-hook.sh\npost_hook = touch ${marker()}\npre_hook = touch ${marker()}\nmanual_auth_hook=touch ${marker()}\n`,
    );
    // Tampering: a hook certbot would run, a CLI config naming one, a link to a secret, a device.
    file('renewal-hooks/deploy/evil.sh', `#!/bin/sh\ntouch ${marker()}\n`);
    file('cli.ini', `post-hook = touch ${marker()}\n`);
    symlinkSync('/etc/shadow', join(tree, 'live', DOMAIN, 'shadow'));
    expect(spawnSync('mknod', [join(tree, 'archive', DOMAIN, 'mem'), 'c', '1', '1']).status).toBe(0);
    const tarFile = join(dir, 'letsencrypt.tar');
    expect(spawnSync('tar', ['-cf', tarFile, '-C', tree, '.']).status).toBe(0);
    // An absolute name and one climbing out with '..'.
    put(join(dir, 'abs-pwned'), `touch ${marker()}\n`);
    expect(spawnSync('tar', ['-rPf', tarFile, join(dir, 'abs-pwned')]).status).toBe(0);
    expect(spawnSync('tar', ['-rPf', tarFile, '--transform', 's,^abs-pwned,./renewal/../../dotdot-pwned,', '-C', dir, 'abs-pwned']).status).toBe(0);
    rmSync(join(dir, 'abs-pwned'));
    expect(spawnSync('gzip', ['-f', tarFile]).status).toBe(0);
    mkdirSync(join(dir, 's3', 'bucket', 'letsencrypt'), { recursive: true });
    renameSync(`${tarFile}.gz`, join(dir, 's3', 'bucket', 'letsencrypt', 'letsencrypt.tar.gz'));
  }

  beforeEach(() => {
    // The hook the renewal config names is the bundle's own.
    cpSync(SCRIPTS, join(bundle, 'host', 'scripts'), { recursive: true });
    rmSync(path('etc/letsencrypt'), { recursive: true, force: true });
    tamperedBackup();
  });

  /** The certificate step of setup.sh and update.sh: with no certificate, it restores the backup. */
  async function ensureCertificate(): Promise<BashResult> {
    const result = await runLib('set_defaults; ensure_certificate; echo "changes=$PH_CHANGES"', { ...env, PH_SCRIPT_NAME: 'setup.sh' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.not.stringContaining('ERROR') });
    return result;
  }

  it('restores only the certificate, refusing and logging every other part, and nothing it brought ever runs', async () => {
    const result = await ensureCertificate();
    const le = path('etc/letsencrypt');
    // The good parts: the certificate is served from the backup, keys for root only.
    expect(result.stderr).toContain(`changed: ${le} (restored from backup)`);
    expect(readFileSync(join(le, 'live', DOMAIN, 'fullchain.pem'), 'utf8')).toBe(CERT);
    expect(readFileSync(join(le, 'live', DOMAIN, 'privkey.pem'), 'utf8')).toBe(KEY);
    expect(readlinkSync(join(le, 'live', DOMAIN, 'privkey.pem'))).toBe(`../../archive/${DOMAIN}/privkey1.pem`);
    expect(existsSync(join(le, 'accounts', 'acme.example.test', 'directory', 'abc', 'regr.json'))).toBe(true);
    for (const top of ['accounts', 'archive', 'live']) expect((statSync(join(le, top)).mode & 0o777).toString(8)).toBe('700');
    expect(statSync(join(le, 'archive', DOMAIN, 'privkey1.pem')).uid).toBe(0);

    // The bad parts: refused, each with its reason.
    expect(result.stdout).toBe('changes=1\n');
    const refused = result.stderr.split('\n').filter((line) => line.includes('setup.sh: restore: refused'));
    expect(refused).toEqual(
      expect.arrayContaining([
        expect.stringContaining('refused ./renewal-hooks/deploy/evil.sh: not something certbot needs'),
        expect.stringContaining('refused ./cli.ini: not something certbot needs'),
        expect.stringContaining(`refused ./live/${DOMAIN}/shadow: a symlink to '/etc/shadow'`),
        expect.stringContaining(`refused ./archive/${DOMAIN}/mem: not a regular file, folder or live/ symlink (tar type 'c')`),
        expect.stringContaining(`refused ${join(dir, 'abs-pwned')}: an absolute path`),
        expect.stringContaining("refused ./renewal/../../dotdot-pwned: a '..' in the path"),
        expect.stringContaining(`refused renewal/${DOMAIN}.conf line 'post_hook = touch ${marker()}'`),
        expect.stringContaining(`refused renewal/${DOMAIN}.conf line 'pre_hook = touch ${marker()}'`),
        expect.stringContaining(`refused renewal/${DOMAIN}.conf line 'manual_auth_hook=touch ${marker()}'`),
      ]),
    );
    expect(existsSync(join(le, 'renewal-hooks'))).toBe(false);
    expect(existsSync(join(le, 'cli.ini'))).toBe(false);
    expect(existsSync(join(le, 'live', DOMAIN, 'shadow'))).toBe(false);
    expect(existsSync(join(le, 'archive', DOMAIN, 'mem'))).toBe(false);
    expect(existsSync(join(dir, 'abs-pwned'))).toBe(false);
    expect(existsSync(join(dir, 'dotdot-pwned'))).toBe(false);
    expect(existsSync(join(le, '..', 'dotdot-pwned'))).toBe(false);
    // The one hook left is ours, in [renewalparams]; the rest of the config is kept.
    const conf = readFileSync(join(le, 'renewal', `${DOMAIN}.conf`), 'utf8');
    expect(conf.split('\n').filter((line) => /hook/.test(line))).toEqual([ourHook()]);
    expect(conf).toContain(`[renewalparams]\n${ourHook()}\nauthenticator = webroot\nserver = ${ACME}\n`);

    // The deploy path, as certbot renew would take it: every hook the config names and
    // every renewal-hooks script; then the deploy hook itself. The marker never appears.
    const hooks = conf.split('\n').filter((line) => /^\s*\w*hook\s*=/.test(line)).map((line) => line.replace(/^[^=]*=\s*/, ''));
    for (const command of hooks) expect(await runBash(['-c', command], env)).toMatchObject({ status: 0 });
    expect((await runBash([join(SCRIPTS, 'certbot-deploy-hook.sh')], env)).status).toBe(0);
    expect(readLines(nginxLog())).toContain('nginx -s reload');
    expect(existsSync(marker())).toBe(false);

    // And the restored certificate is kept: a second run changes nothing.
    const again = await ensureCertificate();
    expect(again.stdout).toBe('changes=0\n');
    expect(existsSync(marker())).toBe(false);
  });

  it('an untampered backup of the same certificate restores without a refusal', async () => {
    rmSync(join(dir, 'backup'), { recursive: true, force: true });
    const tree = join(dir, 'clean');
    put(join(tree, 'archive', DOMAIN, 'fullchain1.pem'), CERT);
    put(join(tree, 'archive', DOMAIN, 'privkey1.pem'), KEY);
    mkdirSync(join(tree, 'live', DOMAIN), { recursive: true });
    symlinkSync(`../../archive/${DOMAIN}/fullchain1.pem`, join(tree, 'live', DOMAIN, 'fullchain.pem'));
    symlinkSync(`../../archive/${DOMAIN}/privkey1.pem`, join(tree, 'live', DOMAIN, 'privkey.pem'));
    put(join(tree, 'renewal', `${DOMAIN}.conf`), `[renewalparams]\nserver = ${ACME}\n${ourHook()}\n`);
    expect(spawnSync('tar', ['-czf', join(dir, 's3', 'bucket', 'letsencrypt', 'letsencrypt.tar.gz'), '-C', tree, '.']).status).toBe(0);
    const result = await ensureCertificate();
    expect(result.stderr).toContain('(restored from backup)');
    expect(result.stderr).not.toContain('refused');
    expect(readFileSync(path('etc/letsencrypt/live', DOMAIN, 'privkey.pem'), 'utf8')).toBe(KEY);
    expect(readFileSync(path('etc/letsencrypt/renewal', `${DOMAIN}.conf`), 'utf8')).toBe(`[renewalparams]\n${ourHook()}\nserver = ${ACME}\n`);
  });

  it('our own backup holds only what a restore takes back, so restoring it refuses nothing', async () => {
    await ensureCertificate();
    // certbot creates these (empty) in its config folder.
    mkdirSync(path('etc/letsencrypt/renewal-hooks/deploy'), { recursive: true });
    const backup = await runLib('set_defaults; backup_certificate', { ...env, PH_SCRIPT_NAME: 'certbot-deploy-hook.sh' });
    expect(backup.status).toBe(0);
    const archive = join(dir, 's3', 'bucket', 'letsencrypt', 'letsencrypt.tar.gz');
    const listed = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(new Set(listed.map((name) => name.split('/')[0]))).toEqual(new Set(['accounts', 'archive', 'live', 'renewal']));
    rmSync(path('etc/letsencrypt'), { recursive: true, force: true });
    const restored = await ensureCertificate();
    expect(restored.stderr).toContain('(restored from backup)');
    expect(restored.stderr).not.toContain('refused');
    expect(readFileSync(path('etc/letsencrypt/live', DOMAIN, 'privkey.pem'), 'utf8')).toBe(KEY);
  });
});
