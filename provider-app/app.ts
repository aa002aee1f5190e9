import { watch } from 'node:fs';
import type { RequestListener } from 'node:http';
import { basename, dirname } from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { DatasetCache } from './dataset-cache';
import { accelRedirectTarget, CSV_CONTENT_TYPE, listDatasets, type DatasetFile } from './datasets';
import type { TrustProfile } from '../contract/rules';
import { DecisionPipeline, type AllowedRead, type Caller } from './decision/pipeline';
import { ROUTES } from './decision/routes';
import { HttpError, writeError } from './errors';
import type { Introspector } from './introspection';
import { createFastPath } from './fast-path';
import { HeartbeatBusy, type Heartbeat } from './heartbeat/heartbeat';
import { createNginxAuthz } from './nginx-authz';
import { ManifestStore } from './manifest';
import { ClientCertificateCache } from './middleware/client-cert-cache';
import { accessLog } from './middleware/access-log';
import { authenticate, authorizeRead, identify } from './middleware/auth';
import { fapiHeaders } from './middleware/fapi-headers';

/** Everything the app needs, built by the caller: importing this module does no I/O. */
export interface AppDeps {
  readonly logger: Logger;
  readonly introspector: Introspector;
  readonly dataDir: string;
  /** The default scope; in ib1 the default licence of a shared dataset that names none. */
  readonly scope?: string;
  /** @default 'open-energy' */
  readonly profile?: TrustProfile;
  /** ib1: where the heartbeat answers. @default '/heartbeat' */
  readonly heartbeatPath?: string;
  /** ib1: the heartbeat's counter; without it the heartbeat answers 503. */
  readonly heartbeat?: Pick<Heartbeat, 'beat'>;
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

/** The decision pipeline and its caches, shared by the Express app, nginx's subrequest and the fast path. */
interface SharedState {
  readonly datasets: DatasetCache;
  readonly pipeline: DecisionPipeline;
}

/**
 * The ib1 certificate reader, loaded only in the ib1 profile: it brings @peculiar/x509, asn1js
 * and reflect-metadata, which cost each open-energy worker several MB of heap for nothing
 * (docs/operations.md "Memory on the host").
 */
function loadIb1ClientCertificateParser(): typeof import('./identity/ib1-client-cert').parseIb1ClientCertificate {
  return (require('./identity/ib1-client-cert') as typeof import('./identity/ib1-client-cert')).parseIb1ClientCertificate;
}

function sharedState(deps: AppDeps): SharedState {
  const ttlMs = deps.dataCacheTtlMs ?? 0;
  const ib1 = deps.profile === 'ib1';
  // In ib1 the configured scope is the default licence (the pipeline applies it), not a scope every dataset adds.
  const manifest = new ManifestStore(deps.dataDir, ib1 ? undefined : deps.scope, { ttlMs });
  const datasets = new DatasetCache(deps.dataDir, { ttlMs });
  if (ttlMs > 0) clearOnSwap(deps.dataDir, () => {
    datasets.clear();
    manifest.clear();
  });
  const pipeline = new DecisionPipeline({
    introspector: deps.introspector,
    certificates: ib1 ? new ClientCertificateCache(undefined, loadIb1ClientCertificateParser()) : new ClientCertificateCache(),
    manifest,
    datasets,
    clientCertHeader: deps.clientCertHeader,
    clockSkewSeconds: deps.clockSkewSeconds,
    retryAfterSeconds: deps.retryAfterSeconds,
    now: deps.now ?? Date.now,
    ...(ib1 ? { profile: 'ib1' as const, reservedPaths: [heartbeatPathOf(deps)], ...(deps.scope === undefined ? {} : { defaultLicence: deps.scope }) } : {}),
  });
  return { datasets, pipeline };
}

function heartbeatPathOf(deps: AppDeps): string {
  return deps.heartbeatPath ?? '/heartbeat';
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
  const { pipeline } = shared;
  const authz = createNginxAuthz({
    logger: deps.logger,
    pipeline,
    nginxSendsFiles: deps.accelRedirectPrefix !== undefined,
    cacheSeconds: deps.authzCacheSeconds ?? 0,
    now: deps.now ?? Date.now,
  });
  const fast = deps.accelRedirectPrefix ? createFastPath({ logger: deps.logger, pipeline, accelRedirectPrefix: deps.accelRedirectPrefix }) : () => false;
  return (req, res) => {
    if (!authz(req, res) && !fast(req, res)) app(req, res);
  };
}

function buildApp(deps: AppDeps, shared: SharedState): Express {
  const app = express();
  const startedAt = Date.now();
  app.disable('x-powered-by');
  const dataCacheTtlMs = deps.dataCacheTtlMs ?? 0;
  const { datasets, pipeline } = shared;

  app.use(fapiHeaders);
  app.use(accessLog(deps.logger));
  app.use((_req: Request, res: Response, next: NextFunction) => {
    if (deps.isDraining?.()) res.set('Connection', 'close');
    next();
  });

  app.get(ROUTES.ping, (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
  });

  // ib1: anyone may ask; a request without a token sees the open datasets only.
  app.get(ROUTES.datasets, deps.profile === 'ib1' ? identify(pipeline) : authenticate(pipeline), async (_req, res, next) => {
    try {
      const caller = res.locals.caller as Caller | undefined;
      const visible = [];
      for (const file of await listDatasets(deps.dataDir)) {
        if (!(await pipeline.mayRead(caller, file.name, res.locals))) continue;
        visible.push({ name: file.name, size: file.stat.size, modified: file.stat.mtime.toISOString(), path: `/${file.name}` });
      }
      res.set('Cache-Control', 'no-store');
      res.json({ datasets: visible });
    } catch (error) {
      next(error);
    }
  });

  if (deps.profile === 'ib1') {
    // Protected like shared data (certificate, valid bound token), with no dataset policy.
    app.get(heartbeatPathOf(deps), authenticate(pipeline), async (_req, res, next) => {
      try {
        if (!deps.heartbeat) throw new HttpError(503, 'temporarily_unavailable', 'the heartbeat is not configured (accessLogFile, stateDir)', { retryAfterSeconds: deps.retryAfterSeconds });
        const report = await deps.heartbeat.beat();
        res.set('Cache-Control', 'no-store');
        res.json(report);
      } catch (error) {
        if (error instanceof HeartbeatBusy) {
          res.locals.log?.warn({ reason: error.message }, 'heartbeat busy');
          next(new HttpError(503, 'temporarily_unavailable', 'another heartbeat call is being answered; retry later', { retryAfterSeconds: deps.retryAfterSeconds }));
        } else next(error);
      }
    });
  }

  app.get('/:dataset', authorizeRead(pipeline), (_req, res, next) => {
    const { name, file } = res.locals.read as AllowedRead;
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
  });

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new HttpError(404, 'not_found', 'no such resource')));

  // One error handler for everything: refusals render as RFC 6750 JSON; anything else is
  // logged and answered without details.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (isClientError(error)) {
      http = new HttpError(400, 'invalid_request', 'the request could not be parsed');
    } else {
      res.locals.log?.error({ err: { message: (error as Error)?.message, name: (error as Error)?.name } }, 'unexpected error');
      http = new HttpError(500, 'server_error', 'internal error');
    }
    res.locals.errorDescription = http.description;
    writeError(res, http);
  });

  return app;
}

function isClientError(error: unknown): boolean {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
