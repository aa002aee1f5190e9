/**
 * The host configuration: a NON-secret SSM String parameter holding the host contract's
 * env file (contract/host-settings.ts), copied by the bootstrap into
 * /etc/provider-host/host.env. It carries every value Terraform knows only at apply time
 * (bucket, bundle key), so the user data stays static and a deploy that changes only
 * the bundle or data does not touch the instance.
 */
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { encodeHostEnv, HostEnvError, type HostSettingsInput } from '../../contract/host-settings';
import { InputError } from '../../lib/input-error';

/** The env file; tokens (bucket name, bundle key) resolve at apply time. */
export function renderHostEnv(settings: HostSettingsInput): string {
  try {
    return encodeHostEnv(settings, { isUnresolved: (value) => Token.isUnresolved(value) });
  } catch (error) {
    if (error instanceof HostEnvError) throw new InputError(`host config: ${error.problems.join('; ')}`);
    throw error;
  }
}

export interface HostConfigProps {
  /** Full parameter name, e.g. /provider-host/example/host-config. */
  readonly parameterName: string;
  readonly settings: HostSettingsInput;
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
      value: renderHostEnv(props.settings),
    });
  }
}
