/**
 * Where things are on this host: paths, listen addresses, the app's socket. Their
 * defaults live in one place, host/scripts/lib/common.sh (set_defaults), because the
 * bash steps create and own those paths; the scripts pass them to the renderer in its
 * environment, and the renderer requires each (no second default here).
 * host-layout.test.ts fails when a name here has no default there.
 */
export const LAYOUT_VARIABLES = [
  'PH_CURRENT',
  'PH_SRV',
  'PH_SOCKET',
  'PH_SECRETS_DIR',
  'PH_TRUST_BUNDLE',
  'PH_NGINX_SHARE',
  'PH_NGINX_LOG_DIR',
  'PH_NGINX_AUTHZ_CACHE_DIR',
  'PH_HTTP_LISTEN_V4',
  'PH_HTTP_LISTEN_V6',
  'PH_HTTPS_LISTEN_V4',
  'PH_HTTPS_LISTEN_V6',
  'PH_HTTPS_ORIGIN',
  'PH_ACME_WEBROOT',
  'PH_LE_LIVE',
  'PH_REVOCATION_DIR',
  // The app's own state (the ib1 heartbeat's), shared by its PM2 workers.
  'PH_APP_STATE_DIR',
] as const;

export type HostLayout = { readonly [K in (typeof LAYOUT_VARIABLES)[number]]: string };

export class LayoutError extends Error {
  constructor(missing: readonly string[]) {
    super(`the host scripts did not pass ${missing.join(', ')} (host/scripts/lib/common.sh sets them)`);
    this.name = 'LayoutError';
  }
}

export function readLayout(env: Readonly<Record<string, string | undefined>>): HostLayout {
  const missing = LAYOUT_VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) throw new LayoutError(missing);
  return Object.fromEntries(LAYOUT_VARIABLES.map((name) => [name, env[name] as string])) as HostLayout;
}
