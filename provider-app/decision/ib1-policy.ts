/**
 * The policy step of the ib1 profile (IB1 Role-based Access Control and Generic Sensitivity
 * Classes): may this caller read a dataset under its policy? Pure: no I/O, no clock.
 *
 * - `access: open` (IB1-O): anyone, with no certificate and no token at all.
 * - shared (the default; IB1-SA/SB): a client certificate and a token, then
 *   - `roles`: the certificate's `ib1Roles` must hold ANY one of them;
 *   - `clientIds`: as in open-energy, only those clients;
 *   - `licence`: the token's scope must include the licence URL (IB1: "the Registry License
 *     URL is used as the scope"), and every one of `scopes` too. A dataset that asks for
 *     neither a licence nor a scope admits nobody (fail closed, as `policyRefusal` does).
 *
 * In the ib1 profile this replaces the pipeline's `policyRefusal`, it does not follow it:
 * `policyRefusal` would also demand the provider's default scope, which IB1 tokens (their
 * scope is a licence URL) do not carry. So in ib1 leave the default `scope` unset, and name
 * each shared dataset's `licence`.
 */
import { HttpError } from '../errors';
import type { Ib1Identity } from '../identity/ib1-certificate';
import type { AccessPolicy } from '../manifest';

/** What the ib1 policy looks at. Every part is absent for an anonymous request. */
export interface Ib1Caller {
  /** From `readIb1Identity` of the client certificate; absent without one. */
  readonly identity?: Pick<Ib1Identity, 'roles'>;
  /** The token's scopes, lower-cased (as `Caller.scopes`); absent without a valid token. */
  readonly scopes?: ReadonlySet<string>;
  /** The token's `client_id`, for a policy with `clientIds`. */
  readonly clientId?: string | undefined;
}

/** True when the dataset is open data: served before, and without, any authentication. */
export function isOpenAccess(policy: AccessPolicy): boolean {
  return policy.access === 'open';
}

/** The scopes a shared dataset's token must carry: its licence, then its scopes (each once). */
export function requiredScopes(policy: AccessPolicy): string[] {
  const all = policy.licence === undefined ? [...policy.scopes] : [policy.licence, ...policy.scopes];
  return [...new Set(all)];
}

/**
 * The refusal `caller` gets under `policy` in the ib1 profile, or undefined when it may read.
 * A 403 `insufficient_scope` names what is missing (the roles, the licence); a 401 says the
 * certificate or the token is absent (the pipeline normally refuses those first).
 */
export function ib1Refusal(policy: AccessPolicy, caller: Ib1Caller = {}): HttpError | undefined {
  if (isOpenAccess(policy)) return undefined;

  const required = requiredScopes(policy);
  // First, so a broken configuration reads the same to every caller.
  if (required.length === 0) {
    return new HttpError(403, 'insufficient_scope', 'the provider has no licence or scope configured for this dataset, so it is not served');
  }
  if (caller.identity === undefined) return new HttpError(401, 'invalid_token', 'a client certificate is required (mutual TLS)');
  if (caller.scopes === undefined) return new HttpError(401, 'invalid_request', 'an access token is required (Authorization: Bearer <token>)', { challenge: false });

  // Role URLs are compared exactly, as the certificate's other URLs are.
  const roles = policy.roles;
  if (roles && roles.length > 0 && !roles.some((role) => caller.identity?.roles.includes(role))) {
    const which = roles.length === 1 ? `the role ${roles[0]}` : `one of the roles ${roles.join(' ')}`;
    return new HttpError(403, 'insufficient_scope', `this dataset requires ${which}; the client certificate (ib1Roles) holds none of them`);
  }
  if (policy.clientIds && (caller.clientId === undefined || !policy.clientIds.includes(caller.clientId))) {
    return new HttpError(403, 'insufficient_scope', 'this client may not read this resource');
  }

  // Case-insensitive, as the pipeline compares every scope.
  const held = caller.scopes;
  const missing = required.filter((scope) => !held.has(scope.toLowerCase()));
  if (missing.length === 0) return undefined;
  const scope = required.join(' ');
  if (policy.licence !== undefined && missing.includes(policy.licence)) {
    return new HttpError(403, 'insufficient_scope', `the access token does not carry the licence ${policy.licence}; request a token with that licence URL as its scope`, { scope });
  }
  return new HttpError(403, 'insufficient_scope', `the access token lacks the required scope: ${missing.join(' ')}`, { scope });
}

/**
 * The names of `/datasets` that `caller` may read, in the order given: every open one, and a
 * shared one only when `ib1Refusal` lets this caller through. Anonymous (no caller): open only.
 * `policyFor` is synchronous: load the manifest once for the whole list, then ask it.
 */
export function visibleDatasets(names: readonly string[], policyFor: (name: string) => AccessPolicy, caller?: Ib1Caller): string[] {
  return names.filter((name) => ib1Refusal(policyFor(name), caller) === undefined);
}
