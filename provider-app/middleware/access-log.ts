import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

/**
 * One child logger per request (`res.locals.log`, carrying the interaction id) and one
 * access line when the response is done or the client went away. Only the path is
 * logged, never the query string or headers: they may carry credentials.
 */
export function accessLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    const interactionId = res.locals.interactionId as string;
    // The child logger is only for the rare warning or error; building one per request was
    // a measurable cost, so it is made on first use and the access line names the id itself.
    let child: Logger | undefined;
    Object.defineProperty(res.locals, 'log', { get: () => (child ??= logger.child({ interactionId })), enumerable: true, configurable: true });
    res.once('close', () => {
      const status = res.statusCode;
      const length = Number(res.getHeader('content-length') ?? 0);
      const bytes = req.method === 'HEAD' || status === 304 || !Number.isFinite(length) ? 0 : length;
      const customerIp = req.get('x-fapi-customer-ip-address');
      logger.info(
        {
          interactionId,
          access: true,
          method: req.method,
          path: req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path,
          status,
          bytes,
          durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          completed: res.writableFinished,
          clientId: res.locals.clientId as string | undefined,
          certSubject: res.locals.certSubject as string | undefined,
          dataset: res.locals.dataset as string | undefined,
          error: res.locals.errorDescription as string | undefined,
          customerIp: customerIp && /^[0-9A-Fa-f:.]{2,45}$/.test(customerIp) ? customerIp : undefined,
        },
        'request',
      );
    });
    next();
  };
}
