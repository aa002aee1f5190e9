import { connect, type DetailedPeerCertificate, type SecureVersion } from 'node:tls';
import { pinnedLookup } from '../client/https-request';
import { isIpLiteral, type VerifyTarget } from './verify-target';

export type TlsProbe =
  | {
      readonly ok: true;
      readonly protocol: string;
      readonly cipher: string;
      /** Whether the chain verified against the CA bundle (the name is checked separately). */
      readonly authorized: boolean;
      readonly authorizationError?: string;
      readonly peer: DetailedPeerCertificate;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface ProbeOptions {
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly presentCertificate?: boolean;
}

/**
 * One TLS handshake with the target, never rejecting on verification failure so
 * that the certificate can be reported on. TLS 1.0/1.1 are only offered at
 * OpenSSL security level 0; asking for them is how we learn the server refuses them.
 */
export function probeTls(target: VerifyTarget, options: ProbeOptions = {}): Promise<TlsProbe> {
  const legacy = options.maxVersion === 'TLSv1' || options.maxVersion === 'TLSv1.1';
  const present = options.presentCertificate !== false && Boolean(target.tls.cert);
  return new Promise((resolve) => {
    const socket = connect({
      host: target.hostname,
      port: target.port,
      servername: isIpLiteral(target.hostname) ? undefined : target.hostname,
      lookup: pinnedLookup(target.resolve),
      ca: target.tls.ca,
      cert: present ? target.tls.cert : undefined,
      key: present ? target.tls.key : undefined,
      minVersion: options.minVersion,
      maxVersion: options.maxVersion,
      ciphers: legacy ? 'DEFAULT@SECLEVEL=0' : undefined,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })), target.timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
      resolve({
        ok: true,
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: socket.getCipher().name,
        authorized: socket.authorized,
        authorizationError,
        peer: socket.getPeerCertificate(true),
      });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, code: error.code ?? 'ERROR', message: error.message.split('\n')[0]! });
    });
  });
}
