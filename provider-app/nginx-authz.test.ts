import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { issueClientCert } from '../testing/pki';
import { createRequestHandler, type AppDeps } from './app';
import { accelModeDeps, escapedCert, FakeIntrospector, makeCerts, makeDataDir, memoryLogger } from '../testing/provider-app-fixtures';
import { authorizationDigest, NGINX_AUTHZ_PATH, reuseSeconds } from './nginx-authz';
import { CachingIntrospector } from './token-cache';

const { alice, bob, ca } = makeCerts();

// nginx asks GET /.provider/authz with the consumer's path in X-Original-URI. The app
// answers 204 only from warm caches and for a fully authorised read; anything else is 403,
// which nginx turns into passing the consumer's request to the app's full path.
describe('nginx authorization subrequest (/.provider/authz)', () => {
  let data: ReturnType<typeof makeDataDir>;
  let fake: FakeIntrospector;
  let clock: number;
  let lines: string[];
  let handler: ReturnType<typeof createRequestHandler>;

  const build = (over: Partial<AppDeps> = {}) => {
    const log = memoryLogger();
    lines = log.lines;
    handler = createRequestHandler(
      accelModeDeps({
        logger: log.logger,
        introspector: new CachingIntrospector(fake, { ttlSeconds: 60, maxEntries: 100 }),
        dataDir: data.dir,
        authzCacheSeconds: 1,
        now: () => clock,
        ...over,
      }),
    );
  };
  /** The consumer's own request, which nginx passes to the app on a 403 (it warms the caches). */
  const read = (path: string, token: string, cert = escapedCert(alice)) =>
    request(handler).get(path).set('x-oe-client-cert', cert).set('Authorization', `Bearer ${token}`);
  /** nginx's subrequest for that request. */
  const authz = (path: string, token: string, cert = escapedCert(alice)) =>
    request(handler).get(NGINX_AUTHZ_PATH).set('X-Original-URI', path).set('x-oe-client-cert', cert).set('Authorization', `Bearer ${token}`);
  const access = () => lines.map((line) => JSON.parse(line)).filter((line) => line.access);

  beforeEach(() => {
    data = makeDataDir({ meters: 'id,kwh\n1,2.5\n', tariffs: 'id,price\n1,0.3\n' });
    fake = new FakeIntrospector();
    clock = Date.now();
    build();
  });
  afterEach(() => data.cleanup());

  it('allows a warm, authorised read: 204 with the file, the client id, the token digest and the reuse time', async () => {
    const token = fake.bound('tok', alice);
    expect((await read('/meters', token)).status).toBe(200);
    const res = await authz('/meters.csv', token);
    expect(res.status).toBe(204);
    expect(res.headers['x-provider-dataset-file']).toBe('meters.csv');
    expect(res.headers['x-provider-client-id']).toBe('alice');
    expect(res.headers['x-provider-token-digest']).toBe(createHash('md5').update(`Bearer ${token}`).digest('base64url'));
    expect(res.headers['x-accel-expires']).toBe('1');
    expect(res.text ?? '').toBe('');
    const line = access().pop();
    expect(line).toMatchObject({ path: '/meters.csv', status: 204, via: 'nginx auth_request', reuseSeconds: 1, dataset: 'meters', clientId: 'alice', certSubject: 'CN=alice,O=Consumers' });
    expect(JSON.stringify(line)).not.toContain(token);
  });

  it('never calls the authorization server: a cold cache is "ask the app" (403), and the full path then warms it', async () => {
    const token = fake.bound('tok', alice);
    const cold = await authz('/meters', token);
    expect(cold.status).toBe(403);
    expect(cold.headers['x-accel-expires']).toBe('0');
    expect(cold.headers['x-provider-dataset-file']).toBeUndefined();
    expect(fake.calls).toBe(0);
    expect(access()).toEqual([]); // the consumer's request, passed on by nginx, writes the line
    await read('/meters', token);
    expect(fake.calls).toBe(1);
    expect((await authz('/meters', token)).status).toBe(204);
    expect(fake.calls).toBe(1);
  });

  it('after warming, answers 403 to every read the full path would not allow', async () => {
    const token = fake.bound('tok', alice);
    await read('/meters', token);
    // Each twice: the first refusal may warm a cache (an introspection result is cached
    // whatever it says), so the second is the one a wrong 204 would show up in.
    const refused = async (send: () => request.Test) => {
      for (let i = 0; i < 2; i += 1) {
        const res = await send();
        expect([i, res.status, res.headers['x-provider-dataset-file']]).toEqual([i, 403, undefined]);
        expect(res.headers['x-accel-expires']).toBe('0');
      }
    };
    await refused(() => authz('/meters', token, escapedCert(bob))); // bound to alice's certificate
    await refused(() => authz('/meters', fake.bound('narrow', alice, 'profile'))); // scope
    await refused(() => authz('/meters', 'unknown'));
    await refused(() => authz('/meters?access_token=tok', token));
    await refused(() => authz('/absent', token));
    await refused(() => authz('/..%2Fetc%2Fpasswd', token));
    await refused(() => authz('/a/meters', token));
    await refused(() => authz('/ping', token));
    await refused(() => authz('/DATASETS', token));
    await refused(() => request(handler).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/meters').set('x-oe-client-cert', escapedCert(alice)));
    await refused(() => request(handler).get(NGINX_AUTHZ_PATH).set('X-Original-URI', '/meters').set('Authorization', `Bearer ${token}`));
    await refused(() => request(handler).get(NGINX_AUTHZ_PATH).set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`));
    await refused(() => request(handler).post(NGINX_AUTHZ_PATH).set('X-Original-URI', '/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`));
    await refused(() => authz('/meters', token).set('Authorization', `Basic ${token}`));
    const revoked = fake.bound('revoked', alice);
    fake.tokens.set('revoked', { active: false });
    await refused(() => authz('/meters', revoked));
    writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { tariffs: { scopes: ['datasets:read'], clientIds: ['someone-else'] } } }));
    build(); // a fresh manifest check
    await read('/tariffs', token);
    await refused(() => authz('/tariffs', token));
    expect(access().filter((line) => line.via)).toEqual([]);
  });

  it('refuses a certificate or token that expired since the caches were warmed', async () => {
    const notAfter = new Date(clock + 60_000);
    const brief = issueClientCert(ca, { subject: { commonName: 'brief' }, notAfter });
    const token = fake.bound('brief', brief);
    await read('/meters', token, escapedCert(brief));
    expect((await authz('/meters', token, escapedCert(brief))).status).toBe(204);
    clock = notAfter.getTime() + 1000;
    expect((await authz('/meters', token, escapedCert(brief))).status).toBe(403);
    clock = Date.now() + 3600_000 + 10_000;
    const other = fake.bound('tok', alice);
    expect((await authz('/meters', other)).status).toBe(403);
  });

  it('is always "ask the app" when the app streams files itself (no X-Accel-Redirect)', async () => {
    build({ accelRedirectPrefix: undefined });
    const token = fake.bound('tok', alice);
    expect((await read('/meters', token)).text).toBe('id,kwh\n1,2.5\n');
    expect((await authz('/meters', token)).status).toBe(403);
  });

  it('lets nginx reuse nothing with authzCacheSeconds 0, yet still answers from the caches', async () => {
    build({ authzCacheSeconds: 0 });
    const token = fake.bound('tok', alice);
    await read('/meters', token);
    const res = await authz('/meters', token);
    expect([res.status, res.headers['x-accel-expires']]).toEqual([204, '0']);
  });

  it('leaves every other request to the fast path and Express', async () => {
    const token = fake.bound('tok', alice);
    await read('/meters', token);
    expect((await read(`${NGINX_AUTHZ_PATH}?x=1`, token)).status).toBe(404);
    expect((await read('/meters', token)).headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
  });
});

