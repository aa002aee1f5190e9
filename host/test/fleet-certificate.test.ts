/**
 * The fleet's certificate coordination (host/scripts/lib/fleet-certificate.sh) and its
 * DNS-01 hook (lib/dns-challenge.sh, certbot-dns-route53-hook.sh), run by bash against the
 * replica's AWS stand-in: S3's conditional writes for the renewal lock, Route53's
 * change-resource-record-sets / get-change for the _acme-challenge record. The whole flow
 * with certbot, pebble and two hosts is test/e2e/fleet.e2e.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { renderTemplateFile } from '../../lib/render-template';
import { createStandinZone, standinRecordSets } from '../../testing/replica/route53-standin';
import { writeAwsStandinBin } from '../../testing/aws-standin-bin';
import { REPO, runLib, SCRIPTS } from '../../testing/host-scripts';

const BUCKET = 'fleet-bucket';
const ZONE = 'ZFLEETTEST1';
const DOMAIN = 'provider.fleet.test';
const TOKEN = 'Jd9r0Hq0eF8cQeE2Xn6b2YvJ0c8N8rX3pV1sW7kTq4M';

let dir: string;
let aws: string;
let standinDir: string;
let awsCommand: string;
beforeAll(() => {
  standinDir = mkdtempSync(join(tmpdir(), 'fleet-cert-aws-'));
  awsCommand = writeAwsStandinBin(standinDir);
});
afterAll(() => rmSync(standinDir, { recursive: true, force: true }));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-cert-'));
  aws = join(dir, 'aws');
  mkdirSync(join(aws, 's3', BUCKET), { recursive: true });
  createStandinZone(aws, ZONE, 'fleet.test');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockFile = () => join(aws, 's3', BUCKET, BUCKET_LAYOUT.letsencryptLockKey);

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PH_SCRIPT_NAME: 'test',
    PH_AWS: awsCommand,
    PH_AWS_STANDIN_ROOT: aws,
    PH_REGION: 'eu-west-2',
    PH_BUCKET: BUCKET,
    PH_LE_BACKUP_PREFIX: BUCKET_LAYOUT.letsencrypt,
    PH_STATE: join(dir, 'state'),
    PH_DOMAIN: DOMAIN,
    PH_HOSTED_ZONE_ID: ZONE,
    PH_DNS_CHANGE_POLL_SECONDS: '1',
    ...extra,
  };
}

/** Runs lib code with the fleet and DNS libraries sourced (after provisioning.sh). */
const fleetLib = (script: string, extra: Record<string, string> = {}) =>
  runLib(`. "${join(SCRIPTS, 'lib', 'dns-challenge.sh')}"; fleet_defaults; ${script}`, env(extra), 60000);

