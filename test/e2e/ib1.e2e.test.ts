/**
 * The ib1 profile (IB1 Trust Framework) end to end, through the replica's real nginx: the
 * host set up by setup.sh with PH_TRUST_PROFILE=ib1, an IB1-shaped ECDSA PKI (trust bundle
 * and CRLs from its Client CAs), the authorization server issuing RFC 9068 JWTs whose
 * client_id is the Directory URL, and the app validating them locally (PH_TOKEN_VALIDATION=jwt).
 * Every property is proven by trying the attack: TLS 1.2, an RSA key, a missing role,
 * another client's token, a forged, unknown-key or expired JWT, no certificate.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { waitFor } from '../../lib/child-process';
import { createIb1Pki, issueIb1Client } from '../../testing/pki/ib1';
import { IB1_SANDBOX } from '../../testing/pki/ib1-set';
import { IB1_REPLICA_DATASETS, IB1_REPLICA_MEMBERS, type Ib1ReplicaMember } from '../../testing/replica/ib1-identities';
import { mtlsRequest, type MtlsRequestOptions, type MtlsResponse } from '../../testing/replica/mtls-request';
import { sampleDatasets, startProviderReplica, type Ib1ReplicaHandle, type ProviderReplica } from '../../testing/replica/provider-replica';

const datasets = sampleDatasets();
const bytesOf = (name: string): Buffer => datasets[`${name}.csv`]!;
const { open: OPEN, gated: GATED, gatedToo: GATED_TOO } = IB1_REPLICA_DATASETS;
const HEARTBEAT = '/heartbeat';
/** Long enough that the heartbeat test's two identical reads share one decision. */
const AUTHZ_CACHE_SECONDS = 10;

let provider: ProviderReplica;
let ib1: Ib1ReplicaHandle;
/** Tokens fetched before the signing key is rotated (signed by the key the app knows). */
let tokens: Record<'consumer' | 'otherRole' | 'secondReader' | 'rsaKey' | 'shortLived', string>;
let siteCaFile: string;
/** Signed by the key rotated in while the JWKS did not list it (the last test reads with it). */
let rotatedToken: string | undefined;

beforeAll(async () => {
  provider = await startProviderReplica({
    datasets,
    profile: 'ib1',
    tokenValidation: 'jwt',
    hostSettings: { authzCacheSeconds: AUTHZ_CACHE_SECONDS },
  });
  ib1 = provider.ib1!;
  const [consumer, otherRole, secondReader, rsaKey, shortLived] = await Promise.all(
    (['consumer', 'other-role', 'second-reader', 'rsa-key', 'short-lived'] as const).map((member) => ib1.token(member)),
  );
  tokens = { consumer: consumer!, otherRole: otherRole!, secondReader: secondReader!, rsaKey: rsaKey!, shortLived: shortLived! };
  siteCaFile = provider.replica.path('site-ca.pem');
  writeFileSync(siteCaFile, provider.siteCaPem);
}, 300000);

afterAll(async () => {
  await provider?.stop();
}, 120000);

/** A request as `member` (its certificate) with `token`; `member: null` sends no certificate. */
function get(path: string, member: Ib1ReplicaMember | null, token?: string, overrides: Partial<MtlsRequestOptions> = {}): Promise<MtlsResponse> {
  const { replica, siteCaPem } = provider;
  const cert = member === null ? undefined : ib1.set.members[member]!;
  return mtlsRequest({
    port: replica.httpsPort,
    path,
    ca: siteCaPem,
    servername: replica.domain,
    ...(cert ? { cert: cert.chainPem, key: cert.keyPem } : {}),
    ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    ...overrides,
  });
}

function statusOf(response: MtlsResponse): number | string {
  return response.ok ? response.status : response.error;
}

/** The RFC 6750 error body of a refusal. */
function errorOf(response: MtlsResponse): { error?: string; error_description?: string } {
  if (!response.ok) throw new Error(`no HTTP answer: ${response.error}`);
  return JSON.parse(response.body.toString('utf8')) as { error?: string; error_description?: string };
}

