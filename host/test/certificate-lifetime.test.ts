/**
 * The site certificate per profile and its renewal cadence, with real certbot against
 * pebble (host/scripts/lib/certificate.sh, renewal.sh): ib1 gets an ECDSA P-256 key;
 * the renewal window (a third of the lifetime) and the timer (a twelfth) follow a
 * directory's 24-hour certificates; certbot honours the window; a restored backup whose
 * certificate has expired is renewed at once with the backed-up account.
 *
 * pebble (Debian's 2.4) issues certificates of any lifetime (certificateValidityPeriod);
 * pebble-challtestsrv resolves every name to 127.0.0.1, where a small HTTP server here
 * answers the HTTP-01 challenges from certbot's webroot. The deploy hook is a stand-in
 * that runs the real set_renewal_window (nginx and the S3 backup are tested elsewhere).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/ports';
import { startAcmeServer, type AcmeServer } from '../../testing/replica/acme-server';
import { ChildProcesses } from '../../testing/replica/child-processes';
import { builtHostRenderer } from '../../testing/host-renderer';
import { isRoot, readLines, REPO, runLib, SCRIPTS, writeExecutable } from '../../testing/host-scripts';

const DOMAIN = 'provider.example.org';
const DAY = 86400;

let dir: string;
let processes: ChildProcesses;
let challenges: Server;
let httpPort: number;
let webroot: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cert-lifetime-'));
  processes = new ChildProcesses();
  webroot = join(dir, 'acme');
  mkdirSync(join(webroot, '.well-known', 'acme-challenge'), { recursive: true });
  httpPort = await freePort();
  // Port 80's stand-in: the webroot's challenge files, nothing else.
  challenges = createServer((req, res) => {
    const match = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    const file = match ? join(webroot, '.well-known', 'acme-challenge', match[1]!) : '';
    if (!file || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(readFileSync(file));
  });
  await new Promise<void>((resolveListen) => challenges.listen(httpPort, '127.0.0.1', resolveListen));
}, 30000);

afterAll(async () => {
  await processes.stopAll();
  await new Promise<void>((resolveClose) => challenges.close(() => resolveClose()));
  rmSync(dir, { recursive: true, force: true });
});

interface Host {
  readonly root: string;
  readonly acme: AcmeServer;
  readonly env: Record<string, string>;
  readonly hookLog: string;
  readonly run: (script: string) => Promise<{ status: number | null; stdout: string; stderr: string }>;
  readonly cert: () => X509Certificate;
  readonly conf: () => string;
}

/** A host's certbot folders and settings against a pebble issuing `validitySeconds` certificates. */
async function host(name: string, validitySeconds: number, profile: 'ib1' | 'open-energy' = 'ib1', acme?: AcmeServer): Promise<Host> {
  const root = join(dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'scripts'), { recursive: true });
  const server = acme ?? (await startAcmeServer(processes, (mkdirSync(join(root, 'pebble'), { recursive: true }), join(root, 'pebble')), httpPort, { certificateValiditySeconds: validitySeconds }));
  const hookLog = join(root, 'hook.log');
  // The deploy hook's renewal window, from the real library, in certbot's environment.
  writeExecutable(
    join(root, 'scripts', 'certbot-deploy-hook.sh'),
    `#!/usr/bin/env bash
set -euo pipefail
. '${SCRIPTS}/lib/common.sh'
. '${SCRIPTS}/lib/certificate.sh'
set_renewal_window
echo "deployed $RENEWED_LINEAGE" >>'${hookLog}'
`,
  );
  // The S3 stand-in: s3://bucket/key is <root>/s3/bucket/key (the host's own bucket).
  writeExecutable(
    join(root, 'bin', 'aws'),
    `#!/usr/bin/env bash
s3=${join(root, 's3')}
args=()
while (($#)); do case $1 in --region) shift 2 ;; --only-show-errors) shift ;; *) args+=("$1"); shift ;; esac; done
local_of() { printf '%s/%s' "$s3" "\${1#s3://}"; }
case \${args[1]} in
  ls) [[ -e $(local_of "\${args[2]}") ]] ;;
  cp) if [[ \${args[2]} == s3://* ]]; then cp "$(local_of "\${args[2]}")" "\${args[3]}"; else mkdir -p "$(dirname "$(local_of "\${args[3]}")")" && cp "\${args[2]}" "$(local_of "\${args[3]}")"; fi ;;
  *) exit 2 ;;
esac
`,
  );
  const env: Record<string, string> = {
    PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}`,
    PH_SCRIPT_NAME: 'setup.sh',
    PH_DOMAIN: DOMAIN,
    PH_REGION: 'eu-west-2',
    PH_TRUST_PROFILE: profile,
    PH_RSA_KEY_SIZE: '2048',
    PH_ACME_SERVER: server.directoryUrl,
    PH_ACME_STAGING: 'false',
    PH_ACME_EMAIL: '',
    PH_ACME_WEBROOT: webroot,
    PH_CERTBOT: 'certbot',
    PH_LE_DIR: join(root, 'letsencrypt'),
    PH_LE_WORK_DIR: join(root, 'le-work'),
    PH_LE_LOGS_DIR: join(root, 'le-logs'),
    PH_LE_LIVE: join(root, 'letsencrypt', 'live', DOMAIN),
    PH_SCRIPTS: join(root, 'scripts'),
    PH_AWS: 'aws',
    PH_BACKUP_URL: 's3://bucket/letsencrypt/letsencrypt.tar.gz',
    REQUESTS_CA_BUNDLE: server.tlsCaFile,
  };
  // wait_for_dns: pebble's DNS already answers 127.0.0.1 (tested in dns-wait.test.ts).
  const run = (script: string) => runLib(`wait_for_dns() { log "dns: ok"; }; ${script}`, env, 120000);
  return {
    root,
    acme: server,
    env,
    hookLog,
    run,
    cert: () => new X509Certificate(readFileSync(join(env.PH_LE_LIVE!, 'cert.pem'))),
    conf: () => readFileSync(join(env.PH_LE_DIR!, 'renewal', `${DOMAIN}.conf`), 'utf8'),
  };
}

const lifetimeOf = (cert: X509Certificate): number => (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
/** A third of the lifetime in whole minutes, rounded (pebble's "24 hours" are 86399 s). */
const windowLine = (cert: X509Certificate): string => `renew_before_expiry = ${Math.max(1, Math.round(lifetimeOf(cert) / 180))} minutes`;
const ok = (result: { status: number | null; stderr: string }): void => expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });

(isRoot ? describe : describe.skip)('the site certificate per profile, renewed on its lifetime (real certbot, pebble)', () => {
  it('ib1: an ECDSA P-256 key, a 24-hour certificate renewed when 8 hours are left, checked every 2 hours', async () => {
    const h = await host('ib1-24h', DAY);
    ok(await h.run('ensure_certificate'));
    const cert = h.cert();
    expect(lifetimeOf(cert)).toBeGreaterThan(DAY - 120);
    expect(lifetimeOf(cert)).toBeLessThanOrEqual(DAY);
    // The key, as openssl reads it: EC on P-256 (prime256v1), in the certificate and the key file.
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(h.env.PH_LE_LIVE!, 'cert.pem')], { encoding: 'utf8' });
    expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
    expect(text).toMatch(/NIST CURVE: P-256/);
    const key = execFileSync('openssl', ['pkey', '-noout', '-text', '-in', join(h.env.PH_LE_LIVE!, 'privkey.pem')], { encoding: 'utf8' });
    expect(key).toMatch(/ASN1 OID: prime256v1/);
    expect(readLines(join(h.env.PH_LE_DIR!, 'renewal', `${DOMAIN}.conf`))).toContain('key_type = ecdsa');

    // The deploy hook wrote the window: a third of the lifetime (479 or 480 minutes).
    expect(readLines(h.hookLog)).toHaveLength(1);
    expect(h.conf().split('\n')[0]).toBe(windowLine(cert));
    expect(windowLine(cert)).toBe('renew_before_expiry = 480 minutes');

    // certbot honours it: with certbot's default (30 days) this 24-hour certificate would
    // be renewed on every run; with the window it is not due.
    const renew = await h.run(`"$PH_CERTBOT" renew --no-random-sleep-on-renew $(certbot_dirs | tr '\\n' ' ')`);
    ok(renew);
    expect(h.cert().serialNumber).toBe(cert.serialNumber);
    expect(renew.stdout).toMatch(/Certificate not yet due for renewal/);
    // And the same run without our line renews: the control.
    const conf = join(h.env.PH_LE_DIR!, 'renewal', `${DOMAIN}.conf`);
    execFileSync('sed', ['-i', '/^renew_before_expiry = /d', conf]);
    ok(await h.run(`"$PH_CERTBOT" renew --no-random-sleep-on-renew $(certbot_dirs | tr '\\n' ' ')`));
    const renewed = h.cert();
    expect(renewed.serialNumber).not.toBe(cert.serialNumber);
    // The renewal's deploy hook put the window back.
    expect(h.conf().split('\n')[0]).toBe(windowLine(renewed));

    // The timer: a twelfth of 24 hours, late by at most a quarter of that.
    const state = join(h.root, 'state');
    mkdirSync(state, { recursive: true });
    const timer = await runLib('install_renewal_timer', {
      ...h.env,
      PH_CURRENT: REPO,
      PH_PREFIX: join(h.root, 'opt'),
      PH_ETC: join(h.root, 'etc'),
      PH_STATE: state,
      PH_RENDER: builtHostRenderer(),
      PH_NODE: process.execPath,
      PH_SYSTEMD: '0',
      PH_SYSTEMD_DIR: join(h.root, 'systemd'),
    });
    ok(timer);
    expect(timer.stderr).toMatch(/renewal checks every 120 minutes \(the certificate lives 14(39|40) minutes\)/);
    const unit = readLines(join(h.root, 'systemd', 'provider-certbot-renew.timer'));
    expect(unit).toContain('OnCalendar=*-*-* 00/2:00:00');
    expect(unit).toContain('RandomizedDelaySec=1800s');
    // systemd's own reading of it: every 2 hours.
    const next = execFileSync('systemd-analyze', ['calendar', '--iterations=4', '*-*-* 00/2:00:00'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const times = [...next.matchAll(/(?:Next elapse|Iter\. #\d+): \S+ (\S+) (\S+) UTC/g)].map((m) => Date.parse(`${m[1]}T${m[2]}Z`));
    expect(times).toHaveLength(4);
    expect(new Set(times.slice(1).map((t, i) => t - times[i]!))).toEqual(new Set([2 * 3600 * 1000]));
  }, 180000);

  it('open-energy keeps its RSA key (certbot --key-type rsa); switching to ib1 replaces it with ECDSA', async () => {
    const h = await host('oe', 90 * DAY, 'open-energy');
    ok(await h.run('ensure_certificate'));
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(h.env.PH_LE_LIVE!, 'cert.pem')], { encoding: 'utf8' });
    expect(text).toMatch(/Public Key Algorithm: rsaEncryption/);
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
    // Let's Encrypt's 90 days: certbot's own 30-day window, and the twice-daily timer.
    expect(h.conf().split('\n')[0]).toBe(windowLine(h.cert()));
    expect(windowLine(h.cert())).toBe('renew_before_expiry = 43200 minutes');

    // The profile switched to ib1: the same lineage gets an ECDSA P-256 key at once.
    const rsaSerial = h.cert().serialNumber;
    const switched = await runLib(`wait_for_dns() { :; }; ensure_certificate`, { ...h.env, PH_TRUST_PROFILE: 'ib1' }, 120000);
    ok(switched);
    expect(switched.stderr).toMatch(/has rsa key, the ib1 profile asks for ecdsa-p256: replacing it/);
    expect(h.cert().serialNumber).not.toBe(rsaSerial);
    expect(execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(h.env.PH_LE_LIVE!, 'cert.pem')], { encoding: 'utf8' })).toMatch(/NIST CURVE: P-256/);
  }, 180000);

  it('the cadence: a twelfth of the lifetime, from 5 minutes to 12 hours', async () => {
    const result = await runLib(
      'for l in 7776000 86400 21600 3600 600; do p=$(renewal_period_minutes "$l"); printf "%s %s %s %s\\n" "$l" "$p" "$(renewal_schedule "$p")" "$(renewal_window_minutes "$l")"; done',
      { PATH: process.env.PATH ?? '' },
    );
    ok(result);
    expect(result.stdout.trim().split('\n')).toEqual([
      '7776000 720 03,15:00:00 1h 43200',
      '86400 120 00/2:00:00 1800s 480',
      '21600 30 *:00/30:00 450s 120',
      '3600 5 *:00/5:00 75s 20',
      '600 5 *:00/5:00 75s 3',
    ]);
  });

  /** The instance replaced: the same paths (certbot's renewal config names them), nothing under them. */
  const replaceInstance = (h: Host): void => {
    for (const key of ['PH_LE_DIR', 'PH_LE_WORK_DIR', 'PH_LE_LOGS_DIR'] as const) rmSync(h.env[key]!, { recursive: true, force: true });
  };
  const accountUris = (h: Host): string[] =>
    readdirSync(join(h.env.PH_LE_DIR!, 'accounts'), { recursive: true })
      .filter((p) => String(p).endsWith('regr.json'))
      .map((p) => JSON.parse(readFileSync(join(h.env.PH_LE_DIR!, 'accounts', String(p)), 'utf8')).uri as string);

  it('a restored backup of an expired short-lived certificate is renewed at once, with the backed-up account', async () => {
    const h = await host('restore', 40);
    ok(await h.run('ensure_certificate && backup_certificate'));
    const backedUp = h.cert();
    const account = accountUris(h);
    expect(account).toHaveLength(1);

    replaceInstance(h);
    const wait = Date.parse(backedUp.validTo) - Date.now() + 1500;
    if (wait > 0) await new Promise((resolveWait) => setTimeout(resolveWait, wait));
    expect(Date.parse(backedUp.validTo)).toBeLessThan(Date.now());
    const restored = await h.run('ensure_certificate');
    ok(restored);
    expect(restored.stderr).toMatch(/restoring .* from s3:\/\/bucket\/letsencrypt\/letsencrypt\.tar\.gz/);
    expect(restored.stderr).toMatch(/has expired or expires within its renewal window \(1 minutes\): renewing it now/);
    const renewed = h.cert();
    expect(renewed.serialNumber).not.toBe(backedUp.serialNumber);
    expect(Date.parse(renewed.validTo)).toBeGreaterThan(Date.now());
    // The same ACME account (the backup's key): no new registration.
    expect(accountUris(h)).toEqual(account);
    // Still ECDSA P-256 on the renewal.
    expect(execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(h.env.PH_LE_LIVE!, 'cert.pem')], { encoding: 'utf8' })).toMatch(/NIST CURVE: P-256/);
  }, 180000);

  it('a restored backup of a certificate well before its window is kept (its window written if the backup predates it)', async () => {
    const h = await host('keep', DAY);
    ok(await h.run('ensure_certificate'));
    const issued = h.cert();
    // A backup made before the window existed: certbot's default comment only.
    execFileSync('sed', ['-i', '/^renew_before_expiry = /d', join(h.env.PH_LE_DIR!, 'renewal', `${DOMAIN}.conf`)]);
    ok(await h.run('backup_certificate'));
    replaceInstance(h);
    const restored = await h.run('ensure_certificate');
    ok(restored);
    expect(restored.stderr).toMatch(/restored from backup/);
    expect(restored.stderr).not.toMatch(/renewing it now/);
    expect(h.cert().serialNumber).toBe(issued.serialNumber);
    expect(h.conf().split('\n')[0]).toBe(windowLine(issued));
  }, 180000);
});
