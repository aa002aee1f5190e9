/** The nginx sites' values on the host: the contract's settings placed in this host's layout. */
import type { HostSettings } from '../../contract/host-settings';
import type { BootstrapSiteValues, MtlsSiteValues } from '../../nginx/sites';
import type { HostLayout } from './host-layout';

export function bootstrapSiteValues(settings: HostSettings, layout: HostLayout): BootstrapSiteValues {
  return {
    serverName: settings.domain,
    httpListenV4: layout.PH_HTTP_LISTEN_V4,
    httpListenV6: layout.PH_HTTP_LISTEN_V6,
    acmeWebroot: layout.PH_ACME_WEBROOT,
    logDir: layout.PH_NGINX_LOG_DIR,
    snippetsDir: `${layout.PH_NGINX_SHARE}/snippets`,
  };
}

export function mtlsSiteValues(settings: HostSettings, layout: HostLayout): MtlsSiteValues {
  return {
    ...bootstrapSiteValues(settings, layout),
    httpsListenV4: layout.PH_HTTPS_LISTEN_V4,
    httpsListenV6: layout.PH_HTTPS_LISTEN_V6,
    httpsOrigin: layout.PH_HTTPS_ORIGIN,
    sslCertificate: `${layout.PH_LE_LIVE}/fullchain.pem`,
    sslCertificateKey: `${layout.PH_LE_LIVE}/privkey.pem`,
    clientCa: layout.PH_TRUST_BUNDLE,
    errorPagesDir: `${layout.PH_NGINX_SHARE}/errors`,
    publicRoot: `${layout.PH_SRV}/public`,
    appSocket: layout.PH_SOCKET,
    datasetsDir: `${layout.PH_SRV}/shared_data`,
    authzCacheDir: layout.PH_NGINX_AUTHZ_CACHE_DIR,
    rateLimitPerClient: settings.rateLimitPerClient,
    rateLimitPerAddress: settings.rateLimitPerAddress,
    rateLimitBurst: settings.rateLimitBurst,
    connLimitPerAddress: settings.connLimitPerAddress,
    revocationDir: layout.PH_REVOCATION_DIR,
    trustProfile: settings.trustProfile,
    heartbeatPath: settings.heartbeatPath,
  };
}
