import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { DecisionPipeline, ReadRequest } from '../decision/pipeline';

// Express adapters of the decision pipeline: they hand it the request and pass its answer
// on — the result in `res.locals`, a refusal to the error middleware. What the pipeline
// learns on the way (certificate subject, client id, dataset) lands in `res.locals` for the
// access line, refused or not.

/** Certificate, token and binding; sets `res.locals.caller` (a `Caller`). */
export function authenticate(pipeline: DecisionPipeline): RequestHandler {
  return adapter(async (req, res) => {
    res.locals.caller = await pipeline.authenticate(readRequest(req), res.locals);
  });
}

/** ib1's anonymous-or-member routes: sets `res.locals.caller`, undefined for a request without a token. */
export function identify(pipeline: DecisionPipeline): RequestHandler {
  return adapter(async (req, res) => {
    res.locals.caller = await pipeline.identify(readRequest(req), res.locals);
  });
}

/** Every step, for the dataset the route's `:dataset` names; sets `res.locals.read` (an `AllowedRead`). */
export function authorizeRead(pipeline: DecisionPipeline): RequestHandler {
  return adapter(async (req, res) => {
    res.locals.read = await pipeline.decide(readRequest(req), req.params.dataset as string, res.locals);
  });
}

function readRequest(req: Request): ReadRequest {
  // Express 5 parses the query into an object without a prototype.
  return { headers: req.headers, tokenInQuery: Object.hasOwn(req.query ?? {}, 'access_token') };
}

function adapter(decide: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await decide(req, res);
      next();
    } catch (error) {
      next(error);
    }
  };
}
