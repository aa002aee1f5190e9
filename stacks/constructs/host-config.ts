/**
 * The host configuration: a NON-secret SSM String parameter in the env-file format that
 * host/scripts/lib/common.sh reads (load_host_env), copied by the bootstrap into
 * /etc/provider-host/host.env. It carries every
 * value Terraform knows only at apply time (bucket, bundle key), so the user data stays
 * static and a deploy that changes only the bundle or data does not touch the instance.
 */
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';

/** The keys, in file order. */
export interface HostEnv {
  readonly PH_DOMAIN: string;
  readonly PH_REGION: string;
  readonly PH_BUCKET: string;
  readonly PH_BUNDLE_KEY: string;
  readonly PH_TRUST_BUNDLE_KEY: string;
  readonly PH_DATA_PREFIX: string;
  readonly PH_PUBLIC_PREFIX: string;
  readonly PH_LE_BACKUP_PREFIX: string;
  readonly PH_ACME_EMAIL: string;
  readonly PH_ACME_STAGING: 'true' | 'false';
  readonly PH_ACME_SERVER: string;
  readonly PH_ISSUER: string;
  readonly PH_CLIENT_ID: string;
  readonly PH_SCOPE: string;
  readonly PH_TLS_CERT_PARAM: string;
  readonly PH_TLS_KEY_PARAM: string;
  readonly PH_APP_INSTANCES: string;
  readonly PH_AUTHZ_CACHE_SECONDS: string;
  readonly PH_DNS_WAIT_SECONDS: string;
  readonly PH_HOST_CONFIG_PARAM: string;
}

/** The characters the host's bootstrap accepts unquoted (it re-checks before sourcing). */
const SHELL_SAFE = /^[A-Za-z0-9._:/@%+,=-]*$/;

/** Renders `KEY=value` lines. Literal values must be shell-safe; tokens resolve at apply time. */
export function renderHostEnv(env: HostEnv): string {
  const lines = Object.entries(env).map(([key, value]: [string, string]) => {
    if (!Token.isUnresolved(value) && !SHELL_SAFE.test(value)) {
      throw new Error(`host config ${key}=${JSON.stringify(value)} is not shell-safe; only letters, digits and . _ : / @ % + , = - are allowed`);
    }
    return `${key}=${value}`;
  });
  return `${lines.join('\n')}\n`;
}

export interface HostConfigProps {
  /** Full parameter name, e.g. /provider-host/example/host-config. */
  readonly parameterName: string;
  readonly env: HostEnv;
}

export class HostConfig extends Construct {
  readonly parameter: SsmParameter;

  constructor(scope: Construct, id: string, props: HostConfigProps) {
    super(scope, id);
    this.parameter = new SsmParameter(this, 'parameter', {
      name: props.parameterName,
      type: 'String',
      tier: 'Standard',
      description: 'Provider Host configuration (non-secret env file read by the host bootstrap)',
      value: renderHostEnv(props.env),
    });
  }
}
