/**
 * Which CRLs to install, and what to report about them. Pure: the caller fetched the
 * candidates and read the installed set; nothing here touches the network or disk.
 *
 * nginx's `ssl_crl` turns on OpenSSL's CRL_CHECK_ALL: every CA in a client's chain
 * needs a current CRL, or the handshake fails for every client of that CA. Hence one
 * CRL per CA, never a step backwards, the installed one kept when nothing better came,
 * and "uncovered" CAs reported as loudly as expired CRLs.
 */
import { bundleCertificates, checkCrlTimes, findCrlIssuer, RevocationError, type BundleCertificate, type ParsedCrl } from './crl';

/** The `source` of decisions about CRLs already installed rather than fetched. */
export const INSTALLED_SOURCE = 'installed';

export interface CrlCandidate {
  /** Where it came from (a URL), for decisions and logs. */
  readonly source: string;
  /** Absent when fetching or parsing failed. */
  readonly crl?: ParsedCrl;
  /** Why there is no CRL. */
  readonly error?: string;
}

/**
 * - installed: this candidate replaces (or is the first CRL for) its CA
 * - unchanged: the candidate is what is installed already
 * - kept-installed: no acceptable candidate came for this CA; the installed CRL stays
 * - refused: a source that failed or whose CRL may not be installed (counts as a failure)
 * - dropped: an installed CRL no CA of the bundle vouches for any more (CA removed)
 */
export type CrlOutcome = 'installed' | 'unchanged' | 'kept-installed' | 'refused' | 'dropped';

export interface CrlDecision {
  readonly source: string;
  /** The CRL's issuer (RFC 4514), when there was a CRL to read it from. */
  readonly issuer?: string;
  readonly outcome: CrlOutcome;
  readonly reason?: string;
  /** The CRL the decision is about (not part of any status: it is the whole CRL). */
  readonly crl?: ParsedCrl;
}

export interface CrlSetInput {
  readonly bundlePem: string;
  /** What is installed now, in file order. */
  readonly installed: readonly ParsedCrl[];
  readonly candidates: readonly CrlCandidate[];
  readonly now: Date;
}

export interface CrlSetChoice {
  /** At most one CRL per CA, in the bundle's CA order. */
  readonly set: readonly ParsedCrl[];
  /** Candidates' decisions in their order, then those about installed CRLs. */
  readonly decisions: readonly CrlDecision[];
  /** Whether the set's bytes differ from the installed set's (so the file must be rewritten). */
  readonly changed: boolean;
  /** Subjects of bundle CAs no CRL in the set covers. */
  readonly uncoveredIssuers: readonly string[];
}

interface Accepted {
  readonly index: number;
  readonly source: string;
  readonly crl: ParsedCrl;
}

