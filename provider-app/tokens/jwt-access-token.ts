/**
 * Local validation of JWT access tokens (RFC 9068) against the issuer's JWKS, instead of
 * asking the authorization server (introspection) for every token.
 *
 * Keys come from jose's remote JWKS set: fetched on first use, cached (`cacheMaxAgeMs`),
 * and re-fetched when a token names a key it does not hold — at most once per
 * `refetchCooldownMs` after the last successful fetch, so tokens with made-up `kid`s cannot
 * make us hammer the issuer. A key the issuer rotates in therefore works at once if the
 * last fetch is older than the cooldown, else once the cooldown has passed.
 *
 * The token is never logged, and never part of a description or error.
 *
 * API
 * - `createJwtValidator(options)` → {@link JwtValidator}
 * - `validate(token, { clientCertThumbprintS256?, clientDirectoryUrl? }?)` → {@link JwtValidation};
 *   rejects with AuthorizationServerUnavailable when the JWKS cannot be fetched (503, not 401)
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { AuthorizationServerUnavailable } from '../introspection';

/** Asymmetric JWS algorithms only: HS* would need a secret shared with every client, `none` no key at all. */
const ASYMMETRIC = new Set(['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519']);

export interface JwtValidatorOptions {
  /** Compared exactly with `iss`. */
  readonly issuer: string;
  /** When set, `aud` must name (one of) these; when not, `aud` is not checked. */
  readonly audience?: string | readonly string[];
  readonly jwksUri: string;
  /** Allowed `alg` values. @default ['ES256', 'PS256', 'RS256'] */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew for exp, nbf and iat. @default 5 */
  readonly clockToleranceSeconds?: number;
  /** @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
  /** Least time after a JWKS fetch before an unknown `kid` may cause another. @default 30000 (jose's) */
  readonly refetchCooldownMs?: number;
  /** Keys older than this are re-fetched before use. @default 600000 (jose's) */
  readonly cacheMaxAgeMs?: number;
  /** For each JWKS request. @default 5000 */
  readonly timeoutMs?: number;
}

/** What the caller knows of the client from mutual TLS. */
export interface ClientBinding {
  /** RFC 8705 `x5t#S256` of the presented client certificate. */
  readonly clientCertThumbprintS256?: string;
  /** IB1: the Directory URL in the client certificate, which `client_id` must equal. */
  readonly clientDirectoryUrl?: string;
}

export interface AccessTokenClaims extends JWTPayload {
  readonly iss: string;
  readonly sub: string;
  readonly client_id: string;
  readonly exp: number;
  readonly iat: number;
  readonly scope?: string;
  readonly cnf?: { readonly 'x5t#S256'?: string };
}

export type JwtValidation =
  | { readonly ok: true; readonly claims: AccessTokenClaims }
  | { readonly ok: false; readonly error: 'invalid_token'; /** For people: names the check that failed. */ readonly description: string };

export interface JwtValidator {
  /**
   * Without `binding`, `client_id` and `cnf` are left to the caller (the decision pipeline
   * checks them against the certificate on every request, so a validation can be cached
   * per token); with one, they are checked here.
   */
  validate(token: string, binding?: ClientBinding): Promise<JwtValidation>;
}

/** RFC 9068 §2.2 requires these (and aud, checked when an audience is configured; and jti, which nothing here uses). */
const REQUIRED_CLAIMS = ['iss', 'exp', 'iat', 'sub', 'client_id'];
/** RFC 9068 §4: `at+jwt`, or the full media type `application/at+jwt`; media types ignore case. */
const AT_JWT = new Set(['at+jwt', 'application/at+jwt']);

function refuse(description: string): JwtValidation {
  return { ok: false, error: 'invalid_token', description };
}

/**
 * The description for a jose refusal, written here rather than passed through so that
 * nothing of the token can reach it; undefined when the failure is not the token's fault.
 */
