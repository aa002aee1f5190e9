/**
 * The host, end to end, on this machine: setup.sh (as on EC2) against a
 * temporary root with pebble, certbot, nginx, PM2, the app and the
 * authorization server; a consumer downloading a dataset over mTLS with a
 * bound token; the refusals; and the operations, each under traffic.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { mtlsRequest, type MtlsRequestOptions } from '../../testing/replica/mtls-request';
import { REPLICA_SCOPE, sampleDatasets, startProviderReplica, type ProviderReplica } from '../../testing/replica/provider-replica';
import { Traffic, type TrafficResult } from '../../testing/replica/traffic';
import { startCrlPublisher } from '../../testing/replica/crl-publisher';
import { publishDatasets } from '../../testing/replica/release-seed';
import { runVerify } from '../../tools/verify';
import { waitFor } from '../../lib/child-process';
import { servedCertificate } from './served-certificate';

const DATASET = 'half-hourly-consumption';
const datasetBytes = sampleDatasets()[`${DATASET}.csv`]!;
/** What the dataset holds now (the dataset update test changes it). */
let servedBytes = datasetBytes;

let provider: ProviderReplica;
let consumerToken: string;

beforeAll(async () => {
  provider = await startProviderReplica({
    datasets: sampleDatasets(),
    publicFiles: { 'robots.txt': 'User-agent: *\nDisallow: /\n' },
  });
  consumerToken = await provider.token('consumer');
}, 300000);

afterAll(async () => {
  await provider?.stop();
}, 120000);

function get(path: string, overrides: Partial<MtlsRequestOptions> = {}) {
  const { replica, pki, siteCaPem } = provider;
  return mtlsRequest({
    port: replica.httpsPort,
    path,
    ca: siteCaPem,
    servername: replica.domain,
    cert: pki.consumer.chainPem,
    key: pki.consumer.keyPem,
    headers: { Authorization: `Bearer ${consumerToken}` },
    ...overrides,
  });
}

function expectStatus(response: Awaited<ReturnType<typeof mtlsRequest>>, status: number): void {
  expect(response.ok ? response.status : response.error).toBe(status);
}

/** nginx reloads asynchronously: poll, bounded, until the answer is `status`. */
async function statusSoon(path: string, overrides: Partial<MtlsRequestOptions>, status: number): Promise<number | string> {
  let last: number | string = 'no answer';
  for (let i = 0; i < 50; i += 1) {
    const response = await get(path, overrides);
    last = response.ok ? response.status : response.error;
    if (last === status) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** Content of the folders setup.sh manages (not logs, pids, sockets or PM2 state). */
function managedTreeDigest(): string {
  const { replica } = provider;
  const hash = createHash('sha256');
  // The revocation status is a record of the run itself (checkedAt), rewritten each time.
  const runRecords = new Set([join(replica.path('etc', 'provider-host', 'revocation'), 'status.json')]);
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (runRecords.has(path)) continue;
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      hash.update(`${relative(replica.root, path)} ${stat.mode} ${stat.uid}\n`);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) hash.update(readFileSync(path));
    }
  };
  for (const dir of ['etc', 'srv', 'opt']) walk(replica.path(dir));
  return hash.digest('hex');
}

async function underTraffic(operation: () => Promise<void>, acceptedBodies: Buffer[] = [servedBytes]): Promise<TrafficResult> {
  const { replica, pki, siteCaPem } = provider;
  const traffic = new Traffic({
    port: replica.httpsPort,
    servername: replica.domain,
    ca: siteCaPem,
    cert: pki.consumer.chainPem,
    key: pki.consumer.keyPem,
    token: consumerToken,
    path: `/${DATASET}`,
    acceptedBodies,
  }).start();
  try {
    await traffic.warm();
    await operation();
    // Keep the traffic running past the operation's tail (graceful drains).
    await new Promise((r) => setTimeout(r, 1500));
  } catch (error) {
    await traffic.stop();
    throw error;
  }
  return traffic.stop();
}

