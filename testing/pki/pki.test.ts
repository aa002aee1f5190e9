import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { createDevSet } from './dev-set';
import { createIntermediateCa, createRootCa, issueClientCert, issueServerCert, subjectDn, thumbprintS256, writeCertSet } from './index';

const root = createRootCa({ subject: { commonName: 'Test Root', organization: 'Test' } });
const intermediate = createIntermediateCa(root, { subject: { commonName: 'Test Issuing', organization: 'Test' } });

describe('certificate authorities', () => {
  it('root is self-signed CA, intermediate is signed by the root', () => {
    const rootX = new X509Certificate(root.certPem);
    const interX = new X509Certificate(intermediate.certPem);
    expect(rootX.ca).toBe(true);
    expect(rootX.verify(rootX.publicKey)).toBe(true);
    expect(interX.ca).toBe(true);
    expect(interX.checkIssued(rootX)).toBe(true);
    expect(interX.verify(rootX.publicKey)).toBe(true);
    expect(intermediate.chainPem).toBe(intermediate.certPem);
  });
});

describe('server certificates', () => {
  it('carry the DNS and IP SANs and chain to the intermediate', () => {
    const server = issueServerCert(intermediate, { commonName: 'example.test', dnsNames: ['example.test'], ipAddresses: ['127.0.0.1'] });
    const x = new X509Certificate(server.certPem);
    expect(x.subjectAltName).toContain('DNS:example.test');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x.checkHost('example.test')).toBe('example.test');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.verify(new X509Certificate(intermediate.certPem).publicKey)).toBe(true);
    expect(server.chainPem).toBe(server.certPem + intermediate.certPem);
  });

  it('refuse to be issued without any SAN', () => {
    expect(() => issueServerCert(intermediate, { commonName: 'x' })).toThrow(/dnsNames\/ipAddresses/);
  });
});

describe('client certificates', () => {
  it('carry the chosen subject and can be already expired', () => {
    const expired = issueClientCert(intermediate, {
      subject: { commonName: 'old', organization: 'Org', country: 'GB' },
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    const x = new X509Certificate(expired.certPem);
    expect(subjectDn(expired.certPem)).toBe('CN=old,O=Org,C=GB');
    expect(new Date(x.validTo).getTime()).toBeLessThan(Date.now());
  });

  it('rejects a validity that ends before it starts', () => {
    expect(() => issueClientCert(intermediate, { subject: { commonName: 'x' }, notBefore: new Date(2030, 1, 1), notAfter: new Date(2029, 1, 1) })).toThrow(
      /notAfter .* must be after notBefore/,
    );
  });
});

describe('thumbprintS256', () => {
  it('is base64url of the SHA-256 of the DER', () => {
    const client = issueClientCert(intermediate, { subject: { commonName: 'c' } });
    const hex = new X509Certificate(client.certPem).fingerprint256.replace(/:/g, '');
    expect(thumbprintS256(client.certPem)).toBe(Buffer.from(hex, 'hex').toString('base64url'));
    expect(thumbprintS256(client.certPem)).not.toBe(thumbprintS256(root.certPem));
  });

  it('fails clearly on text without a certificate', () => {
    expect(() => thumbprintS256('nope')).toThrow(/no PEM certificate/);
  });
});

describe('writeCertSet and createDevSet', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes keys with mode 0600 and certificates readable', () => {
    writeCertSet(dir, { ca: root });
    expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca.crt')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).toBe(root.certPem);
  });

  it('rejects a name that would escape the folder', () => {
    expect(() => writeCertSet(dir, { '../x': root })).toThrow(/invalid file name/);
  });

  it('produces a set that completes a real mutual-TLS handshake', async () => {
    const set = createDevSet(dir);
    const manifest = JSON.parse(readFileSync(set.files.manifest!, 'utf8'));
    expect(manifest.consumer.x5tS256).toBe(thumbprintS256(set.consumer.certPem));
    expect(manifest.provider.subjectDn).toBe('CN=provider,O=Provider Host Dev');
    for (const name of ['root-ca', 'intermediate-ca', 'server', 'provider', 'consumer']) {
      expect(statSync(join(dir, `${name}.key`)).mode & 0o777).toBe(0o600);
    }
    const rootOnly = readFileSync(join(dir, 'root-ca.crt'), 'utf8');
    const server = tls.createServer({
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.chain.crt')),
      ca: rootOnly,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peers: string[] = [];
    server.on('secureConnection', (socket) => {
      peers.push(socket.getPeerX509Certificate()?.subject ?? '');
      socket.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const client = tls.connect({
        host: '127.0.0.1',
        port,
        ca: rootOnly,
        key: readFileSync(join(dir, 'consumer.key')),
        cert: readFileSync(join(dir, 'consumer.chain.crt')),
      });
      await once(client, 'secureConnect');
      expect(client.authorized).toBe(true);
      client.resume();
      await once(client, 'end');
      client.destroy();
      expect(peers[0]).toContain('CN=consumer');
    } finally {
      server.close();
    }
  });
});
