/**
 * provider.json on the host: the contract's settings the app needs, placed in this host's
 * layout, checked by the app's own schema before it is written, so a value the app
 * would refuse at start-up stops the setup instead.
 */
import type { z } from 'zod';
import type { HostSettings } from '../../contract/host-settings';
import { parseProviderConfig, type providerConfigSchema } from '../../provider-app/config';
import { DATASETS_LOCATION } from '../../nginx/sites';
import type { HostLayout } from './host-layout';

export type ProviderConfigInput = z.input<typeof providerConfigSchema>;

export function appConfig(settings: HostSettings, layout: HostLayout): ProviderConfigInput {
  const config: ProviderConfigInput = {
    socket: layout.PH_SOCKET,
    dataDir: `${layout.PH_SRV}/shared_data`,
    issuer: settings.issuer,
    clientId: settings.clientId,
    tlsCert: `${layout.PH_SECRETS_DIR}/transport.crt`,
    tlsKey: `${layout.PH_SECRETS_DIR}/transport.key`,
    ...(settings.issuerCaFile !== undefined ? { tlsCa: settings.issuerCaFile } : {}),
    ...(settings.scope !== undefined ? { scope: settings.scope } : {}),
    ...(settings.accelRedirect ? { accelRedirectPrefix: DATASETS_LOCATION } : {}),
    authzCacheSeconds: settings.authzCacheSeconds,
    ...trustFrameworkConfig(settings, layout),
  };
  // Throws the app's own ConfigError, one line per problem.
  parseProviderConfig(config, '/');
  return config;
}

/**
 * The profile and token checks. ib1 adds the heartbeat: the nginx access log it counts
 * responses from (the app user reads it through an ACL, host/scripts/lib/accounts.sh) and
 * a folder all PM2 workers share for its state.
 */
function trustFrameworkConfig(settings: HostSettings, layout: HostLayout): Partial<ProviderConfigInput> {
  return {
    profile: settings.trustProfile,
    tokenValidation: settings.tokenValidation,
    ...(settings.tokenValidation === 'jwt' ? { tokenAlgorithms: settings.tokenAlgorithms.split(',') } : {}),
    ...(settings.tokenAudience !== undefined ? { tokenAudience: settings.tokenAudience } : {}),
    ...(settings.trustProfile === 'ib1'
      ? { heartbeatPath: settings.heartbeatPath, accessLogFile: accessLogFile(layout), stateDir: layout.PH_APP_STATE_DIR }
      : {}),
  };
}

/** nginx's JSON access log (the sites' `access_log {{log_dir}}/access.json.log`). */
export const accessLogFile = (layout: HostLayout): string => `${layout.PH_NGINX_LOG_DIR}/access.json.log`;
