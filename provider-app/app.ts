import { watch } from 'node:fs';
import type { RequestListener } from 'node:http';
import { basename, dirname } from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { DatasetCache } from './dataset-cache';
import { accelRedirectTarget, CSV_CONTENT_TYPE, datasetNameFromPath, listDatasets, type DatasetFile } from './datasets';
import { HttpError, sendError } from './errors';
import { AuthorizationServerUnavailable, type Introspector } from './introspection';
import { createCachedDecision } from './cached-decision';
import { createFastPath } from './fast-path';
import { createNginxAuthz } from './nginx-authz';
import { ManifestError, ManifestStore } from './manifest';
import { ClientCertificateCache } from './middleware/client-cert-cache';
import { accessLog } from './middleware/access-log';
import { authenticate, checkPolicy, type AuthContext } from './middleware/auth';
import { fapiHeaders } from './middleware/fapi-headers';

/** Everything the app needs, built by the caller: importing this module does no I/O. */
export interface AppDeps {
  readonly logger: Logger;
  readonly introspector: Introspector;
  readonly dataDir: string;
  readonly scope?: string;
  readonly clientCertHeader: string;
  readonly accelRedirectPrefix?: string;
  readonly clockSkewSeconds: number;
  readonly retryAfterSeconds: number;
  /**
   * How long a dataset's resolution (real path, stat) and the manifest check are reused;
   * changes on disk are seen at most this late. @default 0 (checked on every request)
   */
  readonly dataCacheTtlMs?: number;
  /**
   * Longest nginx may reuse an allowed answer to its authorization subrequest for the same
   * certificate, token and path (see `nginx-authz.ts`). @default 0 (every read asks the app)
   */
  readonly authzCacheSeconds?: number;
  /** For tests. @default Date.now */
  readonly now?: () => number;
  /** Set by the server while draining, so keep-alive connections are closed after their response. */
  readonly isDraining?: () => boolean;
}

/** Caches shared by the Express app and the fast path. */
interface SharedState {
  readonly manifest: ManifestStore;
  readonly datasets: DatasetCache;
  readonly certificates: ClientCertificateCache;
}

function sharedState(deps: AppDeps): SharedState {
  const ttlMs = deps.dataCacheTtlMs ?? 0;
  const state = {
    manifest: new ManifestStore(deps.dataDir, deps.scope, { ttlMs }),
    datasets: new DatasetCache(deps.dataDir, { ttlMs }),
    certificates: new ClientCertificateCache(),
  };
  if (ttlMs > 0) clearOnSwap(deps.dataDir, () => {
    state.datasets.clear();
    state.manifest.clear();
  });
  return state;
}

/**
 * The host swaps data trees by renaming a new symlink over `dataDir`: watching its parent
 * folder for that name drops the caches at once, so a swap is seen immediately rather than
 * up to the TTL later. Best effort: where watching fails, the TTL still bounds staleness.
 */
function clearOnSwap(dataDir: string, clear: () => void): void {
  const name = basename(dataDir);
  try {
    const watcher = watch(dirname(dataDir), { persistent: false }, (_event, filename) => {
      if (filename === null || filename.toString() === name) clear();
    });
    watcher.on('error', () => watcher.close());
  } catch {
    // No inotify (or no permission on the parent): the TTL alone applies.
  }
}

/** The Express resource server. Listening is `server.ts`'s job. */
export function createApp(deps: AppDeps): Express {
  return buildApp(deps, sharedState(deps));
}

/**
 * What the server runs: nginx's authorization subrequest (`nginx-authz.ts`), the fast path
 * for an authorised, fully cached X-Accel-Redirect request (`fast-path.ts`), the Express app
 * for everything else.
 */
export function createRequestHandler(deps: AppDeps): RequestListener {
  const shared = sharedState(deps);
  const app = buildApp(deps, shared);
  const now = deps.now ?? Date.now;
  const decide = createCachedDecision({
    introspector: deps.introspector,
    certificates: shared.certificates,
    datasets: shared.datasets,
    manifest: shared.manifest,
    clientCertHeader: deps.clientCertHeader,
    clockSkewSeconds: deps.clockSkewSeconds,
    now,
  });
  const authz = createNginxAuthz({ logger: deps.logger, decide, nginxSendsFiles: deps.accelRedirectPrefix !== undefined, cacheSeconds: deps.authzCacheSeconds ?? 0, now });
  const fast = deps.accelRedirectPrefix ? createFastPath({ logger: deps.logger, decide, accelRedirectPrefix: deps.accelRedirectPrefix }) : () => false;
  return (req, res) => {
    if (!authz(req, res) && !fast(req, res)) app(req, res);
  };
}

