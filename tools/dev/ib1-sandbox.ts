/**
 * What `npm run dev -- --profile ib1` adds to the sandbox: an IB1-shaped PKI (created at
 * every start: ECDSA keys take milliseconds, and its CAs then sign the CRLs in memory — no
 * CA key is ever written), the two members registered at the authorization server by their
 * Directory URLs, and the datasets with an ib1 manifest (one open, the others shared and
 * gated by a role) unless the data folder brings its own manifest.json.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCrl } from '../../testing/pki/crl';
import { createIb1Set, IB1_SANDBOX, writeIb1Set, type Ib1SetFiles } from '../../testing/pki/ib1-set';
import { ib1ReplicaManifest } from '../../testing/replica/ib1-identities';
import type { AuthzServerConfig } from '../../testing/authz-server';

/** The sandbox's two members: a consumer holding the reader role, and the provider itself. */
export const IB1_SANDBOX_MEMBERS = {
  consumer: { directoryUrl: IB1_SANDBOX.application(100, 1), memberUrl: IB1_SANDBOX.member(100), roles: [IB1_SANDBOX.readerRole] },
  provider: { directoryUrl: IB1_SANDBOX.application(200, 1), memberUrl: IB1_SANDBOX.member(200), roles: [] },
} as const;

export interface Ib1SandboxPki {
  readonly files: Ib1SetFiles;
  /** The Client CAs' CRLs (PEM, concatenated), for nginx's ssl_crl. */
  readonly crlFile: string;
}

/** Writes a fresh IB1 set to `dir` (replacing what was there) and the CRLs of its Client CAs to `crlFile`. */
export async function createIb1SandboxPki(dir: string, crlFile: string, now = new Date()): Promise<Ib1SandboxPki> {
  const set = await createIb1Set({ members: IB1_SANDBOX_MEMBERS });
  rmSync(dir, { recursive: true, force: true });
  const files = writeIb1Set(dir, set);
  const crlNumber = Math.floor(now.getTime() / 1000);
  writeFileSync(crlFile, [set.client.root, set.client.issuer].map((ca) => issueCrl(ca, { crlNumber }).pem).join(''), { mode: 0o644 });
  return { files, crlFile };
}

/** The authorization server's configuration: JWT access tokens, clients by Directory URL. */
export function ib1AuthzServerConfig(pki: Ib1SetFiles, tokenTtlSeconds: number): AuthzServerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    tlsCert: pki.serverChain,
    tlsKey: pki.serverKey,
    clientCa: pki.clientCaBundle,
    scopes: [IB1_SANDBOX.licence],
    accessTokenTtlSeconds: tokenTtlSeconds,
    accessTokenFormat: 'jwt',
    clients: [
      { clientId: IB1_SANDBOX_MEMBERS.consumer.directoryUrl, sanUri: IB1_SANDBOX_MEMBERS.consumer.directoryUrl, scope: IB1_SANDBOX.licence },
      { clientId: IB1_SANDBOX_MEMBERS.provider.directoryUrl, sanUri: IB1_SANDBOX_MEMBERS.provider.directoryUrl },
    ],
  };
}

/**
 * The folder the ib1 sandbox serves: `dataDir` itself when it has a manifest.json, else a copy
 * of its CSVs in `workDir` with the sample ib1 manifest beside them.
 */
export function ib1DataDir(dataDir: string, workDir: string): string {
  if (existsSync(join(dataDir, 'manifest.json'))) return dataDir;
  const served = join(workDir, 'ib1-data');
  rmSync(served, { recursive: true, force: true });
  mkdirSync(served, { recursive: true });
  for (const name of readdirSync(dataDir).filter((file) => file.endsWith('.csv'))) cpSync(join(dataDir, name), join(served, name));
  writeFileSync(join(served, 'manifest.json'), ib1ReplicaManifest());
  return served;
}
