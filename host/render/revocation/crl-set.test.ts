import { issueCrl } from '../../../testing/pki/crl';
import { createIntermediateCa, createRootCa, type CertificateAuthority } from '../../../testing/pki/index';
import { parseCrl, type ParsedCrl } from './crl';
import { chooseCrlSet, INSTALLED_SOURCE, revocationStatus, type CrlCandidate, type CrlDecision } from './crl-set';

const root = createRootCa({ subject: { commonName: 'Set Root' } });
const issuing = createIntermediateCa(root, { subject: { commonName: 'Set Issuing' } });
const other = createRootCa({ subject: { commonName: 'Other' } });
const bundlePem = root.certPem + issuing.certPem;
const now = new Date();
const HOUR = 3600_000;
const hoursFromNow = (hours: number) => new Date(now.getTime() + hours * HOUR);

function crl(ca: CertificateAuthority, crlNumber: number, extra: Partial<Parameters<typeof issueCrl>[1]> = {}): ParsedCrl {
  return parseCrl(issueCrl(ca, { crlNumber, thisUpdate: hoursFromNow(-1), nextUpdate: hoursFromNow(24), ...extra }).pem);
}

/** What matters of a decision in these tests. */
const brief = (d: CrlDecision) => ({ source: d.source, outcome: d.outcome, ...(d.reason ? { reason: d.reason } : {}) });

const rootCrl = crl(root, 1);
const issuingCrl = crl(issuing, 10);