export function chooseCrlSet(input: CrlSetInput): CrlSetChoice {
  const cas = bundleCertificates(input.bundlePem);
  const installedDecisions: CrlDecision[] = [];
  const installedByCa = new Map<string, ParsedCrl>();
  for (const crl of input.installed) {
    const ca = issuerOf(crl, cas);
    if (typeof ca === 'string') {
      installedDecisions.push({ source: INSTALLED_SOURCE, issuer: crl.issuer, outcome: 'dropped', reason: `no longer vouched for by the trust bundle: ${ca}`, crl });
      continue;
    }
    const other = installedByCa.get(ca.fingerprint);
    const [keep, drop] = other && compareAge(other, crl) >= 0 ? [other, crl] : [crl, other];
    installedByCa.set(ca.fingerprint, keep);
    if (drop) installedDecisions.push({ source: INSTALLED_SOURCE, issuer: drop.issuer, outcome: 'dropped', reason: 'a second installed CRL of the same CA; the newest is kept', crl: drop });
  }

  const candidateDecisions: CrlDecision[] = [];
  const acceptedByCa = new Map<string, Accepted[]>();
  input.candidates.forEach((candidate, index) => {
    const { source, crl } = candidate;
    if (!crl) {
      candidateDecisions[index] = { source, outcome: 'refused', reason: candidate.error ?? 'no CRL' };
      return;
    }
    const ca = issuerOf(crl, cas, input.now);
    if (typeof ca === 'string') {
      candidateDecisions[index] = { source, issuer: crl.issuer, outcome: 'refused', reason: ca, crl };
      return;
    }
    acceptedByCa.set(ca.fingerprint, [...(acceptedByCa.get(ca.fingerprint) ?? []), { index, source, crl }]);
  });

  const set: ParsedCrl[] = [];
  for (const ca of cas) {
    const installed = installedByCa.get(ca.fingerprint);
    const accepted = acceptedByCa.get(ca.fingerprint) ?? [];
    if (!installed && accepted.length === 0) continue;
    const chosen = newest(installed, accepted);
    set.push(chosen.crl);
    for (const candidate of accepted) candidateDecisions[candidate.index] = decide(candidate, chosen, installed);
    if (installed && chosen.crl === installed && !accepted.some((c) => compareAge(c.crl, installed) === 0)) {
      installedDecisions.push({ source: INSTALLED_SOURCE, issuer: installed.issuer, outcome: 'kept-installed', reason: 'no acceptable newer CRL was fetched', crl: installed });
    }
  }

  return {
    set,
    decisions: [...candidateDecisions, ...installedDecisions],
    changed: set.length !== input.installed.length || set.some((crl, i) => !crl.der.equals(input.installed[i]!.der)),
    uncoveredIssuers: cas.filter((ca) => !set.some((crl) => typeof issuerOf(crl, [ca]) !== 'string')).map((ca) => ca.subject),
  };
}

/** The CA that signed `crl` (checking its times too when `now` is given), or why there is none. */
function issuerOf(crl: ParsedCrl, cas: readonly BundleCertificate[], now?: Date): BundleCertificate | string {
  try {
    const ca = findCrlIssuer(crl, cas);
    if (now) checkCrlTimes(crl, now);
    return ca;
  } catch (error) {
    if (error instanceof RevocationError) return error.message;
    throw error;
  }
}

/**
 * Positive when `a` is newer than `b`: by CRL number when both have one and they
 * differ (RFC 5280 makes it increase), otherwise by thisUpdate.
 */
function compareAge(a: ParsedCrl, b: ParsedCrl): number {
  if (a.crlNumber !== undefined && b.crlNumber !== undefined && a.crlNumber !== b.crlNumber) return a.crlNumber > b.crlNumber ? 1 : -1;
  return Math.sign(a.thisUpdate.getTime() - b.thisUpdate.getTime());
}

/** The newest of the installed CRL and the accepted candidates; on a tie the installed one, then the first listed. */
function newest(installed: ParsedCrl | undefined, accepted: readonly Accepted[]): { crl: ParsedCrl; source: string } {
  let best = installed ? { crl: installed, source: INSTALLED_SOURCE } : accepted[0]!;
  for (const candidate of accepted) if (compareAge(candidate.crl, best.crl) > 0) best = candidate;
  return best;
}

function decide(candidate: Accepted, chosen: { crl: ParsedCrl; source: string }, installed: ParsedCrl | undefined): CrlDecision {
  const base = { source: candidate.source, issuer: candidate.crl.issuer, crl: candidate.crl };
  if (candidate.crl.der.equals(chosen.crl.der)) {
    return { ...base, outcome: installed?.der.equals(candidate.crl.der) ? 'unchanged' : 'installed' };
  }
  if (installed && compareAge(candidate.crl, installed) < 0) {
    return { ...base, outcome: 'refused', reason: `older than the installed one (${describeAge(installed)}; this is ${describeAge(candidate.crl)})` };
  }
  if (compareAge(candidate.crl, chosen.crl) === 0) {
    // Same number and time, other bytes: a re-signed copy. Keeping the chosen one avoids churn.
    return { ...base, outcome: 'unchanged', reason: `same CRL number and thisUpdate as the one from ${chosen.source}, which is kept` };
  }
  return { ...base, outcome: 'refused', reason: `older than the CRL from ${chosen.source} (${describeAge(chosen.crl)}; this is ${describeAge(candidate.crl)})` };
}

