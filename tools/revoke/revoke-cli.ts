/**
 * `provider-host revoke | unrevoke | revoked`: the operator's deny list ("revoke now"),
 * BUCKET_LAYOUT.denyListKey in the data bucket, which the host fetches with its release
 * timer and turns into nginx maps. Results on stdout, errors on stderr. Exit codes as
 * publish's: 0 done (also when there was nothing to do, so scripts can converge), 1 the
 * store failed or holds a deny list that cannot be read, 2 bad usage or input.
 * Nothing here reads process.env or process.argv: the entry passes them in.
 *
 * Two edits at the same moment: the later write wins (the store has no conditional
 * write); `provider-host revoked` shows what stands.
 */
import { parseArgs } from 'node:util';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import { DenyListError, denyListSchema, EMPTY_DENY_LIST, parseDenyList, type DenyEntry, type DenyList } from '../../contract/deny-list';
import { EnvironmentError } from '../../config/load';
import { openStore, STORE_FLAGS, WHERE, type ReleaseCliIo, type StoreOptions } from '../publish/cli';
import type { ReleaseStore } from '../publish/release-store';
import { denyEntryFor, describeTarget, RevokeInputError, selectCertificate, type SelectedCertificate, type SelectorOptions } from './certificate-selector';
import { addEntry, removeEntries } from './deny-list-edit';
import { readHostStatus, renderRevoked, revokedJson, type RevokedView } from './revoked-view';

const KEY = BUCKET_LAYOUT.denyListKey;

const WHICH = `Which certificate (one of):
  <cert.pem>           its file (PEM or DER): its issuer and serial, as nginx reads them
  --serial <hex> --issuer <DN>
                       as an access log line has them: jq -r '.client_serial, .client_issuer'
  --sha1 <fingerprint> its SHA-1 fingerprint, colons allowed
                       (openssl x509 -noout -fingerprint -sha1 -in <cert.pem>)`;

export const REVOKE_HELP = `Usage: provider-host revoke <cert.pem> [--reason <text>] <where>
       provider-host revoke --serial <hex> --issuer <DN> [--reason <text>] <where>
       provider-host revoke --sha1 <fingerprint> [--reason <text>] <where>

Revoke now: lists the certificate in the operator's deny list, ${KEY}
in the data bucket. The host applies it within about 30 s (its release timer); nginx then
refuses the certificate with 400 (certificate-revoked.json), on resumed TLS sessions too.
Listed already: said so, nothing written. Have its CA revoke it as well (its CRL) for good.

${WHICH}
  --reason <text>      why, one line (provider-host revoked shows it)
${WHERE}
  -h, --help           this text

Exit codes: 0 done, 1 the bucket failed or its deny list cannot be read, 2 bad usage or input.`;

export const UNREVOKE_HELP = `Usage: provider-host unrevoke <cert.pem> <where>
       provider-host unrevoke --serial <hex> --issuer <DN> <where>
       provider-host unrevoke --sha1 <fingerprint> <where>

Takes the certificate off the operator's deny list (a certificate file: by its issuer and
serial and by its fingerprint). The host applies it within about 30 s; nginx then accepts
the certificate again, unless its CA's CRL revokes it. Not listed: said so, nothing written.

${WHICH}
${WHERE}
  -h, --help           this text

Exit codes: 0 done, 1 the bucket failed or its deny list cannot be read, 2 bad usage or input.`;

export const REVOKED_HELP = `Usage: provider-host revoked [--json] <where>

The operator's deny list (issuer and serial or fingerprint, when, why) and the host's
revocation status (${BUCKET_LAYOUT.revocationStatusKey}): its state, the hours to the earliest
CRL nextUpdate, its last success and last error, and CAs without a CRL.
  --json               both as JSON: {"denyList": {"key", "entries"}, "revocationStatus"}
${WHERE}
  -h, --help           this text

Exit codes: 0 done, 1 the bucket failed or its deny list cannot be read, 2 bad usage.`;

export type RevokeCommand = 'revoke' | 'unrevoke' | 'revoked';
const HELPS: Record<RevokeCommand, string> = { revoke: REVOKE_HELP, unrevoke: UNREVOKE_HELP, revoked: REVOKED_HELP };

interface Options {
  readonly help: boolean;
  readonly json: boolean;
  readonly reason?: string;
  readonly selector: SelectorOptions;
  readonly store: StoreOptions;
}

const defined = <T extends Record<string, unknown>>(values: T): Partial<T> =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;

function parse(command: RevokeCommand, argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        reason: { type: 'string' },
        serial: { type: 'string' },
        issuer: { type: 'string' },
        sha1: { type: 'string' },
        json: { type: 'boolean' },
        ...STORE_FLAGS,
      },
    });
  } catch (error) {
    throw new RevokeInputError((error as Error).message, `provider-host ${command} --help`);
  }
  const v = parsed.values;
  const usage = (message: string) => new RevokeInputError(message, `provider-host ${command} --help`);
  if (command === 'revoked') {
    if (parsed.positionals.length > 0) throw usage(`revoked lists every entry and takes no arguments, got ${parsed.positionals.join(' ')}`);
    const named = (['serial', 'issuer', 'sha1', 'reason'] as const).find((option) => v[option] !== undefined);
    if (named) throw usage(`--${named} is an option of revoke and unrevoke; revoked lists every entry`);
  } else if (v.json) throw usage('--json is an option of revoked');
  if (command === 'unrevoke' && v.reason !== undefined) throw usage('--reason is an option of revoke');
  if (parsed.positionals.length > 1) throw usage(`one certificate file at a time, got ${parsed.positionals.length}`);
  return {
    help: v.help ?? false,
    json: v.json ?? false,
    ...defined({ reason: v.reason }),
    selector: defined({ file: parsed.positionals[0], serial: v.serial, issuer: v.issuer, sha1: v.sha1 }),
    store: defined({ bucket: v.bucket, bucketDir: v['bucket-dir'], env: v.env, region: v.region }),
  };
}

