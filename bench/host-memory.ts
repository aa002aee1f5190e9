/**
 * `npm run bench:memory`: what the project runs on the host, in resident memory, through
 * the replica (the real setup.sh, nginx, PM2 daemon and app workers): at idle after setup,
 * and after a burst of reads (the app's caches warm, nginx's zones touched). Sums
 * /proc/<pid>/status VmRSS per component, and the same processes' pages counted once
 * (unique-pages.ts: a summed RSS counts the node binary's code once per node process). Log
 * rotation (logrotate, a oneshot) holds no memory between runs; the CloudWatch agent cannot
 * run here (not packaged for Debian): its figure is added from AGENT_RSS_MB and marked as
 * not measured.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleDatasets, startProviderReplica } from '../testing/replica/provider-replica';
import { runLoad } from './load';
import { rssBytes } from './rss-sampler';
import { formatTable } from './table';
import { uniqueResidentBytes } from './unique-pages';

const MB = 1024 * 1024;
const TARGET_MB = 250;
// AWS's own expectation for the agent's RSS (procstat memory_rss) when it collects host
// metrics at a low rate: 75 MB, the bound its stress tests hold every release to
// (aws/amazon-cloudwatch-agent-test, validator/validators/stress/stress_validator.go,
// "system" and "emf" at 1,000 values a minute; 66.5 MB in the earlier single-bound
// version). Ours also tails five log files at a few lines a minute. The earlier default,
// 45 MB, had no source.
const AGENT_RSS_MB = Number(process.env.AGENT_RSS_MB ?? 75);

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
    const measure = async (): Promise<[string, number[]][]> => {
      const workers = await replica.appWorkerPids();
      return [
        ['nginx (master + workers)', withChildren(nginxPid)],
        ['PM2 daemon', [pm2Pid]],
        [`app workers (${workers.length})`, workers],
      ];
    };
    /** Per component and in total: summed VmRSS, and the pages counted once. */
    const figures = (set: [string, number[]][]) => ({
      rows: set.map(([name, pids]) => [name, sum(pids), uniqueResidentBytes(pids)] as const),
      rss: set.reduce((t, [, pids]) => t + sum(pids), 0) / MB,
      unique: uniqueResidentBytes(set.flatMap(([, pids]) => pids)),
    });
    await new Promise((resolveWait) => setTimeout(resolveWait, 5000));
    const idle = figures(await measure());
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
    const busy = figures(await measure());
    for (const pid of [pm2Pid, ...(await replica.appWorkerPids())]) process.stderr.write(`pid ${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')}\n`);
    const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a (root only)' : (bytes / MB).toFixed(1));
    const rows = idle.rows.map(([name, rss, unique], i) => [name, mb(rss), mb(unique), mb(busy.rows[i]![1]), mb(busy.rows[i]![2])]);
    rows.push(['logrotate (oneshot, between runs)', '0.0', '0.0', '0.0', '0.0']);
    const agent = AGENT_RSS_MB.toFixed(1);
    rows.push([`CloudWatch agent (not measured here: AGENT_RSS_MB)`, agent, agent, agent, agent]);
    const withAgent = (value: number | undefined) => (value === undefined ? undefined : value + AGENT_RSS_MB * MB);
    rows.push(['total', mb(withAgent(idle.rss * MB)), mb(withAgent(idle.unique)), mb(withAgent(busy.rss * MB)), mb(withAgent(busy.unique))]);
    process.stdout.write(`${formatTable(['component', 'idle MB (sum of RSS)', 'idle MB (pages once)', 'after a 5 s burst (sum of RSS)', 'after the burst (pages once)'], rows)}\n`);
    const verdict = (value: number | undefined) => (value === undefined ? 'not measured' : value <= TARGET_MB * MB ? 'met' : 'NOT met');
    for (const [when, set] of [['idle', idle], ['after the burst', busy]] as const) {
      process.stdout.write(`target <= ${TARGET_MB} MB with the agent, ${when}: sum of RSS ${verdict(withAgent(set.rss * MB))}, pages counted once ${verdict(withAgent(set.unique))}\n`);
    }
  } finally {
    await provider.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:memory failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
