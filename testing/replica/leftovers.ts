/**
 * What a replica could leave behind on the machine: processes tied to its
 * temporary root or running as its app user, the user and its group, the root.
 * stop() ends such processes as a last resort (and says so); the tests assert
 * that nothing is left.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { stopPids } from '../../lib/child-process';

export interface ReplicaProcess {
  readonly pid: number;
  readonly uid: number;
  readonly cmdline: string;
  /** Why it belongs to the replica: cmdline, cwd, an open file, the app user, or a child of one of those. */
  readonly reason: string;
}

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly uids: readonly number[];
  readonly cmdline: string;
  readonly zombie: boolean;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    return {
      pid,
      ppid: Number(field('PPid')),
      uids: field('Uid').split(/\s+/).filter(Boolean).map(Number),
      cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '),
      zombie: field('State').startsWith('Z'),
    };
  } catch {
    return undefined; // exited meanwhile
  }
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

function mentions(text: string, root: string): boolean {
  return text.split(/[\s=:'"]/).some((word) => under(word, root));
}

/** Why `pid` belongs to the replica, from its own /proc entry; undefined if it does not. */
function ownReason(info: ProcInfo, root: string, uid: number | undefined): string | undefined {
  if (uid !== undefined && info.uids.includes(uid)) return `runs as uid ${uid}`;
  if (mentions(info.cmdline, root)) return 'cmdline names the root';
  try {
    if (under(readlinkSync(`/proc/${info.pid}/cwd`), root)) return 'cwd under the root';
  } catch {
    // no access or exited
  }
  try {
    for (const fd of readdirSync(`/proc/${info.pid}/fd`)) {
      try {
        if (under(readlinkSync(`/proc/${info.pid}/fd/${fd}`).replace(/ \(deleted\)$/, ''), root)) return 'has a file under the root open';
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // no access or exited
  }
  return undefined;
}

/** This process and its ancestors: never counted (the test runner, npm, the shell). */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  for (let pid = process.pid; pid > 1 && !chain.has(pid); ) {
    chain.add(pid);
    pid = readProc(pid)?.ppid ?? 0;
  }
  return chain;
}

/**
 * Running processes of the replica at `root` (and of its app user `uid`, when
 * known), with their descendants; not this process or its ancestors, not zombies.
 */
export function replicaProcesses(root: string, uid?: number): ReplicaProcess[] {
  const skip = selfAndAncestors();
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((info): info is ProcInfo => info !== undefined && !info.zombie && !skip.has(info.pid));
  const found = new Map<number, ReplicaProcess>();
  for (const info of all) {
    const reason = ownReason(info, root, uid);
    if (reason) found.set(info.pid, { pid: info.pid, uid: info.uids[0] ?? -1, cmdline: info.cmdline, reason });
  }
  // Children of those (an nginx worker's cmdline does not name the prefix).
  for (let grew = true; grew; ) {
    grew = false;
    for (const info of all) {
      if (found.has(info.pid) || !found.has(info.ppid)) continue;
      found.set(info.pid, { pid: info.pid, uid: info.uids[0] ?? -1, cmdline: info.cmdline, reason: `child of ${info.ppid}` });
      grew = true;
    }
  }
  return [...found.values()];
}

/** SIGTERM, then SIGKILL after `graceMs`, to the replica's remaining processes; returns what it found. */
export async function endReplicaProcesses(root: string, uid?: number, graceMs = 3000): Promise<ReplicaProcess[]> {
  const strays = replicaProcesses(root, uid);
  await stopPids(strays.map(({ pid }) => pid), graceMs);
  return strays;
}

/** The uid of `user` from /etc/passwd; undefined if there is no such user. */
export function userUid(user: string): number | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.split(':')[0] === user);
  return line ? Number(line.split(':')[2]) : undefined;
}

export function groupExists(group: string): boolean {
  return readFileSync('/etc/group', 'utf8').split('\n').some((entry) => entry.split(':')[0] === group);
}

export interface Leftovers {
  readonly processes: readonly string[];
  readonly user: boolean;
  readonly group: boolean;
  readonly root: boolean;
}

/** Everything of the replica still on the machine; all empty/false once it has stopped cleanly. */
export function leftovers(root: string, user: string): Leftovers {
  return {
    processes: replicaProcesses(root, userUid(user)).map(({ pid, uid: owner, cmdline, reason }) => `${pid} (uid ${owner}, ${reason}): ${cmdline}`),
    user: userUid(user) !== undefined,
    group: groupExists(user),
    root: existsSync(root),
  };
}
