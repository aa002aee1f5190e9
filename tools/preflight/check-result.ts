/**
 * One line of the preflight report. Like tools/verify's, plus `skip` for a check that
 * could not run because an earlier one failed (no AWS credentials, no hosted zone).
 */
export interface CheckResult {
  /** Short name of what was checked, e.g. `account`, `hosted zone`. */
  readonly name: string;
  /** `warn` and `skip` are printed but do not fail the run by themselves. */
  readonly status: 'pass' | 'warn' | 'fail' | 'skip';
  /** What was found; on a failure, the problem and the fix. Never a secret value. */
  readonly detail: string;
}

const MARK: Record<CheckResult['status'], string> = { pass: '✔', warn: '!', fail: '✘', skip: '-' };

/** `✔ account                    123456789012 as …` */
export function formatCheck(result: CheckResult, nameWidth = 26): string {
  return `${MARK[result.status]} ${result.name.padEnd(nameWidth)} ${result.detail}`;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
export const warn = (name: string, detail: string): CheckResult => ({ name, status: 'warn', detail });
export const fail = (name: string, detail: string): CheckResult => ({ name, status: 'fail', detail });
export const skip = (name: string, reason: string): CheckResult => ({ name, status: 'skip', detail: `skipped: ${reason}` });