function open(command: RevokeCommand, options: Options, io: ReleaseCliIo): ReleaseStore {
  try {
    return openStore(options.store, io);
  } catch (error) {
    // openStore refuses only over the options or an environment's files: bad usage.
    throw new RevokeInputError((error as Error).message, error instanceof EnvironmentError ? undefined : `provider-host ${command} --help`);
  }
}

const where = (store: ReleaseStore): string => `${KEY} in ${store.description}`;
const certificates = (list: DenyList): string => `${list.entries.length} certificate${list.entries.length === 1 ? '' : 's'}`;
const whenAndWhy = (entry: DenyEntry): string => `added ${entry.addedAt}${entry.reason ? `, "${entry.reason}"` : ''}`;

/** The list as it stands; an object that is not a deny list is refused, never edited. */
async function readDenyList(store: ReleaseStore): Promise<DenyList> {
  const text = await store.getText(KEY);
  if (text === undefined) return EMPTY_DENY_LIST;
  try {
    JSON.parse(text);
  } catch {
    // Said here because parseDenyList's own message for it advises running revoke, which just refused.
    throw new DenyListError(`${where(store)} is not JSON`);
  }
  return parseDenyList(text, where(store));
}

async function writeDenyList(store: ReleaseStore, list: DenyList): Promise<void> {
  // The host refuses (and keeps its installed list) what this schema refuses: never write it.
  const checked = denyListSchema.safeParse(list);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new Error(`the edited deny list would be refused, so nothing was written: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  await store.putText(KEY, `${JSON.stringify(checked.data, null, 2)}\n`, 'application/json');
}

async function revoke(selected: SelectedCertificate, entry: DenyEntry, store: ReleaseStore, io: ReleaseCliIo): Promise<number> {
  const result = addEntry(await readDenyList(store), entry, selected.keys.slice(1));
  if (!result.added) {
    const existing = result.existing[0]!;
    io.stdout.write(`already listed: ${describeTarget(existing)}, ${whenAndWhy(existing)}; nothing written\n`);
    return 0;
  }
  await writeDenyList(store, result.list);
  io.stdout.write(
    [
      `revoked: ${selected.description}${entry.reason ? `, "${entry.reason}"` : ''}`,
      `written: ${where(store)} (${certificates(result.list)})`,
      'the host applies it within about 30 s (its release timer); nginx then refuses this certificate with 400 (certificate-revoked.json), on resumed TLS sessions too',
    ].join('\n') + '\n',
  );
  return 0;
}

async function unrevoke(selected: SelectedCertificate, store: ReleaseStore, io: ReleaseCliIo): Promise<number> {
  const { list, removed } = removeEntries(await readDenyList(store), selected.keys);
  if (removed.length === 0) {
    io.stdout.write(`not listed: ${selected.description}; nothing written\n`);
    return 0;
  }
  await writeDenyList(store, list);
  io.stdout.write(
    [
      `unrevoked: ${removed.map((entry) => `${describeTarget(entry)} (${whenAndWhy(entry)})`).join('; ')}`,
      `written: ${where(store)} (${certificates(list)} left)`,
      "the host applies it within about 30 s (its release timer); nginx then accepts the certificate again, unless its CA's CRL revokes it",
    ].join('\n') + '\n',
  );
  return 0;
}

async function revoked(json: boolean, store: ReleaseStore, io: ReleaseCliIo): Promise<number> {
  const view: { -readonly [K in keyof RevokedView]: RevokedView[K] } = { denyListAt: where(store) };
  try {
    view.denyList = await readDenyList(store);
  } catch (error) {
    if (!(error instanceof DenyListError)) throw error;
    view.denyListProblem = error.message;
  }
  const statusText = await store.getText(BUCKET_LAYOUT.revocationStatusKey);
  if (statusText !== undefined) {
    const read = readHostStatus(statusText);
    if ('status' in read) view.status = read.status;
    else view.statusProblem = read.problem;
  }
  io.stdout.write(json ? revokedJson({ ...view, denyListKey: KEY }) : renderRevoked(view));
  if (view.denyListProblem === undefined) return 0;
  io.stderr.write('error: the deny list cannot be read (above); nothing can be revoked or unrevoked until it is repaired\n');
  return 1;
}

export async function runRevokeCli(command: RevokeCommand, argv: readonly string[], io: ReleaseCliIo): Promise<number> {
  try {
    const options = parse(command, argv);
    if (options.help) {
      io.stdout.write(`${HELPS[command]}\n`);
      return 0;
    }
    if (command === 'revoked') return await revoked(options.json, open(command, options, io), io);
    // The certificate (and the reason) first: bad input exits 2 before the bucket is touched.
    const selected = selectCertificate(options.selector);
    if (command === 'unrevoke') return await unrevoke(selected, open(command, options, io), io);
    const entry = denyEntryFor(selected.target, options.reason, io.now?.() ?? new Date());
    return await revoke(selected, entry, open(command, options, io), io);
  } catch (error) {
    if (error instanceof RevokeInputError || error instanceof EnvironmentError) {
      io.stderr.write(`error: ${error.message}\n${error instanceof RevokeInputError && error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 2;
    }
    if (error instanceof DenyListError) {
      io.stderr.write(
        `error: ${error.message}\n  hint: nothing was written; the host keeps its installed list meanwhile. Repair the object by hand (what is wrong is named above), then run this again\n`,
      );
      return 1;
    }
    const e = error as Error;
    io.stderr.write(`error: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    return 1;
  }
}
