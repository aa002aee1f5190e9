/**
 * The Terraform (or OpenTofu) version the synthesized JSON needs: `terraform_data` with
 * `replace_triggered_by` (1.4), `import`-era state handling and provider 6.x's protocol.
 * Written into the JSON as `required_version`, so an older binary stops at `init`
 * instead of failing half-way through an apply; `preflight` checks the same bound.
 */
export const MIN_TERRAFORM_VERSION = '1.5.0';
export const REQUIRED_TERRAFORM_VERSION = `>= ${MIN_TERRAFORM_VERSION}`;

/** True when `version` ("1.11.4", "v1.6.0-rc1") is at least MIN_TERRAFORM_VERSION. */
export function satisfiesTerraformVersion(version: string): boolean {
  const parse = (v: string): number[] => (v.replace(/^v/, '').match(/^(\d+)\.(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
  const have = parse(version);
  const need = parse(MIN_TERRAFORM_VERSION);
  if (have.length !== 3) return false;
  for (let i = 0; i < 3; i += 1) {
    if (have[i] !== need[i]) return (have[i] as number) > (need[i] as number);
  }
  return true;
}
