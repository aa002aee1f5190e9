import { AMI_PARAMETER, createEnvironmentFolder, createPki, errors, goodAccount, runPreflight, type EnvironmentFolder, type FakeAccount, type Pki } from '../../testing/preflight-account';

describe('preflight: AMI', () => {
  let pki: Pki;
  let folder: EnvironmentFolder;
  let account: FakeAccount;
  beforeAll(() => {
    pki = createPki();
    folder = createEnvironmentFolder(pki);
  });
  afterAll(() => folder.remove());
  beforeEach(() => {
    account = goodAccount(pki);
  });

  it('reads the parameter of the architecture the instance type implies (x86_64 for t3.small)', async () => {
    const run = await runPreflight(account, ['--config', folder.write({ instance: { type: 't3.small' } })], pki);
    // the fake publishes arm64 only
    expect(run.line('AMI')).toBe(
      '✘ AMI                        /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 does not exist in eu-west-2: AL2023 for x86_64 is not published there; choose another region or instance type',
    );
  });

  it('GIVEN the parameter holds no ami- id THEN ✘', async () => {
    account.ami = 'none';
    expect((await runPreflight(account, ['--config', folder.write()], pki)).line('AMI')).toBe(
      `✘ AMI                        ${AMI_PARAMETER} holds "none", not an AMI id; check the region, or report it: the stack relies on this public parameter`,
    );
  });

  it('GIVEN the caller may not read public parameters THEN ✘ naming the permission', async () => {
    account.ami = errors.accessDenied('ssm:GetParameter');
    expect((await runPreflight(account, ['--config', folder.write()], pki)).line('AMI')).toBe(
      `✘ AMI                        cannot read ${AMI_PARAMETER}: access denied (AccessDeniedException): the credentials lack ssm:GetParameter on arn:aws:ssm:eu-west-2::parameter/aws/service/*; add it to the operator's IAM policy`,
    );
  });
});
