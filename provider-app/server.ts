import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse, type RequestListener, type Server } from 'node:http';
import { connect } from 'node:net';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { HttpError, writeError } from './errors';

export type ListenTarget = { readonly socket: string; readonly socketMode: number } | { readonly port: number; readonly host: string };

export interface RunningServer {
  readonly server: Server;
  /** Socket path, or `http://host:port`. */
  readonly address: string;
  /** True once `drain()` was called. */
  isDraining(): boolean;
  /** Stops accepting, lets in-flight requests finish (at most `timeoutMs`), then closes the rest. */
  drain(timeoutMs: number): Promise<void>;
}

/** True when something accepts connections on the UNIX socket `path`. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Removes a socket file left by a crashed process. Refuses to touch anything that is not
 * a socket, and leaves a live socket alone: under PM2 cluster mode that is a sibling
 * worker's listener (the cluster primary shares it), otherwise another instance.
 */
export async function removeStaleSocket(path: string, logger: Logger): Promise<'absent' | 'removed' | 'live'> {
  let stat;
  try {
    stat = await fs.lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  if (!stat.isSocket()) throw new Error(`socket path ${path} exists and is not a socket; refusing to remove it`);
  if (await socketIsLive(path)) return 'live';
  await fs.unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  logger.warn({ socket: path }, 'removed stale socket file');
  return 'removed';
}

async function waitForLiveSocket(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await socketIsLive(path)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Node's own answers to a request it cannot parse, kept: 431 for oversized headers, 408
// for a request that did not arrive within headersTimeout/requestTimeout, else 400.
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = { HPE_HEADER_OVERFLOW: 431, ERR_HTTP_REQUEST_TIMEOUT: 408 };
const CLIENT_ERROR_DESCRIPTION: Readonly<Record<number, string>> = {
  400: 'the request could not be parsed',
  408: 'the request did not arrive in time',
  431: 'the request headers are too large',
};

/**
 * `clientError`: a request Node's HTTP parser refused never reaches the app, and Node
 * would answer a bare `400 Bad Request` — no Date, no x-fapi-interaction-id, no JSON. The
 * likeliest cause is nginx sending the legacy folded `$ssl_client_cert` while
 * `legacyCertHeader` is off. This answers like the app's other errors (RFC 6750-style JSON,
 * `Cache-Control: no-store`, a new interaction id, Date), closes the connection, and writes
 * one access line naming the parser's error — never the request's bytes or header values.
 * As Node's own handler, it answers only when no response has started on the connection.
 */
export function answerClientError(error: NodeJS.ErrnoException & { reason?: unknown }, socket: Duplex, logger: Logger): void {
  const code = error.code ?? 'unknown';
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status = CLIENT_ERROR_STATUS[code] ?? 400;
  const description = CLIENT_ERROR_DESCRIPTION[status]!;
  const interactionId = randomUUID();
  // A response of its own on the connection, written by the app's error writer. A response
  // still waiting for its turn gives the connection up: it is closed after this answer.
  const connection = socket as Socket;
  inFlight?.detachSocket(connection);
  const res = new ServerResponse(new IncomingMessage(connection));
  res.shouldKeepAlive = false; // Node then adds Connection: close, after the headers set here.
  res.setHeader('Date', new Date().toUTCString());
  res.setHeader('x-fapi-interaction-id', interactionId);
  res.assignSocket(connection);
  res.once('finish', () => socket.end(() => socket.destroy()));
  writeError(res, new HttpError(status, 'invalid_request', description));
  logger.warn(
    {
      interactionId,
      access: true,
      status,
      bytes: Number(res.getHeader('content-length')),
      error: description,
      // llhttp's code and fixed reason text ("Unexpected whitespace after header value"), no request data.
      parseError: code,
      parseReason: typeof error.reason === 'string' ? error.reason.slice(0, 100) : undefined,
    },
    'request',
  );
}

function listen(server: Server, target: ListenTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if ('socket' in target) {
      // bind() creates the socket file with 0777 & ~umask, and the chmod to socketMode comes
      // after: under a usual umask (022) the file would be world-connectable in between. So
      // it is created with its final mode. bind() runs inside listen() synchronously, so the
      // process umask is restored at once. (A PM2 cluster worker's listen is done by the
      // cluster primary, under its umask; the chmod below still follows.)
      const previous = process.umask(0o777 & ~target.socketMode);
      try {
        server.listen(target.socket, done);
      } finally {
        process.umask(previous);
      }
    } else server.listen(target.port, target.host, done);
  });
}

/** Creates the HTTP server for `app` and listens on a UNIX socket (mode applied) or TCP port. */
export async function startServer(
  app: RequestListener,
  target: ListenTarget,
  logger: Logger,
  options: { readonly lenientHeaders?: boolean } = {},
): Promise<RunningServer> {
  let draining = false;
  // Folded (obs-fold) header lines are rejected by Node's strict parser; only the lenient
  // one accepts nginx's legacy tab-indented certificate header.
  const server = createServer({ insecureHTTPParser: options.lenientHeaders === true }, app);
  server.on('clientError', (error: Error, socket: Duplex) => answerClientError(error, socket, logger));
  // Connection bookkeeping for the drain. Node's own server.close() also destroys every
  // connection without an active request, including one just accepted whose request has
  // not arrived yet (PM2's cluster primary may hand one over right before the close): the
  // client would see a reset. So only connections that have finished a response are idle.
  const idleAfterResponse = new Set<Socket>();
  const pending = new Set<ServerResponse>();
  server.on('connection', (socket: Socket) => {
    socket.once('close', () => idleAfterResponse.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    idleAfterResponse.delete(socket);
    if (draining) res.setHeader('Connection', 'close');
    pending.add(res);
    res.once('finish', () => {
      if (draining) socket.end();
      else idleAfterResponse.add(socket);
    });
    res.once('close', () => pending.delete(res));
  });
  // nginx keeps upstream connections alive; keep ours open a little longer than its idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  let address: string;
  if ('socket' in target) {
    const clusterInstance = cluster.isWorker ? (process.env.NODE_APP_INSTANCE ?? '0') : undefined;
    if (clusterInstance === undefined || clusterInstance === '0') {
      const state = await removeStaleSocket(target.socket, logger);
      if (state === 'live' && clusterInstance === undefined) {
        throw new Error(`another process is already listening on ${target.socket}`);
      }
    } else {
      // Only cluster instance 0 may remove a stale socket, so two workers never race to
      // unlink one another's fresh listener; the others wait briefly for it to appear.
      await waitForLiveSocket(target.socket, 5000);
    }
    await listen(server, target);
    await fs.chmod(target.socket, target.socketMode);
    address = target.socket;
  } else {
    await listen(server, target);
    const bound = server.address() as { address: string; port: number };
    address = `http://${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`;
  }
  return {
    server,
    address,
    isDraining: () => draining,
    drain: (timeoutMs: number) =>
      new Promise<void>((resolve) => {
        draining = true;
        const timer = setTimeout(() => {
          logger.warn({ timeoutMs }, 'drain timeout reached; closing remaining connections');
          server.closeAllConnections();
        }, timeoutMs);
        timer.unref();
        // Stop listening without http.Server.close()'s closeIdleConnections() (see above).
        net.Server.prototype.close.call(server, () => {
          clearTimeout(timer);
          resolve();
        });
        // In-flight requests answer with Connection: close; kept-alive idle ones end now.
        for (const res of pending) if (!res.headersSent) res.setHeader('Connection', 'close');
        for (const socket of idleAfterResponse) socket.end();
      }),
  };
}
