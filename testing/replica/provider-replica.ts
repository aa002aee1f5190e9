/**
 * The whole provider on this machine, as the e2e tests and the benchmark use
 * it: the dev PKI, the project's authorization server (oidc-provider) with a
 * consumer client, and the replica host set up by the real setup.sh.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAuthorizationServer, requestToken, type AuthorizationServerHandle } from '../authz-server';
import { createRootCa, issueClientCert, subjectDn, type CertificateAuthority, type IssuedCertificate } from '../pki';
import { createDevSet, type DevSet } from '../pki/dev-set';
import { repoRoot } from './paths';
import { startCrlPublisher, type CrlPublisher } from './crl-publisher';
import { Replica, type ReplicaOptions, type ScriptRun } from './replica';

/** Where the dev PKI's two CAs publish their CRLs (CrlPublisher paths). */
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
  /** A certificate-bound access token for `client` (consumer or other-consumer). */
  token(client: 'consumer' | 'other-consumer'): Promise<string>;
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
    crl = await startCrlPublisher([
      { path: REPLICA_CRL_PATHS.root, ca: pki.rootCa },
      { path: REPLICA_CRL_PATHS.issuing, ca: pki.intermediateCa },
    ]);

    authz = await startAuthorizationServer({
      tlsCert: join(pkiDir, 'server.chain.pem'),
      tlsKey: pki.files['server.key']!,
      clientCa: pki.files.caBundle!,
      scopes: [REPLICA_SCOPE],
      clients: [
        { clientId: 'consumer', subjectDn: subjectDn(pki.consumer.certPem), scope: REPLICA_SCOPE },
        { clientId: 'other-consumer', subjectDn: subjectDn(otherConsumer.certPem), scope: REPLICA_SCOPE },
        { clientId: 'provider', subjectDn: subjectDn(pki.provider.certPem), scope: REPLICA_SCOPE },
      ],
    });
    replica.processes.adopt('authz-server', authz.pid);
    replica.checkpoint();

    await replica.prepare(
      {
        issuer: authz.issuer,
        clientId: 'provider',
        scope: REPLICA_SCOPE,
        transportCertPem: pki.provider.chainPem,
        transportKeyPem: pki.provider.keyPem,
        issuerCaPem: pki.rootCa.certPem,
        trustBundlePem: pki.caBundlePem,
        crlUrls: crl.urls,
      },
      options.datasets,
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
        const cert = client === 'consumer' ? pki.consumer : otherConsumer;
        const response = await requestToken({ issuer: authzHandle.issuer, clientId: client, scope: REPLICA_SCOPE, cert: cert.chainPem, key: cert.keyPem, ca: pki.rootCa.certPem });
        return response.access_token;
      },
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
