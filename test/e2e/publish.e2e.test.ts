/**
 * Publishing without a deploy, end to end: `provider-host publish`'s code writes a release
 * into the replica's stand-in bucket (the folder store: the S3 store's keys and write
 * order), the host's release-sync.sh runs on the shipped timer's cadence (20 s), and a
 * consumer downloads over mTLS under traffic the whole time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHostReleaseStatus, RELEASE_LAYOUT } from '../../contract/release-manifest';
import { mtlsRequest } from '../../testing/replica/mtls-request';
import { sampleDatasets, startProviderReplica, type ProviderReplica } from '../../testing/replica/provider-replica';
import { publishDatasets } from '../../testing/replica/release-seed';
import { ReleaseTimer } from '../../testing/replica/release-timer';
import { Traffic } from '../../testing/replica/traffic';
import { FolderStore } from '../../tools/publish/folder-store';
import { readLocalRelease } from '../../tools/publish/local-files';
import { publishRelease, readLiveRelease, rollbackRelease } from '../../tools/publish/publish';
import type { PutObserver, ReleaseStore } from '../../tools/publish/release-store';
import { runReleaseCli } from '../../tools/publish/cli';
import { sleep } from '../../lib/child-process';

/** The bound the docs state: a publish is served within a minute, no deploy. */
const BOUND_MS = 60000;
const CHANGED = 'half-hourly-consumption';
const ADDED = 'wind-forecast';
const samples = sampleDatasets();
const before = samples[`${CHANGED}.csv`]!;
const after = Buffer.concat([before, Buffer.from('1900012345678,2024-01-22T00:00:00Z,2024-01-22T00:30:00Z,0.250,actual\n')]);
const added = Buffer.from('period_start,mw\n2024-01-22T00:00:00Z,1234.5\n2024-01-22T00:30:00Z,1301.0\n');

let provider: ProviderReplica;
let token: string;
let timer: ReleaseTimer;
let seedRelease: string;
let firstRelease: string;

beforeAll(async () => {
  provider = await startProviderReplica({ datasets: samples });
  token = await provider.token('consumer');
  seedRelease = (await readLiveRelease(new FolderStore(provider.replica.bucketDir)))!.pointer.release;
  timer = new ReleaseTimer(provider.replica).start();
}, 300000);

afterAll(async () => {
  await timer?.stop();
  await provider?.stop();
}, 180000);

function get(path: string) {
  const { replica, pki, siteCaPem } = provider;
  return mtlsRequest({ port: replica.httpsPort, path, ca: siteCaPem, servername: replica.domain, cert: pki.consumer.chainPem, key: pki.consumer.keyPem, headers: { Authorization: `Bearer ${token}` } });
}

async function serves(path: string, body: Buffer | undefined): Promise<boolean> {
  const response = await get(path);
  if (body === undefined) return response.ok && response.status === 404;
  return response.ok && response.status === 200 && response.body.equals(body);
}

/** Polls until every (path, body) is served, bounded; returns when, in ms since epoch. */
async function servedBy(expect: readonly [string, Buffer | undefined][], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const results = await Promise.all(expect.map(([path, body]) => serves(path, body)));
    if (results.every(Boolean)) return Date.now();
    if (Date.now() > deadline) throw new Error(`not served within ${timeoutMs} ms: ${expect.filter((_, i) => !results[i]).map(([p]) => p).join(', ')}`);
    await sleep(200);
  }
}

function traffic(acceptedBodies: Buffer[]): Traffic {
  const { replica, pki, siteCaPem } = provider;
  return new Traffic({ port: replica.httpsPort, servername: replica.domain, ca: siteCaPem, cert: pki.consumer.chainPem, key: pki.consumer.keyPem, token, path: `/${CHANGED}`, acceptedBodies, maxDurationMs: 180000 }).start();
}

function hostStatus() {
  return parseHostReleaseStatus(readFileSync(join(provider.replica.bucketDir, RELEASE_LAYOUT.hostStatusKey), 'utf8'));
}

/** A store whose uploads arrive damaged: the bytes under objects/<sha256> are not those bytes. */
class CorruptingStore implements ReleaseStore {
  readonly description: string;
  constructor(private readonly inner: FolderStore, private readonly dir: string) {
    this.description = inner.description;
  }
  head(key: string) {
    return this.inner.head(key);
  }
  getText(key: string) {
    return this.inner.getText(key);
  }
  putText(key: string, text: string, contentType: string) {
    return this.inner.putText(key, text, contentType);
  }
  async putFile(key: string, file: string, size: number, observer?: PutObserver): Promise<void> {
    const { writeFileSync } = await import('node:fs');
    const damaged = join(this.dir, 'damaged');
    const bytes = readFileSync(file);
    bytes[0] ^= 0xff;
    writeFileSync(damaged, bytes);
    await this.inner.putFile(key, damaged, size, observer);
  }
}

