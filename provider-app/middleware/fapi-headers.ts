import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// FAPI asks for a UUID; accept any short token of safe characters so a caller's id is
// echoed, but never let arbitrary bytes into our headers or logs.
const INTERACTION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Echoes or creates `x-fapi-interaction-id` on every response (Node itself sends `Date`). */
export function fapiHeaders(req: Request, res: Response, next: NextFunction): void {
  const offered = req.get('x-fapi-interaction-id');
  const id = offered !== undefined && INTERACTION_ID.test(offered) ? offered : randomUUID();
  res.locals.interactionId = id;
  res.set('x-fapi-interaction-id', id);
  // Date: Node's server adds it to every response (sendDate), from a per-second cache.
  next();
}
