/**
 * Revocation end to end through the replica: the real host scripts (setup.sh,
 * revocation-refresh.sh as provider-host-revocation.timer runs it, release-sync.sh as
 * the release timer runs it), the real nginx, the app under PM2, and the dev PKI's two
 * CAs publishing CRLs over HTTP (testing/replica/crl-publisher.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import type { DenyList } from '../../contract/deny-list';
import { createRootCa, type IssuedCertificate } from '../../testing/pki';
import { issueCrl, serialOf } from '../../testing/pki/crl';
import { mtlsRequest } from '../../testing/replica/mtls-request';
import { REPLICA_CRL_PATHS, sampleDatasets, startProviderReplica, type ProviderReplica } from '../../testing/replica/provider-replica';
import { Traffic } from '../../testing/replica/traffic';
import { waitFor } from '../../lib/child-process';

const DATASET = 'half-hourly-consumption';
const samples = sampleDatasets();
const HOUR_MS = 3600 * 1000;

let provider: ProviderReplica;
let tokens: Record<'consumer' | 'other-consumer', string>;

beforeAll(async () => {
  provider = await startProviderReplica({ datasets: samples });
  tokens = { consumer: await provider.token('consumer'), 'other-consumer': await provider.token('other-consumer') };
}, 300000);

afterAll(async () => {
  await provider?.stop();
}, 180000);

const revocationDir = (): string => provider.replica.setting('PH_REVOCATION_DIR') ?? provider.replica.path('etc', 'provider-host', 'revocation');
const installedSet = (): string => readFileSync(join(revocationDir(), 'crl.pem'), 'utf8');
const status = (): Record<string, any> => JSON.parse(readFileSync(join(revocationDir(), 'status.json'), 'utf8'));
const bucketStatus = (): Record<string, any> => JSON.parse(readFileSync(join(provider.replica.bucketDir, BUCKET_LAYOUT.revocationStatusKey), 'utf8'));

function get(who: 'consumer' | 'other-consumer', cert: IssuedCertificate = who === 'consumer' ? provider.pki.consumer : provider.otherConsumer) {
  const { replica, siteCaPem } = provider;
  return mtlsRequest({ port: replica.httpsPort, path: `/${DATASET}`, ca: siteCaPem, servername: replica.domain, cert: cert.chainPem, key: cert.keyPem, headers: { Authorization: `Bearer ${tokens[who]}` } });
}

async function statusOf(who: 'consumer' | 'other-consumer'): Promise<{ status: number; body: string }> {
  const response = await get(who);
  if (!response.ok) throw new Error(response.error);
  return { status: response.status, body: response.body.toString('utf8') };
}

/** nginx's reload is graceful: new connections reach the new workers within moments. */
function answersWithin(who: 'consumer' | 'other-consumer', status: number, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return waitFor(`${who} answered ${status}`, async () => {
    const answer = await statusOf(who);
    return answer.status === status ? answer : undefined;
  }, timeoutMs, 50);
}

async function refresh(): Promise<string> {
  const run = await provider.replica.runHostScript('revocation-refresh', 120000);
  if (run.code !== 0) throw new Error(`revocation-refresh.sh failed (${run.code}):\n${run.output}`);
  return run.output;
}

function nginxMasterPid(): number {
  return Number(readFileSync(join(provider.replica.path('nginx'), 'nginx.pid'), 'utf8').trim());
}

