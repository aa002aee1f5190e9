/**
 * The whole provider on this machine, as the e2e tests and the benchmark use
 * it: the dev PKI, the project's authorization server (oidc-provider) with a
 * consumer client, and the replica host set up by the real setup.sh.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostSettingsInput } from '../../contract/host-settings';
import type { TokenValidationMode, TrustProfile } from '../../contract/rules';
import { startAuthorizationServer, requestToken, type AuthorizationServerHandle, type AuthzServerConfig } from '../authz-server';
import type { Ib1Set } from '../pki/ib1-set';
import { IB1_SANDBOX } from '../pki/ib1-set';
import { createIb1ReplicaSet, ib1HostSettings, ib1ReplicaManifest, IB1_REPLICA_MEMBERS, SHORT_LIVED_TOKEN_SECONDS, type Ib1ReplicaMember } from './ib1-identities';
import { createRootCa, issueClientCert, subjectDn, type CertificateAuthority, type IssuedCertificate } from '../pki';
import { createDevSet, type DevSet } from '../pki/dev-set';
import { repoRoot } from './paths';
import { startCrlPublisher, type CrlPublisher } from './crl-publisher';
import { Replica, type ReplicaOptions, type ScriptRun } from './replica';

/** Where the dev PKI's two CAs publish their CRLs (CrlPublisher paths); in ib1, the Client CA root's and Client Issuer's. */
export const REPLICA_CRL_PATHS = { root: '/root-ca.crl', issuing: '/issuing-ca.crl' } as const;

export const REPLICA_SCOPE = 'datasets:read';

/** The CSVs of `sample-data/`, by file name, for `ProviderReplicaOptions.datasets`. */
export function sampleDatasets(): Record<string, Buffer> {
  const dir = join(repoRoot(), 'sample-data');
  return Object.fromEntries(readdirSync(dir).filter((file) => file.endsWith('.csv')).map((file) => [file, readFileSync(join(dir, file))]));
}
const DAY_MS = 24 * 3600 * 1000;

export interface ProviderReplicaOptions extends ReplicaOptions {
  /** Files for `shared_data/` in the stand-in bucket, by name (e.g. `consumption.csv`). */
  readonly datasets: Readonly<Record<string, string | Buffer>>;
  readonly publicFiles?: Readonly<Record<string, string | Buffer>>;
  /**
   * The trust framework. ib1: IB1-shaped ECDSA PKI (trust bundle and CRLs from its Client
   * CAs), Directory URL clients, the profile's host settings, and `manifest.json` with open
   * and shared role-gated datasets unless `datasets` has one. @default 'open-energy'
   */
  readonly profile?: TrustProfile;
  /** How the app checks tokens (ib1: `jwt` makes the authorization server issue RFC 9068 JWTs). @default 'introspection' */
  readonly tokenValidation?: TokenValidationMode;
  /** Host settings over the replica's (e.g. authzCacheSeconds). */
  readonly hostSettings?: Partial<HostSettingsInput>;
}

/** The replica in the ib1 profile: its PKI and tokens by member. */
export interface Ib1ReplicaHandle {
  readonly set: Ib1Set;
  /** The Directory URL (client_id) of each member. */
  readonly members: typeof IB1_REPLICA_MEMBERS;
  /** A token for `member` (client_credentials, mTLS with its certificate), scope the licence unless given. */
  token(member: Ib1ReplicaMember, scope?: string): Promise<string>;
}

