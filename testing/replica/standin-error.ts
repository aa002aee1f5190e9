/**
 * An error an AWS service answered, as the CLI reports it: `An error occurred (Code) when
 * calling the Operation operation: message` on stderr, exit 254. The stand-in's service
 * modules (route53-standin.ts, s3api-standin.ts) throw it; aws-standin.ts prints it.
 */
import { closeSync, openSync, rmSync } from 'node:fs';

export class AwsServiceError extends Error {
  constructor(code: string, operation: string, message: string) {
    super(`An error occurred (${code}) when calling the ${operation} operation: ${message}`);
    this.name = 'AwsServiceError';
  }
}

/** Runs `body` holding an exclusive lock file (O_EXCL), bounded: stand-in processes run concurrently like API calls. */
export function withFileLock<T>(lockFile: string, body: () => T, timeoutMs = 5000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