function describeJoseRefusal(error: unknown): string | undefined {
  const { code, claim, reason } = error as { code?: unknown; claim?: unknown; reason?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired (exp)';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return `the token has no "${String(claim)}" claim`;
      if (claim === 'iss') return 'the token was not issued by the configured issuer (iss)';
      if (claim === 'aud') return 'the token is not meant for this resource server (aud)';
      if (claim === 'nbf') return 'the token is not valid yet (nbf)';
      if (claim === 'typ') return 'the token type is not at+jwt (typ, RFC 9068 §4)';
      return `the token's "${String(claim)}" claim is invalid`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return "the token's signature does not verify with the issuer's key";
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return "no key in the issuer's JWKS matches the token (kid, alg)";
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the token is signed with an algorithm that is not allowed (alg)';
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'the token uses a JOSE feature that is not supported';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'the token is not a well-formed signed JWT';
    default:
      return undefined;
  }
}

/** The checks jose does not make: RFC 9068 claim types, iat, and the binding to the client. */
function checkClaims(payload: JWTPayload, binding: ClientBinding | undefined, toleranceSeconds: number): string | AccessTokenClaims {
  if (typeof payload.sub !== 'string') return 'the token\'s "sub" claim is not a string';
  if (typeof payload.client_id !== 'string') return 'the token\'s "client_id" claim is not a string';
  if (payload.scope !== undefined && typeof payload.scope !== 'string') return 'the token\'s "scope" claim is not a string';
  // jose checks iat only together with a maximum token age; a token from the future is wrong either way.
  if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + toleranceSeconds) return 'the token was issued in the future (iat)';
  // No binding given: the caller checks client_id and cnf against the certificate itself.
  if (binding === undefined) return payload as AccessTokenClaims;
  if (binding.clientDirectoryUrl !== undefined && payload.client_id !== binding.clientDirectoryUrl) {
    return 'the token was issued to another client: client_id is not the Directory URL in the client certificate';
  }
  if (payload.cnf !== undefined) {
    const cnf = payload.cnf as Record<string, unknown> | null;
    const bound = typeof cnf === 'object' && cnf !== null ? cnf['x5t#S256'] : undefined;
    // A token bound some other way (DPoP's jkt) cannot be checked here, so it is not accepted.
    if (typeof bound !== 'string') return 'the token is bound (cnf) by other means than x5t#S256, which this resource server cannot check';
    if (binding.clientCertThumbprintS256 === undefined) return 'the token is bound to a client certificate (cnf) but none was presented';
    if (bound !== binding.clientCertThumbprintS256) return 'the token is bound to another client certificate (cnf x5t#S256)';
  }
  return payload as AccessTokenClaims;
}

export function createJwtValidator(options: JwtValidatorOptions): JwtValidator {
  const algorithms = [...(options.algorithms ?? ['ES256', 'PS256', 'RS256'])];
  const refused = algorithms.filter((alg) => !ASYMMETRIC.has(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw new Error(`jwt validator: algorithms must be asymmetric JWS algorithms (${[...ASYMMETRIC].join(', ')}); got ${JSON.stringify(algorithms)}`);
  }
  const toleranceSeconds = options.clockToleranceSeconds ?? 5;
  const jwks = createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: options.refetchCooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 5000,
    ...(options.fetchImpl ? { [customFetch]: options.fetchImpl } : {}),
  });
  const audience = options.audience === undefined ? undefined : typeof options.audience === 'string' ? options.audience : [...options.audience];

  return {
    async validate(token, binding) {
      // Header checks first: a token we would refuse anyway must not cause a JWKS fetch.
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        return refuse('the token is not a well-formed signed JWT');
      }
      if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
        return refuse(`the token is signed with an algorithm that is not allowed (alg; allowed: ${algorithms.join(', ')})`);
      }
      if (typeof header.typ !== 'string' || !AT_JWT.has(header.typ.toLowerCase())) {
        return refuse('the token type is not at+jwt (typ, RFC 9068 §4)');
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          ...(audience === undefined ? {} : { audience }),
          algorithms,
          typ: 'at+jwt',
          clockTolerance: toleranceSeconds,
          requiredClaims: REQUIRED_CLAIMS,
        }));
      } catch (error) {
        const description = describeJoseRefusal(error);
        if (description !== undefined) return refuse(description);
        // The JWKS could not be had (down, slow, not JSON): not the client's fault.
        throw new AuthorizationServerUnavailable(`JWKS ${options.jwksUri}: ${(error as Error).message}`);
      }
      const checked = checkClaims(payload, binding, toleranceSeconds);
      return typeof checked === 'string' ? refuse(checked) : { ok: true, claims: checked };
    },
  };
}
