/**
 * The JWT mode of the token check against a real HTTPS issuer (RFC 8414 metadata + JWKS,
 * counting its requests) and tokens signed by jose with keys made at run time.
 */
import { AuthorizationServerUnavailable } from '../introspection';
import { CachingIntrospector } from '../token-cache';
import { accessTokenClaims, signingKey, startTestIssuer, type SigningKey, type TestIssuer } from '../../testing/provider-app-ib1-material';
import { JwtIntrospector, type JwtIntrospectorOptions } from './jwt-introspector';

const CLIENT = 'https://directory.core.trust.ib1.org/application/reporter';
let as: TestIssuer;
let first: SigningKey;
let rotated: SigningKey;
let ps256: SigningKey;
let rs256: SigningKey;

beforeAll(async () => {
  [first, rotated, ps256, rs256] = await Promise.all([signingKey('k-1'), signingKey('k-2'), signingKey('ps-1', 'PS256'), signingKey('rs-1', 'RS256')]);
  as = await startTestIssuer([first, ps256, rs256]);
});
afterAll(() => as.close());
beforeEach(() => {
  // RS256's key is published: a token it signs is refused for its algorithm alone.
  as.published = [first.jwk, ps256.jwk, rs256.jwk];
  as.metadataDown = false;
  as.requests.metadata = 0;
  as.requests.jwks = 0;
});

const introspector = (over: Partial<JwtIntrospectorOptions> = {}) =>
  new JwtIntrospector({
    issuer: as.issuer,
    algorithms: ['ES256', 'PS256'],
    clockSkewSeconds: 5,
    timeoutMs: 3000,
    refetchCooldownMs: 30_000,
    fetchImpl: as.fetchImpl,
    ...over,
  });
const sign = (extra: Record<string, unknown> = {}, key = first, header: Record<string, unknown> = {}) => as.sign(accessTokenClaims(as.issuer, CLIENT, 'licence-a', extra), key, header);

describe('JwtIntrospector', () => {
  it('finds the keys by RFC 8414 metadata over HTTPS and answers a valid token as an active result', async () => {
    const result = await introspector().introspect(await sign({ cnf: { 'x5t#S256': 'abc' } }));
    expect(result).toMatchObject({
      active: true,
      token_type: 'bearer',
      client_id: CLIENT,
      scope: 'licence-a',
      cnf: { 'x5t#S256': 'abc' },
    });
    expect(typeof result.exp).toBe('number');
    expect(as.requests).toEqual({ metadata: 1, jwks: 1 });
  });

  it.each([
    ['a bad signature', async () => (await sign()).replace(/.{4}$/, 'AAAA'), /signature does not verify/],
    ['an expired token', () => sign({ exp: Math.floor(Date.now() / 1000) - 60 }), /expired \(exp\)/],
    ['another issuer', () => as.sign(accessTokenClaims('https://evil.example/as', CLIENT, 'x'), first), /configured issuer \(iss\)/],
    ['an algorithm not allowed (RS256)', () => sign({}, rs256), /algorithm that is not allowed/],
  ])('refuses %s, saying why (localRefusal), never quoting the token', async (_what, make, why) => {
    const jwt = await make();
    const result = await introspector().introspect(jwt);
    expect(result.active).toBe(false);
    expect(result.localRefusal).toMatch(why);
    expect(JSON.stringify(result)).not.toContain(jwt.split('.')[1]);
  });

  it('checks aud only when an audience is configured', async () => {
    const jwt = await sign({ aud: 'https://other.example' });
    expect((await introspector().introspect(jwt)).active).toBe(true);
    expect((await introspector({ audience: 'https://provider.example' }).introspect(jwt)).localRefusal).toMatch(/not meant for this resource server \(aud\)/);
    expect((await introspector({ audience: 'https://provider.example' }).introspect(await sign({ aud: 'https://provider.example' }))).active).toBe(true);
  });

  it('refuses a token naming an unknown key until the JWKS has it, then accepts it after one bounded re-fetch', async () => {
    const cooldownMs = 400;
    const checker = introspector({ refetchCooldownMs: cooldownMs });
    expect((await checker.introspect(await sign())).active).toBe(true);
    const newKid = await sign({}, rotated);
    // The key is not published yet: refused as unknown, with at most one re-fetch per cooldown however often it is tried.
    await new Promise((resolve) => setTimeout(resolve, cooldownMs + 50));
    for (let i = 0; i < 20; i += 1) expect((await checker.introspect(newKid)).localRefusal).toMatch(/no key in the issuer's JWKS matches/);
    expect(as.requests.jwks).toBe(2);
    // The issuer rotates the key in; within the cooldown it is still unknown here, and nothing is fetched.
    as.published = [first.jwk, ps256.jwk, rs256.jwk, rotated.jwk];
    for (let i = 0; i < 20; i += 1) expect((await checker.introspect(newKid)).active).toBe(false);
    expect(as.requests.jwks).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, cooldownMs + 50));
    expect((await checker.introspect(newKid)).active).toBe(true);
    expect(as.requests.jwks).toBe(3);
    expect(as.requests.metadata).toBe(1);
  });

  it('is unavailable (not a refusal) while the metadata or the JWKS cannot be had, and recovers', async () => {
    as.metadataDown = true;
    const checker = introspector();
    const jwt = await sign();
    await expect(checker.introspect(jwt)).rejects.toBeInstanceOf(AuthorizationServerUnavailable);
    as.metadataDown = false;
    as.published = 'error';
    await expect(checker.introspect(jwt)).rejects.toBeInstanceOf(AuthorizationServerUnavailable);
    as.published = [first.jwk];
    expect((await checker.introspect(jwt)).active).toBe(true);
  });

  it('behind the token cache: a valid token is cached for the cache-only mode (peek), a refusal is not', async () => {
    const cache = new CachingIntrospector(introspector({ refetchCooldownMs: 200 }), { ttlSeconds: 60, maxEntries: 10, cacheInactive: false });
    const jwt = await sign();
    expect(cache.peek(jwt)).toBeUndefined();
    await cache.introspect(jwt);
    expect(cache.peek(jwt)?.active).toBe(true);
    const unknown = await sign({}, rotated);
    expect((await cache.introspect(unknown)).active).toBe(false);
    expect(cache.peek(unknown)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('never caches a token past its exp', async () => {
    const cache = new CachingIntrospector(introspector(), {
      ttlSeconds: 3600,
      maxEntries: 10,
      cacheInactive: false,
      now: () => Date.now() + 301_000,
    });
    const jwt = await sign();
    // Checked now (valid), but the cache's clock is past the token's exp: nothing to keep.
    await cache.introspect(jwt);
    expect(cache.size).toBe(0);
  });
});
