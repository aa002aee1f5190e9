import {
  CERT_PARAMETER,
  createEnvironmentFolder,
  createPki,
  daysFromNow,
  errors,
  goodAccount,
  isoDay,
  KEY_PARAMETER,
  runPreflight,
  type EnvironmentFolder,
  type FakeAccount,
  type Pki,
} from '../../testing/preflight-account';

const CERT_PUT = `aws ssm put-parameter --name ${CERT_PARAMETER} --type SecureString`;
const KEY_PUT = `aws ssm put-parameter --name ${KEY_PARAMETER} --type SecureString`;

describe('preflight: transport certificate and key (SSM SecureStrings)', () => {
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
  const run = (overrides: Record<string, unknown> = {}) => runPreflight(account, ['--config', folder.write(overrides)], pki);
  const secure = (Value: string, Tier = 'Standard') => ({ Type: 'SecureString', Tier, Value });
  const certBytes = (pem: string): number => Buffer.byteLength(pem);

  it('GIVEN the certificate parameter does not exist THEN ✘ with the exact put-parameter command', async () => {
    delete account.parameters[CERT_PARAMETER];
    const result = await run();
    expect(result.line('transport certificate')).toBe(
      `✘ transport certificate      ${CERT_PARAMETER} does not exist in eu-west-2; create it: ${CERT_PUT} --value file://transport.crt --region eu-west-2`,
    );
    expect(result.line('transport key')).toBe(`! transport key              ${KEY_PARAMETER}: SecureString (Standard, ${certBytes(pki.leaf.keyPem)} bytes), RSA private key; not matched against the certificate, which failed above`);
    expect(result.code).toBe(1);
  });

  it('GIVEN the key parameter is missing at GetParameter (ParameterNotFound) and a KMS key is configured THEN the command names the key', async () => {
    account.parameters[KEY_PARAMETER] = errors.parameterNotFound();
    const kms = 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const result = await run({ secrets: { kmsKeyArn: kms } });
    expect(result.line('transport key')).toBe(
      `✘ transport key              ${KEY_PARAMETER} does not exist in eu-west-2; create it: ${KEY_PUT} --key-id ${kms} --value file://transport.key --region eu-west-2`,
    );
  });

  it('GIVEN a plain String parameter THEN ✘: recreate it as a SecureString', async () => {
    account.parameters[KEY_PARAMETER] = { Type: 'String', Tier: 'Standard', Value: pki.leaf.keyPem };
    expect((await run()).line('transport key')).toBe(
      `✘ transport key              ${KEY_PARAMETER} is a String, not a SecureString; recreate it encrypted: aws ssm delete-parameter --name ${KEY_PARAMETER} --region eu-west-2 && ${KEY_PUT} --value file://transport.key --region eu-west-2`,
    );
  });

  it('GIVEN GetParameter is denied THEN ✘ naming ssm:GetParameter; a KMS denial names kms:Decrypt', async () => {
    account.parameters[CERT_PARAMETER] = errors.accessDenied(`ssm:GetParameter on resource: arn:aws:ssm:eu-west-2:123456789012:parameter${CERT_PARAMETER}`);
    account.parameters[KEY_PARAMETER] = errors.accessDenied('kms:Decrypt on resource: arn:aws:kms:eu-west-2:123456789012:key/abc');
    const result = await run();
    expect(result.line('transport certificate')).toBe(
      `✘ transport certificate      cannot read ${CERT_PARAMETER}: access denied (AccessDeniedException): the credentials lack ssm:GetParameter on ${CERT_PARAMETER}; add it to the operator's IAM policy`,
    );
    expect(result.line('transport key')).toBe(
      `✘ transport key              cannot read ${KEY_PARAMETER}: access denied (AccessDeniedException): the credentials lack kms:Decrypt on the parameter's KMS key (aws/ssm); add it to the operator's IAM policy`,
    );
  });

  it('GIVEN DescribeParameters is denied THEN ✘ naming ssm:DescribeParameters', async () => {
    account.failing = { DescribeParameters: errors.accessDenied('ssm:DescribeParameters') };
    expect((await run()).line('transport certificate')).toBe(
      `✘ transport certificate      cannot look up ${CERT_PARAMETER}: access denied (AccessDeniedException): the credentials lack ssm:DescribeParameters; add it to the operator's IAM policy`,
    );
  });

  it('GIVEN a Standard-tier value over 4096 bytes THEN ✘ with the --tier Advanced command; the same value in Advanced passes', async () => {
    const big = pki.leaf.chainPem + pki.root.certPem + pki.intermediate.certPem + pki.root.certPem;
    expect(certBytes(big)).toBeGreaterThan(4096);
    account.parameters[CERT_PARAMETER] = secure(big);
    expect((await run()).line('transport certificate')).toBe(
      `✘ transport certificate      ${CERT_PARAMETER} is ${certBytes(big)} bytes, over the Standard tier's 4096; store it in the Advanced tier: ${CERT_PUT} --tier Advanced --overwrite --value file://transport.crt --region eu-west-2`,
    );
    account.parameters[CERT_PARAMETER] = secure(big, 'Advanced');
    expect((await run()).line('transport certificate')).toMatch(new RegExp(`^✔ transport certificate +${CERT_PARAMETER}: SecureString \\(Advanced, ${certBytes(big)} bytes\\), CN=provider\\.energydata\\.org\\.uk \\+ 4 intermediates`));
  });

  it('GIVEN a key that does not match the certificate THEN ✘', async () => {
    account.parameters[KEY_PARAMETER] = secure(pki.other.keyPem);
    const result = await run();
    expect(result.line('transport key')).toBe(
      `✘ transport key              ${KEY_PARAMETER}: SecureString (Standard, ${certBytes(pki.other.keyPem)} bytes), RSA private key that does not match the certificate in ${CERT_PARAMETER}; store the key the certificate was issued for (or the certificate issued for this key): ${KEY_PUT} --overwrite --value file://transport.key --region eu-west-2`,
    );
    expect(result.line('transport certificate')).toMatch(/^✔ /);
    expect(result.code).toBe(1);
  });

  it('GIVEN an expired certificate THEN ✘ with the renewal command', async () => {
    account.parameters[CERT_PARAMETER] = secure(pki.expired.certPem);
    account.parameters[KEY_PARAMETER] = secure(pki.expired.keyPem);
    const result = await run();
    expect(result.line('transport certificate')).toBe(
      `✘ transport certificate      ${CERT_PARAMETER}: SecureString (Standard, ${certBytes(pki.expired.certPem)} bytes), CN=provider.energydata.org.uk, expired on ${isoDay(daysFromNow(-10))}; renew it and store the new one: ${CERT_PUT} --overwrite --value file://transport.crt --region eu-west-2`,
    );
    expect(result.line('transport key')).toMatch(/^✔ transport key .* RSA private key matching the certificate$/);
  });

  it('GIVEN a certificate expiring in 3 days THEN ✘ (within --fail-days 7)', async () => {
    account.parameters[CERT_PARAMETER] = secure(pki.inThreeDays.chainPem);
    account.parameters[KEY_PARAMETER] = secure(pki.inThreeDays.keyPem);
    const result = await run();
    expect(result.line('transport certificate')).toBe(
      `✘ transport certificate      ${CERT_PARAMETER}: SecureString (Standard, ${certBytes(pki.inThreeDays.chainPem)} bytes), CN=provider.energydata.org.uk + 1 intermediate, expires ${isoDay(daysFromNow(3))} (in 3 days); renew it and store the new one: ${CERT_PUT} --overwrite --value file://transport.crt --region eu-west-2`,
    );
    expect(result.code).toBe(1);
  });

  it('GIVEN a certificate expiring in 20 days THEN ! (within --warn-days 30), exit 0; --warn-days 10 makes it ✔', async () => {
    account.parameters[CERT_PARAMETER] = secure(pki.inTwentyDays.chainPem);
    account.parameters[KEY_PARAMETER] = secure(pki.inTwentyDays.keyPem);
    const result = await run();
    expect(result.line('transport certificate')).toBe(
      `! transport certificate      ${CERT_PARAMETER}: SecureString (Standard, ${certBytes(pki.inTwentyDays.chainPem)} bytes), CN=provider.energydata.org.uk + 1 intermediate, expires ${isoDay(daysFromNow(20))} (in 20 days); renew it soon`,
    );
    expect(result.code).toBe(0);
    const relaxed = await runPreflight(account, ['--config', folder.write(), '--warn-days', '10'], pki);
    expect(relaxed.line('transport certificate')).toMatch(/^✔ transport certificate .* \(in 20 days\)$/);
  });

  it('GIVEN the certificate parameter holds the key (no certificate) THEN ✘ naming what it found, not the text', async () => {
    account.parameters[CERT_PARAMETER] = secure(pki.leaf.keyPem);
    expect((await run()).line('transport certificate')).toBe(
      `✘ transport certificate      ${CERT_PARAMETER} does not hold a PEM certificate chain: block 1 is a "PRIVATE KEY", not a CERTIFICATE; store the certificate, leaf first, then its intermediates: ${CERT_PUT} --overwrite --value file://transport.crt --region eu-west-2`,
    );
  });

  it('GIVEN the key parameter holds something that is not a private key THEN ✘', async () => {
    account.parameters[KEY_PARAMETER] = secure(pki.leaf.certPem);
    expect((await run()).line('transport key')).toBe(
      `✘ transport key              ${KEY_PARAMETER} does not hold a PEM private key; store the key the certificate was issued for: ${KEY_PUT} --overwrite --value file://transport.key --region eu-west-2`,
    );
  });
});
