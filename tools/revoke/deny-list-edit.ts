/**
 * Edits of the deny list, pure: the command reads the list, edits it here, validates
 * and writes it. Entries are the same certificate when their denyKey is the same; one
 * certificate can go by several keys (a certificate file gives issuer+serial and its
 * fingerprint), so lookups take every key it goes by.
 *
 * The order is stable: entries keep their places and a new one goes last, so the
 * object's diff (and the host's log of it) shows only what changed. An edit never
 * leaves two entries with one key; of duplicates written by hand, the first is kept.
 */
import { denyKey, type DenyEntry, type DenyList } from '../../contract/deny-list';

/** The entries naming the certificate that goes by any of `keys`, in list order. */
export function findEntries(list: DenyList, keys: readonly string[]): DenyEntry[] {
  const wanted = new Set(keys);
  return list.entries.filter((entry) => wanted.has(denyKey(entry)));
}

function withoutDuplicates(entries: readonly DenyEntry[]): DenyEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = denyKey(entry);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export type AddResult =
  | { readonly added: true; readonly list: DenyList }
  /** Listed already (under `entry`'s key or another of `keys`): the list is unchanged. */
  | { readonly added: false; readonly list: DenyList; readonly existing: readonly DenyEntry[] };

/**
 * `entry` appended, unless the certificate is listed already under its key or any of
 * `otherKeys` (the other keys the same certificate goes by).
 */
export function addEntry(list: DenyList, entry: DenyEntry, otherKeys: readonly string[] = []): AddResult {
  const existing = findEntries(list, [denyKey(entry), ...otherKeys]);
  if (existing.length > 0) return { added: false, list, existing };
  return { added: true, list: { ...list, entries: withoutDuplicates([...list.entries, entry]) } };
}

/** Every entry going by one of `keys` removed; `removed` empty when none was listed. */
export function removeEntries(list: DenyList, keys: readonly string[]): { readonly list: DenyList; readonly removed: readonly DenyEntry[] } {
  const removed = findEntries(list, keys);
  if (removed.length === 0) return { list, removed };
  const gone = new Set(keys);
  return { list: { ...list, entries: withoutDuplicates(list.entries.filter((entry) => !gone.has(denyKey(entry)))) }, removed };
}
