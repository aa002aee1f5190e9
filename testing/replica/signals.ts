/**
 * SIGINT/SIGTERM while replicas run (Ctrl-C on `npm run e2e` or `npm run bench`,
 * a CI job cancelled): stop every live replica — PM2 daemon and workers, nginx,
 * the helpers, the app user, the temporary root — then exit with the
 * conventional code, 128 + the signal's number (130, 143).
 *
 * One pair of listeners for the whole process, installed with the first live
 * replica and removed when the last one has stopped. A signal that arrives while
 * the replicas stop does not cut the cleanup short (npm forwards the terminal's
 * SIGINT, so jest and the bench get it twice); every step of stop() is bounded.
 */
import { constants } from 'node:os';
import { runInThisContext } from 'node:vm';

export interface Interruptible {
  /** Ends the start-up in progress: the next step throws `reason`. */
  abort(reason: Error): void;
  stop(): Promise<void>;
}

const HANDLED = ['SIGINT', 'SIGTERM'] as const;
const live = new Set<Interruptible>();
let installed = false;
let exiting = false;

/**
 * The Node process itself. Under jest, `process` is a copy made for the test's
 * sandbox: listeners added to it never see a signal.
 */
export function hostProcess(): NodeJS.Process {
  try {
    const host = runInThisContext('process') as NodeJS.Process | undefined;
    if (host && typeof host.on === 'function') return host;
  } catch {
    // no `process` in that context: use ours
  }
  return process;
}

function log(line: string): void {
  hostProcess().stderr.write(`[replica] ${line}\n`);
}

function onSignal(name: NodeJS.Signals): void {
  if (exiting) {
    log(`${name} again: still stopping the replica (every step is bounded in time)`);
    return;
  }
  exiting = true;
  const code = 128 + constants.signals[name];
  log(`${name}: stopping the replica (PM2, nginx, helpers, app user, temporary root), then exiting ${code}`);
  const replicas = [...live];
  for (const replica of replicas) replica.abort(new Error(`interrupted by ${name}`));
  void Promise.allSettled(replicas.map((replica) => replica.stop())).then((results) => {
    for (const result of results) if (result.status === 'rejected') log(`stop failed: ${String(result.reason)}`);
    hostProcess().exit(code);
  });
}

/** Stops `replica` on SIGINT/SIGTERM until `release()` (called at the end of its stop()). */
export function stopOnSignal(replica: Interruptible): { release(): void } {
  live.add(replica);
  if (!installed) {
    installed = true;
    for (const name of HANDLED) hostProcess().on(name, onSignal);
  }
  return {
    release: () => {
      live.delete(replica);
      if (live.size === 0 && installed && !exiting) {
        for (const name of HANDLED) hostProcess().off(name, onSignal);
        installed = false;
      }
    },
  };
}

/** True once SIGINT/SIGTERM is being handled: the handler exits (130/143) when the replicas have stopped. */
export function interrupted(): boolean {
  return exiting;
}
