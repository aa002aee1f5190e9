import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueClientCert } from '../../testing/pki';
import { DatasetCache } from '../dataset-cache';
import { HttpError } from '../errors';
import { ManifestStore } from '../manifest';
import { ClientCertificateCache } from '../middleware/client-cert-cache';
import { escapedCert, FakeIntrospector, makeCerts, makeDataDir } from '../../testing/provider-app-fixtures';
import { CachingIntrospector } from '../token-cache';
import { DecisionPipeline, type AllowedRead, type PipelineDeps } from './pipeline';

const { alice, bob, ca } = makeCerts();

describe('decision pipeline', () => {
  let data: ReturnType<typeof makeDataDir>;
  let fake: FakeIntrospector;
  beforeEach(() => {
    data = makeDataDir({ meters: 'id,kwh\n1,2.5\n', tariffs: 'id,price\n1,0.3\n' });
    writeFileSync(join(data.dir, 'manifest.json'), JSON.stringify({ datasets: { tariffs: { scopes: ['tariffs:read'], clientIds: ['alice'] } } }));
    fake = new FakeIntrospector();
  });
  afterEach(() => data.cleanup());

  const pipeline = (over: Partial<PipelineDeps> = {}) =>
    new DecisionPipeline({
      introspector: new CachingIntrospector(fake, { ttlSeconds: 60, maxEntries: 100 }),
      certificates: new ClientCertificateCache(),
      manifest: new ManifestStore(data.dir, 'datasets:read', { ttlMs: 60_000 }),
      datasets: new DatasetCache(data.dir, { ttlMs: 60_000 }),
      clientCertHeader: 'X-OE-Client-Cert',
      clockSkewSeconds: 5,
      retryAfterSeconds: 7,
      now: Date.now,
      ...over,
    });
  const headers = (token: string | undefined, cert: string | null = escapedCert(alice)) => ({
    ...(cert === null ? {} : { 'x-oe-client-cert': cert }),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  });
  const outcome = (settled: AllowedRead | unknown) =>
    settled instanceof HttpError ? [settled.status, settled.code, settled.description] : { name: (settled as AllowedRead).name, clientId: (settled as AllowedRead).caller.clientId };

  // Each case runs in full mode first (which warms every cache it can), then in cache-only
  // mode: that must allow exactly what the full mode allowed, the same read, and nothing else.
  const cases: ReadonlyArray<readonly [string, () => Record<string, string>, string, unknown]> = [
    ['a bound token with the scope', () => headers(fake.bound('good', alice)), 'meters', { name: 'meters', clientId: 'alice' }],
    ['the .csv form', () => headers(fake.bound('good', alice)), 'meters.csv', { name: 'meters', clientId: 'alice' }],
    ['the scope in another case', () => headers(fake.bound('upper', alice, 'openid DATASETS:Read')), 'meters', { name: 'meters', clientId: 'alice' }],
    ['no certificate', () => headers(fake.bound('good', alice), null), 'meters', [401, 'invalid_token', 'a client certificate is required (mutual TLS)']],
    ['no token', () => headers(undefined), 'meters', [401, 'invalid_request', 'an access token is required (Authorization: Bearer <token>)']],
    ['an unknown token', () => headers('unknown'), 'meters', [401, 'invalid_token', 'the access token is not active']],
    ["another client's certificate", () => headers(fake.bound('good', alice), escapedCert(bob)), 'meters', [401, 'invalid_token', 'the access token is bound to a different client certificate']],
    ['a token without the scope', () => headers(fake.bound('narrow', alice, 'profile')), 'meters', [403, 'insufficient_scope', 'the access token lacks the required scope: datasets:read']],
    ['a client the manifest does not list', () => headers(fake.bound('bobs', bob, 'tariffs:read', 'bob'), escapedCert(bob)), 'tariffs', [403, 'insufficient_scope', 'this client may not read this resource']],
    ['a listed client with the manifest scope', () => headers(fake.bound('tariffs', alice, 'tariffs:read')), 'tariffs', { name: 'tariffs', clientId: 'alice' }],
    ['a name that is no dataset', () => headers(fake.bound('good', alice)), 'a..b', [404, 'not_found', 'no such dataset']],
    ['a dataset that does not exist', () => headers(fake.bound('good', alice)), 'absent', [404, 'not_found', 'no such dataset']],
  ];

  it.each(cases)('%s: both modes give the same answer', async (_what, make, segment, expected) => {
    const decide = pipeline();
    const given = make();
    expect(outcome(await decide.decide({ headers: given }, segment).catch((error: unknown) => error))).toEqual(expected);
    const cached = decide.decideFromCache(`/${segment}`, given);
    if (Array.isArray(expected)) expect(cached).toBeUndefined();
    else expect(outcome(cached)).toEqual(expected);
  });

  it('cache-only answers nothing before the full mode has filled the caches, and never calls the authorization server', async () => {
    const decide = pipeline();
    const given = headers(fake.bound('good', alice));
    expect(decide.decideFromCache('/meters', given)).toBeUndefined();
    expect(fake.calls).toBe(0);
    await decide.decide({ headers: given }, 'meters');
    expect(decide.decideFromCache('/meters', given)?.name).toBe('meters');
    expect(fake.calls).toBe(1);
  });

  it('cache-only leaves the routes, query strings and escapes to the full mode', async () => {
    writeFileSync(join(data.dir, 'ping.csv'), 'p\n');
    const decide = pipeline();
    const given = headers(fake.bound('good', alice));
    expect((await decide.decide({ headers: given }, 'ping.csv')).name).toBe('ping');
    for (const path of ['/ping', '/ping.csv', '/PING.CSV', '/meters?x=1', '/meters%2Ecsv', '/x/meters']) expect([path, decide.decideFromCache(path, given)]).toEqual([path, undefined]);
  });

  it('cache-only decides nothing without an introspection cache to read', async () => {
    const decide = pipeline({ introspector: fake });
    const given = headers(fake.bound('good', alice));
    await decide.decide({ headers: given }, 'meters');
    expect(decide.decideFromCache('/meters', given)).toBeUndefined();
  });

  it('checks the certificate validity on every decision, cached or not', async () => {
    let clock = Date.now();
    const notAfter = new Date(clock + 60_000);
    const brief = issueClientCert(ca, { subject: { commonName: 'brief' }, notAfter });
    const decide = pipeline({ now: () => clock });
    const given = headers(fake.bound('brief', brief), escapedCert(brief));
    await decide.decide({ headers: given }, 'meters');
    // X.509 times have whole seconds.
    expect(decide.decideFromCache('/meters', given)?.caller.certificateExpiresAt).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
    clock = notAfter.getTime() + 1000;
    expect(decide.decideFromCache('/meters', given)).toBeUndefined();
    await expect(decide.decide({ headers: given }, 'meters')).rejects.toMatchObject({ status: 401, description: 'the client certificate is outside its validity period' });
  });

  it('refuses a token in the query string before looking at anything else', async () => {
    await expect(pipeline().decide({ headers: {}, tokenInQuery: true }, 'meters')).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    expect(fake.calls).toBe(0);
  });

  it('records what it learnt before a refusal, for the access line', async () => {
    const trace = {};
    await expect(pipeline().decide({ headers: headers(fake.bound('narrow', alice, 'profile')) }, 'meters.csv', trace)).rejects.toMatchObject({ status: 403 });
    expect(trace).toEqual({ certSubject: 'CN=alice,O=Consumers', clientId: 'alice', dataset: 'meters' });
  });

  it('answers 503 with Retry-After, and logs why, when the authorization server is down or the manifest broken', async () => {
    const warn = jest.fn();
    const error = jest.fn();
    fake.down = true;
    const given = headers(fake.bound('good', alice));
    await expect(pipeline().decide({ headers: given }, 'meters', { log: { warn, error } })).rejects.toMatchObject({
      status: 503,
      code: 'temporarily_unavailable',
      description: 'the authorization server is unavailable; retry later',
      extra: { retryAfterSeconds: 7 },
    });
    expect(warn).toHaveBeenCalledWith({ reason: 'connect ECONNREFUSED 127.0.0.1:1' }, 'authorization server unavailable');
    fake.down = false;
    writeFileSync(join(data.dir, 'manifest.json'), '{ not json');
    const decide = pipeline();
    await expect(decide.decide({ headers: given }, 'meters', { log: { warn, error } })).rejects.toMatchObject({ status: 503, description: 'the dataset policy is being updated; retry later' });
    expect(error).toHaveBeenCalledWith({ reason: expect.stringMatching(/^manifest.json: not valid JSON/) }, 'dataset manifest is invalid');
    // The list must not take a broken manifest for "may not read": it fails as a whole.
    const caller = await decide.authenticate({ headers: given });
    await expect(decide.mayRead(caller, 'meters')).rejects.toMatchObject({ status: 503 });
  });

  it('mayRead is the policy step alone: the list shows what the caller may read', async () => {
    const decide = pipeline();
    const caller = await decide.authenticate({ headers: headers(fake.bound('good', alice)) });
    expect(await decide.mayRead(caller, 'meters')).toBe(true);
    expect(await decide.mayRead(caller, 'tariffs')).toBe(false);
    expect(await decide.mayRead(caller, 'absent')).toBe(true); // the policy does not look at the disk
  });
});
