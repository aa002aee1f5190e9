/**
 * Benchmark: serve a 1 GB dataset through the provider app over its UNIX socket and report
 * how much the app's resident memory grows. "Flat memory" means the growth stays far below
 * the file size; the script fails (exit 1) above MAX_GROWTH_MB.
 *
 *   npm run bench:app            (builds, then runs this with ts-node)
 *   BENCH_SIZE_MB=256 npm run bench:app
 *
 * Everything it creates (PKI, data, sockets) lives in a temp folder deleted at the end; the
 * 1 GB file is sparse, so it costs no disk space. The app runs from dist/ (the shipped
 * artifact) and talks to the real authorization server for its token check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestToken, type AuthorizationServerHandle } from '../testing/authz-server';
import { createDevSet } from '../testing/pki/dev-set';
import { startDevSetAuthz } from './dev-set-authz';
import { runBenchMain } from './run-main';
import { stopChild } from '../lib/child-process';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const MAX_GROWTH_MB = Number(process.env.BENCH_MAX_GROWTH_MB ?? 64);
const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'provider-app', 'start-provider-app.js');

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
}

function download(socket: string, headers: Record<string, string>): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/big', headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<number> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-app-'));
  let authz: AuthorizationServerHandle | undefined;
  let app: ChildProcess | undefined;
  try {
    const pki = createDevSet(join(dir, 'pki'));
    const data = join(dir, 'data');
    mkdirSync(data);
    const fd = openSync(join(data, 'big.csv'), 'w');
    writeSync(fd, 'id,value\n');
    ftruncateSync(fd, SIZE_MB * 1024 * 1024);
    closeSync(fd);

    authz = await startDevSetAuthz(pki);
    const socket = join(dir, 'provider.sock');
    const config = join(dir, 'provider.json');
    writeFileSync(
      config,
      JSON.stringify({ socket, dataDir: data, issuer: authz.issuer, clientId: 'provider', tlsCert: pki.files['provider.chain.crt'], tlsKey: pki.files['provider.key'], tlsCa: pki.files.caBundle, scope: 'datasets:read', logLevel: 'warn' }),
    );
    app = spawn(process.execPath, [MAIN, '--config', config], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await once(app, 'message');
    const token = await requestToken({ issuer: authz.issuer, clientId: 'consumer', scope: 'datasets:read', cert: pki.consumer.chainPem, key: pki.consumer.keyPem, ca: pki.caBundlePem });
    const headers = { 'x-oe-client-cert': encodeURIComponent(pki.consumer.certPem), authorization: `Bearer ${token.access_token}` };

    // Warm up: first request loads code paths, TLS session to the authorization server, caches.
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: socket, path: '/big', headers: { ...headers, range: 'bytes=0-1048575' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    const baselineKb = rssKb(app.pid!);
    let peakKb = baselineKb;
    const sampler = setInterval(() => {
      peakKb = Math.max(peakKb, rssKb(app!.pid!));
    }, 20);
    const started = process.hrtime.bigint();
    const result = await download(socket, headers);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    peakKb = Math.max(peakKb, rssKb(app.pid!));

    const growthMb = (peakKb - baselineKb) / 1024;
    const ok = result.status === 200 && result.bytes === SIZE_MB * 1024 * 1024 && growthMb <= MAX_GROWTH_MB;
    const report = {
      fileMb: SIZE_MB,
      status: result.status,
      bytesServed: result.bytes,
      seconds: Number(seconds.toFixed(2)),
      throughputMbPerS: Number((SIZE_MB / seconds).toFixed(1)),
      baselineRssMb: Number((baselineKb / 1024).toFixed(1)),
      peakRssMb: Number((peakKb / 1024).toFixed(1)),
      rssGrowthMb: Number(growthMb.toFixed(1)),
      maxAllowedGrowthMb: MAX_GROWTH_MB,
      result: ok ? 'PASS (flat memory)' : 'FAIL',
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return ok ? 0 : 1;
  } finally {
    if (app) await stopChild(app);
    await authz?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchMain('bench:app', main);
