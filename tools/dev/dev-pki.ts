import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDevSet } from '../../testing/pki/dev-set';

/** Files of the sandbox's PKI (absolute paths). */
export interface DevPkiFiles {
  readonly dir: string;
  /** Intermediate + root: trusted for client certificates AND by consumers for the servers. */
  readonly caBundle: string;
  /** localhost / 127.0.0.1 / ::1 certificate chain (leaf + intermediate) and key. */
  readonly serverChain: string;
  readonly serverKey: string;
  /** The provider's transport certificate (its client auth at the authorization server). */
  readonly providerCert: string;
  readonly providerKey: string;
  readonly consumerCert: string;
  readonly consumerKey: string;
  /** `pki.json`: subjects and `x5t#S256` thumbprints. */
  readonly manifest: string;
}

const DAY_MS = 86_400_000;

export function devPkiFiles(dir: string): DevPkiFiles {
  return {
    dir,
    caBundle: join(dir, 'ca-bundle.crt'),
    serverChain: join(dir, 'server.chain.crt'),
    serverKey: join(dir, 'server.key'),
    providerCert: join(dir, 'provider.crt'),
    providerKey: join(dir, 'provider.key'),
    consumerCert: join(dir, 'consumer.crt'),
    consumerKey: join(dir, 'consumer.key'),
    manifest: join(dir, 'pki.json'),
  };
}

/** Whether the set is complete and none of its certificates expires within a week. */
function usable(files: DevPkiFiles, now: number): boolean {
  const all = [files.caBundle, files.serverChain, files.serverKey, files.providerCert, files.providerKey, files.consumerCert, files.consumerKey, files.manifest];
  if (!all.every((file) => existsSync(file))) return false;
  return [files.serverChain, files.providerCert, files.consumerCert, files.caBundle].every((file) => {
    const notAfter = Date.parse(new X509Certificate(readFileSync(file)).validTo);
    return notAfter - now > 7 * DAY_MS;
  });
}

/**
 * The dev PKI under `dir`, created on first use (via testing/pki) and reused after,
 * so a consumer's curl commands keep working across restarts. An incomplete or
 * nearly expired set is replaced.
 */
export function ensureDevPki(dir: string, now = Date.now()): { files: DevPkiFiles; created: boolean } {
  const files = devPkiFiles(dir);
  if (usable(files, now)) return { files, created: false };
  rmSync(dir, { recursive: true, force: true });
  createDevSet(dir, { organization: 'Provider Host Sandbox' });
  return { files, created: true };
}
