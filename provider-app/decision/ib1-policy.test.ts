import { HttpError } from '../errors';
import type { AccessPolicy } from '../manifest';
import { ib1Refusal, isOpenAccess, requiredScopes, visibleDatasets, type Ib1Caller } from './ib1-policy';

const REPORTER = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
const ARCHIVER = 'https://registry.core.trust.ib1.org/scheme/electricity/role/archiver';
const OPERATOR = 'https://registry.core.trust.ib1.org/scheme/electricity/role/network-operator';
const LICENCE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';

const shared: AccessPolicy = { scopes: [], roles: [REPORTER, ARCHIVER], licence: LICENCE };
const open: AccessPolicy = { scopes: [], access: 'open', licence: 'https://creativecommons.org/licenses/by/4.0/' };

/** A caller who passed the certificate, token and binding steps. */
const caller = (roles: string[], scopes: string[] = [LICENCE.toLowerCase()], clientId = 'https://directory.core.trust.ib1.org/application/1'): Ib1Caller => ({
  identity: { roles },
  scopes: new Set(scopes.map((s) => s.toLowerCase())),
  clientId,
});

/** [status, code, description, scope] of a refusal; 'allowed' when there is none. */
const outcome = (refusal: HttpError | undefined) => (refusal ? [refusal.status, refusal.code, refusal.description, refusal.extra.scope] : 'allowed');

describe('ib1Refusal: open data (IB1-O)', () => {
  it('is served to a caller with no certificate and no token at all', () => {
    expect(isOpenAccess(open)).toBe(true);
    expect(ib1Refusal(open)).toBeUndefined();
    expect(ib1Refusal(open, {})).toBeUndefined();
  });

  it('is served to an authenticated caller too, whatever it holds', () => {
    expect(ib1Refusal(open, caller([], []))).toBeUndefined();
  });
});

describe('ib1Refusal: shared data', () => {
  it('admits a caller holding any one of the roles and the licence', () => {
    expect(ib1Refusal(shared, caller([ARCHIVER]))).toBeUndefined();
    expect(ib1Refusal(shared, caller([OPERATOR, REPORTER]))).toBeUndefined();
  });

  it('refuses a caller with none of the roles: 403 insufficient_scope naming every role it could have held', () => {
    expect(outcome(ib1Refusal(shared, caller([OPERATOR])))).toEqual([403, 'insufficient_scope', `this dataset requires one of the roles ${REPORTER} ${ARCHIVER}; the client certificate (ib1Roles) holds none of them`, undefined]);
  });

  it('names the one role when only one is configured, and refuses a certificate with no ib1Roles', () => {
    expect(outcome(ib1Refusal({ ...shared, roles: [REPORTER] }, caller([])))).toEqual([403, 'insufficient_scope', `this dataset requires the role ${REPORTER}; the client certificate (ib1Roles) holds none of them`, undefined]);
  });

  it('compares role URLs exactly: another case or a trailing slash is another role', () => {
    expect(ib1Refusal(shared, caller([REPORTER.toUpperCase()]))?.status).toBe(403);
    expect(ib1Refusal(shared, caller([`${REPORTER}/`]))?.status).toBe(403);
  });

  it('asks no role when none is configured', () => {
    expect(ib1Refusal({ scopes: [], licence: LICENCE }, caller([]))).toBeUndefined();
  });

  it('refuses a token without the licence: 403 naming the licence, with the scope to request', () => {
    expect(outcome(ib1Refusal(shared, caller([REPORTER], ['openid'])))).toEqual([
      403,
      'insufficient_scope',
      `the access token does not carry the licence ${LICENCE}; request a token with that licence URL as its scope`,
      LICENCE,
    ]);
  });

  it('compares the licence scope case-insensitively, as every scope', () => {
    expect(ib1Refusal(shared, caller([REPORTER], [LICENCE.toUpperCase()]))).toBeUndefined();
  });

  it('asks for the scopes too when the dataset names them besides the licence', () => {
    const both: AccessPolicy = { ...shared, scopes: ['energy:read'] };
    expect(requiredScopes(both)).toEqual([LICENCE, 'energy:read']);
    expect(outcome(ib1Refusal(both, caller([REPORTER])))).toEqual([403, 'insufficient_scope', 'the access token lacks the required scope: energy:read', `${LICENCE} energy:read`]);
    expect(ib1Refusal(both, caller([REPORTER], [LICENCE, 'energy:read']))).toBeUndefined();
  });

  it('without a licence, the scopes alone are asked', () => {
    expect(ib1Refusal({ scopes: ['energy:read'], roles: [REPORTER] }, caller([REPORTER], ['energy:read']))).toBeUndefined();
  });

  it('fails closed: a shared dataset with neither a licence nor a scope is served to nobody', () => {
    expect(outcome(ib1Refusal({ scopes: [], roles: [REPORTER] }, caller([REPORTER])))).toEqual([403, 'insufficient_scope', 'the provider has no licence or scope configured for this dataset, so it is not served', undefined]);
  });

  it('keeps clientIds: a client not listed is refused even with the role and the licence', () => {
    const listed: AccessPolicy = { ...shared, clientIds: ['https://directory.core.trust.ib1.org/application/2'] };
    expect(outcome(ib1Refusal(listed, caller([REPORTER])))).toEqual([403, 'insufficient_scope', 'this client may not read this resource', undefined]);
    expect(ib1Refusal(listed, caller([REPORTER], [LICENCE], 'https://directory.core.trust.ib1.org/application/2'))).toBeUndefined();
  });

  it('is shared when access is absent or "shared"', () => {
    expect(isOpenAccess({ scopes: [] })).toBe(false);
    expect(ib1Refusal({ ...shared, access: 'shared' }, {})?.status).toBe(401);
  });

  it('asks for a certificate, then a token, when the caller has neither', () => {
    expect(outcome(ib1Refusal(shared, {}))).toEqual([401, 'invalid_token', 'a client certificate is required (mutual TLS)', undefined]);
    const noToken = ib1Refusal(shared, { identity: { roles: [REPORTER] } });
    expect(outcome(noToken)).toEqual([401, 'invalid_request', 'an access token is required (Authorization: Bearer <token>)', undefined]);
    expect(noToken?.extra.challenge).toBe(false);
  });
});

describe('visibleDatasets', () => {
  const policies: Record<string, AccessPolicy> = {
    'carbon-intensity': open,
    voltage: shared,
    archive: { scopes: [], roles: [ARCHIVER], licence: LICENCE },
    unconfigured: { scopes: [] },
  };
  const policyFor = (name: string) => policies[name] ?? { scopes: [] };
  const names = ['archive', 'carbon-intensity', 'unconfigured', 'voltage'];

  it('shows an anonymous caller the open datasets only', () => {
    expect(visibleDatasets(names, policyFor)).toEqual(['carbon-intensity']);
  });

  it('shows a caller the open datasets and the shared ones its roles and token let it read, in the order given', () => {
    expect(visibleDatasets(names, policyFor, caller([REPORTER]))).toEqual(['carbon-intensity', 'voltage']);
    expect(visibleDatasets(names, policyFor, caller([ARCHIVER]))).toEqual(['archive', 'carbon-intensity', 'voltage']);
  });

  it('hides the shared datasets from a caller whose token lacks the licence', () => {
    expect(visibleDatasets(names, policyFor, caller([REPORTER, ARCHIVER], ['openid']))).toEqual(['carbon-intensity']);
  });
});
