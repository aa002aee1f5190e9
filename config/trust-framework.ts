/**
 * `trustFramework:` in the environment file: which trust framework the provider joins
 * (README "Choosing a profile") and how the app checks access tokens. Each field reuses
 * the host contract's rule (contract/host-settings.ts); what a profile makes meaningless
 * or unsafe is refused here, at synthesis, naming the field and the fix.
 */
import { z } from 'zod';
import { HOST_SETTINGS, type HostSettingsInput } from '../contract/host-settings';
import * as rule from '../contract/rules';
import { show, type TrustProfile } from '../contract/rules';

const ALGORITHMS_TEXT = rule.JWT_ALGORITHMS.join(', ');

export const trustFrameworkSchema = z
  .strictObject({
    profile: rule.trustProfile
      .default(HOST_SETTINGS.trustProfile.default as TrustProfile)
      .describe(
        'The trust framework: "open-energy" (FAPI 1 as in the Open Energy guide: TLS 1.2 with RSA suites + 1.3, an RSA server certificate, every request with a client certificate) or "ib1" (IB1 Trust Framework: TLS 1.3 only, ECDSA P-256 server certificate, client certificates with ECDSA keys only, the client id is the certificate\'s Directory URL, datasets gated by roles and licences, open datasets served without authentication, a heartbeat endpoint).',
      ),
    tokenValidation: rule.tokenValidation
      .default(HOST_SETTINGS.tokenValidation.default as rule.TokenValidationMode)
      .describe(
        'How the app checks an access token: "introspection" (RFC 7662 at the issuer, the provider authenticating with its transport certificate) or "jwt" (RFC 9068 access tokens checked locally with the keys of the issuer\'s `jwks_uri`). Either in either profile.',
      ),
    tokenAudience: rule.tokenAudience
      .optional()
      .describe('The `aud` a JWT access token must name (usually the provider\'s URL). Only with `tokenValidation: jwt`. Omitted: the audience is not checked.'),
    tokenAlgorithms: z
      .array(
        z.string({ error: (i) => `${show(i.input)} is not a JWS algorithm name; use one of ${ALGORITHMS_TEXT}` }).refine((a) => rule.jwtAlgorithmList.safeParse(a).success, {
          error: (i) => `${show(i.input)} is not an asymmetric JWS algorithm; use one of ${ALGORITHMS_TEXT}`,
        }),
        { error: (i) => `${show(i.input)} is not a list; use e.g. [ES256, PS256]` },
      )
      .min(1, { error: 'is empty; name at least one algorithm, e.g. [ES256]' })
      .optional()
      .describe(`JWS algorithms a JWT access token may be signed with (an allow-list; "none" and HMAC are never accepted). Only with \`tokenValidation: jwt\`. Default [${String(HOST_SETTINGS.tokenAlgorithms.default).split(',').join(', ')}].`),
    heartbeatPath: rule.endpointPath
      .optional()
      .describe(`ib1 only: the path of the heartbeat endpoint (protected like shared data; statistics of the responses between its two latest calls). Default "${HOST_SETTINGS.heartbeatPath.default}".`),
  })
  .prefault({})
  .describe('The trust framework profile the provider deploys, and how access tokens are checked (README "Choosing a profile").');

export type TrustFrameworkInput = z.input<typeof trustFrameworkSchema>;
export type TrustFramework = z.output<typeof trustFrameworkSchema>;

/** What the profile rules need from the rest of the environment. */
export interface ProfileContext {
  readonly trustFramework: TrustFramework;
  readonly oauth: { readonly scope?: string | undefined };
  readonly revocation: { readonly enabled: boolean };
}

export interface ProfileProblem {
  readonly path: readonly string[];
  readonly input: unknown;
  readonly message: string;
}

const isHttpsUrl = (value: string): boolean => rule.httpsUrl.safeParse(value).success;

/**
 * What a profile makes meaningless or unsafe, with the fix. Each problem names the field
 * (its path) so the loader prints `<field>: <message>`.
 */
export function profileProblems(env: ProfileContext): ProfileProblem[] {
  const tf = env.trustFramework;
  const problems: ProfileProblem[] = [];
  const scope = env.oauth.scope;
  if (tf.profile === 'open-energy') {
    if (scope === undefined) {
      problems.push({ path: ['oauth', 'scope'], input: scope, message: 'is required in the open-energy profile (the scope every access token must carry, e.g. "energydata"); set oauth.scope' });
    }
    if (tf.heartbeatPath !== undefined) {
      problems.push({
        path: ['trustFramework', 'heartbeatPath'],
        input: tf.heartbeatPath,
        message: `${show(tf.heartbeatPath)}: the heartbeat is an IB1 data provider duty and open-energy has none; remove trustFramework.heartbeatPath or set trustFramework.profile: ib1`,
      });
    }
  } else {
    if (scope !== undefined && !isHttpsUrl(scope)) {
      problems.push({
        path: ['oauth', 'scope'],
        input: scope,
        message: `${show(scope)} is not a licence URL: in ib1 the scope is the Registry licence URL a shared dataset requires unless its manifest entry names one; use an https URL (e.g. "https://registry.core.trust.ib1.org/scheme/perseus/licence/energy-consumption-data/2024-12-05") or omit oauth.scope`,
      });
    }
    if (!env.revocation.enabled) {
      problems.push({
        path: ['revocation', 'enabled'],
        input: false,
        message: 'false is not allowed in ib1: the IB1 Trust Framework requires every client certificate to be checked against its CA\'s CRL; remove revocation.enabled (default true)',
      });
    }
  }
  if (tf.tokenValidation !== 'jwt') {
    for (const field of ['tokenAudience', 'tokenAlgorithms'] as const) {
      if (tf[field] !== undefined) {
        problems.push({
          path: ['trustFramework', field],
          input: tf[field],
          message: `is only checked on JWT access tokens, and tokenValidation is ${show(tf.tokenValidation)}; set trustFramework.tokenValidation: jwt or remove trustFramework.${field}`,
        });
      }
    }
  }
  return problems;
}

const differs = <K extends 'trustProfile' | 'tokenValidation' | 'tokenAlgorithms' | 'heartbeatPath'>(name: K, value: string | undefined): Partial<Record<K, string>> =>
  value !== undefined && value !== HOST_SETTINGS[name].default ? ({ [name]: value } as Partial<Record<K, string>>) : {};

/**
 * The host.env settings of the trust framework: each only when it differs from the
 * contract's default, so an environment without `trustFramework:` writes the host.env it
 * wrote before the profiles existed (byte for byte).
 */
export function trustFrameworkHostSettings(tf: TrustFramework): Partial<HostSettingsInput> {
  return {
    ...differs('trustProfile', tf.profile),
    ...differs('tokenValidation', tf.tokenValidation),
    ...(tf.tokenAudience !== undefined ? { tokenAudience: tf.tokenAudience } : {}),
    ...differs('tokenAlgorithms', tf.tokenAlgorithms?.join(',')),
    ...differs('heartbeatPath', tf.heartbeatPath),
  };
}
