/**
 * The transport certificate and key, two SSM SecureStrings created out of band: they
 * exist, are SecureStrings, fit their tier, parse, match each other, and the
 * certificate is not about to expire. Values are read to be checked and never shown:
 * no line, message or error here contains a parameter's value.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { DescribeParametersCommand, GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { awsErrorName, describeAwsFailure } from './aws-errors';
import { fail, pass, warn, type CheckResult } from './check-result';
import { expiry, parsePemCertificates, subjectName } from './pem-certificates';

const CERT = 'transport certificate';
const KEY = 'transport key';

/** Parameter Store value limits per tier, in bytes. */
export const TIER_LIMITS: Readonly<Record<string, number>> = { Standard: 4096, Advanced: 8192 };

export interface SecretSettings {
  readonly region: string;
  /** `secrets.tlsCertParameter` */
  readonly certParameter: string;
  /** `secrets.tlsKeyParameter` */
  readonly keyParameter: string;
  /** `secrets.kmsKeyArn`, for the put-parameter commands. */
  readonly kmsKeyArn?: string;
  readonly warnDays: number;
  readonly failDays: number;
  readonly now: Date;
}

interface Parameter {
  readonly name: string;
  /** The file name the put-parameter fix reads (`file://transport.crt`). */
  readonly file: string;
  readonly lineName: string;
}

type Read = { readonly ok: true; readonly value: string; readonly summary: string } | { readonly ok: false; readonly result: CheckResult };

/** `aws ssm put-parameter --name … --type SecureString … --value file://… --region …` */
function putCommand(parameter: Parameter, settings: SecretSettings, extra = ''): string {
  const kms = settings.kmsKeyArn ? ` --key-id ${settings.kmsKeyArn}` : '';
  return `aws ssm put-parameter --name ${parameter.name} --type SecureString${kms}${extra} --value file://${parameter.file} --region ${settings.region}`;
}

/** Both lines: the certificate's, then the key's (checked against the certificate). */
export async function checkSecrets(ssm: SSMClient, settings: SecretSettings): Promise<[CheckResult, CheckResult]> {
  const certParameter: Parameter = { name: settings.certParameter, file: 'transport.crt', lineName: CERT };
  const keyParameter: Parameter = { name: settings.keyParameter, file: 'transport.key', lineName: KEY };
  const certRead = await readSecureString(ssm, certParameter, settings);
  const keyRead = await readSecureString(ssm, keyParameter, settings);
  const cert = certRead.ok ? checkCertificate(certParameter, certRead, settings) : { result: certRead.result };
  const key = keyRead.ok ? checkKey(keyParameter, keyRead, settings, cert.leaf) : keyRead.result;
  return [cert.result, key];
}

async function readSecureString(ssm: SSMClient, parameter: Parameter, settings: SecretSettings): Promise<Read> {
  const { name, lineName } = parameter;
  const notFound = (): Read => ({ ok: false, result: fail(lineName, `${name} does not exist in ${settings.region}; create it: ${putCommand(parameter, settings)}`) });
  let type: string | undefined;
  let tier: string;
  try {
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }] }));
    const found = described.Parameters?.[0];
    if (!found) return notFound();
    type = found.Type;
    tier = found.Tier ?? 'Standard';
  } catch (error) {
    return { ok: false, result: fail(lineName, `cannot look up ${name}: ${describeAwsFailure(error, 'ssm:DescribeParameters')}`) };
  }
  if (type !== 'SecureString') {
    return {
      ok: false,
      result: fail(lineName, `${name} is a ${type ?? 'parameter of unknown type'}, not a SecureString; recreate it encrypted: aws ssm delete-parameter --name ${name} --region ${settings.region} && ${putCommand(parameter, settings)}`),
    };
  }
  let value: string;
  try {
    value = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value ?? '';
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') return notFound();
    const kms = /kms/i.test(String((error as Error | undefined)?.message ?? ''));
    const permission = kms ? `kms:Decrypt on the parameter's KMS key (${settings.kmsKeyArn ?? 'aws/ssm'})` : `ssm:GetParameter on ${name}`;
    return { ok: false, result: fail(lineName, `cannot read ${name}: ${describeAwsFailure(error, permission)}`) };
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  const limit = TIER_LIMITS[tier] ?? TIER_LIMITS.Standard!;
  if (bytes > TIER_LIMITS.Advanced!) {
    return {
      ok: false,
      result: fail(lineName, `${name} is ${bytes} bytes, over the ${TIER_LIMITS.Advanced} bytes even the Advanced tier allows; store the leaf and its intermediates only (no root, no comments): ${putCommand(parameter, settings, ' --tier Advanced --overwrite')}`),
    };
  }
  if (bytes > limit) {
    return {
      ok: false,
      result: fail(lineName, `${name} is ${bytes} bytes, over the ${tier} tier's ${limit}; store it in the Advanced tier: ${putCommand(parameter, settings, ' --tier Advanced --overwrite')}`),
    };
  }
  return { ok: true, value, summary: `${name}: SecureString (${tier}, ${bytes} bytes)` };
}

function checkCertificate(parameter: Parameter, read: Read & { ok: true }, settings: SecretSettings): { result: CheckResult; leaf?: X509Certificate } {
  const overwrite = putCommand(parameter, settings, ' --overwrite');
  const parsed = parsePemCertificates(read.value);
  if (!parsed.ok) {
    return { result: fail(CERT, `${parameter.name} does not hold a PEM certificate chain: ${parsed.problem}; store the certificate, leaf first, then its intermediates: ${overwrite}`) };
  }
  const [leaf, ...intermediates] = parsed.certificates as [X509Certificate, ...X509Certificate[]];
  const chain = intermediates.length > 0 ? ` + ${intermediates.length} intermediate${intermediates.length > 1 ? 's' : ''}` : '';
  const expires = expiry(leaf, settings.now, settings);
  const detail = `${read.summary}, ${subjectName(leaf)}${chain}, ${expires.text}`;
  if (expires.status === 'fail') return { result: fail(CERT, `${detail}; renew it and store the new one: ${overwrite}`), leaf };
  if (expires.status === 'warn') return { result: warn(CERT, `${detail}; renew it soon`), leaf };
  return { result: pass(CERT, detail), leaf };
}

function checkKey(parameter: Parameter, read: Read & { ok: true }, settings: SecretSettings, leaf: X509Certificate | undefined): CheckResult {
  const overwrite = putCommand(parameter, settings, ' --overwrite');
  let key: KeyObject;
  try {
    key = createPrivateKey(read.value);
  } catch (error) {
    // The error may describe the input; only its code is used.
    if ((error as NodeJS.ErrnoException).code === 'ERR_MISSING_PASSPHRASE') {
      return fail(KEY, `${parameter.name} is an encrypted private key; the host needs it unencrypted: "openssl pkey -in encrypted.key -out ${parameter.file}", then ${overwrite}`);
    }
    return fail(KEY, `${parameter.name} does not hold a PEM private key; store the key the certificate was issued for: ${overwrite}`);
  }
  const kind = `${(key.asymmetricKeyType ?? 'unknown').toUpperCase()} private key`;
  if (!leaf) return warn(KEY, `${read.summary}, ${kind}; not matched against the certificate, which failed above`);
  if (!leaf.checkPrivateKey(key)) {
    return fail(KEY, `${read.summary}, ${kind} that does not match the certificate in ${settings.certParameter}; store the key the certificate was issued for (or the certificate issued for this key): ${overwrite}`);
  }
  return pass(KEY, `${read.summary}, ${kind} matching the certificate`);
}
