/**
 * One HTTPS request with an optional client certificate, answering status,
 * headers and body (as a Buffer) — or the TLS/socket error, never throwing.
 */
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { SecureVersion } from 'node:tls';

export interface MtlsRequestOptions {
  readonly port: number;
  readonly path: string;
  /** @default GET */
  readonly method?: string;
  /** CA(s) that sign the server certificate. */
  readonly ca: string;
  readonly servername: string;
  readonly host?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly ciphers?: string;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly timeoutMs?: number;
}

export type MtlsResponse =
  | { readonly ok: true; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer; readonly cipher: string; readonly protocol: string }
  | { readonly ok: false; readonly error: string };

export function mtlsRequest(options: MtlsRequestOptions): Promise<MtlsResponse> {
  return new Promise((resolveResponse) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'GET',
        servername: options.servername,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        ciphers: options.ciphers,
        minVersion: options.minVersion,
        maxVersion: options.maxVersion,
        headers: options.headers,
        agent: false,
        timeout: options.timeoutMs ?? 10000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as import('node:tls').TLSSocket;
        const cipher = socket.getCipher().name;
        const protocol = socket.getProtocol() ?? '';
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolveResponse({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cipher, protocol }));
        res.on('error', (error) => resolveResponse({ ok: false, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (error) => resolveResponse({ ok: false, error: error.message }));
    req.end();
  });
}
