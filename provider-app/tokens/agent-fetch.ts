/**
 * A `fetch` for the issuer's metadata and JWKS that goes through the provider's own HTTPS
 * agent: the same trust (`tlsCa` added to the system roots) and keep-alive connections as
 * introspection. Node's global fetch cannot be given a CA without another dependency.
 * Answers are capped at 1 MB; `signal` aborts the request (jose and discovery pass a timeout).
 */
import { request as httpRequest } from 'node:http';
import { type Agent, request as httpsRequest } from 'node:https';

const MAX_BODY = 1_000_000;

export function agentFetch(agent: Agent): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const secure = url.protocol === 'https:';
      // Plain http only reaches here for a loopback issuer (issuer-metadata.ts allows nothing else).
      const send = secure ? httpsRequest : httpRequest;
      const req = send(url, { method: init.method ?? 'GET', headers, ...(secure ? { agent } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new Error('response too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // A Response cannot carry a body with these statuses.
          const body = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
          resolve(
            new Response(body, {
              status,
              headers: {
                'content-type': String(res.headers['content-type'] ?? 'application/octet-stream'),
              },
            })
          );
        });
        res.on('error', reject);
      });
      const signal = init.signal;
      if (signal) {
        const abort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) abort();
        else {
          signal.addEventListener('abort', abort, { once: true });
          req.on('close', () => signal.removeEventListener('abort', abort));
        }
      }
      req.on('error', reject);
      req.end();
    });
}
