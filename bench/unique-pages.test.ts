/**
 * Two idle node processes map the same node binary: their pages counted once must come
 * out well below the sum of their RSS (the shared code once, not twice) and never below
 * the larger of the two. Without root the kernel hides frame numbers: undefined, not a
 * made-up figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rssBytes } from './rss-sampler';
import { uniqueResidentBytes } from './unique-pages';

const MB = 1024 * 1024;

describe('uniqueResidentBytes', () => {
  const children: ChildProcess[] = [];

  afterEach(async () => {
    await Promise.all(children.splice(0).map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }));
  });

  async function idleNode(): Promise<number> {
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await once(child.stdout!, 'data');
    return child.pid!;
  }

  it('counts the pages two node processes share once', async () => {
    const pids = [await idleNode(), await idleNode()];
    const unique = uniqueResidentBytes(pids);
    const rss = pids.map(rssBytes);
    if (process.getuid?.() !== 0) {
      expect(unique).toBeUndefined();
      return;
    }
    expect(unique).toBeDefined();
    expect(unique!).toBeGreaterThanOrEqual(Math.max(...rss) * 0.95);
    // The node binary's code alone is tens of MB, resident in both.
    expect(rss[0]! + rss[1]! - unique!).toBeGreaterThan(10 * MB);
  });

  it('skips a process that has exited instead of failing', async () => {
    const pid = await idleNode();
    const gone = children[0]!;
    gone.kill('SIGKILL');
    await once(gone, 'exit');
    const unique = uniqueResidentBytes([pid]);
    if (process.getuid?.() === 0) expect(unique).toBe(0);
    else expect(unique === undefined || unique === 0).toBe(true);
  });
});
