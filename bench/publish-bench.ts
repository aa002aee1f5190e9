/**
 * `npm run bench:publish`: publishes a generated file (1 GB; PUBLISH_BENCH_MB to change)
 * through the folder store, and through the S3 store against aws-sdk-client-mock (the
 * multipart path: parts are read, streamed and dropped), printing throughput and peak
 * RSS. Memory must stay flat: every path streams, nothing buffers the file.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { FolderStore } from '../tools/publish/folder-store';
import { readLocalRelease } from '../tools/publish/local-files';
import { publishRelease } from '../tools/publish/publish';
import type { ReleaseStore } from '../tools/publish/release-store';
import { S3Store } from '../tools/publish/s3-store';

const MB = Number(process.env.PUBLISH_BENCH_MB ?? 1024);

async function generate(file: string): Promise<void> {
  const out = createWriteStream(file);
  const row = Buffer.from('1900012345678,2024-01-15T00:00:00Z,2024-01-15T00:30:00Z,0.125,actual\n');
  const chunk = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / row.length) }, () => row)).subarray(0, 1 << 20);
  for (let i = 0; i < MB; i += 1) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

function peakSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)) };
}

async function run(label: string, store: ReleaseStore, dir: string): Promise<string> {
  const baseline = process.memoryUsage().rss;
  const sampler = peakSampler();
  const started = process.hrtime.bigint();
  const local = await readLocalRelease([dir]);
  const hashed = process.hrtime.bigint();
  await publishRelease({ store, local });
  const done = process.hrtime.bigint();
  const peak = sampler.stop();
  const seconds = (t: bigint) => Number(t) / 1e9;
  return `${label.padEnd(34)} ${MB} MiB  hash ${(MB / seconds(hashed - started)).toFixed(0).padStart(5)} MiB/s  upload ${(MB / seconds(done - hashed)).toFixed(0).padStart(5)} MiB/s  total ${seconds(done - started).toFixed(1).padStart(5)} s  RSS baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - baseline) / 2 ** 20).toFixed(0)})`;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'publish-bench-'));
  try {
    const dir = join(root, 'data');
    require('node:fs').mkdirSync(dir);
    await generate(join(dir, 'big.csv'));
    const lines = [await run('folder store', new FolderStore(join(root, 'bucket')), dir)];
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('no'), { name: 'NotFound' }));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'bench' });
    // The mock records every call's input (each part's bytes): forget them as they come,
    // so the figure is the publisher's memory, not the mock's call history.
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => {
      setImmediate(() => s3.resetHistory());
      return { ETag: `"${input.PartNumber}"` };
    });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    lines.push(await run('S3 store (client mock, multipart)', new S3Store(new S3Client({ region: 'eu-west-2' }), 'bench'), dir));
    s3.restore();
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
void main();
