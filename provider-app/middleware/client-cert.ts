import { createHash, X509Certificate } from 'node:crypto';
import { HttpError } from '../errors';
import type { Ib1Identity } from '../identity/ib1-certificate';

/** The consumer's certificate as nginx passed it, with what authorisation needs. */
export interface ClientCertificate {
  /** RFC 8705 `x5t#S256`: base64url(SHA-256(DER)). */
  readonly thumbprint: string;
  /** Subject as RFC 4514 (`CN=consumer,O=Example`). */
  readonly subject: string;
  readonly notAfter: Date;
  readonly notBefore: Date;
  /** ib1 profile only (`parseIb1ClientCertificate`): the IB1 identity it carries. */
  readonly ib1?: Ib1Identity;
}

const PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/**
 * Parses the header value: nginx's `$ssl_client_escaped_cert` (URL-encoded PEM) or the
 * legacy `$ssl_client_cert` (PEM whose continuation lines start with a tab). Throws a 401
 * HttpError when the value is absent or is not a certificate.
 */
export function parseClientCertificate(headerValue: string | undefined): ClientCertificate {
  if (headerValue === undefined || headerValue.trim() === '') {
    throw new HttpError(401, 'invalid_token', 'a client certificate is required (mutual TLS)');
  }
  let text = headerValue;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw new HttpError(401, 'invalid_token', 'the client certificate could not be decoded');
    }
  }
  const match = PEM.exec(text);
  if (!match) throw new HttpError(401, 'invalid_token', 'the client certificate could not be parsed');
  // Base64 ignores the whitespace, tabs and newlines either form leaves in the body.
  const der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    throw new HttpError(401, 'invalid_token', 'the client certificate could not be parsed');
  }
  return {
    thumbprint: createHash('sha256').update(der).digest('base64url'),
    subject: x509.subject.split('\n').reverse().join(','),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}
