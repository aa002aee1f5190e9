import type { SecureVersion } from 'node:tls';
import { fail, pass, warn, type CheckResult } from './check-result';
import { probeTls } from './tls-probe';
import type { VerifyTarget } from './verify-target';

const NAME = 'TLS versions';

/** What a FAPI provider must offer (true) and must refuse (false); RFC 8996 deprecates 1.0/1.1. */
const POLICY: ReadonlyArray<readonly [SecureVersion, boolean]> = [
  ['TLSv1', false],
  ['TLSv1.1', false],
  ['TLSv1.2', true],
  ['TLSv1.3', true],
];

/** IB1 Baseline TLS Configuration: TLS 1.3 or later only. */
const IB1_POLICY: ReadonlyArray<readonly [SecureVersion, boolean]> = [
  ['TLSv1', false],
  ['TLSv1.1', false],
  ['TLSv1.2', false],
  ['TLSv1.3', true],
];

/** Client-side failures: we could not even offer that version, so we learnt nothing. */
const NOT_OFFERED = /NO_PROTOCOLS_AVAILABLE|NO_CIPHERS_AVAILABLE|UNSUPPORTED_PROTOCOL|NO_SUITABLE/;

/** Offers each TLS version on its own and compares with the policy. */
export async function checkTlsVersions(target: VerifyTarget, profile: 'open-energy' | 'ib1' = 'open-energy'): Promise<CheckResult> {
  const policy = profile === 'ib1' ? IB1_POLICY : POLICY;
  const seen: string[] = [];
  const wrong: string[] = [];
  const untested: string[] = [];
  for (const [version, wanted] of policy) {
    const probe = await probeTls(target, { minVersion: version, maxVersion: version });
    if (!probe.ok && NOT_OFFERED.test(probe.code)) {
      untested.push(version);
      continue;
    }
    // a handshake counts only when it negotiated the version we asked for
    const accepted = probe.ok && probe.protocol === version;
    seen.push(`${version} ${accepted ? 'yes' : 'no'}${accepted && version === 'TLSv1.2' ? ` (${(probe as { cipher: string }).cipher})` : ''}`);
    if (accepted !== wanted) wrong.push(`${version} ${accepted ? 'accepted' : 'refused'}${!probe.ok ? ` (${probe.code})` : ''}`);
  }
  const summary = seen.join(', ');
  if (wrong.length > 0) return fail(NAME, `${summary}: ${wrong.join(', ')}; want ${profile === 'ib1' ? '1.3 only (IB1)' : '1.2 and 1.3 only'}`);
  if (untested.length > 0) return warn(NAME, `${summary}; could not offer ${untested.join(', ')} from this machine`);
  return pass(NAME, summary);
}
