import { BUCKET_LAYOUT } from './bucket-layout';
import { objectKey, parseHostReleaseStatus, parseReleaseManifest, parseReleasePointer, RELEASE_LAYOUT, releaseJson, releaseKey, ReleaseFormatError } from './release-manifest';

const SHA = 'a'.repeat(64);
const manifest = { format: 1, id: '20260122T101500Z-0123456789ab', createdAt: '2026-01-22T10:15:00.000Z', files: [{ name: 'carbon.csv', size: 3, sha256: SHA }] };
const pointer = { format: 1, release: manifest.id, manifestKey: releaseKey(manifest.id), manifestSha256: SHA, publishedAt: '2026-01-22T10:15:01.000Z' };

describe('the release manifest', () => {
  it('accepts a valid manifest and round-trips through its canonical JSON', () => {
    const parsed = parseReleaseManifest(JSON.stringify(manifest));
    expect(parseReleaseManifest(releaseJson(parsed))).toEqual(parsed);
  });

  it('carries the per-dataset policy with the app schema', () => {
    expect(parseReleaseManifest(JSON.stringify({ ...manifest, policy: { datasets: { carbon: { scopes: ['energy:read'] } } } })).policy).toEqual({ datasets: { carbon: { scopes: ['energy:read'] } } });
    expect(() => parseReleaseManifest(JSON.stringify({ ...manifest, policy: { datasets: { carbon: { scopes: ['bad scope'] } } } }))).toThrow(ReleaseFormatError);
  });

  it('carries the ib1 fields of the policy, and refuses a dataset whose access and sensitivity disagree, naming it', () => {
    const role = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
    const licence = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';
    const policy = { datasets: { carbon: { roles: [role], licence, sensitivity: 'IB1-SA', title: 'Carbon' }, open: { access: 'open', sensitivity: 'IB1-O' } } };
    expect(parseReleaseManifest(JSON.stringify({ ...manifest, policy })).policy).toEqual(policy);
    expect(() => parseReleaseManifest(JSON.stringify({ ...manifest, policy: { datasets: { carbon: { access: 'open', sensitivity: 'IB1-SA' } } } }))).toThrow('policy.datasets.carbon.sensitivity: an open dataset is IB1-O');
  });

  it.each([
    ['a bad hash', { files: [{ name: 'a.csv', size: 1, sha256: 'ABC' }] }, 'files.0.sha256: must be a lower-case hex SHA-256'],
    ['a path escaping the tree', { files: [{ name: '../etc/passwd', size: 1, sha256: SHA }] }, 'files.0.name: must be path segments'],
    ['a hidden file', { files: [{ name: '.env', size: 1, sha256: SHA }] }, 'files.0.name'],
    ['a duplicate name', { files: [manifest.files[0], manifest.files[0]] }, 'duplicate file names: carbon.csv'],
    ['a name both file and folder', { files: [{ name: 'a', size: 1, sha256: SHA }, { name: 'a/b.csv', size: 1, sha256: SHA }] }, 'a name is both a file and a folder: a'],
    ['a bad id', { id: 'latest' }, 'id: must look like'],
    ['an unknown field', { extra: 1 }, 'Unrecognized key'],
    ['another format', { format: 2 }, 'format'],
  ])('refuses %s', (_what, change, message) => {
    expect(() => parseReleaseManifest(JSON.stringify({ ...manifest, ...change }))).toThrow(message);
  });

  it('says when the text is not JSON', () => {
    expect(() => parseReleaseManifest('{', 'm.json')).toThrow(/^m\.json is not valid: not JSON/);
  });
});

describe('the pointer and the host status', () => {
  it('accepts a valid pointer, with or without previous', () => {
    expect(parseReleasePointer(JSON.stringify(pointer)).release).toBe(manifest.id);
    expect(parseReleasePointer(JSON.stringify({ ...pointer, previous: '20260121T000000Z-0123456789ab' })).previous).toBe('20260121T000000Z-0123456789ab');
    expect(() => parseReleasePointer(JSON.stringify({ ...pointer, manifestSha256: 'x' }))).toThrow('manifestSha256');
  });

  it('accepts the host status, "none" before the first release', () => {
    expect(parseHostReleaseStatus(JSON.stringify({ format: 1, serving: 'none', checkedAt: '2026-01-22T10:15:00Z' })).serving).toBe('none');
    expect(() => parseHostReleaseStatus(JSON.stringify({ format: 1, serving: 'x', checkedAt: '2026-01-22T10:15:00Z' }))).toThrow(ReleaseFormatError);
  });

  it('keys live under the data prefix the host reads; the status key outside it', () => {
    expect(RELEASE_LAYOUT.pointerKey).toBe(`${BUCKET_LAYOUT.data}current.json`);
    expect(objectKey(SHA)).toBe(`${BUCKET_LAYOUT.data}objects/${SHA}`);
    expect(releaseKey(manifest.id)).toBe(`${BUCKET_LAYOUT.data}releases/${manifest.id}.json`);
    expect(RELEASE_LAYOUT.hostStatusKey.startsWith(BUCKET_LAYOUT.data)).toBe(false);
  });
});
