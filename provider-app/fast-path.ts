import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { accelRedirectTarget, CSV_CONTENT_TYPE } from './datasets';
import type { DecisionPipeline } from './decision/pipeline';
import { logAccessWhenDone } from './middleware/access-log';
import { interactionIdFor } from './middleware/fapi-headers';

export interface FastPathDeps {
  readonly logger: Logger;
  readonly pipeline: DecisionPipeline;
  readonly accelRedirectPrefix: string;
}

/**
 * Answers the one request that dominates traffic — an authorised `GET /<name>` in
 * X-Accel-Redirect mode whose token, policy and dataset are all already cached — without
 * Express, whose per-request overhead was about two thirds of the app's CPU. The decision is
 * the pipeline's cache-only mode: the same steps on the same cached data the Express path uses.
 * Anything else — a refusal, a cache miss, a query string, another method or route —
 * returns false having written nothing, and Express handles the request from the start, as
 * if this did not exist.
 */
export function createFastPath(deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const path = req.url ?? '';
    const allowed = deps.pipeline.decideFromCache(path, req.headers);
    if (!allowed) return false;
    const { name, caller } = allowed;
    const interactionId = interactionIdFor(req.headers['x-fapi-interaction-id']);
    logAccessWhenDone(deps.logger, req, res, interactionId, path, () => ({
      clientId: caller.clientId,
      certSubject: caller.certSubject || undefined,
      dataset: name,
      roles: caller.roles,
      member: caller.memberUrl,
    }));
    res.statusCode = 200;
    res.setHeader('x-fapi-interaction-id', interactionId);
    res.setHeader('Content-Type', CSV_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('X-Accel-Redirect', accelRedirectTarget(deps.accelRedirectPrefix, name));
    res.end();
    return true;
  };
}
