/**
 * What the replica needs to run in the ib1 profile: the IB1-shaped PKI (testing/pki/ib1-set),
 * the members the tests act as, and a release manifest with open and shared, role-gated
 * datasets over the sample data.
 */
import type { HostSettingsInput } from '../../contract/host-settings';
import type { TokenValidationMode } from '../../contract/rules';
import { createIb1Set, IB1_SANDBOX, type Ib1Set } from '../pki/ib1-set';

/** The replica's ib1 members, by name. */
export const IB1_REPLICA_MEMBERS = {
  /** Holds the role the gated datasets require. */
  consumer: { directoryUrl: IB1_SANDBOX.application(100, 1), memberUrl: IB1_SANDBOX.member(100), roles: [IB1_SANDBOX.readerRole] },
  /** A member of the scheme whose certificate holds another role only. */
  'other-role': { directoryUrl: IB1_SANDBOX.application(101, 1), memberUrl: IB1_SANDBOX.member(101), roles: [IB1_SANDBOX.otherRole] },
  /** A second reader: its tokens carry its own Directory URL. */
  'second-reader': { directoryUrl: IB1_SANDBOX.application(102, 1), memberUrl: IB1_SANDBOX.member(102), roles: [IB1_SANDBOX.readerRole] },
  /** Its tokens live 2 s (an expired token on demand). */
  'short-lived': { directoryUrl: IB1_SANDBOX.application(103, 1), memberUrl: IB1_SANDBOX.member(103), roles: [IB1_SANDBOX.readerRole] },
  /** Same shape and CA, but an RSA key: IB1 allows ECDSA only. */
  'rsa-key': { directoryUrl: IB1_SANDBOX.application(104, 1), memberUrl: IB1_SANDBOX.member(104), roles: [IB1_SANDBOX.readerRole], keyAlgorithm: 'RSA' as const },
  /** The provider's own application (its client auth for introspection). */
  provider: { directoryUrl: IB1_SANDBOX.application(200, 1), memberUrl: IB1_SANDBOX.member(200), roles: [] },
} as const;

export type Ib1ReplicaMember = keyof typeof IB1_REPLICA_MEMBERS;

/** Access token lifetime of the `short-lived` member. */
export const SHORT_LIVED_TOKEN_SECONDS = 2;

/** The sample datasets' policies in ib1: one open, two shared and gated by the reader role. */
export const IB1_REPLICA_DATASETS = {
  open: 'carbon-intensity',
  gated: 'half-hourly-consumption',
  gatedToo: 'generation-mix',
} as const;

export function ib1ReplicaManifest(): string {
  const shared = {
    access: 'shared',
    roles: [IB1_SANDBOX.readerRole],
    licence: IB1_SANDBOX.licence,
    sensitivity: 'IB1-SA',
  };
  return `${JSON.stringify(
    {
      datasets: {
        [IB1_REPLICA_DATASETS.open]: { access: 'open', title: 'Carbon intensity', description: 'Grid carbon intensity, half-hourly.' },
        [IB1_REPLICA_DATASETS.gated]: { ...shared, title: 'Half-hourly consumption', description: 'Metered consumption, half-hourly.' },
        [IB1_REPLICA_DATASETS.gatedToo]: { ...shared, title: 'Generation mix', description: 'Generation by fuel type.' },
      },
    },
    null,
    2,
  )}\n`;
}

export function createIb1ReplicaSet(domain: string): Promise<Ib1Set> {
  return createIb1Set({ members: IB1_REPLICA_MEMBERS, serverDnsNames: [domain], trustFramework: 'Replica' });
}

/** The host.env settings of the ib1 profile for the replica (the rest as in open-energy). */
export function ib1HostSettings(tokenValidation: TokenValidationMode, audience: string): Partial<HostSettingsInput> {
  return {
    trustProfile: 'ib1',
    tokenValidation,
    ...(tokenValidation === 'jwt' ? { tokenAudience: audience, tokenAlgorithms: 'ES256' } : {}),
  };
}
