/**
 * The two nginx sites and the values they need, typed: the one mapping from values to
 * placeholders, used on the host (host/render/host-render.ts, shipped in the bundle)
 * and by the tests, the replica and the dev sandbox.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HOST_SETTINGS } from '../contract/host-settings';
import type { TrustProfile } from '../contract/rules';
import { renderTemplateFile } from '../lib/render-template';

/**
 * The internal location of the mTLS site from which nginx sends a dataset the app
 * allowed (`X-Accel-Redirect: /_datasets/<name>.csv`): the app's accelRedirectPrefix.
 */
export const DATASETS_LOCATION = '/_datasets/';

/**
 * The host's take-over of the distribution's default server on port 80 (AL2023's
 * /etc/nginx/nginx.conf declares `listen 80 default_server;` and `listen [::]:80
 * default_server;` in its own server block): an extended (`sed -E`) expression that
 * drops `default_server` from every uncommented `listen` line, so the sites' own default
 * server (which closes the connection) is the only one; nginx -t refuses them otherwise.
 * Idempotent. The host runs `sed -i -E "$expr" /etc/nginx/nginx.conf` and installs
 * `snippets/close-connection.conf` as `/etc/nginx/default.d/provider-host.conf`, so the
 * distribution's server (`server_name _`) closes its connections too. Proved in
 * nginx/mtls-hardening.test.ts; docs/host.md "Hardening (nginx)".
 */
export const TAKE_OVER_DEFAULT_SERVER_SED = 's/^([[:space:]]*listen[[:space:]][^;#]*)[[:space:]]+default_server([^;#]*;)/\\1\\2/';

/** Values of the bootstrap (HTTP-only, ACME) site. */
export interface BootstrapSiteValues {
  /** The provider's DNS name, e.g. `provider.example.com`. */
  readonly serverName: string;
  /** @default `80` */
  readonly httpListenV4: string;
  /** @default `[::]:80` */
  readonly httpListenV6: string;
  /** certbot's webroot (`--webroot -w`). */
  readonly acmeWebroot: string;
  /** Folder for `access.json.log`. */
  readonly logDir: string;
  /** Folder holding `nginx/snippets/*.conf`. */
  readonly snippetsDir: string;
}

/** Values of the mutual-TLS provider site. */
export interface MtlsSiteValues extends BootstrapSiteValues {
  /** @default `443` */
  readonly httpsListenV4: string;
  /** @default `[::]:443` */
  readonly httpsListenV6: string;
  /** Where port 80 redirects to, without a trailing slash, e.g. `https://provider.example.com`. */
  readonly httpsOrigin: string;
  readonly sslCertificate: string;
  readonly sslCertificateKey: string;
  /** The trust framework's client-CA bundle: the ONLY CAs accepted for client certificates. */
  readonly clientCa: string;
  /** Folder holding `nginx/errors/*.json`. */
  readonly errorPagesDir: string;
  /** Static files served before the app (`try_files $uri @app`). */
  readonly publicRoot: string;
  /** The app's UNIX socket. */
  readonly appSocket: string;
  /** The datasets folder: nginx sends dataset files from it (after the app's decision, or its X-Accel-Redirect). */
  readonly datasetsDir: string;
  /**
   * nginx's cache of the app's authorization answers (`proxy_cache_path`). nginx creates it
   * (its parent must exist) and makes it its workers'. It holds no token.
   */
  readonly authzCacheDir: string;
  /**
   * Requests per second from one verified client certificate (limit_req); over it and the
   * burst, nginx answers 429 with `errors/429.json`.
   * @default the contract's `rateLimitPerClient`
   */
  readonly rateLimitPerClient?: number;
  /** Requests per second from one IP address. @default the contract's `rateLimitPerAddress` */
  readonly rateLimitPerAddress?: number;
  /** Requests over either rate still answered at once (burst, nodelay). @default the contract's `rateLimitBurst` */
  readonly rateLimitBurst?: number;
  /** Connections (HTTP/2: requests in progress) open at once from one IP address. @default the contract's `connLimitPerAddress` */
  readonly connLimitPerAddress?: number;
  /**
   * The folder of the revocation files the site includes (nginx/revocation.ts:
   * revocation-http.conf, revocation-server.conf); both must exist before `nginx -t`.
   */
  readonly revocationDir: string;
  /**
   * The trust framework profile: its TLS snippet (`snippets/tls-<profile>.conf`) and who
   * refuses a request without a client certificate (open-energy: nginx; ib1: the app,
   * which serves open datasets to anyone). @default the contract's `trustProfile`
   */
  readonly trustProfile?: TrustProfile;
  /** The path the app answers as the ib1 heartbeat (never a dataset read). @default the contract's `heartbeatPath` */
  readonly heartbeatPath?: string;
}

