import { lookup } from 'node:dns/promises';
import { fail, pass, warn, type CheckResult } from './check-result';
import { isIpLiteral, type VerifyTarget } from './verify-target';

const NAME = 'DNS resolves';

/** The host name resolves (A/AAAA through the system resolver). */
export async function checkDns(target: VerifyTarget): Promise<CheckResult> {
  if (isIpLiteral(target.hostname)) return pass(NAME, `${target.hostname} is an IP address (no DNS needed)`);
  const pinned = target.resolve?.[target.hostname.toLowerCase()];
  if (pinned) return warn(NAME, `not checked: ${target.hostname} pinned to ${pinned} by --resolve`);
  try {
    const addresses = await lookup(target.hostname, { all: true });
    return pass(NAME, `${target.hostname} → ${addresses.map((a) => a.address).join(', ')}`);
  } catch (error) {
    return fail(NAME, `${target.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
