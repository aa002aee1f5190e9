/**
 * Renders the cloud-config user data from host/cloud-init.yaml with STATIC values
 * only, and checks what EC2 and cloud-init require: the `#cloud-config` first line,
 * at most 16 KB raw, and no secret. Shipped base64-encoded so Terraform never reads
 * the `${VAR}` of the embedded script as an interpolation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../lib/input-error';
import { HOST_TIMING, LOCK_WAIT_SECONDS } from '../contract/host-timing';
import { renderTemplate } from '../lib/render-template';

/**
 * What the host installs with dnf (AL2023 package names), besides what the AMI has
 * (awscli-2, curl-minimal, util-linux's flock and runuser). Every command the host
 * scripts call comes from here or from the AMI: tar (certificate backup), diffutils
 * (cmp: idempotent writes), unzip (the bundle), nftables (the rule set that keeps the app
 * user from the instance metadata), logrotate (the PM2 logs and the scripts' own),
 * amazon-cloudwatch-agent (ships the logs, memory and disk to CloudWatch: docs/operations.md)
 * and acl (setfacl: the agent's user may read exactly the logs it ships).
 * certbot's nginx plugin is not among them: certbot uses webroot, nginx is configured
 * by the project's own templates.
 */
export function hostPackages(nodeMajor: number): string[] {
  return ['nginx', 'certbot', `nodejs${nodeMajor}`, `nodejs${nodeMajor}-npm`, 'unzip', 'tar', 'diffutils', 'awscli-2', 'nftables', 'logrotate', 'amazon-cloudwatch-agent', 'acl'];
}

/** EC2's limit on raw user data. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

export interface UserDataProps {
  /** Path of host/cloud-init.yaml. */
  readonly templateFile: string;
  /** Path of host/bootstrap.sh, embedded as /usr/local/sbin/provider-host-bootstrap. */
  readonly bootstrapFile: string;
  /** host/systemd: the setup-retry unit and timer template. */
  readonly systemdDir: string;
  readonly region: string;
  readonly hostConfigParameter: string;
  readonly nodeMajor: number;
  readonly pm2Version: string;
}

export function renderUserData(props: UserDataProps): string {
  const { systemdDir } = props;
  const retryTimer = renderTemplate(
    fs.readFileSync(path.join(systemdDir, 'provider-host-setup-retry.timer.tmpl'), 'utf8'),
    { retry_seconds: String(HOST_TIMING.setupRetrySeconds) },
    { source: 'provider-host-setup-retry.timer.tmpl' },
  );
  const rendered = renderTemplate(
    fs.readFileSync(props.templateFile, 'utf8'),
    {
      region: props.region,
      host_config_parameter: props.hostConfigParameter,
      node_major: String(props.nodeMajor),
      pm2_version: props.pm2Version,
      packages: hostPackages(props.nodeMajor).join(','),
      package_attempts: String(HOST_TIMING.packageAttempts),
      lock_wait_seconds: String(LOCK_WAIT_SECONDS),
      bootstrap_script: fs.readFileSync(props.bootstrapFile, 'utf8'),
      setup_retry_service: fs.readFileSync(path.join(systemdDir, 'provider-host-setup-retry.service'), 'utf8'),
      setup_retry_timer: retryTimer,
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
