/** One line of the verify report. */
export interface CheckResult {
  /** Short name of what was checked, e.g. `DNS`, `TLS versions`. */
  readonly name: string;
  /** `warn` is printed but does not fail the run. */
  readonly status: 'pass' | 'warn' | 'fail';
  readonly detail: string;
}

const MARK: Record<CheckResult['status'], string> = { pass: '✔', warn: '⚠', fail: '✘' };

export function formatCheck(result: CheckResult, nameWidth = 26): string {
  return `${MARK[result.status]} ${result.name.padEnd(nameWidth)} ${result.detail}`;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
export const warn = (name: string, detail: string): CheckResult => ({ name, status: 'warn', detail });
export const fail = (name: string, detail: string): CheckResult => ({ name, status: 'fail', detail });