export interface ProviderReplica {
  readonly replica: Replica;
  readonly pki: DevSet;
  /** A second consumer of the same trust framework (its own client and certificate). */
  readonly otherConsumer: IssuedCertificate;
  /** A client certificate from a CA outside the trust bundle. */
  readonly foreignClient: IssuedCertificate;
  /** That CA's certificate (to add it to the trust bundle in a test). */
  readonly foreignRootPem: string;
  /** That CA (to publish its CRL in a test). */
  readonly foreignRoot: CertificateAuthority;
  /** An expired certificate from the trusted intermediate. */
  readonly expiredClient: IssuedCertificate;
  readonly authz: AuthorizationServerHandle;
  /** The first setup.sh run. */
  readonly setup: ScriptRun;
  /** The root that signed the site certificate (pebble's, fetched after issuance). */
  readonly siteCaPem: string;
  /** The trust framework's CRL endpoint: `crl.revoke(REPLICA_CRL_PATHS.issuing, certPem)`. */
  readonly crl: CrlPublisher;
  /** A certificate-bound access token for `client` (consumer or other-consumer); open-energy only. */
  token(client: 'consumer' | 'other-consumer'): Promise<string>;
  /** Set in the ib1 profile. */
  readonly ib1?: Ib1ReplicaHandle;
  stop(): Promise<void>;
}

