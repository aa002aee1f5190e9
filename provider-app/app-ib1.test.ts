/**
 * The ib1 profile end to end through the app's request handler (Express, nginx's
 * authorization subrequest, the fast path): IB1 client certificates (ECDSA, SAN URI,
 * ib1Roles, ib1Member) from testing/pki/ib1.ts, and both token modes — JWTs signed at run
 * time and checked against a real HTTPS issuer, and introspection.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createRequestHandler, type AppDeps } from './app';
import { DatasetCache } from './dataset-cache';
import { accelModeDeps, FakeIntrospector, makeCerts, makeDataDir, memoryLogger } from '../testing/provider-app-fixtures';
import { thumbprintS256 } from '../testing/pki';
import { Heartbeat } from './heartbeat/heartbeat';
import { NGINX_AUTHZ_PATH } from './nginx-authz';
import { CachingIntrospector } from './token-cache';
import { JwtIntrospector } from './tokens/jwt-introspector';
import { accessTokenClaims, ib1Clients, LICENCE, MEMBER, ROLE_REPORTER, signingKey, startTestIssuer, type Ib1Clients, type SigningKey, type TestIssuer } from '../testing/provider-app-ib1-material';

const OTHER_LICENCE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/other/1.0';
const MANIFEST = {
  datasets: {
    voltages: { access: 'shared', roles: [ROLE_REPORTER], licence: LICENCE },
    'open-map': { access: 'open', licence: LICENCE },
    tariffs: { access: 'shared' },
    secret: {
      roles: ['https://registry.core.trust.ib1.org/scheme/electricity/role/nobody'],
      licence: LICENCE,
    },
  },
};

let clients: Ib1Clients;
let as: TestIssuer;
let key: SigningKey;
let data: ReturnType<typeof makeDataDir>;
let lines: string[];

beforeAll(async () => {
  [clients, key] = await Promise.all([ib1Clients(), signingKey('k-1')]);
  as = await startTestIssuer([key]);
});
afterAll(() => as.close());
beforeEach(() => {
  data = makeDataDir({
    voltages: 'v\n230\n',
    'open-map': 'id\n1\n',
    tariffs: 't\n1\n',
    secret: 's\n1\n',
  });
  writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify(MANIFEST));
});
afterEach(() => data.cleanup());

function handler(over: Partial<AppDeps> = {}) {
  const log = memoryLogger();
  lines = log.lines;
  const introspector = new CachingIntrospector(
    new JwtIntrospector({
      issuer: as.issuer,
      algorithms: ['ES256'],
      clockSkewSeconds: 5,
      timeoutMs: 3000,
      refetchCooldownMs: 30_000,
      fetchImpl: as.fetchImpl,
    }),
    { ttlSeconds: 60, maxEntries: 100, cacheInactive: false }
  );
  // scope: the default licence of a shared dataset naming none (tariffs).
  return createRequestHandler(
    accelModeDeps({
      logger: log.logger,
      introspector,
      dataDir: data.dir,
      profile: 'ib1',
      scope: OTHER_LICENCE,
      authzCacheSeconds: 1,
      ...over,
    })
  );
}
const cert = (c: { certPem: string }) => encodeURIComponent(c.certPem);
const jwtFor = (clientId: string, scope: string, extra: Record<string, unknown> = {}) => as.sign(accessTokenClaims(as.issuer, clientId, scope, extra), key);
const access = () => lines.map((line) => JSON.parse(line)).filter((line) => line.access);

describe('ib1 profile: shared datasets', () => {
  it('serves a role-gated dataset to a client with the role, the licence and its own Directory URL as client_id', async () => {
    const app = handler();
    const token = await jwtFor(clients.reporter.directoryUrl, LICENCE);
    const res = await request(app).get('/voltages').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.headers['x-accel-redirect']).toBe('/_datasets/voltages.csv');
    // The access line names the roles and the member, never the token.
    const line = access().at(-1);
    expect(line).toMatchObject({
      status: 200,
      clientId: clients.reporter.directoryUrl,
      roles: [ROLE_REPORTER],
      member: MEMBER,
      dataset: 'voltages',
    });
    expect(lines.join('\n')).not.toContain(token);
  });

  it("refuses a token issued to another client than the certificate's Directory URL (401)", async () => {
    const token = await jwtFor(clients.outsider.directoryUrl, LICENCE);
    const res = await request(handler()).get('/voltages').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: "the token was issued to a different client than the certificate's Directory URL",
    });
  });

  it('checks cnf x5t#S256 when the token has one, and accepts a token without cnf (bound by client_id)', async () => {
    const app = handler();
    const get = async (extra: Record<string, unknown>) =>
      request(app)
        .get('/voltages')
        .set('x-oe-client-cert', cert(clients.reporter))
        .set('Authorization', `Bearer ${await jwtFor(clients.reporter.directoryUrl, LICENCE, extra)}`);
    expect(
      (
        await get({
          cnf: { 'x5t#S256': thumbprintS256(clients.reporter.certPem) },
        })
      ).status
    ).toBe(200);
    const other = await get({
      cnf: { 'x5t#S256': thumbprintS256(clients.outsider.certPem) },
    });
    expect([other.status, other.body.error_description]).toEqual([401, 'the access token is bound to a different client certificate']);
    expect((await get({})).status).toBe(200);
  });

  it('refuses a client without the role (403 naming it) and a token without the licence (403 naming it)', async () => {
    const app = handler();
    const noRole = await request(app)
      .get('/voltages')
      .set('x-oe-client-cert', cert(clients.outsider))
      .set('Authorization', `Bearer ${await jwtFor(clients.outsider.directoryUrl, LICENCE)}`);
    expect(noRole.status).toBe(403);
    expect(noRole.body.error).toBe('insufficient_scope');
    expect(noRole.body.error_description).toContain(ROLE_REPORTER);
    const noLicence = await request(app)
      .get('/voltages')
      .set('x-oe-client-cert', cert(clients.reporter))
      .set('Authorization', `Bearer ${await jwtFor(clients.reporter.directoryUrl, OTHER_LICENCE)}`);
    expect(noLicence.status).toBe(403);
    expect(noLicence.body.error_description).toContain(`does not carry the licence ${LICENCE}`);
  });

  it('requires the default licence (config scope) of a shared dataset whose entry names none', async () => {
    const app = handler();
    const get = async (scope: string) =>
      request(app)
        .get('/tariffs')
        .set('x-oe-client-cert', cert(clients.outsider))
        .set('Authorization', `Bearer ${await jwtFor(clients.outsider.directoryUrl, scope)}`);
    expect((await get(OTHER_LICENCE)).status).toBe(200);
    const refused = await get(LICENCE);
    expect([refused.status, refused.body.error_description]).toEqual([403, expect.stringContaining(OTHER_LICENCE)]);
  });

  it('refuses a shared dataset without a certificate (401) and without a token (401)', async () => {
    const app = handler();
    const none = await request(app).get('/voltages');
    expect([none.status, none.body.error_description]).toEqual([401, 'a client certificate is required (mutual TLS)']);
    const noToken = await request(app).get('/voltages').set('x-oe-client-cert', cert(clients.reporter));
    expect(noToken.status).toBe(401);
    expect(noToken.headers['www-authenticate']).toBe('Bearer realm="provider"');
  });

  it('refuses an RSA client certificate, naming the key IB1 requires', async () => {
    const token = await jwtFor(clients.rsa.directoryUrl, LICENCE);
    const res = await request(handler()).get('/voltages').set('x-oe-client-cert', cert(clients.rsa)).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(400);
    expect(res.body.error_description).toMatch(/^ib1 requires an ECDSA P-256 or P-384 client certificate; this one has a key of type RSA$/);
  });

  it('refuses an open-energy (RSA, no SAN URI) certificate as not an IB1 member certificate', async () => {
    const { alice } = makeCerts();
    const res = await request(handler()).get('/voltages').set('x-oe-client-cert', cert(alice)).set('Authorization', 'Bearer abc');
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/not an IB1 member certificate: .*subjectAltName URI/);
  });

  it.each([
    ['with a bad signature', async () => (await jwtFor(clients.reporter.directoryUrl, LICENCE)).replace(/.{4}$/, 'AAAA'), /signature does not verify/],
    [
      'that has expired',
      () =>
        jwtFor(clients.reporter.directoryUrl, LICENCE, {
          exp: Math.floor(Date.now() / 1000) - 60,
        }),
      /expired/,
    ],
    ['from another issuer', () => as.sign(accessTokenClaims('https://evil.example/as', clients.reporter.directoryUrl, LICENCE), key), /issuer/],
  ])('answers a JWT %s with 401 invalid_token saying why (RFC 6750)', async (_what, make, why) => {
    const res = await request(handler())
      .get('/voltages')
      .set('x-oe-client-cert', cert(clients.reporter))
      .set('Authorization', `Bearer ${await make()}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.body.error_description).toMatch(why);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="provider", error="invalid_token", error_description=/);
  });

  it('answers 503 with Retry-After while the JWKS cannot be fetched', async () => {
    as.published = 'error';
    try {
      const token = await jwtFor(clients.reporter.directoryUrl, LICENCE);
      const res = await request(handler()).get('/voltages').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.error, res.headers['retry-after']]).toEqual([503, 'temporarily_unavailable', '7']);
    } finally {
      as.published = [key.jwk];
    }
  });
});

describe('ib1 profile: open datasets', () => {
  it('serves an open dataset to anyone: no certificate, no token, or a bad token (not looked at)', async () => {
    const app = handler();
    for (const res of [
      await request(app).get('/open-map'),
      await request(app).get('/open-map.csv').set('Authorization', 'Bearer not-a-jwt'),
      await request(app).get('/open-map').set('x-oe-client-cert', cert(clients.rsa)),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers['x-accel-redirect']).toBe('/_datasets/open-map.csv');
    }
  });

  it('answers a warm anonymous open read on the fast path (no Express, no disk), as Express did', async () => {
    const app = handler();
    const resolve = jest.spyOn(DatasetCache.prototype, 'resolve');
    try {
      const viaExpress = await request(app).get('/open-map');
      expect(resolve).toHaveBeenCalledTimes(1);
      const viaFastPath = await request(app).get('/open-map');
      // The fast path only peeks at the caches.
      expect(resolve).toHaveBeenCalledTimes(1);
      for (const res of [viaExpress, viaFastPath]) expect([res.status, res.headers['x-accel-redirect'], res.headers['cache-control']]).toEqual([200, '/_datasets/open-map.csv', 'private, no-cache']);
      expect(access().map((l) => [l.status, l.dataset, l.clientId, l.certSubject])).toEqual([
        [200, 'open-map', undefined, undefined],
        [200, 'open-map', undefined, undefined],
      ]);
    } finally {
      resolve.mockRestore();
    }
  });

  it('streams an open dataset when the app sends files itself', async () => {
    const res = await request(handler({ accelRedirectPrefix: undefined })).get('/open-map');
    expect([res.status, res.text]).toEqual([200, 'id\n1\n']);
  });

  it("answers nginx's subrequest for an open dataset with 204 for an anonymous request, with the digest of whatever Authorization it carried", async () => {
    const app = handler();
    // Cold caches: the first subrequest says "ask the app"; the app's read warms them.
    const authz = (authorization?: string) => {
      const r = request(app).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/open-map');
      return authorization === undefined ? r : r.set('Authorization', authorization);
    };
    expect((await authz()).status).toBe(403);
    expect((await request(app).get('/open-map')).status).toBe(200);
    const anonymous = await authz();
    expect(anonymous.status).toBe(204);
    expect(anonymous.headers['x-provider-dataset-file']).toBe('open-map.csv');
    expect(anonymous.headers['x-provider-client-id']).toBe('');
    // nginx's secure_link_md5 $http_authorization: an absent header is the empty string.
    expect(anonymous.headers['x-provider-token-digest']).toBe(createHash('md5').update('').digest('base64url'));
    expect(anonymous.headers['x-accel-expires']).toBe('1');
    const withJunk = await authz('Bearer junk');
    expect([withJunk.status, withJunk.headers['x-provider-token-digest']]).toEqual([204, createHash('md5').update('Bearer junk').digest('base64url')]);
    // A shared dataset stays closed to the same anonymous subrequest.
    expect((await request(app).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/voltages')).status).toBe(403);
  });

  it('answers a warm shared read from the caches (fast path and subrequest) for a JWT, and never a different client', async () => {
    const app = handler();
    const token = await jwtFor(clients.reporter.directoryUrl, LICENCE);
    const read = () => request(app).get('/voltages').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', `Bearer ${token}`);
    expect((await read()).status).toBe(200);
    const jwksFetches = as.requests.jwks;
    const before = access().length;
    expect((await read()).status).toBe(200);
    const sub = await request(app).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/voltages').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', `Bearer ${token}`);
    expect([sub.status, sub.headers['x-provider-client-id']]).toEqual([204, clients.reporter.directoryUrl]);
    expect(as.requests.jwks).toBe(jwksFetches);
    expect(
      access()
        .slice(before)
        .map((l) => l.status)
    ).toEqual([200, 204]);
    // The same token with another member's certificate: never from the cache.
    const stolen = await request(app).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/voltages').set('x-oe-client-cert', cert(clients.outsider)).set('Authorization', `Bearer ${token}`);
    expect(stolen.status).toBe(403);
  });
});

describe('ib1 profile: /datasets lists what the caller may read', () => {
  it('anonymous: the open ones; a member: open and shared ones it holds the role and licence for', async () => {
    const app = handler();
    const names = (res: request.Response) => (res.body.datasets as { name: string }[]).map((d) => d.name);
    const anonymous = await request(app).get('/datasets');
    expect([anonymous.status, names(anonymous)]).toEqual([200, ['open-map']]);
    const reporter = await request(app)
      .get('/datasets')
      .set('x-oe-client-cert', cert(clients.reporter))
      .set('Authorization', `Bearer ${await jwtFor(clients.reporter.directoryUrl, `${LICENCE} ${OTHER_LICENCE}`)}`);
    expect(names(reporter)).toEqual(['open-map', 'tariffs', 'voltages']);
    const outsider = await request(app)
      .get('/datasets')
      .set('x-oe-client-cert', cert(clients.outsider))
      .set('Authorization', `Bearer ${await jwtFor(clients.outsider.directoryUrl, LICENCE)}`);
    expect(names(outsider)).toEqual(['open-map']);
    // A token that fails is refused, not quietly treated as anonymous.
    const bad = await request(app).get('/datasets').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', 'Bearer nope');
    expect(bad.status).toBe(401);
  });
});

describe('ib1 profile with introspection', () => {
  it('binds an introspected token to the Directory URL as well', async () => {
    const fake = new FakeIntrospector();
    const now = Math.floor(Date.now() / 1000);
    fake.tokens.set('good', {
      active: true,
      client_id: clients.reporter.directoryUrl,
      scope: LICENCE,
      iat: now,
      exp: now + 600,
    });
    fake.tokens.set('other', {
      active: true,
      client_id: clients.outsider.directoryUrl,
      scope: LICENCE,
      iat: now,
      exp: now + 600,
    });
    const app = handler({
      introspector: new CachingIntrospector(fake, {
        ttlSeconds: 60,
        maxEntries: 10,
      }),
    });
    const get = (token: string) => request(app).get('/voltages').set('x-oe-client-cert', cert(clients.reporter)).set('Authorization', `Bearer ${token}`);
    expect((await get('good')).status).toBe(200);
    expect((await get('other')).status).toBe(401);
    const inactive = await get('unknown');
    expect([inactive.status, inactive.body.error_description]).toEqual([401, 'the access token is not active']);
  });
});

describe('ib1 profile: the heartbeat', () => {
  it("is protected like shared data, answers the counts of nginx's log across two app instances, and is never shadowed by a dataset", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'provider-state-'));
    try {
      const accessLogFile = join(stateDir, 'access.json.log');
      const logLine = (status: number, path: string) =>
        `${JSON.stringify({
          time: new Date().toISOString(),
          request: `GET ${path} HTTP/1.1`,
          status,
          authz_cache: '',
        })}\n`;
      // A dataset named like the heartbeat: the route still wins, in the full and in the cache-only mode.
      writeFileSync(join(data.dir, 'heartbeat.csv'), 'not,the,heartbeat\n');
      const make = () => {
        const heartbeat = new Heartbeat({
          accessLogFile,
          stateDir,
          path: '/heartbeat',
          logger: { warn: () => undefined, info: () => undefined },
        });
        return {
          heartbeat,
          app: handler({ heartbeat, heartbeatPath: '/heartbeat' }),
        };
      };
      const one = make();
      const two = make();
      await one.heartbeat.initialize();
      await two.heartbeat.initialize();
      const token = await jwtFor(clients.outsider.directoryUrl, 'any-licence');
      const beat = (app: ReturnType<typeof handler>) => request(app).get('/heartbeat').set('x-oe-client-cert', cert(clients.outsider)).set('Authorization', `Bearer ${token}`);

      expect((await request(one.app).get('/heartbeat')).status).toBe(401);
      appendFileSync(accessLogFile, logLine(401, '/heartbeat') + logLine(200, '/open-map') + logLine(200, '/voltages') + logLine(429, '/voltages'));
      const first = await beat(one.app);
      expect(first.status).toBe(200);
      expect(first.headers['content-type']).toMatch(/^application\/json/);
      expect(first.body).toEqual({
        period_start: expect.stringMatching(/Z$/),
        period_end: expect.stringMatching(/Z$/),
        api_call_response_200_count: 2,
        api_call_response_429_count: 1,
      });
      appendFileSync(accessLogFile, logLine(200, '/heartbeat') + logLine(403, '/secret'));
      const second = await beat(two.app);
      expect(second.body).toEqual({
        period_start: first.body.period_end,
        period_end: expect.any(String),
        api_call_response_403_count: 1,
      });
      // nginx's subrequest for /heartbeat is "ask the app", so nginx hands the call to the route.
      expect((await request(one.app).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/heartbeat').set('x-oe-client-cert', cert(clients.outsider)).set('Authorization', `Bearer ${token}`)).status).toBe(
        403
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
