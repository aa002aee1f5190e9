import { ClientError, TlsRejectedError } from './errors';

/** OpenSSL verification codes Node reports when WE reject the server's certificate. */
const SERVER_CERT_REJECTED: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is not signed by a CA we trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is not signed by a CA we trust',
  UNABLE_TO_GET_ISSUER_CERT: 'its issuer is unknown',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a CA we do not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  CERT_UNTRUSTED: 'it is not trusted',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  CERT_REVOKED: 'it has been revoked',
  CERT_SIGNATURE_FAILURE: 'its signature does not verify',
  INVALID_CA: 'its issuer is not a valid CA',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not valid for this host name',
};

/** TLS alerts the server sends when it rejects OUR client certificate (or its absence). */
const CLIENT_CERT_REJECTED: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'it requires a client certificate and none was sent',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'it rejected our client certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'our client certificate is not signed by a CA it trusts',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'our client certificate has expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'our client certificate has been revoked',
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'our client certificate is of an unsupported kind',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'it could not accept our client certificate',
  ERR_SSL_TLSV1_ALERT_ACCESS_DENIED: 'it denied access to our client certificate',
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: 'our client certificate signature did not verify (wrong key?)',
};

/**
 * nginx completes the handshake when `ssl_verify_client on` fails and answers 400
 * instead: its stock HTML pages, or the provider site's JSON page
 * (`nginx/errors/client-certificate.json`, error `invalid_client`).
 */
const NGINX_CLIENT_CERT_PAGES: Array<[RegExp, string]> = [
  [/No required SSL certificate was sent/i, 'it requires a client certificate and none was sent'],
  [/The SSL certificate error/i, 'it rejected our client certificate (unknown CA, expired or revoked)'],
  [/"invalid_client"[^}]*client certificate/i, 'it requires a client certificate issued by a CA it trusts'],
];

export interface ErrorContext {
  /** The URL being fetched, for the message. */
  readonly url: string;
  /** Whether we presented a client certificate at all. */
  readonly sentClientCert: boolean;
  /** Whether the TLS handshake had completed on our side when the error came. */
  readonly handshakeDone?: boolean;
}

function serverRejected(ctx: ErrorContext, why: string, reason: string): TlsRejectedError {
  const hint = ctx.sentClientCert
    ? 'Use a client certificate issued by a CA in the server\'s trust bundle (--cert/--key), still valid, with the matching key.'
    : 'Pass a client certificate and key with --cert and --key.';
  return new TlsRejectedError('server', `TLS refused by the server ${host(ctx.url)}: ${why}`, hint, reason);
}

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Turns a low-level Node error (socket, TLS, DNS) into a ClientError that says
 * which side refused and what to do. Returns the error unchanged when it is
 * already a ClientError.
 */
export function classifyNetworkError(error: unknown, ctx: ErrorContext): ClientError {
  if (error instanceof ClientError) return error;
  const err = error as NodeJS.ErrnoException & { reason?: string };
  const code = err.code ?? '';
  const target = host(ctx.url);
  if (code in SERVER_CERT_REJECTED) {
    return new TlsRejectedError(
      'client',
      `TLS refused by us: the server certificate of ${target} was rejected because ${SERVER_CERT_REJECTED[code]} (${code})`,
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'Use the host name the certificate was issued for.'
        : 'Pass the CA bundle that signed the server certificate with --ca.',
      code,
    );
  }
  if (code in CLIENT_CERT_REJECTED) return serverRejected(ctx, CLIENT_CERT_REJECTED[code], code);
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) {
    return serverRejected(ctx, `it aborted the handshake with alert ${code}`, code);
  }
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/i.test(err.message ?? '')) {
    return new ClientError('The client certificate and private key do not match.', 'Pass the key that belongs to --cert.');
  }
  if (code.startsWith('ERR_OSSL_PEM') || /PEM|bad base64|no start line/i.test(err.message ?? '')) {
    return new ClientError(`A certificate or key is not valid PEM (${code || err.message}).`, 'Check the --cert, --key and --ca files.');
  }
  if (code === 'ECONNREFUSED') {
    return new ClientError(`Nothing is listening at ${target} (connection refused).`, 'Is the server (or `npm run dev`) running?');
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ClientError(`The host name of ${target} does not resolve (${code}).`, 'Check the URL and DNS.');
  }
  const reset = code === 'ECONNRESET' || /socket hang up/i.test(err.message ?? '');
  if (reset && ctx.handshakeDone && ctx.sentClientCert) {
    // TLS 1.3 servers verify the client certificate after our side of the handshake
    // is done; Node servers then close without an alert, before answering anything.
    return serverRejected(ctx, 'it closed the connection right after the handshake, before answering (it most likely rejected our client certificate)', code || 'socket hang up');
  }
  if (reset && ctx.handshakeDone === false) {
    return serverRejected(ctx, `it aborted the TLS handshake (${code || err.message})`, code || 'socket hang up');
  }
  if (reset) {
    return new ClientError(`${target} closed the connection (${code || err.message}).`,
      ctx.sentClientCert ? undefined : 'The server may require a client certificate: pass --cert and --key.');
  }
  if (code === 'ETIMEDOUT' || code === 'ERR_CLIENT_TIMEOUT') {
    return new ClientError(`${target} did not answer in time.`);
  }
  return new ClientError(`Request to ${ctx.url} failed: ${err.message ?? String(error)}${code ? ` (${code})` : ''}`);
}

/** Recognises nginx's "client certificate" 400 pages (see NGINX_CLIENT_CERT_PAGES). */
export function classifyNginxCertPage(status: number, body: string, ctx: ErrorContext): TlsRejectedError | undefined {
  if (status !== 400) return undefined;
  for (const [pattern, why] of NGINX_CLIENT_CERT_PAGES) {
    const noneSent = !ctx.sentClientCert && why.includes('requires');
    if (pattern.test(body)) return serverRejected(ctx, noneSent ? 'it requires a client certificate and none was sent' : why, `HTTP 400: ${body.trim().slice(0, 200)}`);
  }
  return undefined;
}
