/**
 * `provider-host revoke | unrevoke | revoked` end to end: argv in; stdout, stderr and the
 * exit code out; a folder standing in for the bucket (FolderStore, as the replica's S3).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { DENY_LIST_MAX_ENTRIES, parseDenyList } from '../../contract/deny-list';
import { chooseCrlSet, revocationStatus } from '../../host/render/revocation/crl-set';
import { parseCrl } from '../../host/render/revocation/crl';
import { createRootCa, issueClientCert, type CertificateAuthority, type IssuedCertificate } from '../../testing/pki';
import { issueCrl, serialOf } from '../../testing/pki/crl';
import { runRevokeCli, type RevokeCommand } from './revoke-cli';
import { opensslIssuer, removeScratch } from './test-support/openssl-names';

const NOW = new Date('2026-05-01T10:00:00.000Z');

let root: string;
let bucket: string;
let issuer: CertificateAuthority;
let otherCa: CertificateAuthority;
let alice: IssuedCertificate;
let bob: IssuedCertificate;
let certFile: string;

beforeAll(() => {
  issuer = createRootCa({ subject: { commonName: 'Issuing CA', organization: 'Bäcker, Trust+Test' } });
  otherCa = createRootCa({ subject: { commonName: 'Other CA' } });
  alice = issueClientCert(issuer, { subject: { commonName: 'alice' } });
  bob = issueClientCert(issuer, { subject: { commonName: 'bob' } });
});
afterAll(removeScratch);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'revoke-cli-'));
  bucket = join(root, 'bucket');
  certFile = join(root, 'alice.pem');
  writeFileSync(certFile, alice.certPem);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function cli(command: RevokeCommand, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => ({ isTTY: false, write: (t: string | Uint8Array) => into.push(String(t)) > 0 }) as never;
  const code = await runRevokeCli(command, args, { stdout: sink(out), stderr: sink(err), env: {}, stateDir: root, now: () => NOW });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const denyListFile = (): string => join(bucket, BUCKET_LAYOUT.denyListKey);
const denyList = () => parseDenyList(readFileSync(denyListFile(), 'utf8'));
const sha1Of = (pem: string): string => new X509Certificate(pem).fingerprint.replace(/:/g, '').toLowerCase();

describe('help and bad usage', () => {
  it.each(['revoke', 'unrevoke', 'revoked'] as const)('%s --help: its usage on stdout, exit 0', async (command) => {
    const run = await cli(command, ['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^Usage: provider-host ${command} `));
    expect(run.stdout).toContain('--bucket-dir <dir>');
  });

  it.each<[string, RevokeCommand, string[], string]>([
    ['no certificate named', 'revoke', [], 'error: which certificate? give its file, --serial with --issuer, or --sha1\n'],
    ['two ways at once', 'revoke', ['cert.pem', '--sha1', 'a'.repeat(40)], 'error: name the certificate one way, not by a certificate file and --sha1\n'],
    ['--serial alone', 'unrevoke', ['--serial', '0A'], 'error: --serial needs --issuer: client_issuer of the same access log line\n'],
    ['a serial that is not hex', 'revoke', ['--serial', '0xZZ', '--issuer', 'CN=Issuing CA'], 'error: --serial: serial is the certificate serial in hex (client_serial in the access log)\n'],
    ['a fingerprint that is not 40 hex digits', 'revoke', ['--sha1', 'abc'], 'error: --sha1: sha1Fingerprint is 40 hex digits\n  hint: openssl x509 -noout -fingerprint -sha1 -in <cert.pem> prints it\n'],
    ['a reason of two lines', 'revoke', ['--sha1', 'a'.repeat(40), '--reason', 'one\ntwo'], 'error: --reason: a reason is one line of text\n'],
    ['an issuer spelt as openssl prints it by default', 'revoke', ['--serial', '0A', '--issuer', 'C = GB, CN = Issuing CA'], 'error: --issuer is not as nginx prints it: "C = GB" is not type=value (nginx prints no spaces around , + and =)\n  hint: copy client_issuer from the access log as jq prints it (jq -r .client_issuer), or give the certificate file\n'],
    ['a certificate file that is not there', 'revoke', ['missing.pem'], 'error: cannot read missing.pem: no such file\n'],
    ['--json on revoke', 'revoke', ['--json', '--sha1', 'a'.repeat(40)], 'error: --json is an option of revoked\n  hint: provider-host revoke --help\n'],
    ['--reason on unrevoke', 'unrevoke', ['--reason', 'x', '--sha1', 'a'.repeat(40)], 'error: --reason is an option of revoke\n  hint: provider-host unrevoke --help\n'],
    ['a selector on revoked', 'revoked', ['--sha1', 'a'.repeat(40)], 'error: --sha1 is an option of revoke and unrevoke; revoked lists every entry\n  hint: provider-host revoked --help\n'],
  ])('%s: one line naming it, exit 2, the bucket untouched', async (_, command, args, stderr) => {
    const run = await cli(command, [...args, '--bucket-dir', bucket]);
    expect(run).toEqual({ code: 2, stdout: '', stderr });
    expect(existsSync(bucket)).toBe(false);
  });

  it('an unknown option: named, exit 2', async () => {
    const run = await cli('revoke', ['--serail', '0A', '--bucket-dir', bucket]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: Unknown option '--serail'\..*\n {2}hint: provider-host revoke --help\n$/);
  });

  it('no bucket named: the publish commands\' question, exit 2', async () => {
    const run = await cli('revoked', []);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: which bucket\? pass --bucket <name> \(the stack output "bucket"\), --env <name>, or --bucket-dir <dir>\n {2}hint: provider-host revoked --help\n$/);
  });

  it('a file holding a chain, or a key: refused, saying what to give instead', async () => {
    const chain = join(root, 'chain.pem');
    writeFileSync(chain, alice.certPem + issuer.certPem);
    expect(await cli('revoke', [chain, '--bucket-dir', bucket])).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: ${chain} holds 2 certificates; give a file with only the one to revoke\n  hint: the client's own is usually the first: openssl x509 -in ${chain} -out client.pem\n`,
    });
    const key = join(root, 'alice.key');
    writeFileSync(key, alice.keyPem);
    const run = await cli('revoke', [key, '--bucket-dir', bucket]);
    expect(run).toMatchObject({ code: 2, stderr: `error: ${key} is a private key, not a certificate\n  hint: give the client certificate file, or --serial and --issuer as the access log prints them\n` });
    expect(run.stderr).not.toContain('PRIVATE');
  });

  it('an issuer the deny list cannot hold (a $): refused, naming the fingerprint to use instead', async () => {
    const dollarCa = createRootCa({ subject: { commonName: 'Price$ CA' } });
    const cert = issueClientCert(dollarCa, { subject: { commonName: 'carol' } });
    const file = join(root, 'carol.pem');
    writeFileSync(file, cert.certPem);
    const run = await cli('revoke', [file, '--bucket-dir', bucket]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `error: ${file} cannot be listed by issuer and serial: issuer is the RFC 2253 DN as nginx logs it (client_issuer), without $ or control characters (it is CN=Price$ CA)\n  hint: revoke it by fingerprint instead: --sha1 ${sha1Of(cert.certPem)}\n`,
    );
  });
});

describe('revoke', () => {
  it('by certificate file: its issuer as nginx prints it and its serial are listed, and revoked shows them', async () => {
    const run = await cli('revoke', [certFile, '--reason', 'laptop stolen', '--bucket-dir', bucket]);
    const issuerDn = opensslIssuer(alice.certPem);
    expect(issuerDn).toBe('CN=Issuing CA,O=B\\C3\\A4cker\\, Trust\\+Test');
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        `revoked: serial ${serialOf(alice.certPem)} of ${issuerDn} (${certFile}), "laptop stolen"`,
        `written: ${BUCKET_LAYOUT.denyListKey} in folder ${bucket} (1 certificate)`,
        'the host applies it within about 30 s (its release timer); nginx then refuses this certificate with 400 (certificate-revoked.json), on resumed TLS sessions too',
        '',
      ].join('\n'),
    });
    expect(denyList()).toEqual({ version: 1, entries: [{ issuer: issuerDn, serial: serialOf(alice.certPem), reason: 'laptop stolen', addedAt: NOW.toISOString() }] });

    const listed = await cli('revoked', ['--bucket-dir', bucket]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`deny list (${BUCKET_LAYOUT.denyListKey} in folder ${bucket}): 1 certificate\n  serial ${serialOf(alice.certPem)} of ${issuerDn}  added ${NOW.toISOString()}  "laptop stolen"\n`);
  });
});

describe('revoke by what an access log line shows, or by fingerprint', () => {
  it('--serial and --issuer as the log prints them: listed, the serial as nginx prints it (upper case, no colons)', async () => {
    const run = await cli('revoke', ['--serial', '0a:1b:2c', '--issuer', 'CN=Issuing CA,O=B\\C3\\A4cker\\, Trust\\+Test', '--bucket-dir', bucket]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^revoked: serial 0A1B2C of CN=Issuing CA,O=B\\C3\\A4cker\\, Trust\\\+Test\n/);
    expect(denyList().entries).toEqual([{ issuer: 'CN=Issuing CA,O=B\\C3\\A4cker\\, Trust\\+Test', serial: '0A1B2C', addedAt: NOW.toISOString() }]);
  });

  it('--sha1 with colons, upper case: listed as nginx prints $ssl_client_fingerprint', async () => {
    const colons = new X509Certificate(bob.certPem).fingerprint;
    const run = await cli('revoke', ['--sha1', colons, '--bucket-dir', bucket]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^revoked: sha1 fingerprint ${sha1Of(bob.certPem)}\\n`));
    expect(denyList().entries).toEqual([{ sha1Fingerprint: sha1Of(bob.certPem), addedAt: NOW.toISOString() }]);
  });

  it('a second certificate goes after the first', async () => {
    await cli('revoke', [certFile, '--bucket-dir', bucket]);
    await cli('revoke', ['--sha1', sha1Of(bob.certPem), '--bucket-dir', bucket]);
    expect(denyList().entries.map((entry) => ('serial' in entry ? entry.serial : entry.sha1Fingerprint))).toEqual([serialOf(alice.certPem), sha1Of(bob.certPem)]);
  });
});

describe('already listed, not listed', () => {
  it('revoking a listed certificate again: says so with when and why, exit 0, nothing written', async () => {
    await cli('revoke', [certFile, '--reason', 'laptop stolen', '--bucket-dir', bucket]);
    const before = readFileSync(denyListFile(), 'utf8');
    const again = await cli('revoke', ['--serial', serialOf(alice.certPem), '--issuer', opensslIssuer(alice.certPem), '--reason', 'other', '--bucket-dir', bucket]);
    expect(again).toEqual({ code: 0, stderr: '', stdout: `already listed: serial ${serialOf(alice.certPem)} of ${opensslIssuer(alice.certPem)}, added ${NOW.toISOString()}, "laptop stolen"; nothing written\n` });
    expect(readFileSync(denyListFile(), 'utf8')).toBe(before);
  });

  it('a certificate file whose fingerprint is listed: already listed', async () => {
    await cli('revoke', ['--sha1', sha1Of(alice.certPem), '--bucket-dir', bucket]);
    const run = await cli('revoke', [certFile, '--bucket-dir', bucket]);
    expect(run).toMatchObject({ code: 0, stdout: `already listed: sha1 fingerprint ${sha1Of(alice.certPem)}, added ${NOW.toISOString()}; nothing written\n` });
    expect(denyList().entries).toHaveLength(1);
  });

  it('unrevoke: removed, the others kept; the host will accept it again', async () => {
    await cli('revoke', [certFile, '--bucket-dir', bucket]);
    await cli('revoke', ['--sha1', sha1Of(bob.certPem), '--bucket-dir', bucket]);
    const run = await cli('unrevoke', [certFile, '--bucket-dir', bucket]);
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        `unrevoked: serial ${serialOf(alice.certPem)} of ${opensslIssuer(alice.certPem)} (added ${NOW.toISOString()})`,
        `written: ${BUCKET_LAYOUT.denyListKey} in folder ${bucket} (1 certificate left)`,
        "the host applies it within about 30 s (its release timer); nginx then accepts the certificate again, unless its CA's CRL revokes it",
        '',
      ].join('\n'),
    });
    expect(denyList().entries).toEqual([{ sha1Fingerprint: sha1Of(bob.certPem), addedAt: NOW.toISOString() }]);
  });

  it('unrevoke by certificate file also removes its fingerprint entry', async () => {
    await cli('revoke', ['--sha1', sha1Of(alice.certPem), '--bucket-dir', bucket]);
    expect((await cli('unrevoke', [certFile, '--bucket-dir', bucket])).code).toBe(0);
    expect(denyList().entries).toEqual([]);
  });

  it('unrevoking what is not listed: says so, exit 0, nothing written (not even an empty list)', async () => {
    const run = await cli('unrevoke', ['--sha1', sha1Of(bob.certPem), '--bucket-dir', bucket]);
    expect(run).toEqual({ code: 0, stderr: '', stdout: `not listed: sha1 fingerprint ${sha1Of(bob.certPem)}; nothing written\n` });
    expect(existsSync(denyListFile())).toBe(false);
  });
});

describe('a deny list in the bucket that cannot be read', () => {
  it.each([
    ['not JSON', '{"version": 1, "entries": [', `error: ${BUCKET_LAYOUT.denyListKey} in folder BUCKET is not JSON\n`],
    ['an entry the schema refuses', JSON.stringify({ version: 1, entries: [{ issuer: 'CN=x', serial: 'not hex', addedAt: NOW.toISOString() }] }), `error: ${BUCKET_LAYOUT.denyListKey} in folder BUCKET: entries.0.serial: serial is the certificate serial in hex (client_serial in the access log)\n`],
  ])('%s: revoke and unrevoke refuse to edit it, exit 1, the object untouched', async (_, text, firstLine) => {
    mkdirSync(join(bucket, 'revocation'), { recursive: true });
    writeFileSync(denyListFile(), text);
    for (const command of ['revoke', 'unrevoke'] as const) {
      const run = await cli(command, [certFile, '--bucket-dir', bucket]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `${firstLine.replace('BUCKET', bucket)}  hint: nothing was written; the host keeps its installed list meanwhile. Repair the object by hand (what is wrong is named above), then run this again\n`,
      );
      expect(readFileSync(denyListFile(), 'utf8')).toBe(text);
    }
  });

  it('revoked shows the problem and the host status still, exit 1', async () => {
    mkdirSync(join(bucket, 'revocation'), { recursive: true });
    writeFileSync(denyListFile(), 'nonsense');
    const run = await cli('revoked', ['--bucket-dir', bucket]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`deny list (${BUCKET_LAYOUT.denyListKey} in folder ${bucket}): cannot be read: ${BUCKET_LAYOUT.denyListKey} in folder ${bucket} is not JSON\nhost revocation: not reported yet (the host writes it after its first CRL refresh)\n`);
    expect(run.stderr).toBe('error: the deny list cannot be read (above); nothing can be revoked or unrevoked until it is repaired\n');
  });
});

describe('a deny list that would be refused', () => {
  it('one more than the list may hold: nothing written, exit 1, the limit named', async () => {
    const full = { version: 1, entries: Array.from({ length: DENY_LIST_MAX_ENTRIES }, (_, i) => ({ sha1Fingerprint: i.toString(16).padStart(40, '0'), addedAt: NOW.toISOString() })) };
    mkdirSync(join(bucket, 'revocation'), { recursive: true });
    writeFileSync(denyListFile(), JSON.stringify(full));
    const run = await cli('revoke', [certFile, '--bucket-dir', bucket]);
    expect(run).toEqual({ code: 1, stdout: '', stderr: `error: the edited deny list would be refused, so nothing was written: entries: a deny list holds at most ${DENY_LIST_MAX_ENTRIES} entries; revoke through the CA's CRL for more\n` });
    expect(readFileSync(denyListFile(), 'utf8')).toBe(JSON.stringify(full));
  });
});

describe('the store failing', () => {
  it('a bucket folder that is a file: exit 1, one line, no stack trace', async () => {
    writeFileSync(bucket, 'not a folder');
    const run = await cli('revoke', [certFile, '--bucket-dir', bucket]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: ENOTDIR: not a directory, open '.*'\n$/);
  });
});

describe('revoked', () => {
  /** The status object a host writes after a refresh: one CA's CRL installed, the other CA's source failing. */
  function hostStatus(): unknown {
    const crl = parseCrl(issueCrl(issuer, { crlNumber: 12, revoked: [{ serialNumber: serialOf(bob.certPem) }], thisUpdate: new Date(NOW.getTime() - 3_600_000), nextUpdate: new Date(NOW.getTime() + 5.25 * 3_600_000) }).pem);
    const choice = chooseCrlSet({
      bundlePem: issuer.certPem + otherCa.certPem,
      installed: [],
      candidates: [
        { source: 'https://crl.example/issuing.crl', crl },
        { source: 'https://crl.example/other.crl', error: 'HTTP 503' },
      ],
      now: NOW,
    });
    return revocationStatus({ ...choice, now: NOW, warnHours: 24, lastSuccessAt: new Date('2026-04-30T09:00:00.000Z'), lastError: 'https://crl.example/other.crl: HTTP 503' });
  }

  function writeStatus(status: unknown): void {
    mkdirSync(join(bucket, 'host-status'), { recursive: true });
    writeFileSync(join(bucket, BUCKET_LAYOUT.revocationStatusKey), `${JSON.stringify(status, null, 2)}\n`);
  }

  it('nothing written yet: an empty list, the host not reported', async () => {
    expect(await cli('revoked', ['--bucket-dir', bucket])).toEqual({
      code: 0,
      stderr: '',
      stdout: `deny list (${BUCKET_LAYOUT.denyListKey} in folder ${bucket}): empty; provider-host revoke <cert.pem> adds to it\nhost revocation: not reported yet (the host writes it after its first CRL refresh)\n`,
    });
  });

  it("the entries, then the host's state, hours to the earliest nextUpdate, last success, last error and uncovered CAs", async () => {
    await cli('revoke', [certFile, '--reason', 'laptop stolen', '--bucket-dir', bucket]);
    await cli('revoke', ['--sha1', sha1Of(bob.certPem), '--bucket-dir', bucket]);
    writeStatus(hostStatus());
    const run = await cli('revoked', ['--bucket-dir', bucket]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        `deny list (${BUCKET_LAYOUT.denyListKey} in folder ${bucket}): 2 certificates`,
        `  serial ${serialOf(alice.certPem)} of CN=Issuing CA,O=B\\C3\\A4cker\\, Trust\\+Test  added ${NOW.toISOString()}  "laptop stolen"`,
        `  sha1 fingerprint ${sha1Of(bob.certPem)}  added ${NOW.toISOString()}`,
        `host revocation: missing: a CA of the trust bundle has no CRL; nginx refuses its clients (checked ${NOW.toISOString()})`,
        '  next CRL update  in 5.3 h',
        '  last success     2026-04-30T09:00:00.000Z',
        '  last error       https://crl.example/other.crl: HTTP 503',
        '  uncovered        CN=Other CA (no CRL: nginx refuses their clients)',
        `  CRL              CN=Issuing CA,O=Bäcker\\, Trust\\+Test: #12, next update ${new Date(NOW.getTime() + 5.25 * 3_600_000).toISOString()}, 1 revoked, from https://crl.example/issuing.crl`,
        '',
      ].join('\n'),
    );
  });

  it('revocation off on the host: said, without CRL lines', async () => {
    writeStatus({ state: 'disabled', checkedAt: NOW.toISOString() });
    const run = await cli('revoked', ['--bucket-dir', bucket]);
    expect(run.stdout).toContain(`host revocation: disabled (revocation.enabled: false): no CRL is checked; the deny list still holds (checked ${NOW.toISOString()})\n`);
    expect(run.stdout).not.toContain('next CRL update');
  });

  it('--json: the entries as listed and the status object as the host wrote it', async () => {
    await cli('revoke', [certFile, '--bucket-dir', bucket]);
    const status = hostStatus();
    writeStatus(status);
    const run = await cli('revoked', ['--json', '--bucket-dir', bucket]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ denyList: { key: BUCKET_LAYOUT.denyListKey, entries: denyList().entries }, revocationStatus: JSON.parse(JSON.stringify(status)) });
  });

  it('a status object that is not JSON: said in its place, exit 0', async () => {
    mkdirSync(join(bucket, 'host-status'), { recursive: true });
    writeFileSync(join(bucket, BUCKET_LAYOUT.revocationStatusKey), '{');
    const run = await cli('revoked', ['--bucket-dir', bucket]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('host revocation: its report cannot be read: not JSON\n');
  });
});
