import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIb1Identity } from '../../provider-app/identity/ib1-certificate';
import { defaultStateDir, readSandboxState, type SandboxState } from '../dev/sandbox-state';
import type { ConsumerClientOptions } from './consumer-client';
import { ClientError } from './errors';
import { FileTokenCache, MemoryTokenCache } from './access-token-store';
import { loadTlsIdentity } from './tls-identity';

/** The consumer options as typed on a command line; all optional. */
export interface ConsumerFlags {
  readonly issuer?: string;
  readonly clientId?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly scope?: string;
  readonly url?: string;
  /** A file to share tokens between runs (0600). */
  readonly tokenCache?: string;
  /** Where a running sandbox publishes its state. @default `<repo>/.dev` */
  readonly sandboxDir?: string;
  readonly timeoutMs?: number;
  /** Never fill gaps from a running sandbox (e.g. when checking a real deployment). */
  readonly noSandbox?: boolean;
  /** Host name → address pins (curl's --resolve). */
  readonly resolve?: Readonly<Record<string, string>>;
}

export interface ConsumerSettings extends ConsumerClientOptions {
  /** Set when (some) values came from the running sandbox. */
  readonly sandbox?: SandboxState;
  readonly tokenCacheFile?: string;
}

/**
 * IB1: the client id is the Directory URL in the client certificate (its one URI SAN). Undefined
 * for a certificate that is not IB1-shaped, or a file that cannot be read (loadTlsIdentity says why).
 */
export function directoryUrlOf(certFile: string): string | undefined {
  try {
    return readIb1Identity(readFileSync(certFile, 'utf8')).directoryUrl;
  } catch {
    return undefined;
  }
}

/**
 * Resolves flags into client options. An IB1 certificate (`--cert`) gives the client id
 * when `--client-id` is not given. Whatever is not given comes from the
 * sandbox running next to us (`npm run dev`), so `npm run client -- list` needs no
 * options there; the certificate and key only ever come as a pair.
 */
export function resolveConsumerSettings(flags: ConsumerFlags): ConsumerSettings {
  if (Boolean(flags.cert) !== Boolean(flags.key)) {
    throw new ClientError('A client certificate needs its private key, and the reverse.', 'Pass both --cert and --key.');
  }
  const clientId = flags.clientId ?? (flags.cert ? directoryUrlOf(flags.cert) : undefined);
  const needsSandbox = !flags.issuer || !clientId || !flags.url || !(flags.cert && flags.key);
  const stateDir = flags.sandboxDir ?? defaultStateDir();
  const sandbox = needsSandbox && !flags.noSandbox ? readSandboxState(stateDir) : undefined;
  if (needsSandbox && !sandbox) {
    const missing = [
      !flags.url && '--url',
      !flags.issuer && '--issuer',
      !clientId && '--client-id',
      !(flags.cert && flags.key) && '--cert/--key',
    ].filter(Boolean);
    throw new ClientError(
      flags.noSandbox ? `Missing ${missing.join(', ')}.` : `Missing ${missing.join(', ')} and no sandbox is running (no live ${join(stateDir, 'sandbox.json')}).`,
      'Start the local sandbox with `npm run dev`, or pass --url, --issuer, --client-id, --cert, --key (and --ca).',
    );
  }
  const pairFromSandbox = !(flags.cert || flags.key) && sandbox;
  const tls = loadTlsIdentity({
    certFile: pairFromSandbox ? sandbox.consumer.certFile : flags.cert,
    keyFile: pairFromSandbox ? sandbox.consumer.keyFile : flags.key,
    caFile: flags.ca ?? sandbox?.consumer.caFile,
  });
  // next to the sandbox, tokens are shared between runs in its git-ignored folder
  const tokenCacheFile = flags.tokenCache ?? (sandbox ? join(stateDir, 'client', 'tokens.json') : undefined);
  return {
    issuer: flags.issuer ?? sandbox!.issuer,
    clientId: clientId ?? sandbox!.consumer.clientId,
    baseUrl: flags.url ?? sandbox!.url,
    scope: flags.scope ?? sandbox?.consumer.scope,
    tls,
    cache: tokenCacheFile ? new FileTokenCache(tokenCacheFile) : new MemoryTokenCache(),
    timeoutMs: flags.timeoutMs,
    resolve: flags.resolve,
    sandbox,
    tokenCacheFile,
  };
}
