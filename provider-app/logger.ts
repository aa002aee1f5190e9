import pino, { type DestinationStream, type Logger } from 'pino';
import { LogBatcher } from './log-batcher';

/**
 * JSON lines to stdout (what `pm2 logs` shows). No transports or worker threads, so the
 * app bundles into one file. Redaction is a second line of defence: the code never
 * logs headers, tokens or keys in the first place.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'provider-app', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-oe-client-cert"]',
          'headers.authorization',
          'authorization',
          'token',
          'access_token',
          '*.token',
          '*.access_token',
          'key',
          'tlsKey',
        ],
        censor: '[redacted]',
      },
    },
    // process.stdout, not fd 1: PM2's cluster mode captures logs by wrapping process.stdout.write,
    // so a raw write to fd 1 would never reach `pm2 logs`. Batched: one write per event-loop
    // turn instead of one per line (`logger.flush()` empties it).
    destination ?? new LogBatcher(process.stdout),
  );
}
