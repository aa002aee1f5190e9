import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELEASE_LAYOUT, releaseKey } from '../../contract/release-manifest';
import { runHostRender } from './host-render';

const SHA = 'b'.repeat(64);
const ID = '20260122T101500Z-0123456789ab';
const manifest = JSON.stringify({ format: 1, id: ID, createdAt: '2026-01-22T10:15:00.000Z', files: [{ name: 'a.csv', size: 3, sha256: SHA }, { name: 'region/north.csv', size: 5, sha256: SHA }] });
const pointer = JSON.stringify({ format: 1, release: ID, manifestKey: releaseKey(ID), manifestSha256: SHA, publishedAt: '2026-01-22T10:15:01.000Z' });
const io = (files: Record<string, string>) => ({ env: {}, readFile: (path: string) => files[path] ?? '', stdin: () => '' });

describe('host-render release-*', () => {
  it('release-pointer: id, manifest key and hash on one line', () => {
    expect(runHostRender(['release-pointer', 'p'], io({ p: pointer }))).toBe(`${ID} ${releaseKey(ID)} ${SHA}\n`);
  });

  it('release-pointer refuses a manifest key outside releases/', () => {
    expect(() => runHostRender(['release-pointer', 'p'], io({ p: pointer.replace(releaseKey(ID), 'shared_data/x.json') }))).toThrow('manifestKey shared_data/x.json is not');
  });

  it('release-plan: sha256 size name lines, and the id must be the pointer\'s', () => {
    expect(runHostRender(['release-plan', 'm', ID], io({ m: manifest }))).toBe(`${SHA} 3 a.csv\n${SHA} 5 region/north.csv\n`);
    expect(() => runHostRender(['release-plan', 'm', '20990101T000000Z-0123456789ab'], io({ m: manifest }))).toThrow(`id is ${ID}`);
  });

  it('release-checksums: the input of sha256sum -c', () => {
    expect(runHostRender(['release-checksums', 'm'], io({ m: manifest }))).toBe(`${SHA}  a.csv\n${SHA}  region/north.csv\n`);
  });

  it('release-status: the status object, with the last refusal', () => {
    const text = runHostRender(['release-status', ID, '2026-01-22T10:16:00Z', 'bad-id', '2026-01-22T10:17:00Z', 'a.csv:', 'hash', 'mismatch'], io({}));
    expect(JSON.parse(text)).toMatchObject({ format: 1, serving: ID, servingSince: '2026-01-22T10:16:00Z', rejected: { release: 'bad-id', reason: 'a.csv: hash mismatch' } });
    expect(JSON.parse(runHostRender(['release-status', 'none', ''], io({})))).toMatchObject({ serving: 'none' });
  });

  it('the bash release sync writes the status key the contract names (and the role may write)', () => {
    const bash = readFileSync(join(__dirname, '..', 'scripts', 'lib', 'release-sync.sh'), 'utf8');
    expect(bash).toContain(`PH_RELEASE_STATUS_KEY=${RELEASE_LAYOUT.hostStatusKey}\n`);
    expect(bash).toContain('"s3://$PH_BUCKET/${PH_DATA_PREFIX}current.json"');
    expect(bash).toContain('${PH_DATA_PREFIX}objects/$hash');
  });

  it('the timer picks a release up within the stated bound', () => {
    const timer = readFileSync(join(__dirname, '..', 'systemd', 'provider-host-release.timer'), 'utf8');
    expect(timer).toMatch(/^OnUnitActiveSec=20s$/m);
  });
});