/** Whether nginx itself refuses a request that came without a client certificate (but /ping). */
export function nginxRefusesMissingCertificate(profile: TrustProfile): boolean {
  return profile === 'open-energy';
}

/** The `nginx/` source folder, whether running from source (ts-jest) or from `dist/`. */
export function nginxSourceDir(): string {
  const candidates = [__dirname, resolve(__dirname, '..', '..', 'nginx')];
  const found = candidates.find((dir) => existsSync(join(dir, 'templates', 'mtls-site.conf.tmpl')));
  if (!found) throw new Error(`nginx templates not found next to ${__dirname}; run from the repository`);
  return found;
}

/** `templatesDir`: the folder of the `.conf.tmpl` files (the bundle's `nginx/templates` on the host). */
export function renderBootstrapSite(values: BootstrapSiteValues, templatesDir = join(nginxSourceDir(), 'templates')): string {
  return renderTemplateFile(join(templatesDir, 'bootstrap-site.conf.tmpl'), bootstrapPlaceholders(values));
}

export function renderMtlsSite(values: MtlsSiteValues, templatesDir = join(nginxSourceDir(), 'templates')): string {
  return renderTemplateFile(join(templatesDir, 'mtls-site.conf.tmpl'), {
    ...bootstrapPlaceholders(values),
    https_listen_v4: values.httpsListenV4,
    https_listen_v6: values.httpsListenV6,
    https_origin: values.httpsOrigin,
    ssl_certificate: values.sslCertificate,
    ssl_certificate_key: values.sslCertificateKey,
    client_ca: values.clientCa,
    error_pages_dir: values.errorPagesDir,
    public_root: values.publicRoot,
    app_socket: values.appSocket,
    datasets_dir: values.datasetsDir,
    authz_cache_dir: values.authzCacheDir,
    rate_limit_per_client: String(values.rateLimitPerClient ?? HOST_SETTINGS.rateLimitPerClient.default),
    rate_limit_per_address: String(values.rateLimitPerAddress ?? HOST_SETTINGS.rateLimitPerAddress.default),
    rate_limit_burst: String(values.rateLimitBurst ?? HOST_SETTINGS.rateLimitBurst.default),
    conn_limit_per_address: String(values.connLimitPerAddress ?? HOST_SETTINGS.connLimitPerAddress.default),
    revocation_dir: values.revocationDir,
    ...profilePlaceholders(values),
  });
}

function profilePlaceholders(values: MtlsSiteValues): Record<string, string> {
  const profile = values.trustProfile ?? (HOST_SETTINGS.trustProfile.default as TrustProfile);
  return {
    trust_profile: profile,
    // nginx's `if` is false for "0".
    refuse_missing_certificate: nginxRefusesMissingCertificate(profile) ? '1' : '0',
    // Inside a regular expression of the site: only the contract's plain segments.
    heartbeat_path: HOST_SETTINGS.heartbeatPath.rule.parse(values.heartbeatPath ?? HOST_SETTINGS.heartbeatPath.default),
  };
}

function bootstrapPlaceholders(values: BootstrapSiteValues): Record<string, string> {
  return {
    server_name: values.serverName,
    http_listen_v4: values.httpListenV4,
    http_listen_v6: values.httpListenV6,
    acme_webroot: values.acmeWebroot,
    log_dir: values.logDir,
    snippets_dir: values.snippetsDir,
  };
}
