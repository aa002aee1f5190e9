/**
 * `npm run bench:revocation`: the cost of a CRL reload under traffic, through the
 * replica (the real revocation-refresh.sh, nginx, PM2, app). The same closed-loop load
 * (keep-alive mTLS connections reading a small dataset) runs twice: alone, and while the
 * CA revokes a throw-away certificate and the host's refresh installs the new CRL and
 * reloads nginx every RELOAD_EVERY_MS. Prints requests/s, p50/p99, errors, and the refresh
 * runs' duration; the ratio between the two runs is the cost (one noisy machine: compare
 * within one run only).
 */
import { sleep } from '../lib/child-process';
import { issueClientCert } from '../testing/pki';
import { REPLICA_CRL_PATHS, startProviderReplica, type ProviderReplica } from '../testing/replica/provider-replica';
import { runLoad, type LoadResult, type Tls } from './load';
import { formatTable } from './table';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 15000);
const CONNECTIONS = 8;
const RELOAD_EVERY_MS = 2000;
const CSV = Buffer.from(`meter,ts,kwh\n${Array.from({ length: 64 }, (_, i) => `m${i},2026-01-01T00:00:00Z,${i}.5`).join('\n')}\n`);

async function main(): Promise<void> {
  for (const name of ['PH_RATE_LIMIT_PER_CLIENT', 'PH_RATE_LIMIT_PER_ADDRESS', 'PH_RATE_LIMIT_BURST']) process.env[name] ??= '100000';
  process.env.PH_CONN_LIMIT_PER_ADDRESS ??= '65535';
  process.stderr.write('starting the replica…\n');
  let provider: ProviderReplica | undefined;
  try {
    provider = await startProviderReplica({ datasets: { 'small.csv': CSV } });
    const { replica, pki, siteCaPem } = provider;
    const token = await provider.token('consumer');
    const tls: Tls = { ca: siteCaPem, cert: pki.consumer.chainPem, key: pki.consumer.keyPem, servername: replica.domain };
    const load = (): Promise<LoadResult> =>
      runLoad({ origin: `https://127.0.0.1:${replica.httpsPort}`, path: '/small', tls, headers: { Authorization: `Bearer ${token}` }, expectedBytes: CSV.length, connections: CONNECTIONS, durationMs: DURATION_MS });
    await runLoad({ origin: `https://127.0.0.1:${replica.httpsPort}`, path: '/small', tls, headers: { Authorization: `Bearer ${token}` }, expectedBytes: CSV.length, connections: 4, durationMs: 1000 });

    const baseline = await load();
    let reloading = true;
    const refreshes: number[] = [];
    const reloader = (async () => {
      while (reloading) {
        const victim = issueClientCert(pki.intermediateCa, { subject: { commonName: `revoked-${refreshes.length}` } });
        provider!.crl.revoke(REPLICA_CRL_PATHS.issuing, victim.certPem);
        const started = Date.now();
        const run = await replica.runHostScript('revocation-refresh', 60000);
        if (run.code !== 0 || !/changed: CRL set/.test(run.output)) throw new Error(`refresh did not install the new CRL:\n${run.output}`);
        refreshes.push(Date.now() - started);
        await sleep(RELOAD_EVERY_MS);
      }
    })();
    const withReloads = await load();
    reloading = false;
    await reloader;

    const row = (name: string, r: LoadResult): string[] => [name, r.requestsPerSecond.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), String(r.errors)];
    process.stdout.write(`${formatTable(['run', 'req/s', 'p50 ms', 'p99 ms', 'errors'], [row('no reload', baseline), row(`CRL reload every ${RELOAD_EVERY_MS / 1000} s`, withReloads)])}\n`);
    const mean = refreshes.reduce((a, b) => a + b, 0) / Math.max(1, refreshes.length);
    process.stdout.write(`${refreshes.length} CRL refreshes+reloads, each ${mean.toFixed(0)} ms on average (fetch 2 CRLs, verify, install, nginx -t, reload); throughput ratio ${(withReloads.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}, p99 ratio ${(withReloads.p99Ms / baseline.p99Ms).toFixed(2)}\n`);
  } finally {
    await provider?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:revocation failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