describe('chooseCrlSet', () => {
  it('installs one CRL per CA, in the bundle\'s order', () => {
    const choice = chooseCrlSet({ bundlePem, installed: [], now, candidates: [{ source: 'b', crl: issuingCrl }, { source: 'a', crl: rootCrl }] });
    expect(choice.set).toEqual([rootCrl, issuingCrl]);
    expect(choice.decisions.map(brief)).toEqual([
      { source: 'b', outcome: 'installed' },
      { source: 'a', outcome: 'installed' },
    ]);
    expect(choice.decisions[0]!.issuer).toBe('CN=Set Issuing');
    expect(choice.changed).toBe(true);
    expect(choice.uncoveredIssuers).toEqual([]);
  });

  it('leaves an identical CRL unchanged', () => {
    const again = parseCrl(issuingCrl.pem);
    const choice = chooseCrlSet({ bundlePem, installed: [issuingCrl], now, candidates: [{ source: 'a', crl: again }] });
    expect(choice.decisions.map(brief)).toEqual([{ source: 'a', outcome: 'unchanged' }]);
    expect(choice.set.map((c) => c.sha256)).toEqual([issuingCrl.sha256]);
    expect(choice.changed).toBe(false);
  });

  it('replaces the installed CRL with one of a higher number', () => {
    const newer = crl(issuing, 11);
    const choice = chooseCrlSet({ bundlePem, installed: [issuingCrl], now, candidates: [{ source: 'a', crl: newer }] });
    expect(choice.decisions.map(brief)).toEqual([{ source: 'a', outcome: 'installed' }]);
    expect(choice.set).toEqual([newer]);
    expect(choice.changed).toBe(true);
  });

  it('refuses a CRL with a lower number than the installed one and keeps the installed one', () => {
    const older = crl(issuing, 9, { thisUpdate: hoursFromNow(-0.5) });
    const choice = chooseCrlSet({ bundlePem, installed: [issuingCrl], now, candidates: [{ source: 'a', crl: older }] });
    expect(choice.decisions.map(brief)).toEqual([
      { source: 'a', outcome: 'refused', reason: expect.stringMatching(/^older than the installed one \(#10 of .*; this is #9 of .*\)$/) },
      { source: INSTALLED_SOURCE, outcome: 'kept-installed', reason: 'no acceptable newer CRL was fetched' },
    ]);
    expect(choice.set).toEqual([issuingCrl]);
    expect(choice.changed).toBe(false);
  });

  it('refuses a CRL of the same number but an older thisUpdate', () => {
    const older = crl(issuing, 10, { thisUpdate: hoursFromNow(-2) });
    const choice = chooseCrlSet({ bundlePem, installed: [issuingCrl], now, candidates: [{ source: 'a', crl: older }] });
    expect(choice.decisions[0]).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^older than the installed one/) });
    expect(choice.set).toEqual([issuingCrl]);
  });

  it('goes by the CRL number before thisUpdate', () => {
    const renumbered = crl(issuing, 11, { thisUpdate: hoursFromNow(-2) });
    const choice = chooseCrlSet({ bundlePem, installed: [issuingCrl], now, candidates: [{ source: 'a', crl: renumbered }] });
    expect(choice.decisions.map(brief)).toEqual([{ source: 'a', outcome: 'installed' }]);
  });

  it('refuses a CRL that fails verification, with the reason, and keeps every installed one', () => {
    const forged = crl(issuing, 11, { signingKeyPem: other.keyPem });
    const choice = chooseCrlSet({ bundlePem, installed: [rootCrl, issuingCrl], now, candidates: [{ source: 'a', crl: forged }] });
    expect(choice.decisions.map((d) => ({ ...brief(d), issuer: d.issuer }))).toEqual([
      { source: 'a', issuer: 'CN=Set Issuing', outcome: 'refused', reason: 'bad signature: not signed by the key of CN=Set Issuing in the trust bundle' },
      { source: INSTALLED_SOURCE, issuer: 'CN=Set Root', outcome: 'kept-installed', reason: 'no acceptable newer CRL was fetched' },
      { source: INSTALLED_SOURCE, issuer: 'CN=Set Issuing', outcome: 'kept-installed', reason: 'no acceptable newer CRL was fetched' },
    ]);
    expect(choice.set).toEqual([rootCrl, issuingCrl]);
    expect(choice.changed).toBe(false);
  });

  it('refuses an expired CRL, leaving its CA uncovered when nothing was installed', () => {
    const expired = crl(issuing, 11, { thisUpdate: hoursFromNow(-48), nextUpdate: hoursFromNow(-1) });
    const choice = chooseCrlSet({ bundlePem, installed: [], now, candidates: [{ source: 'r', crl: rootCrl }, { source: 'a', crl: expired }] });
    expect(choice.decisions[1]).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^expired at /) });
    expect(choice.set).toEqual([rootCrl]);
    expect(choice.uncoveredIssuers).toEqual(['CN=Set Issuing']);
  });

  it('records a failed fetch as refused with its error', () => {
    const choice = chooseCrlSet({ bundlePem, installed: [], now, candidates: [{ source: 'a', error: 'unreachable: HTTP 404' }] });
    expect(choice.decisions).toEqual([{ source: 'a', outcome: 'refused', reason: 'unreachable: HTTP 404' }]);
    expect(choice.set).toEqual([]);
    expect(choice.changed).toBe(false);
    expect(choice.uncoveredIssuers).toEqual(['CN=Set Root', 'CN=Set Issuing']);
  });

  it('keeps an installed CRL that expired when nothing newer came (the status says expired)', () => {
    const expired = crl(issuing, 10, { thisUpdate: hoursFromNow(-48), nextUpdate: hoursFromNow(-1) });
    const choice = chooseCrlSet({ bundlePem, installed: [expired], now, candidates: [] });
    expect(choice.set).toEqual([expired]);
    expect(choice.decisions.map(brief)).toEqual([{ source: INSTALLED_SOURCE, outcome: 'kept-installed', reason: 'no acceptable newer CRL was fetched' }]);
  });

  it('drops an installed CRL whose CA left the bundle', () => {
    const choice = chooseCrlSet({ bundlePem: root.certPem, installed: [rootCrl, issuingCrl], now, candidates: [{ source: 'r', crl: rootCrl }] });
    expect(choice.set).toEqual([rootCrl]);
    expect(choice.decisions.map(brief)).toEqual([
      { source: 'r', outcome: 'unchanged' },
      { source: INSTALLED_SOURCE, outcome: 'dropped', reason: 'no longer vouched for by the trust bundle: no CA in the trust bundle is named CN=Set Issuing' },
    ]);
    expect(choice.changed).toBe(true);
  });

  it('keeps only the newest of two installed CRLs of one CA', () => {
    const newer = crl(issuing, 11);
    const choice = chooseCrlSet({ bundlePem, installed: [newer, issuingCrl], now, candidates: [] });
    expect(choice.set).toEqual([newer]);
    expect(choice.decisions.map(brief)).toContainEqual({ source: INSTALLED_SOURCE, outcome: 'dropped', reason: 'a second installed CRL of the same CA; the newest is kept' });
    expect(choice.changed).toBe(true);
  });

  it('takes the newest of several sources for one CA and refuses the older ones', () => {
    const newer = crl(issuing, 12);
    const candidates: CrlCandidate[] = [
      { source: 'mirror', crl: crl(issuing, 11) },
      { source: 'primary', crl: newer },
      { source: 'same-as-primary', crl: parseCrl(newer.pem) },
    ];
    const choice = chooseCrlSet({ bundlePem, installed: [issuingCrl], now, candidates });
    expect(choice.decisions.map(brief)).toEqual([
      { source: 'mirror', outcome: 'refused', reason: expect.stringMatching(/^older than the CRL from primary \(#12 of .*; this is #11 of .*\)$/) },
      { source: 'primary', outcome: 'installed' },
      { source: 'same-as-primary', outcome: 'installed' },
    ]);
    expect(choice.set).toEqual([newer]);
  });

  it('keeps the installed copy of a re-signed CRL with the same number and time', () => {
    const thisUpdate = hoursFromNow(-1);
    const installed = crl(issuing, 10, { thisUpdate });
    const resigned = crl(issuing, 10, { thisUpdate, revoked: [{ serialNumber: '01' }] });
    const choice = chooseCrlSet({ bundlePem, installed: [installed], now, candidates: [{ source: 'a', crl: resigned }] });
    expect(choice.decisions.map(brief)).toEqual([{ source: 'a', outcome: 'unchanged', reason: 'same CRL number and thisUpdate as the one from installed, which is kept' }]);
    expect(choice.set).toEqual([installed]);
    expect(choice.changed).toBe(false);
  });
});

describe('revocationStatus', () => {
  const base = { uncoveredIssuers: [], now, warnHours: 12, lastSuccessAt: now, lastError: null };
  const installedBy = (source: string, c: ParsedCrl): CrlDecision => ({ source, outcome: 'installed', issuer: c.issuer, crl: c });

  it('is ok with every CRL current and every source accepted, and reports each CRL', () => {
    const status = revocationStatus({ ...base, set: [rootCrl, issuingCrl], decisions: [installedBy('http://r', rootCrl)] });
    expect(status).toEqual({
      state: 'ok',
      checkedAt: now.toISOString(),
      lastSuccessAt: now.toISOString(),
      lastError: null,
      warnHours: 12,
      hoursToNextUpdate: expect.closeTo(24, 1),
      uncoveredIssuers: [],
      crls: [
        { issuer: 'CN=Set Root', crlNumber: '1', thisUpdate: rootCrl.thisUpdate.toISOString(), nextUpdate: rootCrl.nextUpdate!.toISOString(), hoursLeft: expect.closeTo(24, 1), revokedCount: 0, source: 'http://r' },
        { issuer: 'CN=Set Issuing', crlNumber: '10', thisUpdate: issuingCrl.thisUpdate.toISOString(), nextUpdate: issuingCrl.nextUpdate!.toISOString(), hoursLeft: expect.closeTo(24, 1), revokedCount: 0, source: INSTALLED_SOURCE },
      ],
    });
  });

  it('gives hours with one decimal, the minimum over the set', () => {
    const soon = crl(issuing, 11, { nextUpdate: new Date(now.getTime() + 5.26 * HOUR) });
    const status = revocationStatus({ ...base, set: [rootCrl, soon], decisions: [] });
    expect(status.hoursToNextUpdate).toBe(5.3);
    expect(status.crls[1]!.hoursLeft).toBe(5.3);
  });

  it('warns when the nearest nextUpdate is closer than warnHours', () => {
    const soon = crl(issuing, 11, { nextUpdate: hoursFromNow(11) });
    expect(revocationStatus({ ...base, set: [rootCrl, soon], decisions: [] }).state).toBe('warning');
    expect(revocationStatus({ ...base, warnHours: 10, set: [rootCrl, soon], decisions: [] }).state).toBe('ok');
  });

  it('warns when a source was refused in the last refresh', () => {
    const decisions: CrlDecision[] = [{ source: 'http://x', outcome: 'refused', reason: 'unreachable: HTTP 404' }];
    expect(revocationStatus({ ...base, set: [rootCrl, issuingCrl], decisions, lastError: 'http://x: unreachable: HTTP 404' })).toMatchObject({
      state: 'warning',
      lastError: 'http://x: unreachable: HTTP 404',
    });
  });

  it('is expired when any CRL is past its nextUpdate, even with a refused source', () => {
    const expired = crl(issuing, 11, { thisUpdate: hoursFromNow(-48), nextUpdate: hoursFromNow(-2) });
    const status = revocationStatus({ ...base, set: [rootCrl, expired], decisions: [{ source: 'x', outcome: 'refused', reason: 'r' }] });
    expect(status.state).toBe('expired');
    expect(status.hoursToNextUpdate).toBe(-2);
  });

  it('is missing with no CRL at all, or with a CA left uncovered (even when another CRL expired)', () => {
    expect(revocationStatus({ ...base, set: [], decisions: [] })).toMatchObject({ state: 'missing', hoursToNextUpdate: null, crls: [] });
    const expired = crl(root, 2, { thisUpdate: hoursFromNow(-48), nextUpdate: hoursFromNow(-2) });
    expect(revocationStatus({ ...base, set: [expired], uncoveredIssuers: ['CN=Set Issuing'], decisions: [] })).toMatchObject({
      state: 'missing',
      uncoveredIssuers: ['CN=Set Issuing'],
    });
  });

  it('survives JSON unchanged and carries no certificate, CRL or key bytes', () => {
    const status = revocationStatus({ ...base, lastSuccessAt: null, set: [rootCrl, issuingCrl], decisions: [installedBy('http://r', rootCrl)] });
    const json = JSON.stringify(status);
    expect(JSON.parse(json)).toEqual(status);
    expect(json).not.toMatch(/BEGIN|PRIVATE|der|pem/i);
    expect(status.lastSuccessAt).toBeNull();
  });
});
