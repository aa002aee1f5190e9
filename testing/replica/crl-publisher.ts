/**
 * The trust framework's CRL endpoint for the replica and the dev sandbox: an HTTP server
 * on 127.0.0.1 publishing one CRL per CA of the dev PKI, issued by the PKI helper
 * (testing/pki/crl.ts). `revoke` is the CA revoking a certificate: it publishes a new
 * CRL (the next CRL number); the host picks it up at its next refresh. `serveRaw` puts
 * any bytes (garbage, an old or badly signed CRL) or a failure at a path, to try the
 * host's refusals.
 */
import { createServer, type Server } from 'node:http';
import type { CertificateAuthority } from '../pki';
import { issueCrl, serialOf, type CrlOptions } from '../pki/crl';

export interface PublishedCa {
  /** The path the CRL is served at, e.g. `/issuing.crl`. */
  readonly path: string;
  /** Any CA whose certificate and key are PEM: the dev PKI's RSA ones, the IB1 PKI's ECDSA ones. */
  readonly ca: Pick<CertificateAuthority, 'certPem' | 'keyPem'>;
}

export interface CrlPublisher {
  /** The CRL URLs, in the order of the CAs given. */
  readonly urls: readonly string[];
  /** The CA revokes `certPem` (issued by the CA at `path`) and publishes a new CRL. */
  revoke(path: string, certPem: string): void;
  /** Publishes a new CRL for the CA at `path` (a new number), with `options` (nextUpdate...). */
  publish(path: string, options?: Omit<CrlOptions, 'crlNumber' | 'revoked'>): Buffer;
  /** Serves these bytes, or this HTTP status, at `path` until the next publish. */
  serveRaw(path: string, answer: Buffer | number): void;
  /** The CRL number last published for the CA at `path`. */
  number(path: string): number;
  /** Requests served, by path. */
  readonly requests: Map<string, number>;
  stop(): Promise<void>;
}

export async function startCrlPublisher(cas: readonly PublishedCa[]): Promise<CrlPublisher> {
  const state = new Map(cas.map((entry) => [entry.path, { ca: entry.ca, crlNumber: 0, revoked: [] as string[], body: Buffer.alloc(0) as Buffer | number }]));
  const requests = new Map<string, number>();
  const find = (path: string) => {
    const entry = state.get(path);
    if (!entry) throw new Error(`no CA published at ${path}; known: ${[...state.keys()].join(', ')}`);
    return entry;
  };
  const publish = (path: string, options: Omit<CrlOptions, 'crlNumber' | 'revoked'> = {}): Buffer => {
    const entry = find(path);
    entry.crlNumber += 1;
    const crl = issueCrl(entry.ca, { ...options, crlNumber: entry.crlNumber, revoked: entry.revoked.map((serialNumber) => ({ serialNumber })) });
    entry.body = crl.der;
    return crl.der;
  };
  for (const entry of cas) publish(entry.path);

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const entry = state.get(path);
    if (!entry || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    if (typeof entry.body === 'number') {
      res.writeHead(entry.body).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/pkix-crl', 'Content-Length': entry.body.length }).end(entry.body);
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the CRL publisher has no TCP address');
  const base = `http://127.0.0.1:${address.port}`;

  return {
    urls: cas.map((entry) => `${base}${entry.path}`),
    revoke(path, certPem) {
      find(path).revoked.push(serialOf(certPem));
      publish(path);
    },
    publish,
    serveRaw(path, answer) {
      find(path).body = answer;
    },
    number: (path) => find(path).crlNumber,
    requests,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
