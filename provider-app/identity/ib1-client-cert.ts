/**
 * The client certificate as the ib1 profile reads it: what `parseClientCertificate` reads
 * (thumbprint, subject, validity; node:crypto, which reads ECDSA certificates as well as RSA)
 * and the IB1 identity (`readIb1Identity`: Directory URL, roles, member, key algorithm).
 * IB1's Baseline TLS Configuration wants ECDSA keys on P-256 or P-384: any other key is
 * refused here, whatever nginx's TLS stack accepted.
 */
import { HttpError } from '../errors';
import { type ClientCertificate, parseClientCertificate } from '../middleware/client-cert';
import { Ib1CertificateError, readIb1IdentityFromHeader } from './ib1-certificate';

const ACCEPTED_KEYS: ReadonlySet<string> = new Set(['EC P-256', 'EC P-384']);

/** Parses nginx's certificate header for the ib1 profile; a 401/400 HttpError saying why not. */
export function parseIb1ClientCertificate(headerValue: string | undefined): ClientCertificate {
  // First: a missing or unreadable certificate reads exactly as in open-energy.
  const cert = parseClientCertificate(headerValue);
  let identity;
  try {
    identity = readIb1IdentityFromHeader(headerValue);
  } catch (error) {
    if (!(error instanceof Ib1CertificateError)) throw error;
    throw new HttpError(401, 'invalid_token', `the client certificate is not an IB1 member certificate: ${error.message}`);
  }
  if (!ACCEPTED_KEYS.has(identity.keyAlgorithm)) {
    throw new HttpError(400, 'invalid_request', `ib1 requires an ECDSA P-256 or P-384 client certificate; this one has a key of type ${identity.keyAlgorithm}`);
  }
  return { ...cert, ib1: identity };
}
