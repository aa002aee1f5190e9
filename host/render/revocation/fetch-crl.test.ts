import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchCrl, type FetchCrlOptions } from './fetch-crl';

/** Requests seen per path, to tell retried from not retried. */
const hits = new Map<string, number>();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    if (path === '/ok') return res.end('crl-bytes');
    if (path === '/missing') return res.writeHead(404).end('not here');
    if (path.startsWith('/flaky')) return count === 1 ? res.writeHead(503).end() : res.end('second time');
    if (path === '/slow') return void setTimeout(() => res.end('late'), 2000).unref();
    if (path === '/slow-body') {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.write('first part');
      return void setTimeout(() => res.end('rest'), 2000).unref();
    }
    if (path === '/big') return res.end(Buffer.alloc(2000));
    if (path === '/big-chunked') {
      // No Content-Length: only counting while reading can stop it.
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 4; i++) res.write(Buffer.alloc(500));
      return res.end();
    }
    return res.writeHead(500).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

const quick: FetchCrlOptions = { timeoutMs: 1000, retries: 2, backoffMs: [10, 20] };

it('returns the body of a 200 response', async () => {
  const result = await fetchCrl(`${base}/ok`, quick);
  expect(result).toEqual({ bytes: expect.any(Uint8Array) });
  expect(Buffer.from((result as { bytes: Uint8Array }).bytes).toString()).toBe('crl-bytes');
});

it('reports a 404 by its status, without retrying it', async () => {
  expect(await fetchCrl(`${base}/missing`, quick)).toEqual({ error: 'HTTP 404' });
  expect(hits.get('/missing')).toBe(1);
});

it('retries a 503 and succeeds on the second attempt', async () => {
  const result = await fetchCrl(`${base}/flaky`, quick);
  expect(Buffer.from((result as { bytes: Uint8Array }).bytes).toString()).toBe('second time');
  expect(hits.get('/flaky')).toBe(2);
});

it('gives up on a 503 after the last retry', async () => {
  expect(await fetchCrl(`${base}/flaky-never`, { ...quick, retries: 0 })).toEqual({ error: 'HTTP 503' });
});

it('times out a slow server on every attempt, within the bound', async () => {
  const started = Date.now();
  expect(await fetchCrl(`${base}/slow`, { ...quick, timeoutMs: 150, retries: 1 })).toEqual({ error: 'timed out after 150 ms (after 2 attempts)' });
  expect(Date.now() - started).toBeLessThan(1500);
  expect(hits.get('/slow')).toBe(2);
});

it('times out a body that stops coming after the headers', async () => {
  expect(await fetchCrl(`${base}/slow-body`, { ...quick, timeoutMs: 150, retries: 0 })).toEqual({ error: 'timed out after 150 ms' });
});

it('refuses a body over maxBytes, by its declared length or while reading', async () => {
  expect(await fetchCrl(`${base}/big`, { ...quick, maxBytes: 1000 })).toEqual({ error: 'body of 2000 bytes is over the 1000-byte limit' });
  expect(await fetchCrl(`${base}/big-chunked`, { ...quick, maxBytes: 1000 })).toEqual({ error: 'body is over the 1000-byte limit' });
  expect(hits.get('/big')).toBe(1);
  expect(await fetchCrl(`${base}/big`, { ...quick, maxBytes: 2000 })).toEqual({ bytes: expect.any(Uint8Array) });
});

it('refuses anything but http and https, naming the URL', async () => {
  expect(await fetchCrl('file:///etc/passwd', quick)).toEqual({ error: 'unsupported URL "file:///etc/passwd" (only http: and https:)' });
  expect(await fetchCrl('ldap://ldap.test/cn=CA', quick)).toEqual({ error: 'unsupported URL "ldap://ldap.test/cn=CA" (only http: and https:)' });
  expect(await fetchCrl('not a url', quick)).toEqual({ error: '"not a url" is not a URL' });
});

it('says why a connection failed', async () => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const { port } = closed.address() as AddressInfo;
  closed.close();
  await once(closed, 'close');
  expect(await fetchCrl(`http://127.0.0.1:${port}/x`, { ...quick, retries: 1 })).toEqual({ error: expect.stringMatching(/^fetch failed: ECONNREFUSED .*\(after 2 attempts\)$/) });
});

it('waits the given backoff between attempts', async () => {
  const calls: number[] = [];
  const fetchImpl = (async () => {
    calls.push(Date.now());
    throw new TypeError('fetch failed');
  }) as unknown as typeof fetch;
  expect(await fetchCrl('http://crl.test/x', { timeoutMs: 1000, retries: 2, backoffMs: [50, 120], fetchImpl })).toEqual({ error: 'fetch failed (after 3 attempts)' });
  expect(calls).toHaveLength(3);
  expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(45);
  expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(115);
});