function describeAge(crl: ParsedCrl): string {
  return `${crl.crlNumber !== undefined ? `#${crl.crlNumber} ` : ''}of ${crl.thisUpdate.toISOString()}`;
}

export type RevocationState = 'ok' | 'warning' | 'expired' | 'missing';

export interface CrlStatus {
  readonly issuer: string;
  readonly crlNumber: string | null;
  readonly thisUpdate: string;
  readonly nextUpdate: string | null;
  /** Hours until nextUpdate, one decimal; negative once expired. */
  readonly hoursLeft: number | null;
  readonly revokedCount: number;
  /** The URL it was fetched from, or `installed` when kept from an earlier run. */
  readonly source: string;
}

/** The status.json document: JSON-able, no key material, nothing but public CRL facts. */
export interface RevocationStatus {
  readonly state: RevocationState;
  readonly checkedAt: string;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly warnHours: number;
  /** The smallest hoursLeft over the set; null with no CRL. */
  readonly hoursToNextUpdate: number | null;
  readonly uncoveredIssuers: readonly string[];
  readonly crls: readonly CrlStatus[];
}

export interface StatusInput {
  readonly set: readonly ParsedCrl[];
  readonly decisions: readonly CrlDecision[];
  readonly uncoveredIssuers: readonly string[];
  readonly now: Date;
  readonly warnHours: number;
  /** When a refresh last fetched and accepted every source; null if never. */
  readonly lastSuccessAt: Date | null;
  readonly lastError: string | null;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * missing (no CRL, or a CA without one: nginx would refuse its clients) beats expired
 * (nginx refuses that CA's clients too) beats warning (close to nextUpdate, or the
 * last refresh had a failing source) beats ok.
 */
export function revocationStatus(input: StatusInput): RevocationStatus {
  const hoursLeft = input.set.map((crl) => (crl.nextUpdate ? (crl.nextUpdate.getTime() - input.now.getTime()) / HOUR_MS : undefined));
  const known = hoursLeft.filter((h): h is number => h !== undefined);
  const minimum = known.length > 0 ? Math.min(...known) : undefined;
  // A CRL without nextUpdate can never be shown to be current, so it counts as expired.
  const expired = hoursLeft.some((h) => h === undefined || h <= 0);
  const failed = input.decisions.some((d) => d.outcome === 'refused');
  const state: RevocationState =
    input.set.length === 0 || input.uncoveredIssuers.length > 0
      ? 'missing'
      : expired
        ? 'expired'
        : (minimum !== undefined && minimum < input.warnHours) || failed
          ? 'warning'
          : 'ok';
  return {
    state,
    checkedAt: input.now.toISOString(),
    lastSuccessAt: input.lastSuccessAt ? input.lastSuccessAt.toISOString() : null,
    lastError: input.lastError,
    warnHours: input.warnHours,
    hoursToNextUpdate: minimum === undefined ? null : oneDecimal(minimum),
    uncoveredIssuers: [...input.uncoveredIssuers],
    crls: input.set.map((crl, i) => ({
      issuer: crl.issuer,
      crlNumber: crl.crlNumber === undefined ? null : crl.crlNumber.toString(),
      thisUpdate: crl.thisUpdate.toISOString(),
      nextUpdate: crl.nextUpdate ? crl.nextUpdate.toISOString() : null,
      hoursLeft: hoursLeft[i] === undefined ? null : oneDecimal(hoursLeft[i]!),
      revokedCount: crl.revokedSerials.length,
      source: sourceOf(crl, input.decisions),
    })),
  };
}

function sourceOf(crl: ParsedCrl, decisions: readonly CrlDecision[]): string {
  const decision = decisions.find((d) => d.crl?.sha256 === crl.sha256 && (d.outcome === 'installed' || d.outcome === 'unchanged'));
  return decision?.source ?? INSTALLED_SOURCE;
}

function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10;
}
