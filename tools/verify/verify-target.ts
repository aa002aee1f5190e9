import { isIP } from 'node:net';
import type { TlsIdentity } from '../client/tls-identity';

/** What every check needs to know about the server under test. */
export interface VerifyTarget {
  readonly url: URL;
  readonly hostname: string;
  readonly port: number;
  /** Address pins (curl's --resolve) for the target and the issuer. */
  readonly resolve?: Readonly<Record<string, string>>;
  /** CA bundle (absent = system roots) and, when known, the consumer's certificate. */
  readonly tls: TlsIdentity;
  readonly timeoutMs: number;
}

export function parseTargetUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`"${raw}" is not a URL: pass the provider's https:// URL`);
  }
  if (url.protocol !== 'https:') throw new Error(`${raw} is not an https:// URL`);
  return url;
}

/** The host name without IPv6 brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export function isIpLiteral(hostname: string): boolean {
  return isIP(hostname) !== 0;
}
