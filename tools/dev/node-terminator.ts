import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Terminator, TerminatorOptions } from './terminator';

/** nginx's `proxy_set_header X-OE-CLIENT-CERT $ssl_client_escaped_cert`, lower-cased. */
export const CLIENT_CERT_HEADER = 'x-oe-client-cert';

/** The TLS 1.2 suites of `nginx/snippets/tls-policy.conf` (FAPI 1.0 Advanced §8.5). */
const TLS12_CIPHERS = 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded, as by nginx. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * `nginx/snippets/security-headers.conf`: nginx adds them to every answer of the site
 * (and hides the app's own), so this terminator does too.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
};

/** The mTLS site's `internal` locations: nginx answers its JSON 404 when a client asks for them. */
const INTERNAL_PATHS = ['/.provider/authz'];
const INTERNAL_PREFIXES = ['/_datasets/', '/_errors/'];

/** Whether `url` names one of them once decoded and with repeated slashes merged, as nginx matches locations. */
export function isInternalPath(url: string): boolean {
  const raw = url.split('?')[0]!;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return false;
  }
  path = path.replace(/\/{2,}/g, '/');
  return INTERNAL_PATHS.includes(path) || INTERNAL_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** The client certificate as nginx's `$ssl_client_escaped_cert`: URL-encoded PEM of the leaf. */
export function escapedClientCert(der: Buffer): string {
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`);
}

/**
 * A small Node HTTPS terminator for machines without nginx. It behaves like the
 * nginx mTLS site where the app can tell: client certificate verified against
 * the client-CA bundle only, 400 with the site's JSON page when missing or
 * invalid, the verified certificate in `X-OE-CLIENT-CERT` (a client-sent one is
 * replaced), the same forwarding headers, 502 JSON page when the app is down,
 * 404 JSON page for the site's internal paths (the app's authorization endpoint
 * among them), HSTS and nosniff on every answer. It implements neither the
 * request and connection limits (429), X-Accel-Redirect nor nginx's authorization
 * subrequest: the app decides on every request and streams datasets itself.
 */
export async function startNodeTerminator(options: TerminatorOptions): Promise<Terminator> {
  const page = (name: string): string => readFileSync(join(options.errorPagesDir, name), 'utf8');
  const clientCertificatePage = page('client-certificate.json');
  // As the nginx site's map: a revoked certificate is told so.
  const revokedPage = page('certificate-revoked.json');
  const unavailablePage = page('502.json');
  const notFoundPage = page('404.json');

  const server: Server = createServer(
    {
      cert: readFileSync(options.serverCertFile),
      key: readFileSync(options.serverKeyFile),
      ca: readFileSync(options.clientCaFile),
      // One entry per CRL: Node reads a single CRL from each.
      ...(options.crlFile !== undefined ? { crl: readFileSync(options.crlFile, 'utf8').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g) ?? [] } : {}),
      // like `ssl_verify_client on`: ask, then answer 400 ourselves instead of a bare TLS alert
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ciphers: `${TLS12_CIPHERS}:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256`,
      honorCipherOrder: true,
    },
    (req, res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      // As the nginx site: without any certificate, /ping only (the health check).
      const nonePresented = !socket.authorized && Object.keys(socket.getPeerCertificate()).length === 0;
      const healthCheck = nonePresented && (req.url ?? '') === '/ping';
      if (!peer?.raw && !healthCheck) {
        const body = String(socket.authorizationError) === 'CERT_REVOKED' ? revokedPage : clientCertificatePage;
        res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      if (isInternalPath(req.url ?? '/')) {
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(notFoundPage) });
        res.end(notFoundPage);
        return;
      }
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!HOP_BY_HOP.has(name) && name !== CLIENT_CERT_HEADER && name !== 'x-forwarded-for' && name !== 'x-forwarded-proto') headers[name] = value;
      }
      headers['x-forwarded-for'] = socket.remoteAddress ?? '';
      headers['x-forwarded-proto'] = 'https';
      // nginx sends no header for an empty value: none without a certificate.
      if (peer?.raw) headers[CLIENT_CERT_HEADER] = escapedClientCert(peer.raw);
      const upstream = httpRequest({ socketPath: options.appSocket, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        answer.pipe(res);
      });
      upstream.on('error', () => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(unavailablePage) });
        res.end(unavailablePage);
      });
      req.pipe(upstream);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    kind: 'node',
    port,
    pids: {},
    description: `Node https terminator on ${options.listenHost}:${port} (nginx not used)`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The app's headers nginx passes on: not hop-by-hop ones, not the security headers nginx sets itself (proxy_hide_header). */
function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !(name in SECURITY_HEADERS)));
}
