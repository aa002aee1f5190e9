import { checkServerIdentity } from 'node:tls';
import { fail, pass, warn, type CheckResult } from './check-result';
import { probeTls } from './tls-probe';
import type { VerifyTarget } from './verify-target';

const NAME = 'server certificate';
const DAY_MS = 86_400_000;

export interface ExpiryThresholds {
  /** Fewer days left than this is a warning. @default 30 (certbot renews at 30) */
  readonly warnDays: number;
  /** Fewer days left than this fails. @default 7 */
  readonly failDays: number;
  /**
   * Judge by the share of the certificate's lifetime left instead (short-lived certificates,
   * IB1's 24-hour ones): warn under a third (certbot renews there), fail under a tenth.
   */
  readonly relativeToLifetime?: boolean;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Trusted (by --ca or the system roots), valid for the host name, not close to expiry. */
export async function checkServerCertificate(target: VerifyTarget, thresholds: ExpiryThresholds, now = Date.now()): Promise<CheckResult> {
  const probe = await probeTls(target);
  if (!probe.ok) return fail(NAME, `no TLS handshake with ${target.hostname}:${target.port}: ${probe.code} ${probe.message}`);
  const peer = probe.peer;
  const issuer = first(peer.issuer?.CN) ?? first(peer.issuer?.O) ?? 'unknown issuer';
  // the name first: Node also reports a name mismatch as an authorization error
  const nameError = checkServerIdentity(target.hostname, peer);
  if (nameError) return fail(NAME, `not valid for ${target.hostname}: ${nameError.message}`);
  if (!probe.authorized) {
    return fail(NAME, `not trusted: ${probe.authorizationError ?? 'unverified chain'} (issued by ${issuer}); pass the right CA bundle with --ca`);
  }
  const expires = new Date(peer.valid_to);
  if (thresholds.relativeToLifetime) {
    const lifetime = expires.getTime() - new Date(peer.valid_from).getTime();
    const left = expires.getTime() - now;
    const hoursLeft = Math.floor(left / 3_600_000);
    const share = lifetime > 0 ? left / lifetime : 0;
    const detail = `valid for ${target.hostname}, issued by ${issuer}, expires ${expires.toISOString().slice(0, 16)}Z (${hoursLeft} h left, ${Math.round(share * 100)}% of its lifetime)`;
    if (share < 0.1) return fail(NAME, `${detail}: less than a tenth of its lifetime left, is renewal running?`);
    if (share < 1 / 3) return warn(NAME, `${detail}: less than a third of its lifetime left, renewal is due`);
    return pass(NAME, detail);
  }
  const daysLeft = Math.floor((expires.getTime() - now) / DAY_MS);
  const detail = `valid for ${target.hostname}, issued by ${issuer}, expires ${expires.toISOString().slice(0, 10)} (${daysLeft} days left)`;
  if (daysLeft < thresholds.failDays) return fail(NAME, `${detail}: fewer than ${thresholds.failDays} days`);
  if (daysLeft < thresholds.warnDays) return warn(NAME, `${detail}: fewer than ${thresholds.warnDays} days, is renewal running?`);
  return pass(NAME, detail);
}
