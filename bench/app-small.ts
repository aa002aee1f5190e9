/**
 * Micro-benchmark: requests/s of the provider app ALONE (no nginx, no TLS) for a small
 * (~4 KB) dataset over its UNIX socket, keep-alive, with the token cache warm and the
 * client certificate in the header exactly as nginx sends it ($ssl_client_escaped_cert).
 * It isolates the app's CPU per request, which is what limits the small-file row of
 * `npm run bench`.
 *
 *   npm run bench:app-small                   (builds first)
 *   BENCH_PM2=1 npm run bench:app-small       the app under PM2 cluster mode, as on a host
 *                                             (logs travel to the PM2 daemon over IPC)
 *   BENCH_INSTANCES=2 BENCH_ACCEL=1 BENCH_DURATION_MS=5000 BENCH_CONNECTIONS=16
 *   BENCH_PROFILE=1                           --cpu-prof the (single, non-PM2) app; .cpuprofile in .bench/
 *   BENCH_ECOSYSTEM=<bundle>/provider-app/ecosystem.config.js   with BENCH_PM2=1: another
 *                                             ecosystem file (its node_args, env), for before/after
 *
 * Every response is checked (status and size); errors make the exit code 1. Everything it
 * creates lives in a temp folder deleted at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { requestToken, type AuthorizationServerHandle } from '../testing/authz-server';
import { createDevSet } from '../testing/pki/dev-set';
import { startDevSetAuthz } from './dev-set-authz';
import { runBenchMain } from './run-main';
import { stopChild } from '../lib/child-process';
import { rssBytes } from './rss-sampler';

const ROOT = join(__dirname, '..');
// BENCH_APP_MAIN: another build of the app (e.g. an older commit's esbuild bundle) for before/after figures.
const MAIN = process.env.BENCH_APP_MAIN ?? join(ROOT, 'dist', 'provider-app', 'start-provider-app.js');
const PM2 = require.resolve('pm2/bin/pm2');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const USE_PM2 = process.env.BENCH_PM2 === '1';
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const ACCEL = process.env.BENCH_ACCEL === '1';
const PROFILE = process.env.BENCH_PROFILE === '1';
const MB = 1024 * 1024;

function smallCsv(): Buffer {
  const lines = ['mpan,interval_start,interval_end,consumption_kwh,reading_type'];
  for (let i = 0; i < 60; i += 1) lines.push(`1900012345678,2024-01-15T${String(i % 24).padStart(2, '0')}:00:00Z,2024-01-15T${String(i % 24).padStart(2, '0')}:30:00Z,0.${100 + i},actual`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function load(socketPath: string, headers: Record<string, string>, expectedBytes: number, durationMs: number) {
  const pool = new Pool('http://provider.local', { connections: CONNECTIONS, socketPath, pipelining: 1 });
  let ok = 0;
  let errors = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const { statusCode, body } = await pool.request({ path: '/small', method: 'GET', headers });
        const bytes = (await body.arrayBuffer()).byteLength;
        if (statusCode !== 200 || bytes !== expectedBytes) errors += 1;
        else {
          ok += 1;
          latencies.push(performance.now() - t0);
        }
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(2));
  return { requests: ok, errors, requestsPerSecond: Math.round(ok / seconds), p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function main(): Promise<number> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-app-small-'));
  let authz: AuthorizationServerHandle | undefined;
  let app: ChildProcess | undefined;
  const pm2Env = { ...process.env, PM2_HOME: join(dir, 'pm2'), PROVIDER_INSTANCES: String(INSTANCES), PROVIDER_APP_NAME: 'bench-provider' };
  try {
    const pki = createDevSet(join(dir, 'pki'));
    const data = join(dir, 'data');
    mkdirSync(data);
    const small = smallCsv();
    writeFileSync(join(data, 'small.csv'), small);
    authz = await startDevSetAuthz(pki);
    const socket = join(dir, 'provider.sock');
    const config = join(dir, 'provider.json');
    writeFileSync(
      config,
      JSON.stringify({
        socket,
        dataDir: data,
        issuer: authz.issuer,
        clientId: 'provider',
        tlsCert: pki.files['provider.chain.crt'],
        tlsKey: pki.files['provider.key'],
        tlsCa: pki.files.caBundle,
        scope: 'datasets:read',
        // BENCH_LOG_LEVEL=warn drops the access lines, to see what logging costs.
        logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
        ...(ACCEL ? { accelRedirectPrefix: '/_datasets/' } : {}),
      }),
    );
    if (USE_PM2) {
      spawnSync(process.execPath, [PM2, 'start', process.env.BENCH_ECOSYSTEM ?? join(ROOT, 'provider-app', 'ecosystem.config.js')], { env: { ...pm2Env, PROVIDER_CONFIG: config }, stdio: 'ignore', timeout: 60000 });
    } else {
      // Access lines go to a file, as PM2 fork mode or a redirect would do.
      const out = openSync(join(dir, 'app.log'), 'w');
      const profileDir = join(ROOT, '.bench');
      if (PROFILE) mkdirSync(profileDir, { recursive: true });
      // BENCH_NODE_FLAGS: e.g. --lite-mode (what the host's ecosystem file passes), to compare.
      const flags = [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
      app = spawn(process.execPath, [...flags, MAIN, '--config', config], { stdio: ['ignore', out, 'inherit', 'ipc'] });
      closeSync(out);
      await once(app, 'message');
    }
    const token = await requestToken({ issuer: authz.issuer, clientId: 'consumer', scope: 'datasets:read', cert: pki.consumer.chainPem, key: pki.consumer.keyPem, ca: pki.caBundlePem });
    const headers = { 'x-oe-client-cert': encodeURIComponent(pki.consumer.certPem), authorization: `Bearer ${token.access_token}`, 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' };
    const expectedBytes = ACCEL ? 0 : small.length;
    await load(socket, headers, expectedBytes, 1000); // warm: JIT, token cache in every worker
    // The app's own CPU per request, independent of how much CPU the load generator took.
    const appPids = USE_PM2
      ? (JSON.parse(spawnSync(process.execPath, [PM2, 'jlist'], { env: pm2Env, encoding: 'utf8' }).stdout) as { pid: number }[]).map((p) => p.pid)
      : [app!.pid!];
    const daemonPid = USE_PM2 ? Number(readFileSync(join(dir, 'pm2', 'pm2.pid'), 'utf8')) : undefined;
    const cpuBefore = appPids.map(cpuSeconds);
    const daemonBefore = daemonPid ? cpuSeconds(daemonPid) : 0;
    const rssBefore = appPids.reduce((sum, pid) => sum + rssBytes(pid), 0);
    const result = await load(socket, headers, expectedBytes, DURATION_MS);
    const rssAfter = appPids.reduce((sum, pid) => sum + rssBytes(pid), 0);
    const appCpu = appPids.map(cpuSeconds).reduce((sum, v, i) => sum + v - cpuBefore[i]!, 0);
    const daemonCpu = daemonPid ? cpuSeconds(daemonPid) - daemonBefore : 0;
    const report = {
      mode: `${USE_PM2 ? `PM2 cluster × ${INSTANCES}` : 'single process'}, ${ACCEL ? 'X-Accel-Redirect' : 'streaming'}`,
      bytes: small.length,
      connections: CONNECTIONS,
      seconds: DURATION_MS / 1000,
      ...result,
      appCpuMsPerRequest: Number(((appCpu * 1000) / Math.max(1, result.requests)).toFixed(3)),
      // The app's resident memory (all its processes) after the warm-up and after the load.
      appRssMb: [Number((rssBefore / MB).toFixed(1)), Number((rssAfter / MB).toFixed(1))],
      ...(USE_PM2 ? { pm2DaemonCpuMsPerRequest: Number(((daemonCpu * 1000) / Math.max(1, result.requests)).toFixed(3)) } : {}),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return result.errors === 0 && result.requests > 0 ? 0 : 1;
  } finally {
    if (USE_PM2) spawnSync(process.execPath, [PM2, 'kill'], { env: pm2Env, stdio: 'ignore', timeout: 30000 });
    if (app) await stopChild(app);
    await authz?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBenchMain('bench:app-small', main);
