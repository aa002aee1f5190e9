/**
 * IntrospectionClient against a scripted HTTPS server (real TLS, certificates from
 * testing/pki): what it sends, how it authenticates, connection reuse, and every way the
 * authorization server can fail. The real oidc-provider is in integration.test.ts.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createDevSet, type DevSet } from '../testing/pki/dev-set';
import { AuthorizationServerUnavailable, IntrospectionClient } from './introspection';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('IntrospectionClient', () => {
  let dir: string;
  let pki: DevSet;
  let server: Server;
  let issuer: string;
  let handler: Handler;
  let tlsConnections = 0;
  const seen: { path: string; body: string; peer: string | undefined }[] = [];
  const clients: IntrospectionClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'introspection-'));
    pki = createDevSet(dir);
    server = createServer({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caBundlePem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body, peer: (req.socket as TLSSocket).getPeerX509Certificate()?.subject });
        handler(req, body, res);
      });
    });
    server.on('secureConnection', () => (tlsConnections += 1));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    issuer = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    clients.forEach((c) => c.close());
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
    tlsConnections = 0;
    handler = standard;
  });

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof value === 'string' ? value : JSON.stringify(value));
  };
  const standard: Handler = (req, _body, res) => {
    if (req.url === '/.well-known/openid-configuration') json(res, 200, { issuer, introspection_endpoint: `${issuer}/introspect` });
    else json(res, 200, { active: true, client_id: 'consumer', exp: 4102444800 });
  };
  const client = (timeoutMs = 2000, configuredIssuer = issuer) => {
    const c = new IntrospectionClient({
      issuer: configuredIssuer,
      clientId: 'provider',
      tlsCert: pki.files['provider.chain.crt']!,
      tlsKey: pki.files['provider.key']!,
      tlsCa: pki.files.caBundle!,
      timeoutMs,
    });
    clients.push(c);
    return c;
  };

  it('discovers the endpoint, then POSTs token and client_id authenticated by the transport certificate', async () => {
    expect(await client().introspect('tok-1')).toEqual({ active: true, client_id: 'consumer', exp: 4102444800 });
    expect(seen.map((s) => s.path)).toEqual(['/.well-known/openid-configuration', '/introspect']);
    expect(new URLSearchParams(seen[1]!.body).get('token')).toBe('tok-1');
    expect(new URLSearchParams(seen[1]!.body).get('client_id')).toBe('provider');
    expect(seen[1]!.peer).toContain('CN=provider');
  });

  it('reuses one TLS connection and discovers only once', async () => {
    const c = client();
    for (let i = 0; i < 5; i += 1) await c.introspect(`tok-${i}`);
    expect(seen.filter((s) => s.path.startsWith('/.well-known')).length).toBe(1);
    expect(tlsConnections).toBe(1);
  });

  it('prefers the mtls_endpoint_aliases introspection endpoint (RFC 8705 §5)', async () => {
    handler = (req, body, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        json(res, 200, { issuer, introspection_endpoint: `${issuer}/plain`, mtls_endpoint_aliases: { introspection_endpoint: `${issuer}/mtls/introspect` } });
      } else standard(req, body, res);
    };
    await client().introspect('t');
    expect(seen[1]!.path).toBe('/mtls/introspect');
  });

  it.each<[string, Handler, RegExp]>([
    ['a discovery document for another issuer', (_q, _b, res) => json(res, 200, { issuer: 'https://evil.example', introspection_endpoint: `${issuer}/x` }), /not the configured issuer/],
    ['a discovery document without an https endpoint', (_q, _b, res) => json(res, 200, { issuer, introspection_endpoint: 'http://127.0.0.1/x' }), /no https introspection_endpoint/],
    ['discovery answering 500', (_q, _b, res) => json(res, 500, {}), /discovery answered HTTP 500/],
    [
      'introspection answering 503',
      (req, body, res) => (req.url === '/introspect' ? json(res, 503, {}) : standard(req, body, res)),
      /introspection endpoint answered HTTP 503/,
    ],
    [
      'introspection rejecting our client authentication',
      (req, body, res) => (req.url === '/introspect' ? json(res, 401, { error: 'invalid_client' }) : standard(req, body, res)),
      /answered HTTP 401/,
    ],
    ['a non-JSON answer', (req, body, res) => (req.url === '/introspect' ? json(res, 200, '<html>') : standard(req, body, res)), /not a JSON object/],
    ['an answer without active', (req, body, res) => (req.url === '/introspect' ? json(res, 200, { scope: 'x' }) : standard(req, body, res)), /no boolean "active"/],
    ['no answer at all within the timeout', (req, body, res) => (req.url === '/introspect' ? undefined : standard(req, body, res)), /no answer within 300 ms/],
  ])('reports %s as AuthorizationServerUnavailable', async (_label, script, message) => {
    handler = script;
    const error = await client(300).introspect('t').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationServerUnavailable);
    expect((error as Error).message).toMatch(message);
  });

  it('compares an issuer with a trailing slash exactly, discovering without a double slash', async () => {
    handler = (req, body, res) => {
      if (req.url === '/.well-known/openid-configuration') json(res, 200, { issuer: `${issuer}/`, introspection_endpoint: `${issuer}/introspect` });
      else standard(req, body, res);
    };
    await expect(client(2000, `${issuer}/`).introspect('t')).resolves.toMatchObject({ active: true });
    await expect(client(2000, issuer).introspect('t')).rejects.toThrow(/not the configured issuer/);
  });

  it('fetches discovery again after a failed attempt', async () => {
    let failDiscovery = true;
    handler = (req, body, res) => {
      if (req.url === '/.well-known/openid-configuration' && failDiscovery) json(res, 502, {});
      else standard(req, body, res);
    };
    const c = client();
    await expect(c.introspect('t')).rejects.toThrow(AuthorizationServerUnavailable);
    failDiscovery = false;
    await expect(c.introspect('t')).resolves.toMatchObject({ active: true });
  });
});
