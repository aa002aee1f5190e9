/**
 * The whole provider on this machine, as the e2e tests and the benchmark use
 * it: the dev PKI, the project's authorization server (oidc-provider) with a
 * consumer client, and the replica host set up by the real setup.sh.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAuthorizationServer, requestToken, type AuthorizationServerHandle } from '../authz-server';
import { createRootCa, issueClientCert, subjectDn, type IssuedCertificate } from '../pki';
import { createDevSet, type DevSet } from '../pki/dev-set';
import { repoRoot } from './paths';
import { Replica, type ReplicaOptions, type ScriptRun } from './replica';

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
  /** An expired certificate from the trusted intermediate. */
  readonly expiredClient: IssuedCertificate;
  readonly authz: AuthorizationServerHandle;
  /** The first setup.sh run. */
  readonly setup: ScriptRun;
  /** The root that signed the site certificate (pebble's, fetched after issuance). */
  readonly siteCaPem: string;
  /** A certificate-bound access token for `client` (consumer or other-consumer). */
  token(client: 'consumer' | 'other-consumer'): Promise<string>;
  stop(): Promise<void>;
}

export async function startProviderReplica(options: ProviderReplicaOptions): Promise<ProviderReplica> {
  const replica = new Replica(options);
  let authz: AuthorizationServerHandle | undefined;
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
    return {
      replica,
      pki,
      otherConsumer,
      foreignClient,
      foreignRootPem: foreignRoot.certPem,
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
        await replica.stop(process.env.PH_REPLICA_KEEP === '1');
      },
    };
  } catch (error) {
    await authz?.stop().catch(() => undefined);
    await replica.stop(process.env.PH_REPLICA_KEEP === '1');
    throw error;
  }
}
