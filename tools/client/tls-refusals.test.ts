import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRootCa, issueClientCert, issueServerCert } from '../../testing/pki';
import { ClientError, ProviderAnswerError, TlsRejectedError } from './errors';
import { httpErrorFrom } from './http-errors';
import { httpsRequest, readText } from './https-request';

// GIVEN a real mTLS server (Node https, client certificate required) and certificates
// from two unrelated CAs
const trusted = createRootCa({ subject: { commonName: 'Trusted Test CA' } });
const stranger = createRootCa({ subject: { commonName: 'Stranger Test CA' } });
const serverCert = issueServerCert(trusted, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const goodClient = issueClientCert(trusted, { subject: { commonName: 'consumer' } });
const foreignClient = issueClientCert(stranger, { subject: { commonName: 'intruder' } });
const expiredClient = issueClientCert(trusted, {
  subject: { commonName: 'old-consumer' },
  notBefore: new Date(Date.now() - 10 * 86_400_000),
  notAfter: new Date(Date.now() - 86_400_000),
});

async function startServer(cert: { chainPem: string; keyPem: string }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(
    { cert: cert.chainPem, key: cert.keyPem, ca: trusted.certPem, requestCert: true, rejectUnauthorized: true },
    (_req, res) => res.end('hello'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let main: { url: string; close(): Promise<void> };
let url: string;

beforeAll(async () => {
  main = await startServer(serverCert);
  url = main.url;
});

afterAll(async () => {
  await main.close();
});

async function refusal(tls: { cert?: string; key?: string; ca?: string }, target = url): Promise<TlsRejectedError> {
  const error = await httpsRequest({ url: target, tls }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TlsRejectedError);
  return error as TlsRejectedError;
}

describe('TLS refusals say which side refused', () => {
  it('succeeds with the right CA and a trusted client certificate (the control case)', async () => {
    const res = await httpsRequest({ url, tls: { cert: goodClient.certPem, key: goodClient.keyPem, ca: trusted.certPem } });
    expect(res.status).toBe(200);
    expect(await readText(res.body)).toBe('hello');
  });

  it('we reject a server certificate from a CA we do not trust', async () => {
    const error = await refusal({ cert: goodClient.certPem, key: goodClient.keyPem, ca: stranger.certPem });
    expect(error.side).toBe('client');
    expect(error.message).toMatch(/TLS refused by us: the server certificate of 127\.0\.0\.1:\d+ was rejected/);
    expect(error.hint).toMatch(/--ca/);
  });

  it('we reject a server certificate issued for another name', async () => {
    const elsewhere = issueServerCert(trusted, { commonName: 'provider.example', dnsNames: ['provider.example'] });
    const other = await startServer(elsewhere);
    try {
      const error = await refusal({ cert: goodClient.certPem, key: goodClient.keyPem, ca: trusted.certPem }, other.url);
      expect(error.side).toBe('client');
      expect(error.reason).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(error.hint).toMatch(/host name/);
    } finally {
      await other.close();
    }
  });

  it('--resolve pins a host name to an address while TLS still checks that name', async () => {
    const named = issueServerCert(trusted, { commonName: 'provider.example', dnsNames: ['provider.example'] });
    const other = await startServer(named);
    try {
      const port = new URL(other.url).port;
      const res = await httpsRequest({
        url: `https://provider.example:${port}/`,
        tls: { cert: goodClient.certPem, key: goodClient.keyPem, ca: trusted.certPem },
        resolve: { 'provider.example': '127.0.0.1' },
      });
      expect([res.status, await readText(res.body)]).toEqual([200, 'hello']);
    } finally {
      await other.close();
    }
  });

  it('the server refuses when we send no client certificate', async () => {
    const error = await refusal({ ca: trusted.certPem });
    expect(error.side).toBe('server');
    expect(error.message).toMatch(/TLS refused by the server .*: it requires a client certificate and none was sent/);
    expect(error.hint).toMatch(/--cert and --key/);
  });

  it('the server refuses a client certificate from a CA it does not trust', async () => {
    const error = await refusal({ cert: foreignClient.certPem, key: foreignClient.keyPem, ca: trusted.certPem });
    expect(error.side).toBe('server');
    // a Node server closes without an alert, an OpenSSL one sends unknown_ca: either way, the server refused
    expect(error.message).toMatch(/not signed by a CA it trusts|rejected our client certificate/);
  });

  it('the server refuses an expired client certificate', async () => {
    const error = await refusal({ cert: expiredClient.certPem, key: expiredClient.keyPem, ca: trusted.certPem });
    expect(error.side).toBe('server');
    expect(error.message).toMatch(/expired|rejected our client certificate/);
  });

  it('a certificate with the wrong key is caught before connecting', async () => {
    const error = await httpsRequest({ url, tls: { cert: goodClient.certPem, key: foreignClient.keyPem, ca: trusted.certPem } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).message).toBe('The client certificate and private key do not match.');
  });
});

describe('HTTP refusals carry the RFC 6750 error', () => {
  it('reads error and description from WWW-Authenticate', () => {
    const error = httpErrorFrom(
      401,
      'https://p.example/x',
      { 'www-authenticate': 'Bearer realm="provider", error="invalid_token", error_description="token is bound to another certificate"', 'x-fapi-interaction-id': 'abc' },
      '',
      true,
    );
    expect(error).toBeInstanceOf(ProviderAnswerError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_token', errorDescription: 'token is bound to another certificate', interactionId: 'abc' });
    expect(error.message).toBe('HTTP 401 from https://p.example/x (invalid_token: token is bound to another certificate)');
  });

  it('reads error and description from an OAuth JSON body when there is no challenge', () => {
    const error = httpErrorFrom(403, 'https://p.example/x', { 'content-type': 'application/json' }, '{"error":"insufficient_scope","error_description":"needs scope energy"}', true);
    expect(error).toMatchObject({ status: 403, error: 'insufficient_scope', errorDescription: 'needs scope energy' });
    expect(error.hint).toMatch(/--scope/);
  });

  it("turns nginx's client-certificate page into a server-side TLS refusal", () => {
    const body = '{"error":"invalid_client","error_description":"a valid client certificate issued by the trust framework\'s CA is required"}';
    const withCert = httpErrorFrom(400, 'https://p.example/x', { 'content-type': 'application/json' }, body, true);
    expect(withCert).toBeInstanceOf(TlsRejectedError);
    expect((withCert as TlsRejectedError).side).toBe('server');
    const withoutCert = httpErrorFrom(400, 'https://p.example/x', { 'content-type': 'application/json' }, body, false);
    expect(withoutCert.message).toMatch(/none was sent/);
  });
});