/** The real curl binary, no client certificate: status and body. */
function curl(path: string): Promise<{ status: number; body: Buffer; stderr: string }> {
  const { replica } = provider;
  return new Promise((resolveCurl, reject) => {
    const child = spawn('curl', [
      '--silent', '--show-error', '--max-time', '10',
      '--cacert', siteCaFile,
      '--resolve', `${replica.domain}:${replica.httpsPort}:127.0.0.1`,
      '--output', '-', '--write-out', '\n%{http_code}',
      `https://${replica.domain}:${replica.httpsPort}${path}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', () => {
      const all = Buffer.concat(out);
      const cut = all.lastIndexOf('\n');
      resolveCurl({ status: Number(all.subarray(cut + 1).toString()), body: all.subarray(0, cut), stderr });
    });
  });
}

/** The TLS session nginx agrees to (or the error): protocol and the server key's type. */
function handshake(options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; minVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<{ protocol: string; keyType: string } | { error: string }> {
  const { replica, siteCaPem } = provider;
  return new Promise((resolveHandshake) => {
    const socket = connect({ host: '127.0.0.1', port: replica.httpsPort, servername: replica.domain, ca: siteCaPem, ...options }, () => {
      const keyType = socket.getPeerX509Certificate()?.publicKey;
      const result = { protocol: socket.getProtocol() ?? '', keyType: `${keyType?.asymmetricKeyType} ${keyType?.asymmetricKeyDetails?.namedCurve ?? ''}`.trim() };
      socket.end();
      resolveHandshake(result);
    });
    socket.setTimeout(10000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', (error) => resolveHandshake({ error: error.message }));
  });
}

describe('TLS (IB1 Baseline TLS Configuration)', () => {
  it('speaks TLS 1.3 with an ECDSA P-256 server certificate, and refuses TLS 1.2', async () => {
    expect(await handshake({ minVersion: 'TLSv1.3' })).toEqual({ protocol: 'TLSv1.3', keyType: 'ec prime256v1' });
    const tls12 = await handshake({ maxVersion: 'TLSv1.2' });
    expect(tls12).toEqual({ error: expect.stringMatching(/protocol version|unsupported protocol|no protocols available/i) });
  });

  it('refuses an RSA client certificate from the trusted Client Issuer, with a valid token, where the ECDSA one reads', async () => {
    const ecdsa = await get(`/${GATED}`, 'consumer', tokens.consumer);
    expect(statusOf(ecdsa)).toBe(200);
    const rsa = await get(`/${GATED}`, 'rsa-key', tokens.rsaKey);
    // Refused in the handshake (no ECDSA signature algorithm for its key) or answered 4xx: never the data.
    if (rsa.ok) {
      expect(rsa.status).toBeGreaterThanOrEqual(400);
      expect(rsa.status).toBeLessThan(500);
      expect(rsa.body.equals(bytesOf(GATED))).toBe(false);
    } else {
      expect(rsa.error).toMatch(/alert|handshake|certificate|signature|socket hang up|ECONNRESET/i);
    }
  });
});

describe('JWT access tokens, validated locally (RFC 9068)', () => {
  it('the replica issues ES256 at+jwt tokens whose client_id is the Directory URL and scope the licence', () => {
    expect(decodeProtectedHeader(tokens.consumer)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeJwt(tokens.consumer)).toMatchObject({ client_id: IB1_REPLICA_MEMBERS.consumer.directoryUrl, scope: IB1_SANDBOX.licence });
  });

  it('refuses a token whose signature does not verify (401 invalid_token)', async () => {
    const [header, payload, signature] = tokens.consumer.split('.') as [string, string, string];
    // Another signature of the right length: the last byte changed.
    const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    const response = await get(`/${GATED}`, 'consumer', forged);
    expect(statusOf(response)).toBe(401);
    expect(errorOf(response)).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/signature/) });
  });

  it('refuses a token signed by a key whose kid the JWKS does not list yet (401), and the key is then published', async () => {
    const kid = await provider.authz.rotateSigningKey();
    const rotated = await ib1.token('consumer');
    expect(decodeProtectedHeader(rotated).kid).toBe(kid);
    const response = await get(`/${GATED}`, 'consumer', rotated);
    expect(statusOf(response)).toBe(401);
    expect(errorOf(response)).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/no key .*JWKS/) });
    rotatedToken = rotated;
    // Published now; the app sees it after its re-fetch cooldown (the last test of this file).
    await provider.authz.publishSigningKeys();
  });

  it('refuses a token whose client_id is another Directory URL than the certificate\'s (401)', async () => {
    const response = await get(`/${GATED}`, 'consumer', tokens.secondReader);
    expect(statusOf(response)).toBe(401);
    expect(errorOf(response)).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/Directory URL/) });
    // The same token with its own certificate reads: the refusal was the mismatch.
    expect(statusOf(await get(`/${GATED}`, 'second-reader', tokens.secondReader))).toBe(200);
  });

  it('refuses an expired token (401, exp)', async () => {
    const exp = decodeJwt(tokens.shortLived).exp!;
    // Past exp and the app's clock tolerance (5 s): bounded by the token's 2 s lifetime.
    const wait = exp * 1000 + 6500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const response = await get(`/${GATED}`, 'short-lived', tokens.shortLived);
    expect(statusOf(response)).toBe(401);
    expect(errorOf(response)).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/expired/) });
  });
});

describe('roles and open data (IB1 role-based access, data provider duties)', () => {
  it('a consumer holding the required role reads a role-gated dataset', async () => {
    const response = await get(`/${GATED}`, 'consumer', tokens.consumer);
    expect(statusOf(response)).toBe(200);
    expect(response.ok && response.body.equals(bytesOf(GATED))).toBe(true);
  });

  it('a consumer without the role gets 403 insufficient_scope naming the missing role', async () => {
    const response = await get(`/${GATED}`, 'other-role', tokens.otherRole);
    expect(statusOf(response)).toBe(403);
    const body = errorOf(response);
    expect(body.error).toBe('insufficient_scope');
    expect(body.error_description).toContain(IB1_SANDBOX.readerRole);
  });

  it('an open dataset downloads with plain curl and no client certificate', async () => {
    const response = await curl(`/${OPEN}`);
    expect(response.stderr).toBe('');
    expect(response.status).toBe(200);
    expect(response.body.equals(bytesOf(OPEN))).toBe(true);
  });

  it('a shared dataset without a client certificate is refused, to curl and with a valid token alike', async () => {
    const response = await curl(`/${GATED}`);
    expect(response.status).toBe(401);
    expect(response.body.includes(bytesOf(GATED))).toBe(false);
    const withToken = await get(`/${GATED}`, null, tokens.consumer);
    expect(statusOf(withToken)).toBe(401);
    expect(errorOf(withToken).error).toBe('invalid_token');
  });
});

describe('heartbeat (IB1 data provider guidance)', () => {
  interface Heartbeat { period_start: string; period_end: string; [count: string]: unknown }
  const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

  async function heartbeat(): Promise<Heartbeat> {
    const response = await get(HEARTBEAT, 'consumer', tokens.consumer);
    expect(statusOf(response)).toBe(200);
    return JSON.parse((response as { body: Buffer }).body.toString('utf8')) as Heartbeat;
  }

  it("counts every response since the previous heartbeat: the app's, nginx's reused decisions and nginx's own refusals", async () => {
    const foreignPki = await createIb1Pki({ trustFramework: 'Foreign' });
    const foreign = await issueIb1Client(foreignPki.issuer, { directoryUrl: IB1_SANDBOX.application(900, 1), memberUrl: IB1_SANDBOX.member(900), roles: [IB1_SANDBOX.readerRole] });
    const accessLog = provider.replica.path('var', 'log', 'nginx', 'access.json.log');
    const logLines = () => readFileSync(accessLog, 'utf8').trim().split('\n');

    await heartbeat();
    const linesBefore = logLines().length;
    const seen = new Map<number, number>();
    const count = (status: number | string) => {
      expect(typeof status).toBe('number');
      seen.set(status as number, (seen.get(status as number) ?? 0) + 1);
    };
    // The same certificate, token and path again and again: once the PM2 workers' caches
    // know the token, nginx reuses the app's decision (authzCacheSeconds) and sends the file itself.
    const reuse = 6;
    for (let i = 0; i < reuse; i += 1) count(statusOf(await get(`/${GATED_TOO}`, 'consumer', tokens.consumer)));
    count(statusOf(await get(`/${GATED}`, 'other-role', tokens.otherRole)));
    count((await curl(`/${OPEN}`)).status);
    count((await curl(`/${GATED}`)).status);
    count(statusOf(await get('/no-such-dataset', 'consumer', tokens.consumer)));
    // A certificate from outside the trust bundle: nginx refuses it itself, the app never sees it.
    count(statusOf(await get(`/${GATED}`, null, tokens.consumer, { cert: foreign.chainPem, key: foreign.keyPem })));
    const made = [...seen.values()].reduce((sum, n) => sum + n, 0);
    // nginx writes a line once the response is out: all of them are there before the heartbeat.
    const reads = await waitFor('the access-log lines of the requests made', () => {
      const lines = logLines().slice(linesBefore).map((line) => JSON.parse(line) as { request: string; authz_cache: string; status: number });
      return lines.length >= made ? lines : undefined;
    }, 5000, 50);
    const stats = await heartbeat();

    const reuseLines = reads.filter((r) => r.request.startsWith(`GET /${GATED_TOO} `));
    expect(reuseLines.map((r) => r.status)).toEqual(Array(reuse).fill(200));
    expect(reuseLines.filter((r) => r.authz_cache === 'HIT').length).toBeGreaterThan(0);
    // nginx's own refusal (the foreign certificate: 400 from its error page) is among them.
    expect(reads.some((r) => r.status === 400)).toBe(true);

    expect(stats.period_start).toMatch(RFC3339);
    expect(stats.period_end).toMatch(RFC3339);
    expect(Date.parse(stats.period_end)).toBeGreaterThanOrEqual(Date.parse(stats.period_start));
    const counted = Object.fromEntries(Object.entries(stats).filter(([key, value]) => /^api_call_response_\d{3}_count$/.test(key) && value !== 0));
    expect(counted).toEqual(Object.fromEntries([...seen].map(([status, n]) => [`api_call_response_${status}_count`, n])));
  });
});

describe('JWKS rotation, completed', () => {
  it('accepts the token signed by the rotated-in key once the app has re-fetched the published JWKS', async () => {
    const rotated = rotatedToken!;
    expect(rotated).toBeDefined();
    // The app re-fetches on an unknown kid at most once per 30 s (per worker): bounded at 70 s.
    const status = await waitFor('the rotated-in key to be accepted', async () => {
      const response = await get(`/${GATED}`, 'consumer', rotated);
      return statusOf(response) === 200 ? 200 : undefined;
    }, 70000, 2000);
    expect(status).toBe(200);
  }, 90000);
});