describe('reuseSeconds', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0, 400);
  const allowed = (tokenLeftSeconds: number, certificateLeftMs: number) => ({
    name: 'meters',
    path: '/meters',
    auth: { clientId: 'alice', certSubject: 'CN=alice', scopes: new Set<string>() },
    tokenExpiresAt: Math.floor(now / 1000) + tokenLeftSeconds,
    certificateExpiresAt: now + certificateLeftMs,
  });

  it('is the configured time while the token and the certificate have longer to live', () => {
    expect(reuseSeconds(allowed(3600, 86_400_000), 1, now)).toBe(1);
    expect(reuseSeconds(allowed(3600, 86_400_000), 5, now)).toBe(5);
    expect(reuseSeconds(allowed(3600, 86_400_000), 0, now)).toBe(0);
  });

  it('never reaches the second the token or the certificate expires', () => {
    expect(reuseSeconds(allowed(4, 86_400_000), 5, now)).toBe(2);
    expect(reuseSeconds(allowed(2, 86_400_000), 1, now)).toBe(0);
    expect(reuseSeconds(allowed(3600, 2_500), 5, now)).toBe(1);
    expect(reuseSeconds(allowed(3600, 1_900), 5, now)).toBe(0);
    expect(reuseSeconds(allowed(-10, 86_400_000), 1, now)).toBe(0);
  });
});

describe('authorizationDigest', () => {
  it("is base64url(MD5) of the header's bytes, as nginx's secure_link_md5 $http_authorization", () => {
    expect(authorizationDigest('Bearer abc')).toBe(createHash('md5').update('Bearer abc').digest('base64url'));
    expect(authorizationDigest('Bearer abc')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(authorizationDigest('Bearer abd')).not.toBe(authorizationDigest('Bearer abc'));
  });
});
