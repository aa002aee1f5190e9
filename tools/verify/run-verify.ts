import { defaultStateDir, readSandboxState } from '../dev/sandbox-state';
import { resolveConsumerSettings, type ConsumerFlags, type ConsumerSettings } from '../client/consumer-settings';
import { ClientError } from '../client/errors';
import { loadTlsIdentity, type TlsIdentity } from '../client/tls-identity';
import { checkAuthorizedDownload } from './authorized-download-check';
import { fail, formatCheck, type CheckResult } from './check-result';
import { checkClientCertificateRequired } from './client-certificate-required-check';
import { checkDns } from './dns-check';
import { checkEcdsaServerKey, checkHeartbeat, checkOpenDataset, checkSharedRefused, firstSharedDataset, listOpenDatasets } from './ib1-checks';
import { checkServerCertificate } from './server-certificate-check';
import { checkTlsVersions } from './tls-versions-check';
import { bareHostname, parseTargetUrl, type VerifyTarget } from './verify-target';

export interface VerifyOptions {
  /** The provider's https URL; @default the running sandbox's */
  readonly url?: string;
  /**
   * The consumer identity, as on the command line. Gaps are filled from the running
   * sandbox only when `url` is the sandbox's (or absent): a real deployment is
   * never checked with the sandbox's identity by accident.
   */
  readonly consumer?: ConsumerFlags;
  /** Dataset to download; @default the first one `GET /datasets` lists */
  readonly dataset?: string;
  /** @default 30 */
  readonly warnDays?: number;
  /** @default 7 */
  readonly failDays?: number;
  /** Per request/handshake. @default 15000 */
  readonly timeoutMs?: number;
  /**
   * The trust framework profile to check against. ib1: TLS 1.3 only, an ECDSA server key,
   * open data without a certificate while shared data is refused, the heartbeat.
   * @default the sandbox's when checking it, else 'open-energy'
   */
  readonly profile?: 'open-energy' | 'ib1';
  /** ib1: the heartbeat's path. @default the sandbox's, else '/heartbeat' */
  readonly heartbeatPath?: string;
}

export interface VerifyReport {
  readonly url: string;
  readonly checks: readonly CheckResult[];
  /** No check failed (warnings allowed). */
  readonly ok: boolean;
}

/**
 * Checks a deployed provider from outside, in order: DNS, server certificate, TLS
 * versions, refusal without a client certificate, then a token and a download with
 * one, and the FAPI headers. Never throws for a failing server: failures are lines.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const consumer = options.consumer ?? {};
  const sandbox = readSandboxState(consumer.sandboxDir ?? defaultStateDir());
  const rawUrl = options.url ?? sandbox?.url;
  if (!rawUrl) {
    return report('(none)', [fail('target', 'no URL given and no sandbox running: npm run verify -- https://provider.example.com/')]);
  }
  let url: URL;
  try {
    url = parseTargetUrl(rawUrl);
  } catch (error) {
    return report(rawUrl, [fail('target', (error as Error).message)]);
  }
  const isSandbox = sandbox !== undefined && new URL(sandbox.url).origin === url.origin;
  const timeoutMs = options.timeoutMs ?? consumer.timeoutMs ?? 15_000;
  let settings: ConsumerSettings | undefined;
  let identityError: unknown;
  try {
    settings = resolveConsumerSettings({ ...consumer, url: url.toString(), noSandbox: !isSandbox, timeoutMs });
  } catch (error) {
    identityError = error;
  }
  let tls: TlsIdentity;
  try {
    tls = settings?.tls ?? loadTlsIdentity({ caFile: consumer.ca });
  } catch (error) {
    return report(url.toString(), [fail('options', (error as Error).message)]);
  }
  const target: VerifyTarget = {
    url,
    hostname: bareHostname(url),
    port: Number(url.port || 443),
    resolve: consumer.resolve,
    tls,
    timeoutMs,
  };
  const checks: CheckResult[] = [await checkDns(target)];
  if (checks[0]!.status === 'fail') return report(url.toString(), checks);
  const profile = options.profile ?? (isSandbox ? sandbox.profile : undefined) ?? 'open-energy';
  checks.push(await checkServerCertificate(target, {
    warnDays: options.warnDays ?? 30,
    failDays: options.failDays ?? 7,
    // IB1 directories issue certificates for 24 hours: judge by the share of the lifetime left.
    relativeToLifetime: profile === 'ib1' && options.warnDays === undefined && options.failDays === undefined,
  }));
  if (profile === 'ib1') checks.push(await checkEcdsaServerKey(target));
  checks.push(await checkTlsVersions(target, profile));
  // ib1 asks nginx for a certificate without requiring one (open data): the refusal of a
  // shared dataset without one is checked instead, after the consumer's own download.
  if (profile !== 'ib1') checks.push(await checkClientCertificateRequired(target));
  // ib1: the authorised download fetches a shared dataset (not an open one anyone gets).
  const open = profile === 'ib1' ? await listOpenDatasets(target).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))) : [];
  const shared = options.dataset ?? (profile === 'ib1' && settings && Array.isArray(open) ? await firstSharedDataset(settings, open).catch(() => undefined) : undefined);
  if (settings) {
    checks.push(...(await checkAuthorizedDownload(settings, shared)));
  } else {
    const why = identityError instanceof ClientError ? `${identityError.message} ${identityError.hint ?? ''}`.trim() : String(identityError);
    checks.push(fail('token + dataset download', `not checked: ${why}`));
  }
  if (profile === 'ib1') {
    checks.push(await checkOpenDataset(target, open));
    checks.push(await checkSharedRefused(target, shared));
    checks.push(await checkHeartbeat(settings, options.heartbeatPath ?? (isSandbox ? sandbox.heartbeatPath : undefined) ?? '/heartbeat'));
  }
  return report(url.toString(), checks);
}

function report(url: string, checks: CheckResult[]): VerifyReport {
  return { url, checks, ok: checks.every((c) => c.status !== 'fail') };
}

/** The report as printed: one ✔/⚠/✘ line per check, then a summary line. */
export function formatReport(verifyReport: VerifyReport): string {
  const failed = verifyReport.checks.filter((c) => c.status === 'fail').length;
  const warned = verifyReport.checks.filter((c) => c.status === 'warn').length;
  const summary = failed > 0
    ? `${failed} of ${verifyReport.checks.length} checks failed`
    : `all ${verifyReport.checks.length} checks passed${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}`;
  return [`Verifying ${verifyReport.url}`, ...verifyReport.checks.map((c) => formatCheck(c)), summary].join('\n');
}
