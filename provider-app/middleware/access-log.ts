import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const CUSTOMER_IP = /^[0-9A-Fa-f:.]{2,45}$/;

/** What the handler learnt about the request, read when the response is done. */
export interface AccessFacts {
  readonly clientId?: string;
  readonly certSubject?: string;
  readonly dataset?: string;
  readonly error?: string;
  /** ib1: the client certificate's `ib1Roles` and `ib1Member` (never the token). */
  readonly roles?: readonly string[];
  readonly member?: string;
}

/**
 * Writes the one access line for `res` when it is done or the client went away. Only the
 * path is logged, never the query string or headers: they may carry credentials.
 *
 * `bytes` is the body the app answered with, from its Content-Length (every body the app
 * writes sets it: `send` for files and ranges, `writeError` for errors, `res.json`); 0 for
 * HEAD, 304 and an X-Accel-Redirect answer, whose body nginx sends (nginx's access log has
 * those bytes). With `completed: false` the client went away before the end.
 */
export function logAccessWhenDone(logger: Logger, req: IncomingMessage, res: ServerResponse, interactionId: string, path: string, facts: () => AccessFacts): void {
  const started = process.hrtime.bigint();
  res.once('close', () => {
    const status = res.statusCode;
    const length = Number(res.getHeader('content-length') ?? 0);
    const bytes = req.method === 'HEAD' || status === 304 || !Number.isFinite(length) ? 0 : length;
    const customerIp = req.headers['x-fapi-customer-ip-address'];
    const known = facts();
    logger.info(
      {
        interactionId,
        access: true,
        method: req.method,
        path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
        status,
        bytes,
        durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        completed: res.writableFinished,
        clientId: known.clientId,
        certSubject: known.certSubject,
        dataset: known.dataset,
        error: known.error,
        roles: known.roles,
        member: known.member,
        customerIp: typeof customerIp === 'string' && CUSTOMER_IP.test(customerIp) ? customerIp : undefined,
      },
      'request',
    );
  });
}

/**
 * Express middleware: a child logger per request on `res.locals.log` (carrying the
 * interaction id) and the access line from `res.locals`.
 */
export function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const interactionId = res.locals.interactionId as string;
    // The child logger is only for the rare warning or error; building one per request was
    // a measurable cost, so it is made on first use and the access line names the id itself.
    let child: Logger | undefined;
    Object.defineProperty(res.locals, 'log', { get: () => (child ??= logger.child({ interactionId })), enumerable: true, configurable: true });
    logAccessWhenDone(logger, req, res, interactionId, req.path, () => ({
      clientId: res.locals.clientId as string | undefined,
      certSubject: res.locals.certSubject as string | undefined,
      dataset: res.locals.dataset as string | undefined,
      error: res.locals.errorDescription as string | undefined,
      roles: res.locals.roles as readonly string[] | undefined,
      member: res.locals.member as string | undefined,
    }));
    next();
  };
}
