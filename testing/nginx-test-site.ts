/**
 * The values of an mTLS site for a real-nginx test: everything under `dir` (tls/server.crt,
 * tls/server.key, tls/client-ca.crt, logs/, public/, data/, acme/, authz-cache/,
 * revocation/), the repository's snippets and error pages, loopback listeners on the
 * given ports (the second listener of each on a second loopback address, as the host has
 * an IPv6 one). `overrides` replaces any of them.
 */
import { join } from 'node:path';
import { writeRevocationNginxFiles } from '../nginx/revocation';
import { nginxSourceDir, type MtlsSiteValues } from '../nginx/sites';
import { secondLoopbackListen } from './replica/loopback';

export interface TestSitePorts {
  readonly https: number;
  readonly http: number;
}

export async function testSiteValues(dir: string, ports: TestSitePorts, appSocket: string, overrides: Partial<MtlsSiteValues> = {}): Promise<MtlsSiteValues> {
  return {
    serverName: 'localhost',
    httpListenV4: `127.0.0.1:${ports.http}`,
    httpListenV6: await secondLoopbackListen(ports.http),
    httpsListenV4: `127.0.0.1:${ports.https}`,
    httpsListenV6: await secondLoopbackListen(ports.https),
    httpsOrigin: `https://localhost:${ports.https}`,
    acmeWebroot: join(dir, 'acme'),
    logDir: join(dir, 'logs'),
    snippetsDir: join(nginxSourceDir(), 'snippets'),
    errorPagesDir: join(nginxSourceDir(), 'errors'),
    sslCertificate: join(dir, 'tls', 'server.crt'),
    sslCertificateKey: join(dir, 'tls', 'server.key'),
    clientCa: join(dir, 'tls', 'client-ca.crt'),
    publicRoot: join(dir, 'public'),
    appSocket,
    datasetsDir: join(dir, 'data'),
    authzCacheDir: join(dir, 'authz-cache'),
    revocationDir: overrides.revocationDir ?? writeRevocationNginxFiles(join(dir, 'revocation')),
    ...overrides,
  };
}
