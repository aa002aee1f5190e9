/** `nginx -t` on both rendered sites, with the production listen addresses. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueServerCert } from '../testing/pki';
import { createNginxPrefix, testNginxConfig, type NginxPrefix } from '../testing/replica/nginx-process';
import { nginxSourceDir, renderBootstrapSite, renderMtlsSite, type MtlsSiteValues } from './sites';
import { writeRevocationNginxFiles } from './revocation';

let dir: string;
let nginx: NginxPrefix;
let values: MtlsSiteValues;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-t-'));
  for (const sub of ['tls', 'logs', 'public', 'data', 'acme']) mkdirSync(join(dir, sub));
  const ca = createRootCa({ subject: { commonName: 'Test CA' } });
  const server = issueServerCert(ca, { commonName: 'provider.example.com', dnsNames: ['provider.example.com'] });
  writeFileSync(join(dir, 'tls', 'fullchain.pem'), server.chainPem);
  writeFileSync(join(dir, 'tls', 'privkey.pem'), server.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'tls', 'trust-bundle.pem'), ca.certPem);
  nginx = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  values = {
    serverName: 'provider.example.com',
    httpListenV4: '80',
    httpListenV6: '[::]:80',
    httpsListenV4: '443',
    httpsListenV6: '[::]:443',
    httpsOrigin: 'https://provider.example.com',
    acmeWebroot: join(dir, 'acme'),
    logDir: join(dir, 'logs'),
    snippetsDir: join(nginxSourceDir(), 'snippets'),
    errorPagesDir: join(nginxSourceDir(), 'errors'),
    sslCertificate: join(dir, 'tls', 'fullchain.pem'),
    sslCertificateKey: join(dir, 'tls', 'privkey.pem'),
    clientCa: join(dir, 'tls', 'trust-bundle.pem'),
    publicRoot: join(dir, 'public'),
    appSocket: '/run/provider/provider.sock',
    datasetsDir: join(dir, 'data'),
    authzCacheDir: join(dir, 'authz-cache'),
    revocationDir: writeRevocationNginxFiles(join(dir, 'revocation')),
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function installSite(text: string): void {
  writeFileSync(join(nginx.confDir, 'provider.conf'), text);
}

describe('nginx -t', () => {
  it('accepts the bootstrap site', () => {
    installSite(renderBootstrapSite(values));
    expect(testNginxConfig(nginx)).toContain('test is successful');
  });

  it('accepts the mTLS site', () => {
    installSite(renderMtlsSite(values));
    expect(testNginxConfig(nginx)).toContain('test is successful');
  });

  it('rejects the mTLS site when the trust bundle is missing (the check can fail)', () => {
    installSite(renderMtlsSite({ ...values, clientCa: join(dir, 'tls', 'missing.pem') }));
    expect(() => testNginxConfig(nginx)).toThrow(/missing\.pem/);
  });
});

describe('rendered mTLS site', () => {
  it('verifies clients against the configured bundle only, through intermediates', () => {
    const site = renderMtlsSite(values);
    expect(site).toMatch(/^\s*ssl_verify_client optional;$/m);
    // none sent: refused for all but /ping (mtls-site.test.ts tries it)
    expect(site).toMatch(/"~\^NONE \/ping\$" "";/);
    expect(site).toContain(`ssl_client_certificate ${values.clientCa};`);
    expect(site).not.toMatch(/ca-certificates|ca-bundle\.crt|\/etc\/ssl\/certs/);
    expect(Number(/ssl_verify_depth (\d+);/.exec(site)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('listens on IPv4 and IPv6 with http2', () => {
    const site = renderMtlsSite(values);
    expect(site).toContain('listen 443 ssl http2 default_server;');
    expect(site).toContain('listen [::]:443 ssl http2 default_server;');
  });
});
