/**
 * discoverIssuer against a real HTTP server on 127.0.0.1 that serves whichever metadata
 * documents a test puts there, and records the paths it was asked for.
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { AuthorizationServerUnavailable } from '../introspection';
import { discoverIssuer, IssuerMetadataError, metadataUrls } from './issuer-metadata';

type Route = (res: ServerResponse) => void;

let server: Server;
let origin: string;
const routes = new Map<string, Route>();
const asked: string[] = [];

const json =
  (value: unknown, status = 200): Route =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof value === 'string' ? value : JSON.stringify(value));
  };

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const route = routes.get(req.url ?? '');
    if (route) route(res);
    else json({ error: 'not_found' }, 404)(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});
beforeEach(() => {
  routes.clear();
  asked.length = 0;
});

const options = { timeoutMs: 5000 };

describe('metadataUrls', () => {
  it('inserts the RFC 8414 suffix between host and path, and appends the OIDC one', () => {
    expect(metadataUrls('https://a.example/tenant')).toEqual([
      'https://a.example/.well-known/oauth-authorization-server/tenant',
      'https://a.example/tenant/.well-known/openid-configuration',
    ]);
  });

  it('drops a terminating slash first, and adds no path for an issuer without one', () => {
    expect(metadataUrls('https://a.example/tenant/')).toEqual([
      'https://a.example/.well-known/oauth-authorization-server/tenant',
      'https://a.example/tenant/.well-known/openid-configuration',
    ]);
    expect(metadataUrls('https://a.example')).toEqual(['https://a.example/.well-known/oauth-authorization-server', 'https://a.example/.well-known/openid-configuration']);
  });

  it('refuses plain http except on loopback, and issuers with a query or fragment', () => {
    expect(() => metadataUrls('http://a.example/tenant')).toThrow(/must use https/);
    expect(() => metadataUrls('http://127.0.0.1:8080/x')).not.toThrow();
    expect(() => metadataUrls('https://a.example/t?x=1')).toThrow(/no query or fragment/);
    expect(() => metadataUrls('not a url')).toThrow(/is not a URL/);
  });
});

describe('discoverIssuer', () => {
  it('uses RFC 8414 metadata when the server has it, without asking for OIDC discovery', async () => {
    const issuer = `${origin}/tenant`;
    routes.set('/.well-known/oauth-authorization-server/tenant', json({ issuer, jwks_uri: `${origin}/jwks`, token_endpoint: `${origin}/tenant/token` }));
    routes.set('/tenant/.well-known/openid-configuration', json({ issuer, jwks_uri: `${origin}/other-jwks` }));
    await expect(discoverIssuer(issuer, options)).resolves.toEqual({
      issuer,
      jwks_uri: `${origin}/jwks`,
      token_endpoint: `${origin}/tenant/token`,
      metadataUrl: `${origin}/.well-known/oauth-authorization-server/tenant`,
    });
    expect(asked).toEqual(['/.well-known/oauth-authorization-server/tenant']);
  });

  it('falls back to OIDC discovery when the RFC 8414 location answers 404', async () => {
    const issuer = `${origin}/tenant`;
    routes.set('/tenant/.well-known/openid-configuration', json({ issuer, jwks_uri: `${origin}/jwks`, introspection_endpoint: `${origin}/tenant/introspect` }));
    const metadata = await discoverIssuer(issuer, options);
    expect(metadata).toMatchObject({ jwks_uri: `${origin}/jwks`, introspection_endpoint: `${origin}/tenant/introspect`, metadataUrl: `${origin}/tenant/.well-known/openid-configuration` });
    expect(asked).toEqual(['/.well-known/oauth-authorization-server/tenant', '/tenant/.well-known/openid-configuration']);
  });

  it('returns the mutual-TLS endpoint aliases next to the plain ones', async () => {
    routes.set('/.well-known/oauth-authorization-server', json({ issuer: origin, jwks_uri: `${origin}/jwks`, mtls_endpoint_aliases: { introspection_endpoint: 'https://mtls.example/introspect', token_endpoint: 'https://mtls.example/token' } }));
    await expect(discoverIssuer(origin, options)).resolves.toMatchObject({ mtls_endpoint_aliases: { introspection_endpoint: 'https://mtls.example/introspect', token_endpoint: 'https://mtls.example/token' } });
  });

  it('refuses a document naming another issuer, naming both, and does not look further', async () => {
    const issuer = `${origin}/tenant`;
    routes.set('/.well-known/oauth-authorization-server/tenant', json({ issuer: `${origin}/tenant/`, jwks_uri: `${origin}/jwks` }));
    routes.set('/tenant/.well-known/openid-configuration', json({ issuer, jwks_uri: `${origin}/jwks` }));
    const error = await discoverIssuer(issuer, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IssuerMetadataError);
    expect((error as Error).message).toBe(`issuer metadata at ${origin}/.well-known/oauth-authorization-server/tenant names issuer "${origin}/tenant/", not the configured "${issuer}"`);
    expect(asked).toHaveLength(1);
  });

  it('is an AuthorizationServerUnavailable, so the app answers 503 as for introspection', async () => {
    await expect(discoverIssuer(origin, options)).rejects.toBeInstanceOf(AuthorizationServerUnavailable);
  });

  it('names both locations when neither has metadata', async () => {
    routes.set('/.well-known/openid-configuration', json('oops', 500));
    await expect(discoverIssuer(origin, options)).rejects.toThrow(
      `no metadata for issuer "${origin}": ${origin}/.well-known/oauth-authorization-server answered HTTP 404; ${origin}/.well-known/openid-configuration answered HTTP 500`,
    );
  });

  it('refuses metadata without a usable jwks_uri', async () => {
    routes.set('/.well-known/oauth-authorization-server', json({ issuer: origin }));
    await expect(discoverIssuer(origin, options)).rejects.toThrow(/has no jwks_uri/);
    routes.set('/.well-known/oauth-authorization-server', json({ issuer: origin, jwks_uri: 'http://keys.example/jwks' }));
    await expect(discoverIssuer(origin, options)).rejects.toThrow(/jwks_uri "http:\/\/keys.example\/jwks" must use https/);
  });

  it('refuses a body that is not a JSON object', async () => {
    routes.set('/.well-known/oauth-authorization-server', json('<html>'));
    await expect(discoverIssuer(origin, options)).rejects.toThrow(/is not JSON/);
    routes.set('/.well-known/oauth-authorization-server', json([origin]));
    await expect(discoverIssuer(origin, options)).rejects.toThrow(/is not a JSON object/);
  });

  it('gives up after timeoutMs on a server that never answers', async () => {
    routes.set('/.well-known/oauth-authorization-server', () => undefined);
    await expect(discoverIssuer(origin, { timeoutMs: 100 })).rejects.toThrow(`issuer metadata at ${origin}/.well-known/oauth-authorization-server: no answer within 100 ms`);
  });

  it('reports a server that is not there, without trying the second location', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as { port: number }).port;
    closed.close();
    await once(closed, 'close');
    await expect(discoverIssuer(`http://127.0.0.1:${port}`, options)).rejects.toThrow(`issuer metadata at http://127.0.0.1:${port}/.well-known/oauth-authorization-server: fetch failed`);
  });

  it('uses the fetch it is given, and fetches nothing for an unusable issuer', async () => {
    const calls: string[] = [];
    const fetchImpl: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(JSON.stringify({ issuer: 'https://as.example', jwks_uri: 'https://as.example/jwks' }), { status: 200 });
    };
    await expect(discoverIssuer('https://as.example', { fetchImpl, timeoutMs: 1000 })).resolves.toMatchObject({ jwks_uri: 'https://as.example/jwks' });
    expect(calls).toEqual(['https://as.example/.well-known/oauth-authorization-server']);
    await expect(discoverIssuer('http://as.example', { fetchImpl, timeoutMs: 1000 })).rejects.toThrow(/must use https/);
    expect(calls).toHaveLength(1);
  });
});
