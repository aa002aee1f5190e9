import { checkTerraform } from './terraform-check';
import { createEnvironmentFolder, createPki, goodAccount, runPreflight, terraformJson, type EnvironmentFolder, type Pki } from '../../testing/preflight-account';

/** A runner that knows only `installed` binaries; the others are ENOENT, like execFile. */
const runner = (installed: Record<string, string>) => async (binary: string): Promise<string> => {
  const output = installed[binary];
  if (output === undefined) throw Object.assign(new Error(`spawn ${binary} ENOENT`), { code: 'ENOENT' });
  return output;
};

describe('preflight: terraform', () => {
  it('1.11.4 → ✔', async () => {
    expect(await checkTerraform(runner({ terraform: terraformJson('1.11.4') }))).toEqual({ name: 'terraform', status: 'pass', detail: 'Terraform 1.11.4 (≥ 1.5.0)' });
  });

  it('1.4.7 → ✘ with the upgrade link', async () => {
    expect(await checkTerraform(runner({ terraform: terraformJson('1.4.7') }))).toEqual({
      name: 'terraform',
      status: 'fail',
      detail: 'Terraform 1.4.7 is older than 1.5.0, which the synthesized stack requires; upgrade: https://developer.hashicorp.com/terraform/install',
    });
  });

  it('neither terraform nor tofu → ✘ "not found" with the install fix', async () => {
    expect(await checkTerraform(runner({}))).toEqual({
      name: 'terraform',
      status: 'fail',
      detail: 'terraform (or tofu) not found; install Terraform ≥ 1.5.0 (https://developer.hashicorp.com/terraform/install) and put it on PATH — cdktf deploy needs it',
    });
  });

  it('only tofu → ! cdktf needs TERRAFORM_BINARY_NAME=tofu; with it set → ✔', async () => {
    const tofu = runner({ tofu: terraformJson('1.8.3') });
    expect(await checkTerraform(tofu)).toEqual({ name: 'terraform', status: 'warn', detail: 'terraform not found, OpenTofu 1.8.3 is; set TERRAFORM_BINARY_NAME=tofu so that cdktf deploy uses it' });
    expect(await checkTerraform(tofu, 'tofu')).toEqual({ name: 'terraform', status: 'pass', detail: 'OpenTofu 1.8.3 (≥ 1.5.0)' });
    expect(await checkTerraform(runner({ terraform: terraformJson('1.11.4') }), 'tofu')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^tofu \(TERRAFORM_BINARY_NAME\) not found; /) });
  });

  it('output without a version → ✘', async () => {
    expect(await checkTerraform(runner({ terraform: 'Terraform v0.12.31\n' }))).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^"terraform version -json" printed no version/) });
  });

  describe('through the CLI', () => {
    let pki: Pki;
    let folder: EnvironmentFolder;
    beforeAll(() => {
      pki = createPki();
      folder = createEnvironmentFolder(pki);
    });
    afterAll(() => folder.remove());

    it.each([
      ['1.4.7', '✘ terraform                  Terraform 1.4.7 is older than 1.5.0, which the synthesized stack requires; upgrade: https://developer.hashicorp.com/terraform/install', 1],
      ['1.11.4', '✔ terraform                  Terraform 1.11.4 (≥ 1.5.0)', 0],
      [undefined, '✘ terraform                  terraform (or tofu) not found; install Terraform ≥ 1.5.0 (https://developer.hashicorp.com/terraform/install) and put it on PATH — cdktf deploy needs it', 1],
    ])('terraform %s → %s', async (version, line, code) => {
      const account = goodAccount(pki);
      account.terraform = version === undefined ? {} : { terraform: terraformJson(version) };
      const run = await runPreflight(account, ['--config', folder.write()], pki);
      expect(run.line('terraform')).toBe(line);
      expect(run.code).toBe(code);
    });

    it('TERRAFORM_BINARY_NAME from the environment picks the binary', async () => {
      const account = goodAccount(pki);
      account.terraform = { tofu: terraformJson('1.9.0') };
      const run = await runPreflight(account, ['--config', folder.write()], pki, { env: { TERRAFORM_BINARY_NAME: 'tofu' } });
      expect(run.line('terraform')).toBe('✔ terraform                  OpenTofu 1.9.0 (≥ 1.5.0)');
    });
  });
});
