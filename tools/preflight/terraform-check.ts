import { MIN_TERRAFORM_VERSION, satisfiesTerraformVersion } from '../../stacks/lib/terraform-version';
import type { RunTerraformVersion } from './aws-clients';
import { fail, pass, warn, type CheckResult } from './check-result';

const NAME = 'terraform';
const INSTALL = 'https://developer.hashicorp.com/terraform/install';

const LABEL: Record<string, string> = { terraform: 'Terraform', tofu: 'OpenTofu' };

/**
 * The Terraform binary cdktf deploy runs is new enough: `terraform`, or `tofu` when
 * terraform is missing; `binaryName` (TERRAFORM_BINARY_NAME, as cdktf reads it) when set.
 */
export async function checkTerraform(run: RunTerraformVersion, binaryName?: string): Promise<CheckResult> {
  const candidates = binaryName ? [binaryName] : ['terraform', 'tofu'];
  for (const binary of candidates) {
    let stdout: string;
    try {
      stdout = await run(binary);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return fail(NAME, `"${binary} version -json" failed (${(error as Error).message.split('\n')[0]}); reinstall Terraform ≥ ${MIN_TERRAFORM_VERSION} (${INSTALL})`);
    }
    let version: unknown;
    try {
      version = (JSON.parse(stdout) as { terraform_version?: unknown }).terraform_version;
    } catch {
      version = undefined;
    }
    const label = LABEL[binary] ?? binary;
    if (typeof version !== 'string') {
      return fail(NAME, `"${binary} version -json" printed no version (Terraform before 0.13 has no -json); install Terraform ≥ ${MIN_TERRAFORM_VERSION} (${INSTALL})`);
    }
    if (!satisfiesTerraformVersion(version)) {
      return fail(NAME, `${label} ${version} is older than ${MIN_TERRAFORM_VERSION}, which the synthesized stack requires; upgrade: ${INSTALL}`);
    }
    if (binary === 'tofu' && !binaryName) {
      return warn(NAME, `terraform not found, OpenTofu ${version} is; set TERRAFORM_BINARY_NAME=tofu so that cdktf deploy uses it`);
    }
    return pass(NAME, `${label} ${version} (≥ ${MIN_TERRAFORM_VERSION})`);
  }
  const which = binaryName ? `${binaryName} (TERRAFORM_BINARY_NAME)` : 'terraform (or tofu)';
  return fail(NAME, `${which} not found; install Terraform ≥ ${MIN_TERRAFORM_VERSION} (${INSTALL}) and put it on PATH — cdktf deploy needs it`);
}
