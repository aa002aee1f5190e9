import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { HttpError, writeError } from './errors';

/** The raw answer `writeError` gives on a bare node:http response, Date masked. */
async function answer(error: HttpError): Promise<string> {
  const server = createServer((_req, res) => writeError(res, error)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.end('GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    return raw.replace(/^Date: .*$/m, 'Date: <date>');
  } finally {
    server.close();
  }
}

describe('writeError', () => {
  it('writes an RFC 6750 answer: status, no-store, the challenge, JSON with its length', async () => {
    const body = '{"error":"insufficient_scope","error_description":"the access token lacks the required scope: a:b","scope":"a:b"}';
    expect(await answer(new HttpError(403, 'insufficient_scope', 'the access token lacks the required scope: a:b', { scope: 'a:b' }))).toBe(
      [
        'HTTP/1.1 403 Forbidden',
        'Cache-Control: no-store',
        'Pragma: no-cache',
        'WWW-Authenticate: Bearer realm="provider", error="insufficient_scope", error_description="the access token lacks the required scope: a:b", scope="a:b"',
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${body.length}`,
        'Date: <date>',
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });

  it('gives a request without credentials a bare challenge, and a 503 its Retry-After', async () => {
    expect(await answer(new HttpError(401, 'invalid_request', 'an access token is required', { challenge: false }))).toContain('\r\nWWW-Authenticate: Bearer realm="provider"\r\n');
    const unavailable = await answer(new HttpError(503, 'temporarily_unavailable', 'retry later', { retryAfterSeconds: 7 }));
    expect(unavailable).toContain('\r\nRetry-After: 7\r\n');
    expect(unavailable).not.toContain('WWW-Authenticate');
  });

  it('keeps quotes and backslashes out of the challenge', async () => {
    expect(await answer(new HttpError(401, 'invalid_token', 'a "quoted" \\ word'))).toContain('error_description="a quoted  word"');
  });
});
