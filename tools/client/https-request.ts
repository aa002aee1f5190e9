import { request as httpsRequestRaw } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { classifyNetworkError } from './classify-error';
import type { TlsIdentity } from './tls-identity';

export interface HttpsRequestOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly tls: TlsIdentity;
  /** Whether to present the client certificate (false to probe a server without one). */
  readonly presentCertificate?: boolean;
  /** Milliseconds without progress before the request is abandoned. */
  readonly timeoutMs?: number;
  /** Host name → address to connect to instead of asking DNS (like curl's --resolve). */
  readonly resolve?: Readonly<Record<string, string>>;
}

export interface HttpsResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body stream; read it or call `resume()` to discard it. */
  readonly body: IncomingMessage;
}

/**
 * One HTTPS exchange with the client certificate on the TLS connection (RFC 8705).
 * Trusts only `tls.ca` when given (else the system roots); errors are classified
 * into ClientErrors that say which side refused.
 */
export function httpsRequest(options: HttpsRequestOptions): Promise<HttpsResponse> {
  const url = new URL(options.url);
  if (url.protocol !== 'https:') {
    return Promise.reject(classifyNetworkError(new Error(`only https:// URLs are supported, got ${url.protocol}`), ctxOf(options)));
  }
  const present = options.presentCertificate !== false && Boolean(options.tls.cert);
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = httpsRequestRaw(url, {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        ca: options.tls.ca,
        cert: present ? options.tls.cert : undefined,
        key: present ? options.tls.key : undefined,
        // a fresh connection per request: the certificate belongs to this exchange
        agent: false,
        lookup: pinnedLookup(options.resolve),
        minVersion: 'TLSv1.2',
      });
    } catch (error) {
      reject(classifyNetworkError(error, ctxOf(options)));
      return;
    }
    let handshakeDone = false;
    req.on('socket', (socket) => socket.once('secureConnect', () => (handshakeDone = true)));
    const fail = (error: unknown): void => reject(classifyNetworkError(error, { ...ctxOf(options), handshakeDone }));
    req.setTimeout(options.timeoutMs ?? 30_000, () => {
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    });
    req.on('error', fail);
    req.on('response', (res) => {
      req.off('error', fail);
      // errors while streaming the body surface on the body stream
      req.on('error', (error) => res.destroy(classifyNetworkError(error, ctxOf(options))));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.end(options.body);
  });
}

/** A DNS lookup that answers pinned names itself (TLS still checks the URL's name). */
export function pinnedLookup(pins: Readonly<Record<string, string>> | undefined): LookupFunction | undefined {
  if (!pins || Object.keys(pins).length === 0) return undefined;
  return (hostname, options, callback) => {
    const address = pins[hostname.toLowerCase()];
    if (address === undefined) {
      dnsLookup(hostname, options, callback);
      return;
    }
    const family = isIP(address);
    if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, [{ address, family }]);
    else (callback as (e: null, a: string, f: number) => void)(null, address, family);
  };
}

function ctxOf(options: HttpsRequestOptions): { url: string; sentClientCert: boolean } {
  return { url: options.url, sentClientCert: options.presentCertificate !== false && Boolean(options.tls.cert) };
}

/** Reads a (small) response body as text, at most `limit` bytes. */
export async function readText(body: Readable, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
