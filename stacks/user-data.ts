/**
 * Renders the cloud-config user data from host/cloud-init.yaml with STATIC values
 * only, and checks what EC2 and cloud-init require: the `#cloud-config` first line,
 * at most 16 KB raw, and no secret. Shipped base64-encoded so Terraform never reads
 * the `${VAR}` of the embedded script as an interpolation.
 */
import * as fs from 'node:fs';
import { InputError } from './lib/input-error';
import { renderTemplate } from '../nginx/render-template';

/** EC2's limit on raw user data. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface UserDataProps {
  /** Path of host/cloud-init.yaml. */
  readonly templateFile: string;
  /** Path of host/bootstrap.sh, embedded as /usr/local/sbin/provider-host-bootstrap. */
  readonly bootstrapFile: string;
  readonly region: string;
  readonly hostConfigParameter: string;
  readonly nodeMajor: number;
  readonly pm2Version: string;
}

export function renderUserData(props: UserDataProps): string {
  const rendered = renderTemplate(
    fs.readFileSync(props.templateFile, 'utf8'),
    {
      region: props.region,
      host_config_parameter: props.hostConfigParameter,
      node_major: String(props.nodeMajor),
      pm2_version: props.pm2Version,
      bootstrap_script: fs.readFileSync(props.bootstrapFile, 'utf8'),
    },
    // The script is not an nginx token: checked below (size, no secret) instead.
    { source: props.templateFile, safeValues: false, blocks: true },
  );
  if (!rendered.startsWith('#cloud-config\n')) {
    throw new InputError(`${props.templateFile}: user data must start with "#cloud-config" on its first line`);
  }
  const size = Buffer.byteLength(rendered, 'utf8');
  if (size > USER_DATA_LIMIT_BYTES) {
    throw new InputError(`user data is ${size} bytes; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}. Move logic from host/bootstrap.sh into the bundle's host scripts`);
  }
  if (/PRIVATE KEY/.test(rendered)) {
    throw new InputError('user data contains a private key; secrets belong in SSM SecureString parameters');
  }
  return rendered;
}
