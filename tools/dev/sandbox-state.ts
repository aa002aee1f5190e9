import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isAlive } from '../../lib/child-process';

/**
 * What a running sandbox publishes in `<stateDir>/sandbox.json` so that the client
 * CLI, verify and tests can talk to it without options. Paths are absolute.
 */
export interface SandboxState {
  readonly version: 1;
  /** The provider URL behind the TLS terminator, e.g. `https://localhost:8443/`. */
  readonly url: string;
  readonly issuer: string;
  /** The trust framework the sandbox runs; absent in a state written before profiles: open-energy. */
  readonly profile?: 'open-energy' | 'ib1';
  /** ib1: the heartbeat path. */
  readonly heartbeatPath?: string;
  readonly terminator: TerminatorKind;
  readonly consumer: {
    readonly clientId: string;
    readonly scope: string;
    readonly certFile: string;
    readonly keyFile: string;
    /** Trusts the sandbox's server certificates (nginx and the authorization server). */
    readonly caFile: string;
  };
  /** The app's UNIX socket. */
  readonly socket: string;
  /** PIDs of every process the sandbox started, and its own. */
  readonly pids: Readonly<Record<string, number>>;
  readonly startedAt: string;
}

export type TerminatorKind = 'nginx' | 'node';

/** The repository root, whether running from source or from `dist/`. */
export function repoRoot(): string {
  for (const candidate of [resolve(__dirname, '..', '..'), resolve(__dirname, '..', '..', '..')]) {
    if (existsSync(join(candidate, 'package.json')) && existsSync(join(candidate, 'sample-data'))) return candidate;
  }
  throw new Error(`repository root not found above ${__dirname}`);
}

/** `.dev/` at the repository root (git-ignored). */
export function defaultStateDir(): string {
  return join(repoRoot(), '.dev');
}

export function stateFile(stateDir: string): string {
  return join(stateDir, 'sandbox.json');
}

export function writeSandboxState(stateDir: string, state: SandboxState): void {
  writeFileSync(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
}

export function removeSandboxState(stateDir: string): void {
  rmSync(stateFile(stateDir), { force: true });
}

/**
 * The state of the sandbox running from `stateDir`, or undefined when none is (no
 * file, or a file left by a sandbox that was killed: its process is gone).
 */
export function readSandboxState(stateDir: string): SandboxState | undefined {
  let state: SandboxState;
  try {
    state = JSON.parse(readFileSync(stateFile(stateDir), 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
  const owner = state.pids?.sandbox;
  return state.version === 1 && typeof owner === 'number' && isAlive(owner) ? state : undefined;
}

