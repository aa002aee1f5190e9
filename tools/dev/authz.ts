import { appendFileSync, readFileSync } from 'node:fs';
import { startAuthorizationServer, type AuthzServerConfig } from '../../testing/authz-server';
import { subjectDn } from '../../testing/pki';
import type { DevPkiFiles } from './dev-pki';
import { isAlive } from '../../lib/child-process';

export interface AuthzOptions {
  readonly pki: DevPkiFiles;
  /** Where its stderr is appended. */
  readonly logFile: string;
  readonly clients: { readonly consumer: string; readonly provider: string };
  readonly scope: string;
  /** Access token lifetime. @default 600 */
  readonly tokenTtlSeconds?: number;
  /** The whole server configuration instead of the one built from `pki` and `clients` (the ib1 profile's). */
  readonly serverConfig?: AuthzServerConfig;
}

export interface AuthzHandle {
  readonly issuer: string;
  readonly pid: number;
  /** Resolves with a reason when the process dies without `stop()`. */
  readonly exited: Promise<string>;
  stop(): Promise<void>;
}

/**
 * The project's authorization server (testing/authz-server, oidc-provider in a child
 * process) with the sandbox's two clients, both authenticating with
 * `tls_client_auth` by their certificate's subject: the consumer (may ask for the
 * dataset scope) and the provider (introspects tokens).
 */
export async function startAuthz(options: AuthzOptions): Promise<AuthzHandle> {
  const dn = (file: string): string => subjectDn(readFileSync(file, 'utf8'));
  const handle = await startAuthorizationServer(
    options.serverConfig ?? {
      host: '127.0.0.1',
      port: 0,
      tlsCert: options.pki.serverChain,
      tlsKey: options.pki.serverKey,
      clientCa: options.pki.caBundle,
      scopes: [options.scope],
      accessTokenTtlSeconds: options.tokenTtlSeconds ?? 600,
      clients: [
        { clientId: options.clients.consumer, subjectDn: dn(options.pki.consumerCert), scope: options.scope },
        { clientId: options.clients.provider, subjectDn: dn(options.pki.providerCert) },
      ],
    },
    { onStderr: (chunk) => appendFileSync(options.logFile, chunk) },
  );
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    // the helper owns the child; watch its PID (unref'd: this must not keep us alive)
    const timer = setInterval(() => {
      if (!isAlive(handle.pid)) {
        clearInterval(timer);
        if (!stopping) resolve(`pid ${handle.pid} is gone`);
      }
    }, 500);
    timer.unref();
  });
  return {
    issuer: handle.issuer,
    pid: handle.pid,
    exited,
    stop: () => {
      stopping = true;
      return handle.stop();
    },
  };
}
