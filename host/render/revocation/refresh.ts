/**
 * One CRL refresh on the host: fetch every source, choose the set, install it in
 * `dir/crl.pem` when it changed and always record `dir/status.json`. Files are
 * replaced atomically, so nginx (reloaded by the caller on "changed") never reads a
 * partial file; crl.pem is never left empty, because nginx reads an empty `ssl_crl`
 * file as an error.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../lib/atomic-file';
import { CRL_SET_FILE } from '../../../nginx/revocation';
import { crlDistributionPoints, parseCrl, parseCrlPems, RevocationError, type ParsedCrl } from './crl';
import { chooseCrlSet, INSTALLED_SOURCE, revocationStatus, type CrlCandidate, type CrlDecision, type RevocationStatus } from './crl-set';
import { fetchCrl, type FetchCrlOptions } from './fetch-crl';

/** The refresh's record of its last run, next to the installed CRL set (nginx/revocation's CRL_SET_FILE). */
export const STATUS_FILE = 'status.json';

export interface RefreshOptions {
  /** CRL URLs from the configuration. */
  readonly urls: readonly string[];
  /** Also fetch the cRLDistributionPoints named by the trust bundle's certificates. */
  readonly fromBundle: boolean;
  readonly bundlePath: string;
  /** Holds crl.pem and status.json. */
  readonly dir: string;
  /** @default the current time */
  readonly now?: Date;
  /** Below this many hours to the nearest nextUpdate the state is "warning". */
  readonly warnHours: number;
  readonly timeoutMs: number;
  readonly retries: number;
  /** For tests: the waits between retries and the fetch function. */
  readonly fetchOptions?: Pick<FetchCrlOptions, 'backoffMs' | 'fetchImpl' | 'maxBytes'>;
}

export interface RefreshResult {
  /** crl.pem was rewritten or removed: nginx must reload. */
  readonly changed: boolean;
  readonly status: RevocationStatus;
  /** One line per source (and per installed CRL kept or dropped), then the state. */
  readonly logLines: readonly string[];
}

export async function refreshCrls(options: RefreshOptions): Promise<RefreshResult> {
  const now = options.now ?? new Date();
  const bundlePem = readBundle(options.bundlePath);
  const sources = [...new Set([...options.urls.map((url) => url.trim()).filter(Boolean), ...(options.fromBundle ? crlDistributionPoints(bundlePem) : [])])];
  mkdirSync(options.dir, { recursive: true });
  const crlFile = join(options.dir, CRL_SET_FILE);
  const installed = readInstalled(crlFile);

  const fetched = await Promise.all(sources.map((source) => fetchCrl(source, { timeoutMs: options.timeoutMs, retries: options.retries, ...options.fetchOptions })));
  const candidates: CrlCandidate[] = fetched.map((result, i) => toCandidate(sources[i]!, result));
  const choice = chooseCrlSet({ bundlePem, installed: installed.crls, candidates, now });

  const changed = choice.changed || installed.unreadable !== undefined;
  if (changed) {
    if (choice.set.length > 0) writeFileAtomic(crlFile, choice.set.map((crl) => crl.pem).join(''));
    else rmSync(crlFile, { force: true });
  }

  const failures = choice.decisions.filter((d) => d.outcome === 'refused').map((d) => `${d.source}: ${d.reason}`);
  if (sources.length === 0) failures.push('no CRL source: no URL is configured and the trust bundle names no cRLDistributionPoints');
  const status = revocationStatus({
    ...choice,
    now,
    warnHours: options.warnHours,
    lastSuccessAt: failures.length === 0 ? now : previousSuccess(join(options.dir, STATUS_FILE)),
    lastError: failures.length > 0 ? failures.join('; ') : null,
  });
  writeFileAtomic(join(options.dir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`);

  const logLines = [
    ...(installed.unreadable ? [`crl ${CRL_SET_FILE}: the installed file was unreadable and is replaced (${installed.unreadable})`] : []),
    ...choice.decisions.map((decision) => logLine(decision, fetched[sources.indexOf(decision.source)])),
    ...(sources.length === 0 ? ['crl: no CRL source: no URL is configured and the trust bundle names no cRLDistributionPoints'] : []),
    stateLine(status, changed),
  ];
  return { changed, status, logLines };
}

function readBundle(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new RevocationError(`cannot read the trust bundle ${path}: ${(error as Error).message}`);
  }
}

/** The installed set; a damaged file counts as none and is rewritten (or removed) by this run. */
function readInstalled(file: string): { crls: ParsedCrl[]; unreadable?: string } {
  if (!existsSync(file)) return { crls: [] };
  try {
    const crls = parseCrlPems(readFileSync(file, 'utf8'));
    return crls.length > 0 ? { crls } : { crls: [], unreadable: 'no CRL in it' };
  } catch (error) {
    return { crls: [], unreadable: (error as Error).message };
  }
}

function previousSuccess(statusFile: string): Date | null {
  try {
    const previous = JSON.parse(readFileSync(statusFile, 'utf8')) as { lastSuccessAt?: unknown };
    const at = typeof previous.lastSuccessAt === 'string' ? new Date(previous.lastSuccessAt) : undefined;
    return at && !Number.isNaN(at.getTime()) ? at : null;
  } catch {
    return null; // first run, or a damaged file: no success on record
  }
}

function toCandidate(source: string, result: Awaited<ReturnType<typeof fetchCrl>>): CrlCandidate {
  if ('error' in result) return { source, error: `unreachable: ${result.error}` };
  try {
    return { source, crl: parseCrl(result.bytes) };
  } catch (error) {
    if (error instanceof RevocationError) return { source, error: error.message };
    throw error;
  }
}

function logLine(decision: CrlDecision, fetched: Awaited<ReturnType<typeof fetchCrl>> | undefined): string {
  const { crl } = decision;
  const what = crl ? `CRL ${crl.crlNumber !== undefined ? `#${crl.crlNumber} ` : ''}of ${crl.issuer}` : '';
  const prefix = `crl ${decision.source === INSTALLED_SOURCE ? `${INSTALLED_SOURCE} ${what}` : decision.source}`;
  switch (decision.outcome) {
    case 'installed':
      return `${prefix}: installed ${what} (${crl!.revokedSerials.length} revoked, next update ${crl!.nextUpdate?.toISOString()})`;
    case 'unchanged':
      return `${prefix}: unchanged, ${what}${decision.reason ? ` (${decision.reason})` : ''}`;
    case 'kept-installed':
      return `${prefix}: kept: ${decision.reason}`;
    case 'dropped':
      return `${prefix}: dropped: ${decision.reason}`;
    case 'refused':
      // A fetch failure already reads "unreachable: …"; anything else was a CRL that was refused.
      return fetched && 'error' in fetched ? `${prefix}: ${decision.reason}` : `${prefix}: refused: ${decision.reason}`;
  }
}

function stateLine(status: RevocationStatus, changed: boolean): string {
  const next = status.hoursToNextUpdate === null ? 'no CRL' : `nearest nextUpdate in ${status.hoursToNextUpdate} h`;
  const uncovered = status.uncoveredIssuers.length > 0 ? `; no CRL for ${status.uncoveredIssuers.join(' | ')}` : '';
  return `crl state ${status.state}: ${status.crls.length} CRL(s), ${next}, ${changed ? 'crl.pem updated' : 'crl.pem unchanged'}${uncovered}`;
}