function buildApp(deps: AppDeps, shared: SharedState): Express {
  const app = express();
  const startedAt = Date.now();
  app.disable('x-powered-by');
  const dataCacheTtlMs = deps.dataCacheTtlMs ?? 0;
  const { manifest, datasets } = shared;
  const auth = authenticate({
    introspector: deps.introspector,
    clientCertHeader: deps.clientCertHeader,
    clockSkewSeconds: deps.clockSkewSeconds,
    retryAfterSeconds: deps.retryAfterSeconds,
    now: deps.now,
    certificates: shared.certificates,
  });

  app.use(fapiHeaders);
  app.use(accessLog(deps.logger));
  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (deps.isDraining?.()) res.set('Connection', 'close');
    next();
  });

  app.get('/ping', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
  });

  app.get('/datasets', auth, async (_req, res, next) => {
    try {
      const caller = res.locals.auth as AuthContext;
      const visible = [];
      for (const file of await listDatasets(deps.dataDir)) {
        try {
          checkPolicy(caller, await manifest.policyFor(file.name));
        } catch (error) {
          if (error instanceof HttpError) continue;
          throw error;
        }
        visible.push({ name: file.name, size: file.stat.size, modified: file.stat.mtime.toISOString(), path: `/${file.name}` });
      }
      res.set('Cache-Control', 'no-store');
      res.json({ datasets: visible });
    } catch (error) {
      next(error);
    }
  });

  app.get('/:dataset', auth, async (req, res, next) => {
    try {
      const name = datasetNameFromPath(req.params.dataset as string);
      res.locals.dataset = name;
      checkPolicy(res.locals.auth as AuthContext, await manifest.policyFor(name));
      const file = await datasets.resolve(name);
      if (!file) throw new HttpError(404, 'not_found', 'no such dataset');
      res.set('Content-Type', CSV_CONTENT_TYPE);
      res.set('Cache-Control', 'private, no-cache');
      if (deps.accelRedirectPrefix) {
        // nginx serves the body (sendfile, Range, conditional requests) from its internal location.
        res.set('X-Accel-Redirect', accelRedirectTarget(deps.accelRedirectPrefix, name));
        res.status(200).end();
        return;
      }
      const send = (target: DatasetFile, retry: boolean) =>
        // `send` streams with constant memory and handles HEAD, ETag/Last-Modified,
        // If-None-Match/If-Modified-Since/If-Range and byte ranges.
        res.sendFile(target.path, { dotfiles: 'allow', etag: true, lastModified: true, acceptRanges: true, cacheControl: false }, (error) => {
          if (!error) return;
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ECONNABORTED' || code === 'ECONNRESET' || res.headersSent) return;
          if (retry && (code === 'ENOENT' || code === 'ENOTDIR')) {
            // The cached path went away (its data tree was replaced and pruned): resolve afresh, once.
            datasets.resolve(name, true).then((again) => (again ? send(again, false) : next(new HttpError(404, 'not_found', 'no such dataset'))), next);
            return;
          }
          const status = (error as { status?: number }).status;
          if (status === 416) {
            res.set('Content-Range', `bytes */${target.stat.size}`);
            next(new HttpError(416, 'invalid_request', 'the requested range is outside the dataset'));
          } else if (status === 412) {
            next(new HttpError(412, 'invalid_request', 'a precondition of the request failed'));
          } else {
            next(new HttpError(404, 'not_found', 'no such dataset'));
          }
        });
      send(file, dataCacheTtlMs > 0);
    } catch (error) {
      next(error);
    }
  });

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new HttpError(404, 'not_found', 'no such resource')));

  // One error handler for everything: known refusals render as RFC 6750 JSON; anything
  // else is logged and answered without details.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (error instanceof AuthorizationServerUnavailable) {
      http = new HttpError(503, 'temporarily_unavailable', 'the authorization server is unavailable; retry later', { retryAfterSeconds: deps.retryAfterSeconds });
    } else if (error instanceof ManifestError) {
      res.locals.log?.error({ reason: error.message }, 'dataset manifest is invalid');
      http = new HttpError(503, 'temporarily_unavailable', 'the dataset policy is being updated; retry later', { retryAfterSeconds: deps.retryAfterSeconds });
    } else if (isClientError(error)) {
      http = new HttpError(400, 'invalid_request', 'the request could not be parsed');
    } else {
      res.locals.log?.error({ err: { message: (error as Error)?.message, name: (error as Error)?.name } }, 'unexpected error');
      http = new HttpError(500, 'server_error', 'internal error');
    }
    res.locals.errorDescription = http.description;
    sendError(res, http);
  });

  return app;
}

function isClientError(error: unknown): boolean {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
