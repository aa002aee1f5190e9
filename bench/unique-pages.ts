/**
 * Resident memory of a set of processes with every physical page counted once.
 *
 * Summing VmRSS counts a page once per process that maps it: the node binary's code
 * (about 30 MB, the same pages in the PM2 daemon and every app worker), the shared
 * libraries, nginx's shared zones. What the host actually gives up is the union of the
 * pages, read here from /proc/<pid>/pagemap (each resident page's frame number). The
 * kernel shows frame numbers to root only (CAP_SYS_ADMIN); otherwise they read as 0 and
 * this returns undefined rather than a wrong figure.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const PAGE = 4096;
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;

/** The address ranges of a process that have resident pages (smaps Rss > 0). */
function residentRanges(pid: number): [number, number][] {
  const ranges: [number, number][] = [];
  let current: [number, number] | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) current = [parseInt(range[1]!, 16), parseInt(range[2]!, 16)];
    else if (current && /^Rss:\s+[1-9]/.test(line)) ranges.push(current);
  }
  return ranges;
}

/** Adds the frame numbers of a process's resident pages to `frames`; false when the kernel hides them. */
function addFrames(pid: number, frames: Set<bigint>): boolean {
  let visible = true;
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  try {
    for (const [start, end] of residentRanges(pid)) {
      const entries = Buffer.alloc(((end - start) / PAGE) * 8);
      readSync(fd, entries, 0, entries.length, (start / PAGE) * 8);
      for (let offset = 0; offset < entries.length; offset += 8) {
        const entry = entries.readBigUInt64LE(offset);
        if ((entry & PRESENT) === 0n) continue;
        const frame = entry & PFN_MASK;
        if (frame === 0n) visible = false;
        else frames.add(frame);
      }
    }
  } finally {
    closeSync(fd);
  }
  return visible;
}

/** Bytes resident in any of `pids`, each page once (a process gone meanwhile counts nothing); undefined without root. */
export function uniqueResidentBytes(pids: readonly number[]): number | undefined {
  const frames = new Set<bigint>();
  for (const pid of pids) {
    try {
      if (!addFrames(pid, frames)) return undefined;
    } catch (error) {
      // Exited between listing and reading (nginx's cache loader does, a minute after start).
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') continue;
      if (code === 'EACCES' || code === 'EPERM') return undefined;
      throw error;
    }
  }
  return frames.size * PAGE;
}