describe('the renewal lock (S3 conditional writes)', () => {
  it('is created by one host, holding its holder and an expiry; a second host is refused while it lives; the holder releases it', async () => {
    const first = await fleetLib('fleet_lock_acquire && echo HELD; echo "holder=$PH_FLEET_HOLDER"');
    expect(first.stdout).toContain('HELD');
    const lock = JSON.parse(readFileSync(lockFile(), 'utf8')) as { holder: string; expires: number };
    expect(first.stdout).toContain(`holder=${lock.holder}`);
    expect(lock.expires - Date.now() / 1000).toBeGreaterThan(890);
    expect(lock.expires - Date.now() / 1000).toBeLessThanOrEqual(900);

    const second = await fleetLib('if fleet_lock_acquire; then echo HELD; else echo REFUSED; fi; fleet_lock_release');
    expect(second.stdout.trim()).toBe('REFUSED');
    expect(second.stderr).toMatch(new RegExp(`the renewal lock is held by ${lock.holder.replace(/[.]/g, '\\.')} for \\d+s more; another host renews`));
    // Not its lock: the second host's release leaves it.
    expect(second.stderr).toContain('the renewal lock is no longer ours');
    expect(existsSync(lockFile())).toBe(true);

    const third = await fleetLib('fleet_lock_acquire && echo HELD; fleet_lock_release; fleet_lock_acquire && echo AGAIN; fleet_lock_release');
    expect(third.stdout).not.toContain('HELD');
    expect(existsSync(lockFile())).toBe(true);
  });

  it('takes over a dead holder\'s lock once its expiry has passed, and releases it', async () => {
    mkdirSync(join(lockFile(), '..'), { recursive: true });
    writeFileSync(lockFile(), JSON.stringify({ holder: 'dead-host/1234', expires: Math.floor(Date.now() / 1000) - 5 }));
    const result = await fleetLib('fleet_lock_acquire && echo HELD; grep -c dead-host "$PH_AWS_STANDIN_ROOT/s3/$PH_BUCKET/$PH_FLEET_LOCK_KEY" || true; fleet_lock_release');
    expect(result.stdout).toContain('HELD');
    expect(result.stdout).toMatch(/^0$/m);
    expect(result.stderr).toMatch(/took over the renewal lock of dead-host\/1234, expired \d+s ago/);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('goes to exactly one of five hosts trying at once (and to one of five racing for an expired lock)', async () => {
    const race = () => Promise.all(Array.from({ length: 5 }, () => fleetLib('if fleet_lock_acquire; then echo HELD; else echo REFUSED; fi')));
    const fresh = await race();
    expect(fresh.filter((r) => r.stdout.includes('HELD'))).toHaveLength(1);
    expect(fresh.filter((r) => r.stdout.includes('REFUSED'))).toHaveLength(4);

    writeFileSync(lockFile(), JSON.stringify({ holder: 'dead-host/1', expires: 1 }));
    const expired = await race();
    expect(expired.filter((r) => r.stdout.includes('HELD'))).toHaveLength(1);
    expect(expired.filter((r) => r.stdout.includes('REFUSED'))).toHaveLength(4);
  }, 120000);

  it('dies naming the key when S3 refuses the write for another reason than the condition', async () => {
    const result = await fleetLib('fleet_lock_acquire', { PH_BUCKET: 'x' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/cannot write the renewal lock s3:\/\/x\/letsencrypt\/renewal\.lock: .*s3:PutObject/);
  });

  it('refuses a lock that would expire before certbot\'s bound', async () => {
    const result = await fleetLib('true', { PH_FLEET_LOCK_SECONDS: '60', PH_FLEET_CERTBOT_SECONDS: '600' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('PH_FLEET_CERTBOT_SECONDS (600) must be below PH_FLEET_LOCK_SECONDS (60)');
  });
});

describe('the DNS-01 hook (Route53)', () => {
  it('auth: UPSERTs _acme-challenge.<domain> TXT with the quoted token and waits for INSYNC; cleanup: DELETEs it', async () => {
    const auth = await fleetLib(`dns_challenge_defaults; dns_challenge_publish ${DOMAIN} ${TOKEN}`);
    expect(auth.status).toBe(0);
    expect(auth.stderr).toMatch(/published _acme-challenge\.provider\.fleet\.test\. TXT \(change \/change\/C[0-9A-F]+\); waiting for INSYNC/);
    expect(auth.stderr).toContain('TXT is in sync');
    // The stand-in keeps a change PENDING for 2 s: the hook polled get-change until INSYNC.
    expect(auth.ms).toBeGreaterThanOrEqual(2000);
    expect(standinRecordSets(aws, ZONE)).toEqual([{ Name: `_acme-challenge.${DOMAIN}.`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${TOKEN}"` }] }]);
    const calls = readFileSync(join(aws, 'calls.log'), 'utf8');
    expect(calls).toMatch(/route53 get-change/);

    const cleanup = await fleetLib(`dns_challenge_defaults; dns_challenge_remove ${DOMAIN} ${TOKEN}`);
    expect(cleanup.status).toBe(0);
    expect(standinRecordSets(aws, ZONE)).toEqual([]);
  }, 60000);

  it('writes nothing for another domain than its own, nor for a token that is not base64url (the change batch cannot be injected)', async () => {
    const other = await fleetLib(`dns_challenge_defaults; dns_challenge_publish evil.fleet.test ${TOKEN}`);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toContain("certbot asked a DNS-01 record for 'evil.fleet.test', not for provider.fleet.test");
    const injected = await fleetLib(`dns_challenge_defaults; dns_challenge_publish ${DOMAIN} 'abc\\"}]}},{\\"Action\\":\\"DELETE\\"'`);
    expect(injected.status).not.toBe(0);
    expect(injected.stderr).toContain('CERTBOT_VALIDATION is not a base64url token');
    expect(standinRecordSets(aws, ZONE)).toEqual([]);
  });

  it('gives up, bounded, when Route53 never reports INSYNC, saying what to check', async () => {
    const result = await fleetLib(`dns_challenge_defaults; dns_challenge_publish ${DOMAIN} ${TOKEN}`, { PH_DNS_CHANGE_WAIT_SECONDS: '2', PH_AWS_STANDIN_ROUTE53_SYNC_MS: '600000' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/the Route53 change \/change\/C[0-9A-F]+ is still PENDING after 2s/);
  }, 60000);

  it('the cleanup never fails an issuance, even when the record is already gone', async () => {
    const result = await fleetLib(`dns_challenge_defaults; dns_challenge_remove ${DOMAIN} ${TOKEN}; echo survived`);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('survived');
    expect(result.stderr).toMatch(/could not remove _acme-challenge\.provider\.fleet\.test\. TXT/);
    expect(result.stderr).toContain('InvalidChangeBatch');
  });

  it('needs the zone: a fleet host without PH_HOSTED_ZONE_ID says where it comes from', async () => {
    const result = await fleetLib(`dns_challenge_defaults; dns_challenge_publish ${DOMAIN} ${TOKEN}`, { PH_HOSTED_ZONE_ID: '' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('PH_HOSTED_ZONE_ID is empty: a fleet host needs the Route53 zone of provider.fleet.test');
  });
});

describe('certbot for the fleet', () => {
  it('asks by DNS-01 through the Route53 hook, with the profile\'s key type (ECDSA P-256 for ib1, RSA for open-energy)', async () => {
    const certbot = join(dir, 'certbot');
    writeFileSync(certbot, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >'${dir}/certbot.args'\n`, { mode: 0o755 });
    const run = (profile: string) => fleetLib('fleet_certbot --force-renewal', {
      PH_TRUST_PROFILE: profile, PH_RSA_KEY_SIZE: '3072', PH_CERTBOT: certbot, PH_SCRIPTS: '/opt/provider-host/current/host/scripts',
      PH_LE_DIR: join(dir, 'le'), PH_LE_WORK_DIR: join(dir, 'work'), PH_LE_LOGS_DIR: join(dir, 'logs'), PH_ACME_EMAIL: '', PH_ACME_SERVER: 'https://acme.test/dir', PH_ACME_STAGING: 'false',
    });
    expect((await run('ib1')).status).toBe(0);
    const ib1 = readFileSync(join(dir, 'certbot.args'), 'utf8');
    expect(ib1).toContain('--manual\n--preferred-challenges\ndns\n--manual-auth-hook\nbash /opt/provider-host/current/host/scripts/certbot-dns-route53-hook.sh auth\n--manual-cleanup-hook\nbash /opt/provider-host/current/host/scripts/certbot-dns-route53-hook.sh cleanup\n');
    expect(ib1).toContain('--key-type\necdsa\n--elliptic-curve\nsecp256r1\n');
    expect(ib1).toContain(`--domain\n${DOMAIN}\n--cert-name\n${DOMAIN}\n`);
    expect(ib1).toContain('--force-renewal\n');
    expect((await run('open-energy')).status).toBe(0);
    expect(readFileSync(join(dir, 'certbot.args'), 'utf8')).toContain('--key-type\nrsa\n--rsa-key-size\n3072\n');
  });
});

describe('the fleet certificate units', () => {
  it('pass systemd-analyze verify once rendered (every 15 minutes, spread over 5)', () => {
    const units = mkdtempSync(join(tmpdir(), 'fleet-units-'));
    try {
      writeFileSync(
        join(units, 'provider-fleet-certificate.service'),
        renderTemplateFile(join(REPO, 'host', 'systemd', 'provider-fleet-certificate.service.tmpl'), {
          ph_etc: '/etc/provider-host',
          script: '/opt/provider-host/current/host/scripts/fleet-certificate-refresh.sh',
          result_script: '/opt/provider-host/current/host/scripts/certbot-renew-result.sh',
        }),
      );
      const timer = readFileSync(join(REPO, 'host', 'systemd', 'provider-fleet-certificate.timer'), 'utf8');
      writeFileSync(join(units, 'provider-fleet-certificate.timer'), timer);
      expect(timer).toMatch(/^OnUnitActiveSec=15min$/m);
      expect(timer).toMatch(/^RandomizedDelaySec=5min$/m);
      const result = spawnSync('systemd-analyze', ['verify', 'provider-fleet-certificate.service', 'provider-fleet-certificate.timer'], { cwd: units, encoding: 'utf8' });
      expect({ stderr: result.stderr, status: result.status }).toEqual({ stderr: '', status: 0 });
    } finally {
      rmSync(units, { recursive: true, force: true });
    }
  });
});

describe('a restored renewal config', () => {
  it("has its paths pinned to this host's folder: another host's layout, or a planted archive_dir, is not where certbot writes", async () => {
    const conf = join(dir, 'provider.fleet.test.conf');
    writeFileSync(conf, [
      'version = 2.1.0',
      'archive_dir = /etc/nginx/conf.d',
      'cert = /tmp/other-host/etc/letsencrypt/live/provider.fleet.test/cert.pem',
      'privkey = /root/.ssh/authorized_keys',
      'chain = /tmp/other-host/etc/letsencrypt/live/provider.fleet.test/chain.pem',
      'fullchain = /tmp/other-host/etc/letsencrypt/live/provider.fleet.test/fullchain.pem',
      '',
      '[renewalparams]',
      'authenticator = manual',
      '',
    ].join('\n'));
    const result = await fleetLib(`fleet_pin_renewal_paths '${conf}' /etc/letsencrypt`);
    expect(result.status).toBe(0);
    expect(readFileSync(conf, 'utf8')).toBe([
      'version = 2.1.0',
      'archive_dir = /etc/letsencrypt/archive/provider.fleet.test',
      'cert = /etc/letsencrypt/live/provider.fleet.test/cert.pem',
      'privkey = /etc/letsencrypt/live/provider.fleet.test/privkey.pem',
      'chain = /etc/letsencrypt/live/provider.fleet.test/chain.pem',
      'fullchain = /etc/letsencrypt/live/provider.fleet.test/fullchain.pem',
      '',
      '[renewalparams]',
      'authenticator = manual',
      '',
    ].join('\n'));
  });

  it('is refused when its name is not a certificate name', async () => {
    const conf = join(dir, 'x|y.conf');
    writeFileSync(conf, 'archive_dir = /tmp/x\n');
    const result = await fleetLib(`if fleet_pin_renewal_paths '${conf}' /etc/letsencrypt; then echo PINNED; else echo REFUSED; fi`);
    expect(result.stdout.trim()).toBe('REFUSED');
    expect(result.stderr).toContain('restore: refused renewal/x|y.conf: not a certificate name');
  });
});