describe('setup.sh on a fresh host', () => {
  it('completes, obtaining the certificate from the ACME server with an RSA key', () => {
    const { setup, replica } = provider;
    expect(setup.output).toContain(`requesting a certificate for ${replica.domain}`);
    expect(setup.output).toMatch(/setup complete: \d+ change\(s\)/);
    const live = replica.path('etc', 'letsencrypt', 'live', replica.domain, 'cert.pem');
    const text = spawnSync('openssl', ['x509', '-in', live, '-noout', '-text'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('rsaEncryption');
    expect(text).toMatch(/Issuer: .*Pebble/i);
  });

  it('asked the instance metadata for the public IP with IMDSv2 tokens only', () => {
    expect(provider.replica.imds!.tokensIssued()).toBeGreaterThan(0);
    expect(provider.replica.imds!.refused()).toBe(0);
  });

  it('stores secrets 0600 for the app user, and never prints them', () => {
    const { replica, pki, setup } = provider;
    const uid = Number(spawnSync('id', ['-u', replica.appUser], { encoding: 'utf8' }).stdout.trim());
    for (const name of ['transport.crt', 'transport.key']) {
      const stat = statSync(replica.path('etc', 'provider-host', 'secrets', name));
      expect({ name, mode: (stat.mode & 0o777).toString(8), uid: stat.uid }).toEqual({ name, mode: '600', uid });
    }
    const keyBody = pki.provider.keyPem.split('\n')[1];
    expect(setup.output).not.toContain(keyBody);
    expect(readFileSync(replica.path('aws', 'calls.log'), 'utf8')).not.toContain(keyBody);
  });

  it('backed the certificate up to S3 from the deploy hook', () => {
    expect(existsSync(join(provider.replica.bucketDir, 'letsencrypt', 'letsencrypt.tar.gz'))).toBe(true);
    expect(provider.setup.output).toContain('certbot-deploy-hook.sh: backed up');
  });

  it('wrote the renewal units and the tmpfiles entry for the socket folder', () => {
    const { replica } = provider;
    expect(readFileSync(replica.path('etc', 'systemd', 'system', 'provider-certbot-renew.service'), 'utf8')).toContain(`--config-dir ${replica.path('etc', 'letsencrypt')}`);
    expect(readFileSync(replica.path('etc', 'tmpfiles.d', 'provider-host.conf'), 'utf8')).toContain(replica.path('run', 'provider'));
  });

  it('runs the app in PM2 cluster mode as the app user, its logs rotated by logrotate (no PM2 module)', async () => {
    const { replica } = provider;
    const uid = spawnSync('id', ['-u', replica.appUser], { encoding: 'utf8' }).stdout.trim();
    const workers = await replica.appWorkerPids();
    expect(workers.length).toBe(2);
    for (const pid of workers) expect(statSync(`/proc/${pid}`).uid).toBe(Number(uid));
    const { output } = await replica.pm2(['jlist']);
    expect(output).not.toContain('pm2-logrotate');
    const rotation = replica.path('etc', 'logrotate.d', 'provider-host');
    expect(readFileSync(rotation, 'utf8')).toContain(`${replica.setting('PH_PM2_HOME')}/logs/*.log {`);
    const dryRun = spawnSync('logrotate', ['-d', '-s', replica.path('logrotate.status'), rotation], { encoding: 'utf8' });
    expect(dryRun.status).toBe(0);
    expect(dryRun.stderr).toContain(`considering log ${replica.setting('PH_PM2_HOME')}/logs/`);
    // pm2 logs still reads the files logrotate truncates in place.
    const logs = await replica.pm2(['logs', 'provider', '--nostream', '--lines', '5']);
    expect(logs.output).toContain('provider');
  });

  it('changes nothing when run again', async () => {
    const before = managedTreeDigest();
    const again = await provider.replica.runHostScript('setup');
    expect(again.code).toBe(0);
    expect(again.output).toContain('setup complete: 0 change(s)');
    expect(managedTreeDigest()).toBe(before);
  });
});

describe('a consumer over mTLS with a certificate-bound token', () => {
  it('downloads a dataset byte for byte, with the FAPI headers (the file sent by nginx)', async () => {
    const response = await get(`/${DATASET}`);
    expectStatus(response, 200);
    expect(response.ok && response.body.equals(datasetBytes)).toBe(true);
    expect(response.ok && response.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.ok && response.headers.date).toBeTruthy();
  });

  it('reads within the reuse time are sent on a decision nginx kept, each logged by nginx', async () => {
    const { replica } = provider;
    const ids = ['e2e-reuse-1', 'e2e-reuse-2', 'e2e-reuse-3', 'e2e-reuse-4'];
    for (const id of ids) {
      const response = await get(`/${DATASET}`, { headers: { Authorization: `Bearer ${consumerToken}`, 'x-fapi-interaction-id': id } });
      expect(response.ok && [response.status, response.headers['x-fapi-interaction-id'], response.body.equals(servedBytes)]).toEqual([200, id, true]);
    }
    const accessLog = replica.path('var', 'log', 'nginx', 'access.json.log');
    const linesFor = () => readFileSync(accessLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((entry) => ids.includes(entry.fapi_interaction_id));
    const lines = await waitFor('the four access-log lines', () => (linesFor().length === ids.length ? linesFor() : undefined), 5000, 50);
    type Line = { status: number; client_id: string; authz_status: string; authz_cache: string };
    expect(lines.map((entry: Line) => entry.status)).toEqual(ids.map(() => 200));
    // Each PM2 worker has its own caches: a worker that has not seen this token yet says
    // "ask me", and the read goes to the app's full path (which logs it). Every read nginx
    // sent on a decision names the client; four reads within about a second reuse one.
    const decided = lines.filter((entry: Line) => entry.authz_status === '204');
    expect(decided.map((entry: Line) => entry.client_id)).toEqual(decided.map(() => 'consumer'));
    expect(decided.filter((entry: Line) => entry.authz_cache === 'HIT').length).toBeGreaterThan(0);
  });

  it('also over TLS 1.2 with a FAPI cipher suite', async () => {
    const response = await get(`/${DATASET}`, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expectStatus(response, 200);
    expect(response.ok && response.cipher).toBe('ECDHE-RSA-AES128-GCM-SHA256');
  });

  it('gets public files from nginx directly', async () => {
    const response = await get('/robots.txt', { headers: {} });
    expectStatus(response, 200);
    expect(response.ok && response.body.toString()).toContain('Disallow');
  });
});

describe('npm run verify against the replica (the post-deploy check)', () => {
  it('passes every check with the consumer identity; DNS is pinned, so not checked', async () => {
    const { replica, pki, siteCaPem, authz } = provider;
    const dir = replica.path('verify');
    mkdirSync(dir, { recursive: true });
    // One CA file for both servers: the site's (pebble) and the authorization server's.
    writeFileSync(join(dir, 'ca.pem'), `${siteCaPem.trim()}\n${pki.rootCa.certPem.trim()}\n`);
    writeFileSync(join(dir, 'consumer.pem'), pki.consumer.chainPem);
    writeFileSync(join(dir, 'consumer.key'), pki.consumer.keyPem, { mode: 0o600 });
    const report = await runVerify({
      url: `https://${replica.domain}:${replica.httpsPort}/`,
      dataset: DATASET,
      consumer: {
        issuer: authz.issuer,
        clientId: 'consumer',
        scope: REPLICA_SCOPE,
        cert: join(dir, 'consumer.pem'),
        key: join(dir, 'consumer.key'),
        ca: join(dir, 'ca.pem'),
        resolve: { [replica.domain]: '127.0.0.1' },
        noSandbox: true,
      },
    });
    const statusOf = Object.fromEntries(report.checks.map((check) => [check.name, check.status]));
    expect(statusOf).toEqual({
      'DNS resolves': 'warn',
      'server certificate': 'pass',
      'TLS versions': 'pass',
      'no client cert → refused': 'pass',
      'token (client_credentials)': 'pass',
      'dataset download': 'pass',
      'x-fapi-interaction-id': 'pass',
      'Date header': 'pass',
    });
    expect(report.checks.find((check) => check.name === 'server certificate')?.detail).toContain(`valid for ${replica.domain}`);
    expect(report.checks.find((check) => check.name === 'dataset download')?.detail).toMatch(new RegExp(`^${DATASET}: HTTP 200`));
    expect(report.ok).toBe(true);
  }, 60000);
});

describe('refusals through nginx', () => {
  it('no client certificate → 400 before the app', async () => {
    expectStatus(await get(`/${DATASET}`, { cert: undefined, key: undefined }), 400);
  });

  it('a certificate from another CA → 400', async () => {
    expectStatus(await get(`/${DATASET}`, { cert: provider.foreignClient.certPem, key: provider.foreignClient.keyPem }), 400);
  });

  it('an expired certificate → 400', async () => {
    expectStatus(await get(`/${DATASET}`, { cert: provider.expiredClient.chainPem, key: provider.expiredClient.keyPem }), 400);
  });

  it('a token bound to another certificate → 401', async () => {
    const { otherConsumer } = provider;
    const response = await get(`/${DATASET}`, { cert: otherConsumer.chainPem, key: otherConsumer.keyPem });
    expectStatus(response, 401);
    expect(response.ok && String(response.headers['www-authenticate'])).toMatch(/^Bearer /);
  });

  it('a forged X-OE-CLIENT-CERT naming the token holder does not help → 401', async () => {
    const { otherConsumer, pki } = provider;
    const response = await get(`/${DATASET}`, {
      cert: otherConsumer.chainPem,
      key: otherConsumer.keyPem,
      headers: { Authorization: `Bearer ${consumerToken}`, 'X-OE-CLIENT-CERT': encodeURIComponent(pki.consumer.certPem) },
    });
    expectStatus(response, 401);
  });

  it('no token → 401 with a Bearer challenge', async () => {
    const response = await get(`/${DATASET}`, { headers: {} });
    expectStatus(response, 401);
    expect(response.ok && String(response.headers['www-authenticate'])).toMatch(/^Bearer/);
  });
});

describe('operations under traffic, zero failed requests', () => {
  it('a new app version: update.sh reloads PM2 worker by worker', async () => {
    const { replica } = provider;
    const before = await replica.appWorkerPids();
    const bundle = replica.path('bundle-v2');
    cpSync(replica.path('opt', 'provider-host', 'current') + '/', bundle, { recursive: true, dereference: true });
    const main = join(bundle, 'dist', 'provider-app', 'start-provider-app.js');
    writeFileSync(main, `${readFileSync(main, 'utf8')}\n// replica: app version 2\n`);
    writeFileSync(join(bundle, 'VERSION'), 'replica-v2\n');
    replica.deployBundle(bundle);
    let update = { code: -1, output: '' };
    const result = await underTraffic(async () => {
      update = await replica.runHostScript('update');
    });
    expect(update.output).toContain('reloaded');
    expect(update.code).toBe(0);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBeGreaterThan(20);
    const after = await replica.appWorkerPids();
    expect(after.length).toBe(before.length);
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
  });

  it('a worker killed with SIGKILL', async () => {
    const { replica } = provider;
    const [victim] = await replica.appWorkerPids();
    const result = await underTraffic(async () => {
      process.kill(victim, 'SIGKILL');
      // PM2 restarts it; wait until the count is back.
      for (let i = 0; i < 100 && (await replica.appWorkerPids()).length < 2; i += 1) await new Promise((r) => setTimeout(r, 100));
    });
    expect(result.failures).toEqual([]);
    expect(await replica.appWorkerPids()).not.toContain(victim);
  });

  it('certbot renew --force-renewal: the deploy hook reloads nginx and refreshes the backup', async () => {
    const { replica, pki, siteCaPem } = provider;
    const backup = join(replica.bucketDir, 'letsencrypt', 'letsencrypt.tar.gz');
    const before = await servedCertificate(replica.httpsPort, replica.domain, siteCaPem, pki.consumer.chainPem, pki.consumer.keyPem);
    const backupBefore = statSync(backup).mtimeMs;
    let renew = { code: -1, output: '' };
    const result = await underTraffic(async () => {
      renew = await replica.certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew']);
    });
    expect(renew.code).toBe(0);
    expect(result.failures).toEqual([]);
    const after = await servedCertificate(replica.httpsPort, replica.domain, siteCaPem, pki.consumer.chainPem, pki.consumer.keyPem);
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(statSync(backup).mtimeMs).toBeGreaterThan(backupBefore);
  });

  it('a dataset update: staged, swapped atomically, served without a failed request', async () => {
    const { replica } = provider;
    const updated = Buffer.concat([datasetBytes, Buffer.from('1900012345678,2024-01-22T00:00:00Z,2024-01-22T00:30:00Z,0.100,actual\n')]);
    // Datasets reach the bucket as a published release (provider-host publish's code).
    await publishDatasets(replica.bucketDir, { ...sampleDatasets(), [`${DATASET}.csv`]: updated }, replica.path('seed-data-update'));
    let update = { code: -1, output: '' };
    const result = await underTraffic(async () => {
      update = await replica.runHostScript('update');
    }, [datasetBytes, updated]);
    expect(update.code).toBe(0);
    expect(update.output).toMatch(/changed: .*shared_data -> shared_data-/);
    expect(result.failures).toEqual([]);
    const response = await get(`/${DATASET}`);
    expect(response.ok && response.body.equals(updated)).toBe(true);
    servedBytes = updated;
  });
});

describe('a change of ACME directory (e.g. staging to production)', () => {
  it('update.sh replaces the certificate in place, under traffic', async () => {
    const { replica, pki, siteCaPem } = provider;
    const before = await servedCertificate(replica.httpsPort, replica.domain, siteCaPem, pki.consumer.chainPem, pki.consumer.keyPem);
    // The same pebble under another name: a different directory URL, as production is to staging.
    replica.setEnv('PH_ACME_SERVER', replica.acme!.directoryUrl.replace('127.0.0.1', 'localhost'));
    let update = { code: -1, output: '' };
    const result = await underTraffic(async () => {
      update = await replica.runHostScript('update');
    });
    expect(update.code).toBe(0);
    expect(update.output).toContain('the settings ask for https://localhost:');
    expect(result.failures).toEqual([]);
    const after = await servedCertificate(replica.httpsPort, replica.domain, siteCaPem, pki.consumer.chainPem, pki.consumer.keyPem);
    expect(after.serialNumber).not.toBe(before.serialNumber);
    const again = await replica.runHostScript('update');
    expect(again.output).toContain('update complete: 0 change(s)');
  });
});

describe('a trust bundle update', () => {
  it('update.sh installs it and reloads nginx, which accepts the new CA once its CRL is there too', async () => {
    const { replica, pki, foreignClient, foreignRoot } = provider;
    const foreign = { cert: foreignClient.certPem, key: foreignClient.keyPem };
    expectStatus(await get(`/${DATASET}`, foreign), 400);
    replica.putObject(BUCKET_LAYOUT.trustBundleKey, pki.caBundlePem + foreignRoot.certPem);
    const update = await replica.runHostScript('update');
    expect(update.code).toBe(0);
    expect(update.output).toContain('trust-bundle.pem');
    // Trusted, but no CRL of the new CA yet: its clients are refused, saying why (fail closed).
    const unchecked = await get(`/${DATASET}`, foreign);
    expect(unchecked.ok && [unchecked.status, JSON.parse(unchecked.body.toString()).error_description]).toEqual([400, expect.stringMatching(/revocation status/)]);
    const crl = await startCrlPublisher([{ path: '/foreign-root.crl', ca: foreignRoot }]);
    try {
      replica.setEnv('PH_CRL_URLS', [...provider.crl.urls, ...crl.urls].join(','));
      expect((await replica.runHostScript('update')).code).toBe(0);
      // Past nginx now: the app refuses the token, bound to the consumer's certificate.
      expect(await statusSoon(`/${DATASET}`, foreign, 401)).toBe(401);
    } finally {
      replica.setEnv('PH_CRL_URLS', provider.crl.urls.join(','));
      await crl.stop();
    }
    replica.putObject(BUCKET_LAYOUT.trustBundleKey, pki.caBundlePem);
    expect((await replica.runHostScript('update')).code).toBe(0);
    expect(await statusSoon(`/${DATASET}`, foreign, 400)).toBe(400);
  });
});

describe('a replaced instance', () => {
  it('restores the certificate from the S3 backup instead of asking the ACME server again', async () => {
    const { replica, pki, siteCaPem } = provider;
    const before = await servedCertificate(replica.httpsPort, replica.domain, siteCaPem, pki.consumer.chainPem, pki.consumer.keyPem);
    rmSync(replica.path('etc', 'letsencrypt'), { recursive: true, force: true });
    const run = await replica.runHostScript('setup');
    expect(run.code).toBe(0);
    expect(run.output).toContain('restoring');
    // certbot's own backup passes the restore's allow-list whole.
    expect(run.output).not.toContain('restore: refused');
    expect(run.output).not.toContain('requesting a certificate');
    const after = await servedCertificate(replica.httpsPort, replica.domain, siteCaPem, pki.consumer.chainPem, pki.consumer.keyPem);
    expect(after.serialNumber).toBe(before.serialNumber);
    expectStatus(await get(`/${DATASET}`), 200);
  });
});

describe('hardening through the replica nginx', () => {
  const securityHeaders = (response: Awaited<ReturnType<typeof mtlsRequest>>) =>
    response.ok ? [response.headers['strict-transport-security'], response.headers['x-content-type-options']] : response.error;

  it('HSTS and nosniff on every kind of answer: a dataset, a public file, the app refusing, nginx refusing, nginx 404', async () => {
    const { replica, pki, siteCaPem } = provider;
    const noCert = await mtlsRequest({ port: replica.httpsPort, path: `/${DATASET}`, ca: siteCaPem, servername: replica.domain });
    const answers = {
      dataset: await get(`/${DATASET}`),
      publicFile: await get('/robots.txt', { headers: {} }),
      appRefusal: await get(`/${DATASET}`, { headers: {} }),
      noCertificate: noCert,
      nginx404: await get('/_datasets/x.csv'),
    };
    const expected = ['max-age=31536000', 'nosniff'];
    expect(Object.fromEntries(Object.entries(answers).map(([kind, response]) => [kind, securityHeaders(response)]))).toEqual(
      Object.fromEntries(Object.keys(answers).map((kind) => [kind, expected])),
    );
    expect(answers.noCertificate.ok && answers.noCertificate.status).toBe(400);
    expect(answers.appRefusal.ok && answers.appRefusal.status).toBe(401);
    void pki;
  });

  it('a burst over the per-certificate limit gets a JSON 429 with the security headers, logged; the limit back up, reads pass', async () => {
    const { replica } = provider;
    replica.setEnv('PH_RATE_LIMIT_PER_CLIENT', '2');
    replica.setEnv('PH_RATE_LIMIT_BURST', '2');
    try {
      const update = await replica.runHostScript('update');
      expect(update.code).toBe(0);
      const burst = await Promise.all(Array.from({ length: 30 }, () => get(`/${DATASET}`)));
      const refused = burst.filter((r) => r.ok && r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      const first = refused[0]!;
      expect(first.ok && JSON.parse(first.body.toString()).error).toBe('too_many_requests');
      expect(securityHeaders(first)).toEqual(['max-age=31536000', 'nosniff']);
      const accessLog = replica.path('var', 'log', 'nginx', 'access.json.log');
      await waitFor('a 429 in the access log', () => (readFileSync(accessLog, 'utf8').includes('"status":429') ? true : undefined), 5000, 50);
    } finally {
      replica.setEnv('PH_RATE_LIMIT_PER_CLIENT', '500');
      replica.setEnv('PH_RATE_LIMIT_BURST', '1000');
      expect((await replica.runHostScript('update')).code).toBe(0);
    }
    expectStatus(await get(`/${DATASET}`), 200);
  });
});

describe('logs', () => {
  function filesUnder(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return filesUnder(path);
      return entry.isFile() ? [path] : [];
    });
  }

  it("hold no private key and no access token (nginx, PM2/app, certbot, setup runs; nginx's cache of decisions)", () => {
    const { replica, pki } = provider;
    const sitePrivateKey = readFileSync(replica.path('etc', 'letsencrypt', 'live', replica.domain, 'privkey.pem'), 'utf8');
    const secrets = [pki.provider.keyPem, pki.consumer.keyPem, sitePrivateKey].map((pem) => pem.split('\n')[1]).concat([consumerToken]);
    const logs = [replica.path('var', 'log'), replica.path('home', replica.appUser, '.pm2', 'logs'), replica.path('logs'), replica.path('var', 'cache')].flatMap(filesUnder);
    expect(logs.length).toBeGreaterThan(3);
    expect(logs.some((file) => file.startsWith(replica.path('var', 'cache', 'provider-host', 'nginx-authz')))).toBe(true);
    for (const file of logs) {
      const text = readFileSync(file, 'latin1');
      expect({ file, leaked: secrets.filter((secret) => text.includes(secret)).length }).toEqual({ file, leaked: 0 });
    }
  });
});