describe('revocation on the replica host', () => {
  it('setup installed both CAs\' CRLs, reports ok, and wrote the status to the bucket', async () => {
    expect(status()).toMatchObject({ state: 'ok', lastError: null, uncoveredIssuers: [] });
    expect(status().crls).toHaveLength(2);
    expect(bucketStatus().state).toBe('ok');
    expect((await statusOf('consumer')).status).toBe(200);
    expect((await statusOf('other-consumer')).status).toBe(200);
  });

  it('a consumer the CA revokes is refused after the next timer run, while another downloads under traffic with zero failed requests', async () => {
    const { replica, pki, siteCaPem } = provider;
    const traffic = new Traffic({ port: replica.httpsPort, servername: replica.domain, ca: siteCaPem, cert: pki.consumer.chainPem, key: pki.consumer.keyPem, token: tokens.consumer, path: `/${DATASET}`, acceptedBodies: [samples[`${DATASET}.csv`]!], maxDurationMs: 120000 }).start();
    await traffic.warm();
    const pids = { nginx: nginxMasterPid(), app: (await replica.appWorkerPids()).sort() };
    const revokedAt = Date.now();
    provider.crl.revoke(REPLICA_CRL_PATHS.issuing, provider.otherConsumer.certPem);
    const output = await refresh();
    const refused = await answersWithin('other-consumer', 400);
    const refusedAt = Date.now();
    const result = await traffic.stop();
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).error_description).toMatch(/revoked/);
    expect(output).toMatch(/changed: CRL set/);
    expect(result).toMatchObject({ failed: 0, failures: [] });
    expect(result.ok).toBeGreaterThan(20);
    // A reload, never a restart: the same nginx master, the same app workers.
    expect({ nginx: nginxMasterPid(), app: (await replica.appWorkerPids()).sort() }).toEqual(pids);
    process.stdout.write(`[measure] CA revoked -> host refuses: ${refusedAt - revokedAt} ms from the timer run's start (plus up to the timer period, 15 min by default); ${result.ok} reads under traffic during the reload, ${result.failed} failed\n`);
  }, 180000);

  it('a bad signature, an older CRL, an expired one, an unreachable URL and garbage are not installed: the previous set stays and the status says why', async () => {
    const before = installedSet();
    const older = issueCrl(provider.pki.intermediateCa, { crlNumber: 1 }).der;
    const cases: [string, Buffer | number, RegExp][] = [
      ['a bad signature', issueCrl(provider.pki.intermediateCa, { crlNumber: 99, signingKeyPem: createRootCa({ subject: { commonName: 'Forger' } }).keyPem }).der, /signature/i],
      ['an older CRL', older, /older than the installed/i],
      ['an expired CRL', issueCrl(provider.pki.intermediateCa, { crlNumber: 100, thisUpdate: new Date(Date.now() - 48 * HOUR_MS), nextUpdate: new Date(Date.now() - HOUR_MS) }).der, /expired/i],
      ['an unreachable URL', 503, /503|unreachable/i],
      ['garbage', Buffer.from('<html>not a CRL</html>'), /not a CRL/i],
    ];
    for (const [what, answer, reason] of cases) {
      provider.crl.serveRaw(REPLICA_CRL_PATHS.issuing, answer);
      const output = await refresh();
      expect({ what, same: installedSet() === before }).toEqual({ what, same: true });
      expect({ what, lastError: String(status().lastError) }).toEqual({ what, lastError: expect.stringMatching(reason) });
      expect({ what, state: status().state, bucket: bucketStatus().lastError }).toEqual({ what, state: 'warning', bucket: status().lastError });
      expect(output).toMatch(reason);
      expect((await statusOf('other-consumer')).status).toBe(400);
      expect((await statusOf('consumer')).status).toBe(200);
    }
    provider.crl.publish(REPLICA_CRL_PATHS.issuing);
    await refresh();
    expect(status()).toMatchObject({ state: 'ok', lastError: null });
    await answersWithin('other-consumer', 400);
    expect(status().lastSuccessAt).toBeDefined();
  }, 240000);

  it('a nextUpdate approaching is a warning in the status before the CRL expires', async () => {
    provider.crl.publish(REPLICA_CRL_PATHS.issuing, { nextUpdate: new Date(Date.now() + 3 * HOUR_MS) });
    await refresh();
    const warned = status();
    expect(warned.state).toBe('warning');
    expect(warned.hoursToNextUpdate).toBeLessThan(warned.warnHours);
    expect(warned.hoursToNextUpdate).toBeGreaterThan(2);
    expect((await statusOf('consumer')).status).toBe(200);
    provider.crl.publish(REPLICA_CRL_PATHS.issuing);
    await refresh();
    expect(status().state).toBe('ok');
  }, 120000);

  it('the deny list: added, the certificate is refused after the release timer\'s run; removed, served again; no restart', async () => {
    const { replica } = provider;
    const pids = { nginx: nginxMasterPid(), app: (await replica.appWorkerPids()).sort() };
    const fingerprint = createHash('sha1').update(Buffer.from(provider.pki.consumer.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).digest('hex');
    const list: DenyList = { version: 1, entries: [{ sha1Fingerprint: fingerprint, reason: 'key leaked', addedAt: new Date().toISOString() }] };
    const addedAt = Date.now();
    replica.putObject(BUCKET_LAYOUT.denyListKey, JSON.stringify(list));
    const run = await replica.runHostScript('release-sync');
    expect(run.output).toMatch(/changed: deny list: 1 entry/);
    const refused = await answersWithin('consumer', 400);
    const refusedAt = Date.now();
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).error_description).toMatch(/revoked/);
    expect((await statusOf('other-consumer')).status).toBe(400); // still revoked by its CA

    writeFileSync(join(replica.bucketDir, BUCKET_LAYOUT.denyListKey), JSON.stringify({ version: 1, entries: [] }));
    await replica.runHostScript('release-sync');
    await answersWithin('consumer', 200);
    expect({ nginx: nginxMasterPid(), app: (await replica.appWorkerPids()).sort() }).toEqual(pids);
    // The access log ties the refusals to the certificate (issuer and serial).
    const lines = readFileSync(join(replica.path('var', 'log', 'nginx'), 'access.json.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.status === 400 && l.client_serial === serialOf(provider.pki.consumer.certPem) && /Issuing CA/.test(l.client_issuer))).toBe(true);
    process.stdout.write(`[measure] deny list written -> host refuses: ${refusedAt - addedAt} ms from the release timer run's start (plus up to its 20 s period)\n`);
  }, 120000);
});