export async function startProviderReplica(options: ProviderReplicaOptions): Promise<ProviderReplica> {
  const replica = new Replica(options);
  let authz: AuthorizationServerHandle | undefined;
  let crl: CrlPublisher | undefined;
  try {
    const pkiDir = replica.path('pki');
    const pki = createDevSet(pkiDir);
    const otherConsumer = issueClientCert(pki.intermediateCa, { subject: { commonName: 'other-consumer', organization: 'Provider Host Dev' } });
    const foreignRoot = createRootCa({ subject: { commonName: 'Untrusted Root CA' } });
    const foreignClient = issueClientCert(foreignRoot, { subject: { commonName: 'consumer', organization: 'Provider Host Dev' } });
    const expiredClient = issueClientCert(pki.intermediateCa, {
      subject: { commonName: 'expired-consumer', organization: 'Provider Host Dev' },
      notBefore: new Date(Date.now() - 30 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    writeFileSync(join(pkiDir, 'server.chain.pem'), pki.server.chainPem);
    const ib1Set = options.profile === 'ib1' ? await createIb1ReplicaSet(replica.domain) : undefined;
    replica.checkpoint();
    crl = await startCrlPublisher(
      ib1Set
        ? [
            { path: REPLICA_CRL_PATHS.root, ca: ib1Set.client.root },
            { path: REPLICA_CRL_PATHS.issuing, ca: ib1Set.client.issuer },
          ]
        : [
            { path: REPLICA_CRL_PATHS.root, ca: pki.rootCa },
            { path: REPLICA_CRL_PATHS.issuing, ca: pki.intermediateCa },
          ],
    );

    const tokenValidation = options.tokenValidation ?? 'introspection';
    const resource = `https://${replica.domain}`;
    authz = await startAuthorizationServer(
      ib1Set ? ib1AuthzConfig(ib1Set, pkiDir, tokenValidation, resource) : {
        tlsCert: join(pkiDir, 'server.chain.pem'),
        tlsKey: pki.files['server.key']!,
        clientCa: pki.files.caBundle!,
        scopes: [REPLICA_SCOPE],
        clients: [
          { clientId: 'consumer', subjectDn: subjectDn(pki.consumer.certPem), scope: REPLICA_SCOPE },
          { clientId: 'other-consumer', subjectDn: subjectDn(otherConsumer.certPem), scope: REPLICA_SCOPE },
          { clientId: 'provider', subjectDn: subjectDn(pki.provider.certPem), scope: REPLICA_SCOPE },
        ],
      },
    );
    replica.processes.adopt('authz-server', authz.pid);
    replica.checkpoint();

    const ib1Provider = ib1Set?.members.provider;
    await replica.prepare(
      {
        issuer: authz.issuer,
        clientId: ib1Set ? IB1_REPLICA_MEMBERS.provider.directoryUrl : 'provider',
        scope: ib1Set ? IB1_SANDBOX.licence : REPLICA_SCOPE,
        transportCertPem: ib1Provider?.chainPem ?? pki.provider.chainPem,
        transportKeyPem: ib1Provider?.keyPem ?? pki.provider.keyPem,
        issuerCaPem: ib1Set?.server.root.certPem ?? pki.rootCa.certPem,
        trustBundlePem: ib1Set?.clientCaBundlePem ?? pki.caBundlePem,
        crlUrls: crl.urls,
        settings: { ...(ib1Set ? ib1HostSettings(tokenValidation, resource) : tokenValidation === 'jwt' ? { tokenValidation } : {}), ...options.hostSettings },
      },
      ib1Set && !('manifest.json' in options.datasets) ? { ...options.datasets, 'manifest.json': ib1ReplicaManifest() } : options.datasets,
      options.publicFiles,
    );
    replica.checkpoint();
    const setup = await replica.runHostScript('setup');
    replica.checkpoint();
    if (setup.code !== 0) throw new Error(`setup.sh failed (exit ${setup.code}):\n${setup.output}`);
    const siteCaPem = await replica.acme!.issuingRootPem();

    const authzHandle = authz;
    const crlPublisher = crl;
    return {
      crl: crlPublisher,
      replica,
      pki,
      otherConsumer,
      foreignClient,
      foreignRootPem: foreignRoot.certPem,
      foreignRoot,
      expiredClient,
      authz: authzHandle,
      setup,
      siteCaPem,
      token: async (client) => {
        if (ib1Set) throw new Error('the replica runs the ib1 profile: use ib1.token(member)');
        const cert = client === 'consumer' ? pki.consumer : otherConsumer;
        const response = await requestToken({ issuer: authzHandle.issuer, clientId: client, scope: REPLICA_SCOPE, cert: cert.chainPem, key: cert.keyPem, ca: pki.rootCa.certPem });
        return response.access_token;
      },
      ...(ib1Set
        ? {
            ib1: {
              set: ib1Set,
              members: IB1_REPLICA_MEMBERS,
              token: async (member: Ib1ReplicaMember, scope: string = IB1_SANDBOX.licence) => {
                const cert = ib1Set.members[member]!;
                const response = await requestToken({
                  issuer: authzHandle.issuer,
                  clientId: IB1_REPLICA_MEMBERS[member].directoryUrl,
                  scope,
                  cert: cert.chainPem,
                  key: cert.keyPem,
                  ca: ib1Set.serverCaBundlePem,
                });
                return response.access_token;
              },
            },
          }
        : {}),
      stop: async () => {
        await authzHandle.stop();
        await crlPublisher.stop();
        await replica.stop(process.env.PH_REPLICA_KEEP === '1');
      },
    };
  } catch (error) {
    await authz?.stop().catch(() => undefined);
    await crl?.stop().catch(() => undefined);
    await replica.stop(process.env.PH_REPLICA_KEEP === '1');
    throw error;
  }
}

/** The authorization server of an ib1 replica: Directory URL clients, the licence as scope. */
function ib1AuthzConfig(set: Ib1Set, pkiDir: string, tokenValidation: TokenValidationMode, resource: string): AuthzServerConfig {
  const file = (name: string, text: string): string => {
    writeFileSync(join(pkiDir, name), text, { mode: 0o600 });
    return join(pkiDir, name);
  };
  const clients = (Object.entries(IB1_REPLICA_MEMBERS) as [Ib1ReplicaMember, (typeof IB1_REPLICA_MEMBERS)[Ib1ReplicaMember]][]).map(([name, member]) => ({
    clientId: member.directoryUrl,
    sanUri: member.directoryUrl,
    ...(name === 'provider' ? {} : { scope: IB1_SANDBOX.licence }),
    ...(name === 'short-lived' ? { accessTokenTtlSeconds: SHORT_LIVED_TOKEN_SECONDS } : {}),
  }));
  return {
    tlsCert: file('ib1-authz-server.chain.pem', set.serverCert.chainPem),
    tlsKey: file('ib1-authz-server.key', set.serverCert.keyPem),
    clientCa: file('ib1-client-ca-bundle.pem', set.clientCaBundlePem),
    scopes: [IB1_SANDBOX.licence],
    accessTokenFormat: tokenValidation === 'jwt' ? 'jwt' : 'opaque',
    defaultResource: resource,
    clients,
  };
}
