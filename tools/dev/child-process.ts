import type { ChildProcess } from 'node:child_process';

/** A process the sandbox started and must stop. */
export interface ChildHandle {
  readonly name: string;
  readonly child: ChildProcess;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Stops a child by its PID: SIGTERM, then SIGKILL after `graceMs`; resolves once it
 * has exited. Safe to call twice or on a child that already exited.
 */
export async function waitForChildExit(handle: ChildHandle, graceMs: number): Promise<void> {
  const { child } = handle;
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
