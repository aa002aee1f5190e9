import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRootCa } from '../../testing/pki';
import { checkTrustBundle } from './trust-bundle-check';
import { createEnvironmentFolder, createPki, daysFromNow, goodAccount, isoDay, NOW, runPreflight, type EnvironmentFolder, type Pki } from '../../testing/preflight-account';

const PEM = (label: string, body: string): string => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

describe('preflight: trust bundle', () => {
  let pki: Pki;
  let folder: EnvironmentFolder;
  beforeAll(() => {
    pki = createPki();
    folder = createEnvironmentFolder(pki);
  });
  afterAll(() => folder.remove());

  /** Checks `text` as a bundle file (shown as "bundle.pem"). */
  const check = (text: string) => {
    const file = join(folder.dir, 'bundle-under-test.pem');
    writeFileSync(file, text);
    return checkTrustBundle({ file, shownAs: 'bundle.pem', warnDays: 30, failDays: 7, now: NOW });
  };

  it('GIVEN CA certificates with comments between them THEN ✔ with the count and the earliest expiry', () => {
    expect(check(`# Test Trust Root\n${pki.root.certPem}\nsubject=CN=Test Issuing CA\n${pki.intermediate.certPem}`)).toEqual({
      name: 'trust bundle',
      status: 'pass',
      detail: `2 CA certificates in bundle.pem, earliest expiry ${isoDay(daysFromNow(1825))} (CN=Test Issuing CA)`,
    });
  });

  it('GIVEN a CERTIFICATE block that is not a certificate THEN ✘', () => {
    expect(check(pki.root.certPem + PEM('CERTIFICATE', 'bm90IGEgY2VydGlmaWNhdGU='))).toEqual({
      name: 'trust bundle',
      status: 'fail',
      detail: "bundle.pem: block 2 is not a valid certificate (bad base64 or DER); the bundle holds the trust framework's CA certificates as PEM, nothing else",
    });
  });

  it('GIVEN a block of another kind THEN ✘ naming it', () => {
    expect(check(pki.root.certPem + PEM('X509 CRL', 'MIIB'))).toMatchObject({ status: 'fail', detail: 'bundle.pem: block 2 is a "X509 CRL", not a CERTIFICATE; the bundle holds the trust framework\'s CA certificates as PEM, nothing else' });
  });

  it('GIVEN a BEGIN line without its END line THEN ✘', () => {
    expect(check(`${pki.root.certPem}-----BEGIN CERTIFICATE-----\nMIIB\n`)).toMatchObject({ status: 'fail', detail: expect.stringContaining('bundle.pem: a "-----BEGIN" line has no matching "-----END" line;') });
  });

  it('GIVEN no certificate at all THEN ✘', () => {
    expect(check('just some text\n')).toMatchObject({
      status: 'fail',
      detail: 'bundle.pem: no "-----BEGIN CERTIFICATE-----" block; the bundle holds the trust framework\'s CA certificates as PEM, nothing else',
    });
  });

  it('GIVEN an end-entity certificate in the bundle THEN ✘: CA certificates only', () => {
    expect(check(pki.root.certPem + pki.leaf.certPem)).toMatchObject({
      status: 'fail',
      detail: 'bundle.pem: certificate 2 (CN=provider.energydata.org.uk) is not a CA; the bundle holds CA certificates only: remove it',
    });
  });

  it('GIVEN an expired CA THEN ✘; one expiring within 30 days THEN !', () => {
    const old = createRootCa({ subject: { commonName: 'Old Root' }, notBefore: daysFromNow(-900), notAfter: daysFromNow(-1) });
    expect(check(pki.root.certPem + old.certPem)).toMatchObject({
      status: 'fail',
      detail: `2 CA certificates in bundle.pem; CN=Old Root expired on ${isoDay(daysFromNow(-1))}; get the trust framework's current CA certificates and replace the file`,
    });
    const soon = createRootCa({ subject: { commonName: 'Soon Root' }, notBefore: daysFromNow(-900), notAfter: new Date(daysFromNow(12).getTime() + 3600_000) });
    expect(check(soon.certPem)).toMatchObject({
      status: 'warn',
      detail: `1 CA certificate in bundle.pem; CN=Soon Root expires ${isoDay(daysFromNow(12))} (in 12 days); get its renewal from the trust framework soon`,
    });
  });

  it('through the CLI: a garbage block in the configured bundle fails the run', async () => {
    writeFileSync(folder.bundleFile, pki.root.certPem + PEM('CERTIFICATE', 'garbage'));
    const run = await runPreflight(goodAccount(pki), ['--config', folder.write()], pki);
    expect(run.line('trust bundle')).toBe(
      `✘ trust bundle               ${folder.bundleFile}: block 2 is not a valid certificate (bad base64 or DER); the bundle holds the trust framework's CA certificates as PEM, nothing else`,
    );
    expect(run.code).toBe(1);
    writeFileSync(folder.bundleFile, pki.root.certPem + pki.intermediate.certPem);
  });
});
