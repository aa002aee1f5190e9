/**
 * AWS SDK errors turned into one line: the problem and the fix. Credential problems
 * point at `aws configure` / AWS_PROFILE, a denied call names the missing IAM
 * permission, a network failure says so. Never a stack trace.
 */

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly Code?: unknown;
  readonly message?: unknown;
}

/** The error's AWS name, e.g. `ParameterNotFound`, `InvalidSubnetID.NotFound`. */
export function awsErrorName(error: unknown): string {
  const e = (error ?? {}) as SdkErrorShape;
  for (const candidate of [e.name, e.Code, e.code]) {
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return 'Error';
}

function firstLine(error: unknown, max = 200): string {
  const message = String((error as SdkErrorShape | undefined)?.message ?? error).split('\n')[0] ?? '';
  return message.length > max ? `${message.slice(0, max - 1)}…` : message;
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess', 'AuthorizationError']);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const REFUSED = new Set(['InvalidClientTokenId', 'UnrecognizedClientException', 'SignatureDoesNotMatch', 'AuthFailure', 'InvalidAccessKeyId', 'IncompleteSignature']);
const NETWORK = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'TimeoutError', 'NetworkingError', 'RequestTimeout']);

export function isAccessDenied(error: unknown): boolean {
  return ACCESS_DENIED.has(awsErrorName(error));
}

const CONFIGURE = 'run "aws configure" or set AWS_PROFILE=<profile> (after "aws sso login --profile <profile>" for SSO)';

/** The problem and the fix when `error` is about the credentials themselves; undefined otherwise. */
export function credentialProblem(error: unknown): string | undefined {
  const name = awsErrorName(error);
  if (name === 'CredentialsProviderError') {
    return `no usable AWS credentials (${firstLine(error)}); ${CONFIGURE}`;
  }
  if (EXPIRED.has(name)) {
    return `the AWS credentials have expired (${name}); refresh them ("aws sso login --profile <profile>" or a new session token) or ${CONFIGURE}`;
  }
  if (REFUSED.has(name)) {
    return `AWS refused the credentials (${name}): the access key is unknown or the secret is wrong; ${CONFIGURE}`;
  }
  return undefined;
}

/**
 * One line for a failed call: credentials, a missing `permission` (e.g.
 * `ssm:GetParameter`), the network, or else the error's name and first message line.
 * AWS messages never carry parameter values; callers still never pass a value in.
 */
export function describeAwsFailure(error: unknown, permission: string): string {
  const credentials = credentialProblem(error);
  if (credentials) return credentials;
  const name = awsErrorName(error);
  if (isAccessDenied(error)) {
    return `access denied (${name}): the credentials lack ${permission}; add it to the operator's IAM policy`;
  }
  if (NETWORK.has(name)) return `cannot reach AWS (${name}: ${firstLine(error)}); check the network, proxy and region`;
  return `${name}: ${firstLine(error)}`;
}
