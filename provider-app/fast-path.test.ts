import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { issueClientCert } from '../testing/pki';
import { createRequestHandler, type AppDeps } from './app';
import { DatasetCache } from './dataset-cache';
import { accelModeDeps, escapedCert, FakeIntrospector, makeCerts, makeDataDir, memoryLogger } from '../testing/provider-app-fixtures';
import { CachingIntrospector } from './token-cache';

const { alice, bob, ca } = makeCerts();

// The fast path answers only when the token, the policy and the dataset are all cached;
// these tests warm every cache with one request, then check that each later request —
// answered by the fast path or handed to Express — gets exactly what Express alone gives.
describe('fast path (authorised, cached X-Accel-Redirect requests without Express)', () => {
  let data: ReturnType<typeof makeDataDir>;
  let fake: FakeIntrospector;
  let clock: number;
  let lines: string[];
  let handler: ReturnType<typeof createRequestHandler>;
  const resolveSpy = jest.spyOn(DatasetCache.prototype, 'resolve');

  const build = (over: Partial<AppDeps> = {}) => {
    const log = memoryLogger();
    lines = log.lines;
    handler = createRequestHandler(
      accelModeDeps({ logger: log.logger, introspector: new CachingIntrospector(fake, { ttlSeconds: 60, maxEntries: 100 }), dataDir: data.dir, now: () => clock, ...over }),
    );
  };
  const get = (path: string, token: string, cert = escapedCert(alice)) =>
    request(handler).get(path).set('x-oe-client-cert', cert).set('Authorization', `Bearer ${token}`);

  beforeEach(() => {
    data = makeDataDir({ meters: 'id,kwh\n1,2.5\n', tariffs: 'id,price\n1,0.3\n' });
    fake = new FakeIntrospector();
    clock = Date.now();
    resolveSpy.mockClear();
    build();
  });
  afterEach(() => data.cleanup());
  afterAll(() => resolveSpy.mockRestore());

  it('answers a warm request without Express, with the same status, headers and access line', async () => {
    const token = fake.bound('tok', alice);
    const viaExpress = await get('/meters', token);
    expect(resolveSpy).toHaveBeenCalledTimes(1);
    const viaFastPath = await get('/meters', token);
    expect(resolveSpy).toHaveBeenCalledTimes(1); // the fast path only peeks at the cache
    expect(viaFastPath.status).toBe(200);
    expect(viaFastPath.text ?? '').toBe('');
    const headers = (res: request.Response) => Object.keys(res.headers).filter((h) => h !== 'x-fapi-interaction-id' && h !== 'date').sort().map((h) => `${h}: ${res.headers[h]}`);
    expect(headers(viaFastPath)).toEqual(headers(viaExpress));
    expect(viaFastPath.headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
    expect(viaFastPath.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(viaFastPath.headers.date).toBeDefined();
    const access = lines.map((l) => JSON.parse(l)).filter((l) => l.access);
    expect(access).toHaveLength(2);
    const shape = ({ time: _t, durationMs: _d, interactionId: _i, ...rest }: Record<string, unknown>) => rest;
    expect(shape(access[1])).toEqual(shape(access[0]));
    expect(access[1]).toMatchObject({ status: 200, path: '/meters', dataset: 'meters', clientId: 'alice', certSubject: 'CN=alice,O=Consumers' });
  });

  it("echoes the caller's safe interaction id and replaces an unsafe one", async () => {
    const token = fake.bound('tok', alice);
    await get('/meters', token);
    expect((await get('/meters', token).set('x-fapi-interaction-id', 'abc-123')).headers['x-fapi-interaction-id']).toBe('abc-123');
    expect((await get('/meters', token).set('x-fapi-interaction-id', 'bad id!')).headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('after warming, still refuses every request that is not fully authorised, exactly as Express does', async () => {
    const token = fake.bound('tok', alice);
    expect((await get('/meters', token)).status).toBe(200);
    // Each refusal twice: the first may warm a cache (an introspection result is cached
    // whatever it says), so the second is the one the fast path could wrongly accept.
    const twice = async (send: () => request.Test, status: number) => {
      for (let i = 0; i < 2; i += 1) {
        const res = await send();
        expect([i, res.status]).toEqual([i, status]);
        expect(res.headers['x-accel-redirect']).toBeUndefined();
      }
    };
    // The token is bound to alice's certificate: bob presenting it is refused.
    await twice(() => get('/meters', token, escapedCert(bob)), 401);
    await twice(() => get('/meters', fake.bound('narrow', alice, 'profile')), 403);
    await twice(() => get('/meters', 'unknown'), 401);
    await twice(() => get('/meters?access_token=tok', token), 400);
    await twice(() => request(handler).get('/meters').set('x-oe-client-cert', escapedCert(alice)), 401);
    await twice(() => request(handler).get('/meters').set('Authorization', `Bearer ${token}`), 401);
    await twice(() => get('/meters', token).set('Authorization', `Basic ${token}`), 401);
    await twice(() => get('/absent', token), 404);
    await twice(() => get('/..%2Fetc%2Fpasswd', token), 404);
    const revoked = fake.bound('revoked', alice);
    fake.tokens.set('revoked', { active: false });
    await twice(() => get('/meters', revoked), 401);
    writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { tariffs: { scopes: ['datasets:read'], clientIds: ['someone-else'] } } }));
    build(); // a fresh manifest check
    await twice(() => get('/tariffs', token), 403);
  });

  it('leaves the other routes and methods to Express', async () => {
    const token = fake.bound('tok', alice);
    await get('/meters', token);
    // Datasets named like the other routes: /ping.csv warms the dataset cache for "ping",
    // yet /ping stays the liveness route and /datasets the list.
    writeFileSync(join(data.dir, 'ping.csv'), 'p\n');
    writeFileSync(join(data.dir, 'datasets.csv'), 'd\n');
    expect((await get('/ping.csv', token)).headers['x-accel-redirect']).toBe('/_datasets/ping.csv');
    expect((await get('/datasets.csv', token)).headers['x-accel-redirect']).toBe('/_datasets/datasets.csv');
    for (let i = 0; i < 2; i += 1) {
      expect((await get('/ping', token)).body.status).toBe('ok');
      expect((await get('/datasets', token)).body.datasets).toHaveLength(4);
      const post = await request(handler).post('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect(post.status).toBe(404);
      expect(post.headers['x-accel-redirect']).toBeUndefined();
    }
    expect((await get('/ping', token)).body.status).toBe('ok');
    expect((await get('/PING', token)).body.status).toBe('ok');
    const head = await request(handler).head('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
    expect(head.status).toBe(200);
    expect(head.headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
  });

  it('reads the certificate from a configured clientCertHeader and ignores the default header then', async () => {
    build({ clientCertHeader: 'X-Client-Cert' }); // any case: the config lower-cases it, the fast path too
    const token = fake.bound('tok', alice);
    const viaCustom = () => request(handler).get('/meters').set('X-Client-Cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
    expect((await viaCustom()).headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
    expect(resolveSpy).toHaveBeenCalledTimes(1);
    const fast = await viaCustom();
    expect(fast.status).toBe(200);
    expect(fast.headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
    expect(resolveSpy).toHaveBeenCalledTimes(1); // answered by the fast path
    for (let i = 0; i < 2; i += 1) {
      const res = await get('/meters', token); // the default x-oe-client-cert header only
      expect([i, res.status]).toEqual([i, 401]);
      expect(res.body.error).toBe('invalid_token');
      expect(res.headers['x-accel-redirect']).toBeUndefined();
    }
  });

  it('with no scope configured, refuses a dataset no manifest entry gives a scope, even with every cache warm', async () => {
    writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { tariffs: { scopes: ['tariffs:read'] }, meters: { clientIds: ['alice'] } } }));
    build({ scope: undefined });
    const token = fake.bound('tok', alice, 'tariffs:read datasets:read');
    // Warm the token, the manifest check and the tariffs dataset; the second answer is the fast path's.
    for (let i = 0; i < 2; i += 1) expect((await get('/tariffs', token)).headers['x-accel-redirect']).toBe('/_datasets/tariffs.csv');
    expect(resolveSpy).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 2; i += 1) {
      const res = await get('/meters', token);
      expect([i, res.status]).toEqual([i, 403]);
      expect(res.body.error_description).toMatch(/the provider has no scope configured for this dataset/);
      expect(res.headers['x-accel-redirect']).toBeUndefined();
    }
  });

  it('refuses a certificate that has expired since the caches were warmed', async () => {
    const notAfter = new Date(clock + 60_000);
    const brief = issueClientCert(ca, { subject: { commonName: 'brief' }, notAfter });
    const token = fake.bound('brief', brief);
    expect((await get('/meters', token, escapedCert(brief))).status).toBe(200);
    expect((await get('/meters', token, escapedCert(brief))).status).toBe(200);
    clock = notAfter.getTime() + 1000;
    const late = await get('/meters', token, escapedCert(brief));
    expect(late.status).toBe(401);
    expect(late.body.error_description).toMatch(/validity/);
  });

  it('refuses a token whose cached introspection result has expired (exp)', async () => {
    const token = fake.bound('tok', alice);
    await get('/meters', token);
    clock += 3600_000 + 10_000;
    expect((await get('/meters', token)).status).toBe(401);
  });

  it('sees a removed dataset and a stricter manifest once the data cache TTL has passed', async () => {
    build({ dataCacheTtlMs: 150 });
    const token = fake.bound('tok', alice);
    await get('/meters', token);
    expect((await get('/tariffs', token)).status).toBe(200);
    rmSync(join(data.dir, 'tariffs.csv'));
    writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { meters: { scopes: ['meters:admin'] } } }));
    await new Promise((r) => setTimeout(r, 170));
    for (let i = 0; i < 2; i += 1) {
      expect((await get('/tariffs', token)).status).toBe(404);
      expect((await get('/meters', token)).status).toBe(403);
    }
  });

  it('is off without X-Accel-Redirect (streaming stays with Express and send)', async () => {
    build({ accelRedirectPrefix: undefined });
    const token = fake.bound('tok', alice);
    await get('/meters', token);
    const second = await get('/meters', token);
    expect(second.text).toBe('id,kwh\n1,2.5\n');
    expect(resolveSpy).toHaveBeenCalledTimes(2);
  });
});
