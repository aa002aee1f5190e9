/**
 * The app's log lines for tests, written by the app's own code: its pino logger
 * (provider-app/logger.ts), its access line (middleware/access-log.ts) and its answer to
 * nginx's authorization subrequest (nginx-authz.ts). Only `time` is set afterwards (pino
 * takes the clock's), so the lines are the app's format exactly.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import type { DecisionPipeline } from '../../../provider-app/decision/pipeline';
import { createLogger } from '../../../provider-app/logger';
import { logAccessWhenDone } from '../../../provider-app/middleware/access-log';
import { createNginxAuthz, NGINX_AUTHZ_PATH } from '../../../provider-app/nginx-authz';

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  return { logger: createLogger('info', destination), lines };
}

/** The one line `lines` holds, its `time` set to `at` (an ISO time). */
function single(lines: string[], at: string): string {
  if (lines.length !== 1) throw new Error(`expected one app log line, got ${lines.length}`);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  line.time = new Date(at).toISOString();
  return JSON.stringify(line);
}

export interface AppAnswer {
  readonly time: string;
  readonly interactionId: string;
  readonly path: string;
  readonly status: number;
  readonly bytes?: number;
  readonly clientId?: string;
  readonly certSubject?: string;
  readonly dataset?: string;
  /** The refusal's description (HttpError.description). */
  readonly error?: string;
}

/** The access line the app writes for an answer of its own (a refusal, /datasets, /ping). */
export function appAccessLine(answer: AppAnswer): string {
  const { logger, lines } = capture();
  const req = { method: 'GET', headers: {} } as IncomingMessage;
  const res = Object.assign(new EventEmitter(), {
    statusCode: answer.status,
    writableFinished: true,
    getHeader: (name: string) => (name === 'content-length' ? String(answer.bytes ?? 0) : undefined),
  }) as unknown as ServerResponse;
  logAccessWhenDone(logger, req, res, answer.interactionId, answer.path, () => ({
    clientId: answer.clientId,
    certSubject: answer.certSubject,
    dataset: answer.dataset,
    error: answer.error,
  }));
  res.emit('close');
  return single(lines, answer.time);
}

export interface AppDecision {
  readonly time: string;
  readonly interactionId: string;
  readonly path: string;
  readonly clientId: string;
  readonly certSubject: string;
  readonly dataset: string;
}

/** The line the app writes when it allows a read on nginx's authorization subrequest (nginx then sends the file). */
export function appDecisionLine(decision: AppDecision): string {
  const { logger, lines } = capture();
  const farFuture = Date.parse('2100-01-01T00:00:00Z');
  const pipeline = {
    decideFromCache: () => ({
      caller: { clientId: decision.clientId, certSubject: decision.certSubject, scopes: new Set<string>(), tokenExpiresAt: farFuture / 1000, certificateExpiresAt: farFuture },
      name: decision.dataset,
    }),
  } as unknown as DecisionPipeline;
  const authz = createNginxAuthz({ logger, pipeline, nginxSendsFiles: true, cacheSeconds: 1, now: () => Date.parse(decision.time) });
  const req = {
    url: NGINX_AUTHZ_PATH,
    method: 'GET',
    headers: { 'x-original-uri': decision.path, authorization: 'Bearer test-token', 'x-fapi-interaction-id': decision.interactionId },
  } as unknown as IncomingMessage;
  const res = { statusCode: 0, setHeader: () => undefined, end: () => undefined } as unknown as ServerResponse;
  if (!authz(req, res)) throw new Error('the authz handler did not take the subrequest');
  return single(lines, decision.time);
}

/** A line of the app that is not an access line (startup). */
export function appStartLine(time: string): string {
  const { logger, lines } = capture();
  logger.info({ socket: '/run/provider/app.sock' }, 'listening');
  return single(lines, time);
}
