import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { thumbprintS256 } from '../testing/pki';
import { createRequestHandler } from './app';
import { accelModeDeps, escapedCert, FakeIntrospector, legacyCertUnfolded, makeCerts, makeDataDir, memoryLogger, testApp } from '../testing/provider-app-fixtures';

const { alice, bob } = makeCerts();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('provider app', () => {
  let data: ReturnType<typeof makeDataDir>;
  let fake: FakeIntrospector;
  beforeEach(() => {
    data = makeDataDir({ meters: 'id,kwh\n1,2.5\n2,3.5\n', tariffs: 'id,price\n1,0.3\n' });
    fake = new FakeIntrospector();
  });
  afterEach(() => data.cleanup());

  const app = (overrides = {}) => testApp({ dataDir: data.dir, introspector: fake, ...overrides });
  const get = (path: string, token = fake.bound('tok-alice', alice), cert = escapedCert(alice), over = {}) =>
    request(app(over).app).get(path).set('x-oe-client-cert', cert).set('Authorization', `Bearer ${token}`);

  describe('FAPI headers', () => {
    it('puts Date and a new UUID interaction id on success, error and not-found responses', async () => {
      for (const res of [await request(app().app).get('/ping'), await request(app().app).get('/meters'), await get('/nope/deeper')]) {
        expect(res.headers.date).toBeDefined();
        expect(res.headers['x-fapi-interaction-id']).toMatch(UUID);
      }
    });

    it("echoes the caller's interaction id, and replaces one that is not a safe token", async () => {
      const id = '93bac548-d2de-4546-b106-880a5018460d';
      const echoed = await request(app().app).get('/meters').set('x-fapi-interaction-id', id);
      expect(echoed.headers['x-fapi-interaction-id']).toBe(id);
      const replaced = await request(app().app).get('/ping').set('x-fapi-interaction-id', 'a b\tc');
      expect(replaced.headers['x-fapi-interaction-id']).toMatch(UUID);
    });

    it('does not reject a request that carries x-fapi-customer-ip-address', async () => {
      const res = await get('/meters').set('x-fapi-customer-ip-address', '198.51.100.7');
      expect(res.status).toBe(200);
    });
  });

  describe('GET /ping', () => {
    it('answers liveness JSON without any credentials', async () => {
      const res = await request(app().app).get('/ping');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
    });
  });

  describe('authorisation', () => {
    const expectError = (res: request.Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(code);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    };

    it('serves the dataset to a bound token with the scope', async () => {
      const res = await get('/meters');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.text).toBe('id,kwh\n1,2.5\n2,3.5\n');
    });

    it('accepts the legacy tab-indented certificate header too', async () => {
      expect((await get('/meters', undefined, legacyCertUnfolded(alice))).status).toBe(200);
    });

    it('reads the certificate from a configured clientCertHeader and ignores the default header then', async () => {
      const { app: server } = app({ clientCertHeader: 'x-client-cert' });
      const token = fake.bound('custom-header', alice);
      const ok = await request(server).get('/meters').set('X-Client-Cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect(ok.status).toBe(200);
      expect(ok.text).toBe('id,kwh\n1,2.5\n2,3.5\n');
      const ignored = await request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expectError(ignored, 401, 'invalid_token');
    });

    it('refuses a missing client certificate with 401', async () => {
      const res = await request(app().app).get('/meters').set('Authorization', `Bearer ${fake.bound('t', alice)}`);
      expectError(res, 401, 'invalid_token');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="provider", error="invalid_token"/);
    });

    it('refuses a missing token with a bare Bearer challenge', async () => {
      const res = await request(app().app).get('/meters').set('x-oe-client-cert', escapedCert(alice));
      expectError(res, 401, 'invalid_request');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="provider"');
    });

    it('refuses a malformed Authorization header', async () => {
      const res = await request(app().app).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', 'Basic Zm9vOmJhcg==');
      expectError(res, 401, 'invalid_request');
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    });

    it('accepts the scheme in any case', async () => {
      const token = fake.bound('tok', alice);
      const res = await request(app().app).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `bEaReR ${token}`);
      expect(res.status).toBe(200);
    });

    it('never accepts a token in the query string, even a valid one', async () => {
      const token = fake.bound('tok', alice);
      const res = await request(app().app).get(`/meters?access_token=${token}`).set('x-oe-client-cert', escapedCert(alice));
      expectError(res, 400, 'invalid_request');
      expect(fake.calls).toBe(0);
    });

    it('refuses an inactive token', async () => {
      const res = await get('/meters', 'unknown-token');
      expectError(res, 401, 'invalid_token');
      expect(res.body.error_description).toMatch(/not active/);
    });

    it('refuses an expired token', async () => {
      fake.bound('old', alice);
      const now = Math.floor(Date.now() / 1000);
      fake.tokens.set('old', { ...fake.tokens.get('old')!, exp: now - 60 });
      expect((await get('/meters', 'old')).body.error_description).toMatch(/expired/);
    });

    it('refuses a token without exp', async () => {
      fake.bound('noexp', alice);
      fake.tokens.set('noexp', { ...fake.tokens.get('noexp')!, exp: undefined });
      expect((await get('/meters', 'noexp')).body.error_description).toMatch(/no expiry/);
    });

    it('refuses a token issued in the future', async () => {
      fake.bound('future', alice);
      fake.tokens.set('future', { ...fake.tokens.get('future')!, iat: Math.floor(Date.now() / 1000) + 600 });
      const res = await get('/meters', 'future');
      expectError(res, 401, 'invalid_token');
      expect(res.body.error_description).toMatch(/future/);
    });

    it('refuses a token the authorization server says is not a bearer access token', async () => {
      fake.bound('refresh', alice);
      fake.tokens.set('refresh', { ...fake.tokens.get('refresh')!, token_type: 'refresh_token' });
      const res = await get('/meters', 'refresh');
      expectError(res, 401, 'invalid_token');
      expect(res.body.error_description).toMatch(/not a bearer access token/);
      fake.tokens.set('refresh', { ...fake.tokens.get('refresh')!, token_type: 'Bearer' });
      expect((await get('/meters', 'refresh')).status).toBe(200);
    });

    it('refuses a token that is not certificate-bound (no cnf)', async () => {
      fake.bound('unbound', alice);
      fake.tokens.set('unbound', { ...fake.tokens.get('unbound')!, cnf: undefined });
      const res = await get('/meters', 'unbound');
      expectError(res, 401, 'invalid_token');
      expect(res.body.error_description).toMatch(/not certificate-bound/);
    });

    it("refuses a token bound to another client's certificate", async () => {
      const res = await get('/meters', fake.bound('alices', alice), escapedCert(bob));
      expectError(res, 401, 'invalid_token');
      expect(res.body.error_description).toMatch(/different client certificate/);
    });

    it('refuses an expired client certificate even with a matching token', async () => {
      const { ca } = makeCerts();
      const { issueClientCert } = await import('../testing/pki');
      const expired = issueClientCert(ca, { subject: { commonName: 'old' }, notBefore: new Date(Date.now() - 2 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
      const res = await get('/meters', fake.bound('exp-cert', expired), escapedCert(expired));
      expectError(res, 401, 'invalid_token');
      expect(res.body.error_description).toMatch(/validity/);
    });

    it('refuses a cached client certificate once it expires (validity is checked on every request)', async () => {
      const { ca } = makeCerts();
      const { issueClientCert } = await import('../testing/pki');
      const notAfter = new Date(Date.now() + 60_000);
      const shortLived = issueClientCert(ca, { subject: { commonName: 'brief' }, notAfter });
      let clock = Date.now();
      const { app: server } = app({ now: () => clock });
      const token = fake.bound('brief', shortLived);
      const call = () => request(server).get('/meters').set('x-oe-client-cert', escapedCert(shortLived)).set('Authorization', `Bearer ${token}`);
      expect((await call()).status).toBe(200);
      clock = notAfter.getTime() + 1000;
      const late = await call();
      expectError(late, 401, 'invalid_token');
      expect(late.body.error_description).toMatch(/validity/);
    });

    it('answers 403 insufficient_scope naming the scope', async () => {
      const res = await get('/meters', fake.bound('other-scope', alice, 'profile'));
      expectError(res, 403, 'insufficient_scope');
      expect(res.body.scope).toBe('datasets:read');
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="datasets:read"');
    });

    it('compares scopes case-insensitively', async () => {
      expect((await get('/meters', fake.bound('upper', alice, 'openid DATASETS:Read'))).status).toBe(200);
    });

    it('answers 503 with Retry-After when the authorization server is down, and recovers', async () => {
      const { app: server } = app();
      const token = fake.bound('t', alice);
      fake.down = true;
      const down = await request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expectError(down, 503, 'temporarily_unavailable');
      expect(down.headers['retry-after']).toBe('7');
      fake.down = false;
      const back = await request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect(back.status).toBe(200);
    });

    it('turns an unexpected failure into a bare 500 without details', async () => {
      const broken = { introspect: async () => Promise.reject(new TypeError('secret internals at /x/y.ts:12')) };
      const res = await request(testApp({ dataDir: data.dir, introspector: broken }).app)
        .get('/meters')
        .set('x-oe-client-cert', escapedCert(alice))
        .set('Authorization', 'Bearer x');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'server_error', error_description: 'internal error' });
    });
  });

  describe('dataset names and paths', () => {
    it('serves /<name>.csv as well as /<name>', async () => {
      expect((await get('/meters.csv')).text).toBe('id,kwh\n1,2.5\n2,3.5\n');
    });

    it.each([
      '/..%2F..%2Fetc%2Fpasswd',
      '/%2e%2e%2fetc%2fpasswd',
      '/..',
      '/%2e%2e',
      '/meters%00',
      '/meters%00.csv',
      '/%2Fetc%2Fpasswd',
      '/.hidden',
      '/a..b',
      '/..%5c..%5cetc',
      '/../etc/passwd',
      '/meters/../tariffs',
    ])('refuses %s without touching files outside dataDir', async (path) => {
      const res = await get(path);
      expect([400, 404]).toContain(res.status);
      expect(res.text).not.toContain('root:');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    });

    it('does not follow a symlink out of the folder, but follows one inside it', async () => {
      const outside = mkdtempSync(join(tmpdir(), 'outside-'));
      try {
        writeFileSync(join(outside, 'secret.csv'), 'top,secret\n');
        symlinkSync(join(outside, 'secret.csv'), join(data.dir, 'leak.csv'));
        symlinkSync(join(data.dir, 'meters.csv'), join(data.dir, 'alias.csv'));
        expect((await get('/leak')).status).toBe(404);
        expect((await get('/alias')).text).toBe('id,kwh\n1,2.5\n2,3.5\n');
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it('answers 404 for a dataset that does not exist', async () => {
      const res = await get('/absent');
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('not_found');
    });
  });

  // The cases above target files that do not exist outside dataDir, so they would pass
  // even with no protection at all. Here a real secret sits next to dataDir: a traversal
  // that escaped would find it. Each request goes out byte for byte (node:http, not
  // supertest, whose URL parser would normalise `../` away).
  describe('traversal towards a real secret outside dataDir', () => {
    const PARENT_SECRET = `parent-secret-${randomUUID()}`;
    const SIBLING_SECRET = `sibling-secret-${randomUUID()}`;
    const HIDDEN_SECRET = `hidden-secret-${randomUUID()}`;
    const INNER_SECRET = `inner-secret-${randomUUID()}`;
    const secrets = [PARENT_SECRET, SIBLING_SECRET, HIDDEN_SECRET, INNER_SECRET];
    let root: string;
    let token: string;
    let fake: FakeIntrospector;
    const servers: Record<'streaming' | 'accel', { server: Server; port: number }> = {} as never;

    /** One GET exactly as written, over a fresh connection. */
    const rawGet = (mode: 'streaming' | 'accel', path: string) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: servers[mode].port, path, agent: false, headers: { 'x-oe-client-cert': escapedCert(alice), authorization: `Bearer ${token}` } },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });

    beforeAll(async () => {
      // <root>/secret.csv, <root>/sibling/secret.csv, and dataDir = <root>/data with
      // <root>/data/.hidden.csv and <root>/data/sub/inner.csv (inside, but not datasets).
      root = mkdtempSync(join(tmpdir(), 'provider-traversal-'));
      const dataDir = join(root, 'data');
      mkdirSync(join(dataDir, 'sub'), { recursive: true });
      mkdirSync(join(root, 'sibling'));
      writeFileSync(join(root, 'secret.csv'), `${PARENT_SECRET}\n`);
      writeFileSync(join(root, 'sibling', 'secret.csv'), `${SIBLING_SECRET}\n`);
      writeFileSync(join(dataDir, '.hidden.csv'), `${HIDDEN_SECRET}\n`);
      writeFileSync(join(dataDir, 'sub', 'inner.csv'), `${INNER_SECRET}\n`);
      writeFileSync(join(dataDir, 'meters.csv'), 'id,kwh\n1,2.5\n');
      // A name that passes the pattern but whose real path leaves dataDir: absolute and relative symlinks.
      symlinkSync(join(root, 'secret.csv'), join(dataDir, 'leak.csv'));
      symlinkSync(join('..', 'sibling', 'secret.csv'), join(dataDir, 'sibling-leak.csv'));
      fake = new FakeIntrospector();
      token = fake.bound('traversal', alice);
      const handlers: Record<'streaming' | 'accel', RequestListener> = {
        streaming: testApp({ dataDir, introspector: fake }).app,
        accel: createRequestHandler(accelModeDeps({ logger: memoryLogger().logger, introspector: fake, dataDir })),
      };
      for (const mode of ['streaming', 'accel'] as const) {
        const server = createServer(handlers[mode]).listen(0, '127.0.0.1');
        await once(server, 'listening');
        servers[mode] = { server, port: (server.address() as { port: number }).port };
      }
      // Sanity: the set-up serves a real dataset in both modes (and warms the accel caches).
      expect((await rawGet('streaming', '/meters')).body).toBe('id,kwh\n1,2.5\n');
      expect((await rawGet('accel', '/meters')).headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
    });
    afterAll(() => {
      for (const { server } of Object.values(servers)) server.close();
      rmSync(root, { recursive: true, force: true });
    });

    const expectRefused = (res: { status: number; headers: IncomingHttpHeaders; body: string }, status: number) => {
      expect(res.status).toBe(status);
      for (const secret of secrets) expect(res.body).not.toContain(secret);
      expect(res.headers['x-accel-redirect']).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    };

    // Enough `../` to reach `/` from any temp folder, then down to the secret by its absolute path.
    const absoluteUp = () => `${'..%2F'.repeat(30)}${encodeURIComponent(root.slice(1))}%2Fsecret`;

    // The `%2F`/`%2e` forms reach the handler as `../secret` and are stopped by the name
    // pattern and the real-path check (they fail with both removed). The double-encoded,
    // backslash, overlong-UTF-8 and raw `../` forms are stopped before either (one decode
    // only; `\` is no separator on Linux; Express routes by path segment): kept so that a
    // change there is caught too.
    it.each([
      ['/..%2Fsecret', 404],
      ['/..%2Fsecret.csv', 404],
      ['/..%2fsibling%2fsecret', 404],
      ['/%2e%2e%2fsecret', 404],
      ['/%2E%2E%2Fsecret.csv', 404],
      ['/..%252Fsecret', 404],
      ['/%252e%252e%252fsecret', 404],
      ['/..%5Csecret', 404],
      ['/meters%2F..%2F..%2Fsecret', 404],
      ['/%c0%ae%c0%ae%2fsecret', 400],
      ['/../secret', 404],
      ['/../secret.csv', 404],
      ['/../sibling/secret', 404],
      ['/meters/../../secret', 404],
      ['/./../secret', 404],
    ] as const)('never serves the secret for %s (%i), streaming or X-Accel-Redirect', async (path, status) => {
      for (const mode of ['streaming', 'accel'] as const) expectRefused(await rawGet(mode, path), status);
    });

    it('never serves the secret through an absolute path reached by climbing to /', async () => {
      for (const mode of ['streaming', 'accel'] as const) expectRefused(await rawGet(mode, `/${absoluteUp()}`), 404);
    });

    // Each protection alone: these pass the other one, so each fails if its own check is removed.
    it('real-path containment: a valid name whose symlink leaves dataDir is 404 (and not listed)', async () => {
      for (const mode of ['streaming', 'accel'] as const) {
        for (const path of ['/leak', '/leak.csv', '/sibling-leak']) expectRefused(await rawGet(mode, path), 404);
        const listed = JSON.parse((await rawGet(mode, '/datasets')).body).datasets.map((d: { name: string }) => d.name);
        expect(listed).toContain('meters');
        expect(listed).not.toContain('leak');
        expect(listed).not.toContain('sibling-leak');
      }
    });

    it('name pattern: a dotfile or a file in a subfolder, both inside dataDir, is 404', async () => {
      for (const mode of ['streaming', 'accel'] as const) {
        for (const path of ['/.hidden', '/.hidden.csv', '/sub%2Finner', '/sub%2finner.csv', '/meters%2F..%2F.hidden']) expectRefused(await rawGet(mode, path), 404);
      }
    });
  });

  describe('dataset cache (dataCacheTtlMs)', () => {
    /** Data trees each holding `meters.csv` = "<tree>\n", and the host's swap: a new symlink renamed over `current`. */
    function dataTrees(prefix: string, trees: readonly string[]) {
      const root = mkdtempSync(join(tmpdir(), prefix));
      for (const tree of trees) {
        mkdirSync(join(root, tree));
        writeFileSync(join(root, tree, 'meters.csv'), `${tree}\n`);
      }
      const swap = (tree: string) => {
        symlinkSync(join(root, tree), join(root, 'next'));
        renameSync(join(root, 'next'), join(root, 'current'));
      };
      return { root, swap };
    }

    // The host swaps data trees by replacing the data folder symlink, keeps the previous
    // tree and deletes older ones; the app must follow within the bound and never fail.
    it('serves the new tree within the bound after a swap, even when the cached tree was deleted', async () => {
      const { root, swap } = dataTrees('provider-swap-', ['v1', 'v2', 'v3']);
      try {
        swap('v1');
        const { app: server } = testApp({ dataDir: join(root, 'current'), introspector: fake, dataCacheTtlMs: 300 });
        const token = fake.bound('swap', alice);
        const call = () => request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
        expect((await call()).text).toBe('v1\n');
        swap('v2');
        // Within the bound the cached tree (still on disk) may be served ...
        expect(['v1\n', 'v2\n']).toContain((await call()).text);
        await new Promise((r) => setTimeout(r, 320));
        // ... after it, the new one must be.
        expect((await call()).text).toBe('v2\n');
        // Two swaps inside one TTL with the cached tree pruned: the stale path is re-resolved, not a 404.
        swap('v3');
        rmSync(join(root, 'v2'), { recursive: true, force: true });
        const res = await call();
        expect(res.status).toBe(200);
        expect(res.text).toBe('v3\n');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('sees a swap of the data folder symlink at once, long before the TTL (the caches are dropped on the rename)', async () => {
      const { root, swap } = dataTrees('provider-swap-now-', ['v1', 'v2']);
      try {
        swap('v1');
        const { app: server } = testApp({ dataDir: join(root, 'current'), introspector: fake, dataCacheTtlMs: 60_000 });
        const token = fake.bound('swap-now', alice);
        const call = () => request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
        expect((await call()).text).toBe('v1\n');
        expect((await call()).text).toBe('v1\n');
        swap('v2');
        let seen = '';
        for (let i = 0; i < 20 && seen !== 'v2\n'; i += 1) {
          await new Promise((r) => setTimeout(r, 25));
          seen = (await call()).text;
        }
        expect(seen).toBe('v2\n');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('answers 404 within the bound once a dataset is removed', async () => {
      const { app: server } = testApp({ dataDir: data.dir, introspector: fake, dataCacheTtlMs: 200, accelRedirectPrefix: '/_datasets/' });
      const token = fake.bound('rm', alice);
      const call = () => request(server).get('/tariffs').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect((await call()).headers['x-accel-redirect']).toBe('/_datasets/tariffs.csv');
      rmSync(join(data.dir, 'tariffs.csv'));
      await new Promise((r) => setTimeout(r, 220));
      const gone = await call();
      expect(gone.status).toBe(404);
      expect(gone.headers['x-accel-redirect']).toBeUndefined();
    });

    it('applies a manifest change within the bound', async () => {
      const { app: server } = testApp({ dataDir: data.dir, introspector: fake, dataCacheTtlMs: 200 });
      const token = fake.bound('pol', alice);
      const call = () => request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect((await call()).status).toBe(200);
      writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { meters: { scopes: ['meters:admin'] } } }));
      await new Promise((r) => setTimeout(r, 220));
      expect((await call()).status).toBe(403);
    });
  });

  describe('HTTP caching and ranges', () => {
    it('answers HEAD with the headers and no body', async () => {
      const res = await request(app().app).head('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${fake.bound('t', alice)}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('19');
      expect(res.text ?? '').toBe('');
    });

    it('honours If-None-Match with the ETag it sent', async () => {
      const first = await get('/meters');
      expect(first.headers.etag).toBeDefined();
      const second = await get('/meters').set('If-None-Match', first.headers.etag!);
      expect(second.status).toBe(304);
      expect(second.text ?? '').toBe('');
    });

    it('honours If-Modified-Since with Last-Modified', async () => {
      const past = new Date('2024-01-01T00:00:00Z');
      utimesSync(join(data.dir, 'meters.csv'), past, past);
      const first = await get('/meters');
      expect(first.headers['last-modified']).toBe(past.toUTCString());
      expect((await get('/meters').set('If-Modified-Since', past.toUTCString())).status).toBe(304);
      expect((await get('/meters').set('If-Modified-Since', new Date('2023-01-01').toUTCString())).status).toBe(200);
    });

    it('serves a byte range with 206 and Content-Range', async () => {
      const res = await get('/meters').set('Range', 'bytes=0-5');
      expect(res.status).toBe(206);
      expect(res.headers['content-range']).toBe('bytes 0-5/19');
      expect(res.text).toBe('id,kwh');
    });

    it('answers 416 for a range outside the file', async () => {
      expect((await get('/meters').set('Range', 'bytes=500-600')).status).toBe(416);
    });

    it('ignores Range when If-Range names an older ETag', async () => {
      const res = await get('/meters').set('Range', 'bytes=0-5').set('If-Range', 'W/"stale"');
      expect(res.status).toBe(200);
      expect(res.text).toHaveLength(19);
    });
  });

  describe('X-Accel-Redirect mode', () => {
    it('authorises, then hands the file to nginx with no body', async () => {
      const res = await get('/meters', undefined, undefined, { accelRedirectPrefix: '/_datasets/' });
      expect(res.status).toBe(200);
      expect(res.headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.text ?? '').toBe('');
    });

    it('still refuses without authorisation and for missing files', async () => {
      const noScope = await get('/meters', fake.bound('x', alice, 'other'), undefined, { accelRedirectPrefix: '/_datasets/' });
      expect(noScope.status).toBe(403);
      expect(noScope.headers['x-accel-redirect']).toBeUndefined();
      const missing = await get('/absent', undefined, undefined, { accelRedirectPrefix: '/_datasets/' });
      expect(missing.status).toBe(404);
      expect(missing.headers['x-accel-redirect']).toBeUndefined();
    });
  });

  describe('manifest policy and GET /datasets', () => {
    beforeEach(() => {
      writeFileSync(
        join(data.dir, 'manifest.json'),
        JSON.stringify({ datasets: { tariffs: { scopes: ['tariffs:read'] }, meters: { scopes: ['datasets:read'], clientIds: ['alice'] } } }),
      );
    });

    it('requires the scopes the manifest names for a dataset', async () => {
      expect((await get('/tariffs')).status).toBe(403);
      expect((await get('/tariffs', fake.bound('t2', alice, 'tariffs:read'))).status).toBe(200);
    });

    it('limits a dataset to the listed client ids', async () => {
      expect((await get('/meters', fake.bound('a', alice, 'datasets:read', 'alice'))).status).toBe(200);
      const other = await get('/meters', fake.bound('b', bob, 'datasets:read', 'bob'), escapedCert(bob));
      expect(other.status).toBe(403);
    });

    it('lists only the datasets the caller may read, with size and modification time', async () => {
      const res = await get('/datasets');
      expect(res.status).toBe(200);
      expect(res.body.datasets).toEqual([{ name: 'meters', size: 19, modified: expect.any(String), path: '/meters' }]);
      const both = await get('/datasets', fake.bound('both', alice, 'datasets:read tariffs:read'));
      expect(both.body.datasets.map((d: { name: string }) => d.name)).toEqual(['meters', 'tariffs']);
    });

    it('requires authentication for the list', async () => {
      expect((await request(app().app).get('/datasets')).status).toBe(401);
    });

    it('fails closed with 503 when the manifest is broken', async () => {
      writeFileSync(join(data.dir, 'manifest.json'), '{ not json');
      const res = await get('/meters');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
    });
  });

  describe('no scope configured (fail closed)', () => {
    const NO_SCOPE = /the provider has no scope configured for this dataset/;
    beforeEach(() => {
      // tariffs names a scope; meters only limits clients; open names none.
      writeFileSync(join(data.dir, 'open.csv'), 'o\n');
      writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { tariffs: { scopes: ['tariffs:read'] }, meters: { clientIds: ['alice'] }, open: { scopes: [] } } }));
    });

    it('refuses with 403 a dataset for which neither the config nor the manifest requires a scope, whatever the token carries', async () => {
      const over = { scope: undefined };
      for (const [path, token] of [
        ['/meters', fake.bound('plain', alice)],
        ['/meters', fake.bound('broad', alice, 'datasets:read tariffs:read openid')],
        ['/open', fake.bound('plain', alice)],
        ['/unlisted', fake.bound('plain', alice)],
      ] as const) {
        const res = await get(path, token, undefined, over);
        expect([path, res.status, res.body.error]).toEqual([path, 403, 'insufficient_scope']);
        expect(res.body.error_description).toMatch(NO_SCOPE);
        expect(res.body.scope).toBeUndefined();
        expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
        expect(res.headers['cache-control']).toBe('no-store');
      }
      // The same refusal in X-Accel-Redirect mode: no redirect.
      const accel = await get('/meters', fake.bound('plain', alice), undefined, { ...over, accelRedirectPrefix: '/_datasets/' });
      expect(accel.status).toBe(403);
      expect(accel.headers['x-accel-redirect']).toBeUndefined();
      // A dataset whose manifest entry names a scope is served as before.
      const tariffs = await get('/tariffs', fake.bound('tariffs', alice, 'tariffs:read'), undefined, over);
      expect(tariffs.status).toBe(200);
      expect(tariffs.text).toBe('id,price\n1,0.3\n');
    });

    it('lists only the datasets that require a scope the caller has', async () => {
      const list = async (scope: string) => (await get('/datasets', fake.bound(`list-${scope.replace(/[^a-z]/g, '-')}`, alice, scope), undefined, { scope: undefined })).body.datasets.map((d: { name: string }) => d.name);
      expect(await list('datasets:read')).toEqual([]);
      expect(await list('tariffs:read datasets:read')).toEqual(['tariffs']);
    });

    it('under a configured scope, refuses only an entry that explicitly requires none (scopes: [])', async () => {
      const open = await get('/open');
      expect(open.status).toBe(403);
      expect(open.body.error_description).toMatch(NO_SCOPE);
      expect((await get('/meters')).status).toBe(200); // clientIds only: the configured scope applies
      rmSync(join(data.dir, 'manifest.json'));
      expect((await get('/meters')).status).toBe(200);
      expect((await get('/open')).status).toBe(200);
    });
  });

  describe('logs', () => {
    it('writes one access line per request with the facts an operator needs', async () => {
      const { app: server, lines } = app();
      const id = 'c0ffee00-0000-4000-8000-000000000001';
      await request(server).get('/meters').set('x-fapi-interaction-id', id).set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${fake.bound('t', alice)}`);
      const access = lines.map((l) => JSON.parse(l)).filter((l) => l.access);
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({
        interactionId: id,
        clientId: 'alice',
        certSubject: 'CN=alice,O=Consumers',
        dataset: 'meters',
        status: 200,
        bytes: 19,
        method: 'GET',
        path: '/meters',
      });
      expect(typeof access[0].durationMs).toBe('number');
    });

    it('logs the body bytes sent: an error body, a streamed file, a range, a HEAD, and 0 in X-Accel-Redirect mode', async () => {
      const { app: server, lines } = app();
      const token = fake.bound('bytes', alice);
      const send = (path: string, cert = escapedCert(alice)) => request(server).get(path).set('x-oe-client-cert', cert).set('Authorization', `Bearer ${token}`);
      const accessFor = (res: request.Response) => lines.map((l) => JSON.parse(l)).find((l) => l.access && l.interactionId === res.headers['x-fapi-interaction-id']);
      const unauthorised = await send('/meters', escapedCert(bob));
      expect(unauthorised.status).toBe(401);
      expect(unauthorised.headers['content-length']).toBe(String(Buffer.byteLength(unauthorised.text)));
      expect(accessFor(unauthorised)).toMatchObject({ status: 401, bytes: Buffer.byteLength(unauthorised.text) });
      const forbidden = await send('/meters', escapedCert(alice)).set('Authorization', `Bearer ${fake.bound('narrow', alice, 'profile')}`);
      expect(accessFor(forbidden)).toMatchObject({ status: 403, bytes: Buffer.byteLength(forbidden.text) });
      fake.down = true;
      const unavailable = await send('/meters');
      fake.down = false;
      expect(accessFor(unavailable)).toMatchObject({ status: 503, bytes: Buffer.byteLength(unavailable.text) });
      expect(accessFor(await send('/absent'))).toMatchObject({ status: 404, bytes: expect.any(Number) });
      expect(accessFor(await send('/absent')).bytes).toBeGreaterThan(0);
      const streamed = await send('/meters');
      expect(accessFor(streamed)).toMatchObject({ status: 200, bytes: 19, completed: true });
      const range = await send('/meters').set('Range', 'bytes=0-5');
      expect(accessFor(range)).toMatchObject({ status: 206, bytes: 6 });
      const head = await request(server).head('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect(accessFor(head)).toMatchObject({ status: 200, bytes: 0 });
      // X-Accel-Redirect: the app sends no body (nginx's own access log has the file's bytes).
      const accel = testApp({ dataDir: data.dir, introspector: fake, accelRedirectPrefix: '/_datasets/' });
      const redirected = await request(accel.app).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      expect(redirected.headers['x-accel-redirect']).toBe('/_datasets/meters.csv');
      expect(accel.lines.map((l) => JSON.parse(l)).find((l) => l.access)).toMatchObject({ status: 200, bytes: 0 });
    });

    it("carries the request's interaction id on its other lines (the warning when the authorization server is down)", async () => {
      const { app: server, lines } = app();
      fake.down = true;
      const res = await request(server).get('/meters').set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${fake.bound('t', alice)}`);
      expect(res.status).toBe(503);
      const id = res.headers['x-fapi-interaction-id'];
      expect(id).toMatch(UUID);
      const parsed = lines.map((l) => JSON.parse(l));
      const warning = parsed.find((l) => l.msg === 'authorization server unavailable');
      expect(warning).toMatchObject({ level: 'warn', interactionId: id });
      expect(parsed.find((l) => l.access)).toMatchObject({ status: 503, interactionId: id });
    });

    it('never logs a token, a certificate or a key, whatever happens', async () => {
      const { app: server, lines } = app();
      const token = fake.bound('SECRET-TOKEN-VALUE-123', alice);
      const send = (path: string) => request(server).get(path).set('x-oe-client-cert', escapedCert(alice)).set('Authorization', `Bearer ${token}`);
      await send('/meters');
      await send(`/meters?access_token=${token}`);
      await send('/datasets');
      fake.down = true;
      await send('/meters');
      await request(server).get('/meters').set('x-oe-client-cert', escapedCert(bob)).set('Authorization', `Bearer ${token}`);
      const all = lines.join('\n');
      expect(lines.length).toBeGreaterThanOrEqual(5);
      expect(all).not.toContain('SECRET-TOKEN-VALUE-123');
      expect(all).not.toContain(alice.certPem.split('\n')[1]!.slice(0, 40));
      expect(all).not.toContain(encodeURIComponent(alice.certPem).slice(40, 80));
      expect(all).not.toContain('PRIVATE KEY');
      expect(all).not.toContain(thumbprintS256(alice.certPem));
    });
  });
});
