/**
 * `npm run bench:memory`: what the project runs on the host, in resident memory, through
 * the replica (the real setup.sh, nginx, PM2 daemon and app workers): at idle after setup,
 * and after a burst of reads (the app's caches warm, nginx's zones touched). Sums
 * /proc/<pid>/status VmRSS per component. Log rotation (logrotate, a oneshot) holds no
 * memory between runs; the CloudWatch agent cannot run here (not packaged for Debian):
 * its figure is added from AGENT_RSS_MB (default: the figure docs/operations.md gives) and
 * marked as not measured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDatasets, startProviderReplica } from '../testing/replica/provider-replica';
import { runLoad } from './load';
import { rssBytes } from './rss-sampler';
import { formatTable } from './table';

const MB = 1024 * 1024;
const TARGET_MB = 250;
const AGENT_RSS_MB = Number(process.env.AGENT_RSS_MB ?? 45);

/** The PID and its descendants (nginx's workers, PM2's). */
function withChildren(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i += 1) all.push(...(children.get(all[i]!) ?? []));
  return all;
}

const sum = (pids: readonly number[]): number => pids.reduce((total, pid) => total + rssBytes(pid), 0);

async function main(): Promise<void> {
  for (const name of ['PH_RATE_LIMIT_PER_CLIENT', 'PH_RATE_LIMIT_PER_ADDRESS', 'PH_RATE_LIMIT_BURST']) process.env[name] ??= '100000';
  process.env.PH_CONN_LIMIT_PER_ADDRESS ??= '65535';
  const provider = await startProviderReplica({ datasets: sampleDatasets() });
  try {
    const { replica, pki, siteCaPem } = provider;
    const nginxPid = Number(readFileSync(join(replica.path('nginx'), 'nginx.pid'), 'utf8').trim());
    const pm2Pid = Number(readFileSync(join(replica.setting('PH_PM2_HOME')!, 'pm2.pid'), 'utf8').trim());
    const measure = async (): Promise<[string, number][]> => {
      const workers = await replica.appWorkerPids();
      return [
        ['nginx (master + workers)', sum(withChildren(nginxPid))],
        ['PM2 daemon', rssBytes(pm2Pid)],
        [`app workers (${workers.length})`, sum(workers)],
      ];
    };
    await new Promise((resolveWait) => setTimeout(resolveWait, 5000));
    const idle = await measure();
    const token = await provider.token('consumer');
    await runLoad({
      origin: `https://127.0.0.1:${replica.httpsPort}`,
      path: '/half-hourly-consumption',
      tls: { ca: siteCaPem, cert: pki.consumer.chainPem, key: pki.consumer.keyPem, servername: replica.domain },
      headers: { Authorization: `Bearer ${token}` },
      expectedBytes: sampleDatasets()['half-hourly-consumption.csv']!.length,
      connections: 8,
      durationMs: 5000,
    });
    const busy = await measure();
    for (const pid of [pm2Pid, ...(await replica.appWorkerPids())]) process.stderr.write(`pid ${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}\n`);
    const rows = idle.map(([name, bytes], i) => [name, (bytes / MB).toFixed(1), (busy[i]![1] / MB).toFixed(1)]);
    const total = (set: [string, number][]) => set.reduce((t, [, b]) => t + b, 0) / MB;
    rows.push(['logrotate (oneshot, between runs)', '0.0', '0.0']);
    rows.push([`CloudWatch agent (not measured here: AGENT_RSS_MB)`, AGENT_RSS_MB.toFixed(1), AGENT_RSS_MB.toFixed(1)]);
    rows.push(['total', (total(idle) + AGENT_RSS_MB).toFixed(1), (total(busy) + AGENT_RSS_MB).toFixed(1)]);
    process.stdout.write(`${formatTable(['component', 'idle MB', 'after a 5 s burst MB'], rows)}\n`);
    process.stdout.write(`target: <= ${TARGET_MB} MB with the agent: ${total(busy) + AGENT_RSS_MB <= TARGET_MB ? 'met' : 'NOT met'}\n`);
  } finally {
    await provider.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:memory failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
