/**
 * The JWT mode behind the pipeline's one token interface (`Introspector`): an RFC 9068
 * access token is validated locally with the keys of the issuer's `jwks_uri` and answered
 * as an RFC 7662 result would be, so the pipeline runs the same checks after either mode
 * (exp/iat/nbf with the skew, the binding to the certificate, the policy).
 *
 * The metadata is discovered lazily (RFC 8414, then OIDC) and again after a failure, so the
 * app starts, and answers 503, while the issuer is down. `client_id` and `cnf` are not
 * checked here: the pipeline checks them against the certificate of each request, which
 * lets `CachingIntrospector` keep one validation per token (`peek`, the cache-only mode).
 */
import type { IntrospectionResult, Introspector } from '../introspection';
import { discoverIssuer } from './issuer-metadata';
import { createJwtValidator, type JwtValidator } from './jwt-access-token';

export interface JwtIntrospectorOptions {
  readonly issuer: string;
  /** When set, `aud` must name it. */
  readonly audience?: string;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** Each metadata or JWKS request. */
  readonly timeoutMs: number;
  /** Least time between JWKS fetches caused by an unknown `kid`. */
  readonly refetchCooldownMs: number;
  /** @default globalThis.fetch (the app passes `agentFetch` with its CA). */
  readonly fetchImpl?: typeof fetch;
}

export class JwtIntrospector implements Introspector {
  private validator: Promise<JwtValidator> | undefined;

  constructor(private readonly options: JwtIntrospectorOptions) {}

  async introspect(token: string): Promise<IntrospectionResult> {
    // Throws AuthorizationServerUnavailable (metadata or JWKS unavailable): a 503, not the client's fault.
    const result = await (await this.jwtValidator()).validate(token);
    if (!result.ok) return { active: false, localRefusal: result.description };
    const { claims } = result;
    const cnf = claims.cnf as Record<string, unknown> | undefined;
    return {
      active: true,
      token_type: 'bearer',
      client_id: claims.client_id,
      exp: claims.exp,
      iat: claims.iat,
      ...(typeof claims.nbf === 'number' ? { nbf: claims.nbf } : {}),
      ...(claims.scope === undefined ? {} : { scope: claims.scope }),
      // A cnf without x5t#S256 (DPoP's jkt) stays visible as a binding the pipeline cannot check.
      ...(cnf === undefined
        ? {}
        : {
            cnf: typeof cnf === 'object' && cnf !== null && typeof cnf['x5t#S256'] === 'string' ? { 'x5t#S256': cnf['x5t#S256'] } : {},
          }),
    };
  }

  private jwtValidator(): Promise<JwtValidator> {
    if (!this.validator) {
      const { options } = this;
      this.validator = discoverIssuer(options.issuer, {
        timeoutMs: options.timeoutMs,
        ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
      }).then((metadata) =>
        createJwtValidator({
          issuer: options.issuer,
          jwksUri: metadata.jwks_uri,
          algorithms: options.algorithms,
          clockToleranceSeconds: options.clockSkewSeconds,
          timeoutMs: options.timeoutMs,
          refetchCooldownMs: options.refetchCooldownMs,
          ...(options.audience === undefined ? {} : { audience: options.audience }),
          ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
        })
      );
      this.validator.catch(() => {
        this.validator = undefined;
      });
    }
    return this.validator;
  }
}
