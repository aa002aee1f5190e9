import { parseClientCertificate, type ClientCertificate } from './client-cert';

/**
 * Parsing the certificate (URL-decoding, base64, X.509, SHA-256) was about a quarter of the
 * app's CPU per request, yet a consumer presents the same certificate on every request. The
 * cache is keyed by the exact header value, so a hit can only return what parsing that very
 * value returned; the validity period is still checked against the clock on every request
 * (by the caller), so an entry never outlives its certificate. Only successful parses are
 * kept; a refusal is re-parsed (and refused) every time.
 */
export class ClientCertificateCache {
  // Map iterates in insertion order; a hit is re-inserted, so the first key is the least recently used.
  private readonly entries = new Map<string, ClientCertificate>();

  /**
   * @param maxEntries bound on cached certificates (memory ≈ maxEntries × header length, ~2 KB each).
   * @param parse the profile's reader (`parseIb1ClientCertificate` in ib1).
   */
  constructor(
    private readonly maxEntries = 1000,
    private readonly parser: (headerValue: string | undefined) => ClientCertificate = parseClientCertificate,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new Error('maxEntries must be a non-negative integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Same contract as the parser (`parseClientCertificate`): throws an HttpError for a missing or bad header. */
  parse(headerValue: string | undefined): ClientCertificate {
    if (headerValue === undefined) return this.parser(headerValue);
    const hit = this.entries.get(headerValue);
    if (hit) {
      this.entries.delete(headerValue);
      this.entries.set(headerValue, hit);
      return hit;
    }
    const cert = this.parser(headerValue);
    if (this.maxEntries === 0) return cert;
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(headerValue, cert);
    return cert;
  }
}
