import { createServer, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRootCa, issueClientCert, issueServerCert, type IssuedCertificate } from '../../testing/pki';
import { checkClientCertificateRequired } from './client-certificate-required-check';
import { checkDns } from './dns-check';
import { checkServerCertificate } from './server-certificate-check';
import { checkTlsVersions } from './tls-versions-check';
import type { VerifyTarget } from './verify-target';

// Real TLS servers (Node https) standing in for good and bad deployments.
const ca = createRootCa({ subject: { commonName: 'Verify Test CA' } });
const otherCa = createRootCa({ subject: { commonName: 'Unrelated CA' } });
const consumer = issueClientCert(ca, { subject: { commonName: 'consumer' } });
const serverFor = (days: number): IssuedCertificate =>
  issueServerCert(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: days });

const servers: Server[] = [];

async function serve(cert: IssuedCertificate, extra: ServerOptions = {}, handler = (_req: unknown, res: { end(b: string): void }) => res.end('ok')): Promise<number> {
  const server = createServer({ cert: cert.chainPem, key: cert.keyPem, ca: ca.certPem, minVersion: 'TLSv1.2', ...extra }, handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function target(port: number, caPem = ca.certPem, hostname = '127.0.0.1'): VerifyTarget {
  return {
    url: new URL(`https://${hostname}:${port}/`),
    hostname,
    port,
    resolve: hostname === '127.0.0.1' ? undefined : { [hostname]: '127.0.0.1' },
    tls: { ca: caPem, cert: consumer.certPem, key: consumer.keyPem },
    timeoutMs: 5000,
  };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('verify: DNS', () => {
  it('passes for an IP literal and for localhost, fails for a name that does not exist', async () => {
    expect((await checkDns(target(1))).status).toBe('pass');
    const localhost = await checkDns({ ...target(1), hostname: 'localhost', resolve: undefined });
    expect(localhost).toMatchObject({ status: 'pass' });
    expect(localhost.detail).toMatch(/^localhost → /);
    const missing = await checkDns({ ...target(1), hostname: 'no-such-host.invalid', resolve: undefined });
    expect(missing.status).toBe('fail');
    expect(missing.detail).toMatch(/no-such-host\.invalid does not resolve/);
  });
});

describe('verify: server certificate', () => {
  let longLived: number;
  beforeAll(async () => {
    longLived = await serve(serverFor(90));
  });

  it('passes with days left when trusted, valid for the name and far from expiry', async () => {
    const result = await checkServerCertificate(target(longLived), { warnDays: 30, failDays: 7 });
    expect(result.status).toBe('pass');
    expect(result.detail).toMatch(/^valid for 127\.0\.0\.1, issued by Verify Test CA, expires \d{4}-\d\d-\d\d \((89|90) days left\)$/);
  });

  it('fails when signed by a CA we do not trust', async () => {
    const result = await checkServerCertificate(target(longLived, otherCa.certPem), { warnDays: 30, failDays: 7 });
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/^not trusted: .*--ca/);
  });

  it('fails when the certificate is not for the host name', async () => {
    const result = await checkServerCertificate(target(longLived, ca.certPem, 'provider.example'), { warnDays: 30, failDays: 7 });
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/^not valid for provider\.example/);
  });

  it('warns inside the warning window and fails inside the failure window', async () => {
    const port = await serve(serverFor(20));
    expect((await checkServerCertificate(target(port), { warnDays: 30, failDays: 7 })).status).toBe('warn');
    expect((await checkServerCertificate(target(port), { warnDays: 30, failDays: 25 })).status).toBe('fail');
  });
});

describe('verify: TLS versions', () => {
  it('passes when only TLS 1.2 and 1.3 are offered', async () => {
    const result = await checkTlsVersions(target(await serve(serverFor(90))));
    expect(result.status).toBe('pass');
    expect(result.detail).toMatch(/^TLSv1 no, TLSv1\.1 no, TLSv1\.2 yes \(.+\), TLSv1\.3 yes$/);
  });

  it('fails when the server still accepts TLS 1.0 and 1.1', async () => {
    const port = await serve(serverFor(90), { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const result = await checkTlsVersions(target(port));
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/TLSv1 accepted, TLSv1\.1 accepted; want 1\.2 and 1\.3 only$/);
  });

  it('fails when TLS 1.3 is missing', async () => {
    const result = await checkTlsVersions(target(await serve(serverFor(90), { maxVersion: 'TLSv1.2' })));
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/TLSv1\.3 refused/);
  });
});

describe('verify: a request without a client certificate', () => {
  it('passes when the server refuses it in the handshake', async () => {
    const port = await serve(serverFor(90), { requestCert: true, rejectUnauthorized: true });
    const result = await checkClientCertificateRequired(target(port));
    expect(result.status).toBe('pass');
    expect(result.detail).toMatch(/refused in the TLS handshake/);
  });

  it('fails when the server answers it', async () => {
    const port = await serve(serverFor(90));
    const result = await checkClientCertificateRequired(target(port));
    expect(result).toEqual({ name: 'no client cert → refused', status: 'fail', detail: expect.stringMatching(/^HTTP 200 for GET .*\/datasets without a client certificate$/) });
  });
});
