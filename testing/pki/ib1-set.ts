/**
 * The IB1 counterpart of `dev-set.ts`: one trust framework's worth of IB1-shaped
 * certificates for the sandbox, the replica and the tests (ECDSA P-256, Client CA root →
 * Client Issuer → leaf, the Directory URL as CN and single URI SAN, `ib1Roles`, `ib1Member`).
 *
 * - the Client hierarchy signs the members' applications: consumers, and the provider's own
 *   transport certificate (its client auth at the authorization server);
 * - the Server hierarchy signs the TLS server certificate of the authorization server (and
 *   of a sandbox's TLS terminator): `localhost`, 127.0.0.1 and ::1.
 *
 * API
 * - `IB1_SANDBOX` → the Directory URLs, roles and licence the set uses
 * - `createIb1Set({ consumers, ... })` → {@link Ib1Set} (in memory)
 * - `writeIb1Set(dir, set)` → the files {@link Ib1SetFiles} (keys 0600), and `pki.json`
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { thumbprintS256, type IssuedCertificate } from './index';
import { createIb1Pki, issueIb1Client, issueIb1Server, type Ib1KeyAlgorithm, type Ib1Pki } from './ib1';

/** Directory and Registry URLs of the development scheme (an `.test` domain: never real). */
export const IB1_SANDBOX = {
  directory: 'https://directory.sandbox.ib1.test',
  registry: 'https://registry.sandbox.ib1.test',
  /** The role a consumer needs for the role-gated sample dataset. */
  readerRole: 'https://registry.sandbox.ib1.test/scheme/energy/role/data-reader',
  /** A role of the scheme that reads nothing here. */
  otherRole: 'https://registry.sandbox.ib1.test/scheme/energy/role/report-provider',
  /** The licence shared datasets are used under: the scope a token carries. */
  licence: 'https://registry.sandbox.ib1.test/scheme/energy/licence/data-sharing/1.0',
  member: (id: number) => `https://directory.sandbox.ib1.test/member/${id}`,
  application: (member: number, app: number) => `https://directory.sandbox.ib1.test/member/${member}/application/${app}`,
} as const;

export interface Ib1MemberSpec {
  /** Its Directory URL: certificate CN and URI SAN, and its `client_id`. */
  readonly directoryUrl: string;
  readonly memberUrl: string;
  readonly roles: readonly string[];
  /** @default 'P-256' (RSA only to try a refusal) */
  readonly keyAlgorithm?: Ib1KeyAlgorithm;
  /** @default 365 days */
  readonly validityDays?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export interface Ib1SetOptions {
  /** The members' applications to issue, by name (e.g. `consumer`, `provider`). */
  readonly members: Readonly<Record<string, Ib1MemberSpec>>;
  /** Extra DNS names of the server certificate (always `localhost`, 127.0.0.1, ::1). */
  readonly serverDnsNames?: readonly string[];
  /** @default 7 (IB1's directory issues 1-day server certificates; a sandbox restarts less often) */
  readonly serverValidityDays?: number;
  /** @default 'Sandbox' */
  readonly trustFramework?: string;
}

export interface Ib1Set {
  readonly client: Ib1Pki;
  readonly server: Ib1Pki;
  /** The TLS server certificate (ECDSA P-256) for localhost and the loopback addresses. */
  readonly serverCert: IssuedCertificate;
  /** Client Issuer + Client CA root: what nginx and the authorization server trust for clients. */
  readonly clientCaBundlePem: string;
  /** Server Issuer + Server CA root: what clients trust for the servers of the set. */
  readonly serverCaBundlePem: string;
  readonly members: Readonly<Record<string, IssuedCertificate & { readonly spec: Ib1MemberSpec }>>;
}

export async function createIb1Set(options: Ib1SetOptions): Promise<Ib1Set> {
  const trustFramework = options.trustFramework ?? 'Sandbox';
  const [client, server] = await Promise.all([
    createIb1Pki({ trustFramework, hierarchy: 'Client' }),
    createIb1Pki({ trustFramework, hierarchy: 'Server' }),
  ]);
  const serverCert = await issueIb1Server(server.issuer, {
    dnsNames: ['localhost', ...(options.serverDnsNames ?? [])],
    ipAddresses: ['127.0.0.1', '::1'],
    validityDays: options.serverValidityDays ?? 7,
  });
  const members: Record<string, IssuedCertificate & { spec: Ib1MemberSpec }> = {};
  for (const [name, spec] of Object.entries(options.members)) {
    const issued = await issueIb1Client(client.issuer, {
      directoryUrl: spec.directoryUrl,
      memberUrl: spec.memberUrl,
      roles: spec.roles,
      ...(spec.keyAlgorithm ? { keyAlgorithm: spec.keyAlgorithm } : {}),
      ...(spec.validityDays ? { validityDays: spec.validityDays } : {}),
      ...(spec.notBefore ? { notBefore: spec.notBefore } : {}),
      ...(spec.notAfter ? { notAfter: spec.notAfter } : {}),
    });
    members[name] = { ...issued, spec };
  }
  return {
    client,
    server,
    serverCert,
    clientCaBundlePem: client.issuer.certPem + client.root.certPem,
    serverCaBundlePem: server.issuer.certPem + server.root.certPem,
    members,
  };
}

/** Paths {@link writeIb1Set} wrote. Member files: `<name>.crt` (leaf + issuer) and `<name>.key`. */
export interface Ib1SetFiles {
  readonly dir: string;
  readonly clientCaBundle: string;
  readonly serverCaBundle: string;
  readonly serverChain: string;
  readonly serverKey: string;
  readonly manifest: string;
  readonly members: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
}

/** Writes the set: certificates 0644, keys 0600, `pki.json` with each member's URL, roles and thumbprint. */
export function writeIb1Set(dir: string, set: Ib1Set): Ib1SetFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string, mode: number): string => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode });
    chmodSync(file, mode);
    return file;
  };
  const members: Record<string, { cert: string; key: string }> = {};
  for (const [name, member] of Object.entries(set.members)) {
    members[name] = { cert: write(`${name}.crt`, member.chainPem, 0o644), key: write(`${name}.key`, member.keyPem, 0o600) };
  }
  const files: Ib1SetFiles = {
    dir,
    clientCaBundle: write('client-ca-bundle.crt', set.clientCaBundlePem, 0o644),
    serverCaBundle: write('server-ca-bundle.crt', set.serverCaBundlePem, 0o644),
    serverChain: write('server.chain.crt', set.serverCert.chainPem, 0o644),
    serverKey: write('server.key', set.serverCert.keyPem, 0o600),
    manifest: join(dir, 'pki.json'),
    members,
  };
  const describe = Object.fromEntries(
    Object.entries(set.members).map(([name, m]) => [name, { directoryUrl: m.spec.directoryUrl, memberUrl: m.spec.memberUrl, roles: m.spec.roles, x5tS256: thumbprintS256(m.certPem) }]),
  );
  write('pki.json', `${JSON.stringify({ profile: 'ib1', members: describe }, null, 2)}\n`, 0o644);
  return files;
}
