/**
 * createJwtValidator against a real JWKS endpoint (http.createServer on 127.0.0.1 that
 * counts its requests) and tokens signed with jose's SignJWT, as an authorization server
 * issuing RFC 9068 access tokens would.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { AuthorizationServerUnavailable } from '../introspection';
import { createJwtValidator, type JwtValidation, type JwtValidatorOptions } from './jwt-access-token';

const CLIENT = 'https://directory.core.trust.ib1.org/application/38328a78';
const THUMBPRINT = 'ZmFrZS10aHVtYnByaW50LW9mLWEtY2xpZW50LWNlcnQ';

interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'PS256' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let server: Server;
let issuer: string;
let jwksUri: string;
/** What the JWKS endpoint serves; a test changes it to rotate keys or break the endpoint. */
let published: JWK[] | 'error' | 'hang';
let jwksRequests = 0;
let es256: SigningKey;
let ps256: SigningKey;
let rs256: SigningKey;

beforeAll(async () => {
  [es256, ps256, rs256] = await Promise.all([signingKey('es-1', 'ES256'), signingKey('ps-1', 'PS256'), signingKey('rs-1', 'RS256')]);
  server = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    jwksRequests += 1;
    if (published === 'hang') return;
    if (published === 'error') {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: published }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}/tenant`;
  jwksUri = `${issuer.replace(/\/tenant$/, '')}/jwks`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});
beforeEach(() => {
  published = [es256.jwk, ps256.jwk, rs256.jwk];
  jwksRequests = 0;
});

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  return { iss: issuer, sub: 'user-1', client_id: CLIENT, aud: 'https://provider.example', scope: 'read', iat: now(), exp: now() + 300, jti: 'j-1', ...overrides };
}

/** A token as an authorization server would sign it; `omit` drops claims, `header` overrides. */
async function token(options: { key?: SigningKey; claims?: Record<string, unknown>; omit?: string[]; header?: Record<string, unknown> } = {}): Promise<string> {
  const key = options.key ?? es256;
  const payload = claims(options.claims);
  for (const name of options.omit ?? []) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header }).sign(key.privateKey);
}

function validator(options: Partial<JwtValidatorOptions> = {}) {
  return createJwtValidator({ issuer, jwksUri, ...options });
}

/** Asserts a refusal whose description matches, and that nothing of the token is in it. */
function expectRefused(result: JwtValidation, description: RegExp, jwt: string): void {
  expect(result).toEqual({ ok: false, error: 'invalid_token', description: expect.stringMatching(description) });
  for (const part of [jwt, ...jwt.split('.')].filter((p) => p.length > 0)) {
    expect(JSON.stringify(result)).not.toContain(part);
  }
}

describe('createJwtValidator: accepted tokens', () => {
  it('accepts an ES256 at+jwt from the issuer and returns its claims', async () => {
    const jwt = await token();
    const result = await validator().validate(jwt);
    expect(result).toEqual({ ok: true, claims: expect.objectContaining({ iss: issuer, sub: 'user-1', client_id: CLIENT, scope: 'read', exp: expect.any(Number) }) });
    expect(JSON.stringify(result)).not.toContain(jwt);
  });

  it('accepts PS256 and RS256 (the default allow-list), and the typ application/at+jwt', async () => {
    const v = validator();
    expect((await v.validate(await token({ key: ps256 }))).ok).toBe(true);
    expect((await v.validate(await token({ key: rs256 }))).ok).toBe(true);
    expect((await v.validate(await token({ header: { typ: 'application/at+jwt' } }))).ok).toBe(true);
  });

  it('does not look at aud when no audience is configured', async () => {
    expect((await validator().validate(await token({ omit: ['aud'] }))).ok).toBe(true);
  });

  it('accepts a token whose aud list names the configured audience', async () => {
    const v = validator({ audience: ['https://provider.example', 'https://other.example'] });
    expect((await v.validate(await token({ claims: { aud: ['https://x.example', 'https://other.example'] } }))).ok).toBe(true);
  });
});

describe('createJwtValidator: the header', () => {
  it('refuses a typ other than at+jwt, and none, without fetching the JWKS', async () => {
    const v = validator();
    for (const header of [{ typ: 'JWT' }, { typ: undefined }]) {
      const jwt = await token({ header });
      expectRefused(await v.validate(jwt), /typ/, jwt);
    }
    expect(jwksRequests).toBe(0);
  });

  it('refuses an algorithm outside the allow-list', async () => {
    const jwt = await token({ key: rs256 });
    expectRefused(await validator({ algorithms: ['ES256', 'PS256'] }).validate(jwt), /alg; allowed: ES256, PS256/, jwt);
  });

  it('refuses HS256 and unsecured (alg none) tokens', async () => {
    const hs = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long'));
    expectRefused(await validator().validate(hs), /alg/, hs);
    const none = new UnsecuredJWT(claims()).encode();
    expectRefused(await validator().validate(none), /alg/, none);
  });

  it('cannot be configured to allow none or HS*', () => {
    expect(() => validator({ algorithms: ['ES256', 'none'] })).toThrow(/must be asymmetric/);
    expect(() => validator({ algorithms: ['HS256'] })).toThrow(/must be asymmetric/);
    expect(() => validator({ algorithms: [] })).toThrow(/must be asymmetric/);
  });

  it('refuses what is not a JWT', async () => {
    for (const junk of ['opaque-token-value', 'a.b.c', '']) {
      expect(await validator().validate(junk)).toEqual({ ok: false, error: 'invalid_token', description: 'the token is not a well-formed signed JWT' });
    }
  });
});

describe('createJwtValidator: signature and claims', () => {
  it('refuses a signature made by another key under a known kid', async () => {
    const impostor = await signingKey(es256.kid, 'ES256');
    const jwt = await token({ key: impostor });
    expectRefused(await validator().validate(jwt), /signature does not verify/, jwt);
  });

  it('refuses another issuer', async () => {
    const jwt = await token({ claims: { iss: `${issuer}/` } });
    expectRefused(await validator().validate(jwt), /configured issuer \(iss\)/, jwt);
  });

  it('refuses an aud that does not name the configured audience, or none at all', async () => {
    const v = validator({ audience: 'https://provider.example' });
    const other = await token({ claims: { aud: 'https://other.example' } });
    expectRefused(await v.validate(other), /not meant for this resource server \(aud\)/, other);
    const none = await token({ omit: ['aud'] });
    expectRefused(await v.validate(none), /no "aud" claim/, none);
  });

  it('refuses an expired token, but tolerates the configured clock skew', async () => {
    const v = validator({ clockToleranceSeconds: 30 });
    expect((await v.validate(await token({ claims: { exp: now() - 10 } }))).ok).toBe(true);
    const expired = await token({ claims: { exp: now() - 60 } });
    expectRefused(await v.validate(expired), /expired \(exp\)/, expired);
  });

  it('refuses a token not valid yet (nbf) or issued in the future (iat), beyond the skew', async () => {
    const v = validator({ clockToleranceSeconds: 30 });
    expect((await v.validate(await token({ claims: { nbf: now() + 10, iat: now() + 10 } }))).ok).toBe(true);
    const nbf = await token({ claims: { nbf: now() + 120 } });
    expectRefused(await v.validate(nbf), /not valid yet \(nbf\)/, nbf);
    const iat = await token({ claims: { iat: now() + 120 } });
    expectRefused(await v.validate(iat), /issued in the future \(iat\)/, iat);
  });

  it('refuses a token missing a claim RFC 9068 requires', async () => {
    const v = validator();
    for (const claim of ['exp', 'iat', 'sub', 'client_id']) {
      const jwt = await token({ omit: [claim] });
      expectRefused(await v.validate(jwt), new RegExp(`no "${claim}" claim`), jwt);
    }
    const numeric = await token({ claims: { client_id: 42 } });
    expectRefused(await v.validate(numeric), /"client_id" claim is not a string/, numeric);
  });
});

describe('createJwtValidator: binding to the client', () => {
  it('accepts a client_id equal to the Directory URL of the client certificate, and refuses another', async () => {
    const v = validator();
    const jwt = await token();
    expect((await v.validate(jwt, { clientDirectoryUrl: CLIENT })).ok).toBe(true);
    expectRefused(await v.validate(jwt, { clientDirectoryUrl: `${CLIENT}/` }), /issued to another client: client_id/, jwt);
  });

  it('accepts a cnf x5t#S256 equal to the certificate thumbprint, and refuses another', async () => {
    const v = validator();
    const jwt = await token({ claims: { cnf: { 'x5t#S256': THUMBPRINT } } });
    expect((await v.validate(jwt, { clientCertThumbprintS256: THUMBPRINT })).ok).toBe(true);
    expectRefused(await v.validate(jwt, { clientCertThumbprintS256: `${THUMBPRINT}x` }), /bound to another client certificate/, jwt);
  });

  it('refuses a certificate-bound token when no thumbprint is given', async () => {
    const jwt = await token({ claims: { cnf: { 'x5t#S256': THUMBPRINT } } });
    expectRefused(await validator().validate(jwt, { clientDirectoryUrl: CLIENT }), /bound to a client certificate \(cnf\) but none was presented/, jwt);
  });

  it('leaves client_id and cnf to the caller when no binding is given (the pipeline checks them per request)', async () => {
    const jwt = await token({ claims: { cnf: { 'x5t#S256': THUMBPRINT }, client_id: 'someone-else' } });
    expect(await validator().validate(jwt)).toEqual({ ok: true, claims: expect.objectContaining({ client_id: 'someone-else', cnf: { 'x5t#S256': THUMBPRINT } }) });
    expectRefused(await validator().validate(jwt, { clientDirectoryUrl: CLIENT }), /issued to another client/, jwt);
  });

  it('refuses a token bound by other means (DPoP jkt)', async () => {
    const jwt = await token({ claims: { cnf: { jkt: 'abc' } } });
    expectRefused(await validator().validate(jwt, { clientCertThumbprintS256: THUMBPRINT }), /other means than x5t#S256/, jwt);
  });

  it('accepts an unbound token when a thumbprint is given (IB1 binds by client_id)', async () => {
    expect((await validator().validate(await token(), { clientCertThumbprintS256: THUMBPRINT, clientDirectoryUrl: CLIENT })).ok).toBe(true);
  });
});

describe('createJwtValidator: key rotation and the JWKS endpoint', () => {
  it('fetches the JWKS once for many tokens with known keys', async () => {
    const v = validator();
    const jwt = await token();
    await Promise.all([v.validate(jwt), v.validate(jwt), v.validate(jwt)]);
    await v.validate(await token({ key: ps256 }));
    expect(jwksRequests).toBe(1);
  });

  it('re-fetches on an unknown kid and accepts the key rotated in (cooldown passed)', async () => {
    published = [es256.jwk];
    const v = validator({ refetchCooldownMs: 0 });
    expect((await v.validate(await token())).ok).toBe(true);
    const rotated = await signingKey('es-2', 'ES256');
    published = [es256.jwk, rotated.jwk];
    expect((await v.validate(await token({ key: rotated }))).ok).toBe(true);
    expect(jwksRequests).toBe(2);
  });

  it('accepts a rotated key once the cooldown has passed since the last fetch', async () => {
    published = [es256.jwk];
    const v = validator({ refetchCooldownMs: 100 });
    expect((await v.validate(await token())).ok).toBe(true);
    const rotated = await signingKey('es-3', 'ES256');
    published = [es256.jwk, rotated.jwk];
    // Waiting longer than the cooldown can only make the re-fetch more certain.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await v.validate(await token({ key: rotated }))).ok).toBe(true);
    expect(jwksRequests).toBe(2);
  });

  it('does not hammer the JWKS endpoint for a kid that never appears', async () => {
    const v = validator({ refetchCooldownMs: 60_000 });
    expect((await v.validate(await token())).ok).toBe(true);
    const unknown = await signingKey('never-published', 'ES256');
    const jwt = await token({ key: unknown });
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => v.validate(jwt)));
    const sequential: JwtValidation[] = [];
    for (let i = 0; i < 10; i += 1) sequential.push(await v.validate(jwt));
    for (const result of [...concurrent, ...sequential]) expectRefused(result, /no key in the issuer's JWKS matches/, jwt);
    expect(jwksRequests).toBe(1);
  });

  it('does not see a key rotated in during the cooldown (the price of not hammering)', async () => {
    published = [es256.jwk];
    const v = validator({ refetchCooldownMs: 60_000 });
    expect((await v.validate(await token())).ok).toBe(true);
    const rotated = await signingKey('es-4', 'ES256');
    published = [es256.jwk, rotated.jwk];
    const jwt = await token({ key: rotated });
    expectRefused(await v.validate(jwt), /no key in the issuer's JWKS matches/, jwt);
    expect(jwksRequests).toBe(1);
  });

  it('uses the fetch it is given for the JWKS', async () => {
    const seen: string[] = [];
    const fetchImpl: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    expect((await validator({ fetchImpl }).validate(await token())).ok).toBe(true);
    expect(seen).toEqual([jwksUri]);
  });

  it('rejects with AuthorizationServerUnavailable (not invalid_token) when the JWKS cannot be fetched', async () => {
    published = 'error';
    const failure = await validator().validate(await token()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthorizationServerUnavailable);
    expect((failure as Error).message).toBe(`JWKS ${jwksUri}: Expected 200 OK from the JSON Web Key Set HTTP response`);
    const missing = await validator({ jwksUri: `${jwksUri}/missing` }).validate(await token()).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(AuthorizationServerUnavailable);
  });

  it('gives up on a JWKS endpoint that does not answer within timeoutMs', async () => {
    published = 'hang';
    const failure = await validator({ timeoutMs: 100 }).validate(await token()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AuthorizationServerUnavailable);
    expect((failure as Error).message).toMatch(/timed out/);
  });

  it('re-fetches keys older than cacheMaxAgeMs before using them', async () => {
    const v = validator({ cacheMaxAgeMs: 0 });
    const jwt = await token();
    for (let i = 0; i < 3; i += 1) expect((await v.validate(jwt)).ok).toBe(true);
    expect(jwksRequests).toBe(3);
  });

  it('writes nothing to the console', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => jest.spyOn(console, method).mockImplementation(() => undefined));
    try {
      const v = validator();
      await v.validate(await token());
      await v.validate(await token({ claims: { exp: now() - 3600 } }));
      await v.validate('junk');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
  });
});
