import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// FAPI asks for a UUID; accept any short token of safe characters so a caller's id is
// echoed, but never let arbitrary bytes into our headers or logs.
const INTERACTION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's `x-fapi-interaction-id` when it is a safe token, else a new UUID. */
export function interactionIdFor(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && INTERACTION_ID.test(offered) ? offered : randomUUID();
}

/** Echoes or creates `x-fapi-interaction-id` on every response (Node itself sends `Date`). */
export function fapiHeaders(req: Request, res: Response, next: NextFunction): void {
  const id = interactionIdFor(req.get('x-fapi-interaction-id'));
  res.locals.interactionId = id;
  res.set('x-fapi-interaction-id', id);
  // Date: Node's server adds it to every response (sendDate), from a per-second cache.
  next();
}
