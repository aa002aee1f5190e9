import { startAuthorizationServer, type AuthorizationServerHandle } from '../testing/authz-server';
import type { DevSet } from '../testing/pki/dev-set';

export const BENCH_SCOPE = 'datasets:read';

/** The project's authorization server for a dev PKI: the consumer (with BENCH_SCOPE) and the provider as clients. */
export function startDevSetAuthz(pki: DevSet): Promise<AuthorizationServerHandle> {
  return startAuthorizationServer({
    tlsCert: pki.files['server.chain.crt']!,
    tlsKey: pki.files['server.key']!,
    clientCa: pki.files.caBundle!,
    scopes: [BENCH_SCOPE],
    clients: [
      { clientId: 'consumer', certFile: pki.files['consumer.crt']!, scope: BENCH_SCOPE },
      { clientId: 'provider', certFile: pki.files['provider.crt']! },
    ],
  });
}
