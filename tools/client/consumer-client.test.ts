/**
 * The consumer client against the real thing: the sandbox's oidc-provider
 * authorization server, the provider app and the TLS terminator.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRootCa } from '../../testing/pki';
import { startSandbox, type Sandbox } from '../dev/sandbox';
import { ConsumerClient, type ConsumerClientOptions } from './consumer-client';
import { ProviderAnswerError, TlsRejectedError } from './errors';
import { httpErrorFrom } from './http-errors';
import { httpsRequest, readText } from './https-request';
import { loadTlsIdentity } from './tls-identity';
import { runClientCliCaptured } from '../../testing/run-client-cli';

const sampleData = resolve(__dirname, '..', '..', 'sample-data');
let stateDir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'client-it-'));
  sandbox = await startSandbox({ stateDir, port: 0 });
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

function consumerOptions(overrides: Partial<ConsumerClientOptions> = {}): ConsumerClientOptions {
  const { consumer } = sandbox.state;
  return {
    issuer: sandbox.issuer,
    clientId: consumer.clientId,
    scope: consumer.scope,
    baseUrl: sandbox.url,
    tls: loadTlsIdentity({ certFile: consumer.certFile, keyFile: consumer.keyFile, caFile: consumer.caFile }),
    ...overrides,
  };
}

describe('consumer client against the real authorization server and app', () => {
  it('gets a token with mTLS client authentication, then reuses it from the cache', async () => {
    const client = new ConsumerClient(consumerOptions());
    const first = await client.token();
    expect(first.fromCache).toBe(false);
    expect(first.tokenType).toMatch(/^bearer$/i);
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 60_000);
    const second = await client.token();
    expect(second).toMatchObject({ fromCache: true, accessToken: first.accessToken });
    expect((await client.token({ fresh: true })).accessToken).not.toBe(first.accessToken);
  });

  it('lists the datasets and streams one byte for byte', async () => {
    const client = new ConsumerClient(consumerOptions());
    const names = (await client.listDatasets()).map((d) => d.name).sort();
    expect(names).toEqual(['carbon-intensity', 'generation-mix', 'half-hourly-consumption']);
    const res = await client.getDataset('half-hourly-consumption');
    expect(res.status).toBe(200);
    expect(await readText(res.body, 10_000_000)).toBe(readFileSync(join(sampleData, 'half-hourly-consumption.csv'), 'utf8'));
  });

  it('replaces a cached token the provider no longer accepts (revoked, or from a restarted server) and retries once', async () => {
    const stale = { accessToken: 'revoked-or-unknown-token', tokenType: 'Bearer', expiresAt: Date.now() + 600_000 };
    const stored: string[] = [];
    const cache = { get: () => (stored.length ? undefined : stale), set: (_k: string, t: { accessToken: string }) => void stored.push(t.accessToken), delete: () => undefined };
    const names = (await new ConsumerClient(consumerOptions({ cache })).listDatasets()).map((d) => d.name);
    expect(names).toContain('carbon-intensity');
    expect(stored).toHaveLength(1);
    expect(stored[0]).not.toBe(stale.accessToken);
  });

  it('reports an unknown dataset as HTTP 404', async () => {
    const error = await new ConsumerClient(consumerOptions()).getDataset('no-such-dataset').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAnswerError);
    expect((error as ProviderAnswerError).status).toBe(404);
  });

  it('reports an unregistered client id with the token endpoint\'s invalid_client', async () => {
    const error = await new ConsumerClient(consumerOptions({ clientId: 'nobody' })).token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAnswerError);
    expect(error).toMatchObject({ error: 'invalid_client' });
    expect((error as ProviderAnswerError).hint).toMatch(/--client-id/);
  });

  it('reports a token presented with another certificate as invalid_token (RFC 8705 binding)', async () => {
    const token = await new ConsumerClient(consumerOptions()).token();
    // the provider's own certificate is trusted by the terminator, but the token is not bound to it
    const pki = join(stateDir, 'pki');
    const url = `${sandbox.url}carbon-intensity`;
    const res = await httpsRequest({
      url,
      tls: loadTlsIdentity({ certFile: join(pki, 'provider.crt'), keyFile: join(pki, 'provider.key'), caFile: sandbox.state.consumer.caFile }),
      headers: { authorization: `Bearer ${token.accessToken}` },
    });
    const error = httpErrorFrom(res.status, url, res.headers, await readText(res.body), true);
    expect(error).toBeInstanceOf(ProviderAnswerError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_token' });
    expect((error as ProviderAnswerError).errorDescription).toBeTruthy();
    expect(error.hint).toMatch(/same --cert/);
  });

  it('says it is us who refuse a server certificate from a CA we do not trust', async () => {
    const stranger = createRootCa({ subject: { commonName: 'Stranger CA' } });
    const client = new ConsumerClient(consumerOptions({ tls: { ...consumerOptions().tls, ca: stranger.certPem } }));
    const error = await client.token().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TlsRejectedError);
    expect((error as TlsRejectedError).side).toBe('client');
  });

  it('says it is the server that refuses a client certificate from another CA', async () => {
    const foreign = mkdtempSync(join(tmpdir(), 'foreign-pki-'));
    try {
      const { createDevSet } = await import('../../testing/pki/dev-set');
      const set = createDevSet(foreign, { organization: 'Foreign' });
      // token from the sandbox issuer with our own identity, then the resource with a foreign cert
      const token = await new ConsumerClient(consumerOptions()).token();
      const client = new ConsumerClient(consumerOptions({
        tls: { cert: set.consumer.certPem, key: set.consumer.keyPem, ca: readFileSync(sandbox.state.consumer.caFile, 'utf8') },
        cache: { get: () => token, set: () => undefined, delete: () => undefined },
      }));
      const error = await client.listDatasets().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TlsRejectedError);
      expect((error as TlsRejectedError).side).toBe('server');
    } finally {
      rmSync(foreign, { recursive: true, force: true });
    }
  });
});

describe('client CLI next to the sandbox (no options)', () => {
  const cli = (args: string[]) => runClientCliCaptured([...args, '--sandbox-dir', stateDir]);

  it('token: prints the token, its expiry, and caches it in a 0600 file', async () => {
    const first = await cli(['token', '--fresh']);
    expect(first.code).toBe(0);
    expect(first.out.trim()).toMatch(/^\S{20,}$/);
    expect(first.err).toMatch(/^Bearer token for sandbox-consumer \(scope: .+\), expires in \d+s at \d{4}-/i);
    const second = await cli(['token']);
    expect(second.out).toBe(first.out);
    expect(second.err).toMatch(/from cache/);
    expect(statSync(join(stateDir, 'client', 'tokens.json')).mode & 0o777).toBe(0o600);
    const json = await cli(['token', '--json']);
    expect(JSON.parse(json.out)).toEqual({
      access_token: first.out.trim(),
      token_type: expect.stringMatching(/^bearer$/i),
      expires_in: expect.any(Number),
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      scope: 'datasets:read',
    });
  });

  it('list and get -o write what the provider serves', async () => {
    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^carbon-intensity\b/m);
    const out = join(stateDir, 'mix.csv');
    const get = await cli(['get', 'generation-mix', '-o', out]);
    expect(get.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(sampleData, 'generation-mix.csv'), 'utf8'));
  });

  it('get of a missing dataset exits 1 with the HTTP status and leaves no file', async () => {
    const out = join(stateDir, 'missing.csv');
    const get = await cli(['get', 'missing', '-o', out]);
    expect(get.code).toBe(1);
    expect(get.err).toMatch(/^error: HTTP 404 from https:\/\/localhost:\d+\/missing/);
    expect(() => statSync(out)).toThrow();
    expect(() => statSync(`${out}.partial`)).toThrow();
  });
});
