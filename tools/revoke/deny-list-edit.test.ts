import { denyKey, EMPTY_DENY_LIST, type DenyEntry, type DenyList } from '../../contract/deny-list';
import { addEntry, findEntries, removeEntries } from './deny-list-edit';

const addedAt = '2026-05-01T10:00:00.000Z';
const byIssuer = (serial: string, issuer = 'CN=Issuing CA,O=Example'): DenyEntry => ({ issuer, serial, addedAt });
const bySha1 = (digit: string): DenyEntry => ({ sha1Fingerprint: digit.repeat(40), addedAt });
const list = (...entries: DenyEntry[]): DenyList => ({ version: 1, entries });

describe('addEntry', () => {
  it('appends a new entry last, the others keeping their places', () => {
    const result = addEntry(list(byIssuer('0A'), bySha1('b')), byIssuer('01'));
    expect(result.added).toBe(true);
    expect(result.list.entries).toEqual([byIssuer('0A'), bySha1('b'), byIssuer('01')]);
  });

  it('the same issuer and serial again: not added, the listed entry returned, the list untouched', () => {
    const before = list(byIssuer('0A', 'CN=A'), byIssuer('0B', 'CN=A'));
    const result = addEntry(before, { ...byIssuer('0B', 'CN=A'), reason: 'again' });
    expect(result).toEqual({ added: false, list: before, existing: [byIssuer('0B', 'CN=A')] });
  });

  it('the same serial from another issuer is another certificate', () => {
    expect(addEntry(list(byIssuer('0A', 'CN=A')), byIssuer('0A', 'CN=B')).added).toBe(true);
  });

  it('listed under another key the certificate goes by (its fingerprint): not added', () => {
    const result = addEntry(list(bySha1('c')), byIssuer('0A'), [denyKey(bySha1('c'))]);
    expect(result).toMatchObject({ added: false, existing: [bySha1('c')] });
  });

  it('starts the empty list', () => {
    expect(addEntry(EMPTY_DENY_LIST, bySha1('a')).list).toEqual(list(bySha1('a')));
  });

  it('leaves no duplicate written by hand behind (the first is kept)', () => {
    const first = { ...byIssuer('0A'), reason: 'first' };
    expect(addEntry(list(first, byIssuer('0A'), bySha1('a')), bySha1('b')).list.entries).toEqual([first, bySha1('a'), bySha1('b')]);
  });
});

describe('removeEntries', () => {
  it('removes every entry going by one of the keys, the rest in order', () => {
    const result = removeEntries(list(byIssuer('01'), bySha1('a'), byIssuer('02'), bySha1('b')), [denyKey(byIssuer('01')), denyKey(bySha1('b'))]);
    expect(result.removed).toEqual([byIssuer('01'), bySha1('b')]);
    expect(result.list.entries).toEqual([bySha1('a'), byIssuer('02')]);
  });

  it('nothing listed under the keys: nothing removed, the same list', () => {
    const before = list(byIssuer('01'));
    expect(removeEntries(before, [denyKey(bySha1('a'))])).toEqual({ list: before, removed: [] });
  });

  it('removes duplicates of the key too', () => {
    expect(removeEntries(list(byIssuer('01'), byIssuer('01')), [denyKey(byIssuer('01'))]).list.entries).toEqual([]);
  });
});

describe('findEntries', () => {
  it('finds by any key, in list order', () => {
    expect(findEntries(list(bySha1('a'), byIssuer('01')), [denyKey(byIssuer('01')), denyKey(bySha1('a'))])).toEqual([bySha1('a'), byIssuer('01')]);
  });
});