describe('provider-host publish → the host serves it by itself, no deploy', () => {
  it('the first setup served the seeded release and reported it', () => {
    expect(hostStatus()).toMatchObject({ serving: seedRelease });
  });

  it('a new dataset and a changed one are served within the bound, zero failed requests', async () => {
    const load = traffic([before, after]);
    await load.warm();
    const { replica } = provider;
    const dir = replica.path('publish-1');
    const published = await publishDatasets(replica.bucketDir, { ...samples, [`${CHANGED}.csv`]: after, [`${ADDED}.csv`]: added }, dir);
    const publishedAt = Date.now();
    firstRelease = published.release!.id;
    expect(published.diff).toMatchObject({ added: [`${ADDED}.csv`], changed: [`${CHANGED}.csv`], removed: [] });
    expect(published.uploaded.map((f) => f.name).sort()).toEqual([`${CHANGED}.csv`, `${ADDED}.csv`]);
    const servedAt = await servedBy([[`/${ADDED}`, added], [`/${CHANGED}`, after]], BOUND_MS);
    await sleep(1500);
    const result = await load.stop();
    const seconds = (servedAt - publishedAt) / 1000;
    process.stderr.write(`publish-to-served: ${seconds.toFixed(1)} s (timer every ${timer.intervalMs / 1000} s, bound ${BOUND_MS / 1000} s); traffic ${result.ok} ok, ${result.failed} failed\n`);
    expect(servedAt - publishedAt).toBeLessThan(BOUND_MS);
    expect(result.failures).toEqual([]);
    expect(result.bodies[0]).toBeGreaterThan(0);
    expect(result.bodies[1]).toBeGreaterThan(0);
    const status = hostStatus();
    expect(status).toMatchObject({ serving: firstRelease });
    expect(status.rejected).toBeUndefined();
  }, 120000);

  it('an unchanged publish uploads nothing and writes no release', async () => {
    const { replica } = provider;
    const dir = replica.path('publish-1');
    const again = await publishRelease({ store: new FolderStore(replica.bucketDir), local: await readLocalRelease([dir]) });
    expect(again.release).toBeUndefined();
    expect(again.uploaded).toEqual([]);
  });

  it('a corrupted upload never goes live, and the status says why', async () => {
    const { replica } = provider;
    const dir = replica.path('publish-bad');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'files'), { recursive: true });
    for (const [name, content] of Object.entries({ ...samples, [`${CHANGED}.csv`]: after, [`${ADDED}.csv`]: added, 'solar.csv': 'a,b\n1,2\n' })) writeFileSync(join(dir, 'files', name), content);
    const store = new CorruptingStore(new FolderStore(replica.bucketDir), dir);
    const load = traffic([after]);
    await load.warm();
    const published = await publishRelease({ store, local: await readLocalRelease([join(dir, 'files')]) });
    const bad = published.release!.id;
    const sha = createHash('sha256').update('a,b\n1,2\n').digest('hex');
    const run = await timer.runAfter(Date.now(), BOUND_MS);
    expect(run.code).toBe(1);
    expect(run.output).toContain(`refusing release ${bad}: solar.csv: object shared_data/objects/${sha} holds bytes with SHA-256`);
    await sleep(1000);
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(await serves('/solar', undefined)).toBe(true);
    const status = hostStatus();
    expect(status.serving).toBe(firstRelease);
    expect(status.rejected).toMatchObject({ release: bad });
    expect(status.rejected!.reason).toMatch(/^solar\.csv: object .* holds bytes with SHA-256 [0-9a-f]{64}/);

    const out: string[] = [];
    const sink = { write: (text: string) => out.push(text) > 0, isTTY: false } as unknown as NodeJS.WritableStream & { isTTY: boolean };
    expect(await runReleaseCli('status', ['--bucket-dir', replica.bucketDir], { stdout: sink, stderr: sink })).toBe(0);
    process.stderr.write(`$ provider-host status --bucket-dir …\n${out.join('')}`);
    expect(out.join('')).toContain(`refused   ${bad}`);
    expect(out.join('')).toContain(`host      serving ${firstRelease}`);
  }, 120000);

  it('rollback restores the previous release within the bound, zero failed requests', async () => {
    const { replica } = provider;
    const load = traffic([before, after]);
    await load.warm();
    const { from, to } = await rollbackRelease(new FolderStore(replica.bucketDir), seedRelease);
    const rolledAt = Date.now();
    expect(to).toBe(seedRelease);
    expect(from).not.toBe(firstRelease); // the refused release was live in the bucket
    const servedAt = await servedBy([[`/${CHANGED}`, before], [`/${ADDED}`, undefined]], BOUND_MS);
    await sleep(1500);
    const result = await load.stop();
    process.stderr.write(`rollback-to-served: ${((servedAt - rolledAt) / 1000).toFixed(1)} s\n`);
    expect(result.failures).toEqual([]);
    expect(hostStatus()).toMatchObject({ serving: seedRelease });
    expect(hostStatus().rejected).toBeUndefined();
  }, 120000);
});
