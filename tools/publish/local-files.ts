/**
 * What a publish names on this machine: a folder (every file under it, by relative path)
 * or files (by base name). Each file is hashed by streaming it once (SHA-256), and the same
 * pass refuses a private key (keys belong in SSM, never in the bucket). manifest.json is
 * the per-dataset policy the app reads; it is validated with the app's own schema.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, relative, resolve } from 'node:path';
import { manifestSchema, MANIFEST_FILE, type Manifest } from '../../provider-app/manifest';
import { releaseFileNameRule } from '../../contract/release-manifest';

export interface LocalFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface LocalRelease {
  readonly files: readonly LocalFile[];
  readonly policy?: Manifest;
}

/** A problem with what the user named (exit 2): the message says what and how to fix it. */
export class PublishInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishInputError';
  }
}

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{16,}/;

/** SHA-256 and size by streaming; throws PublishInputError when the bytes hold a PEM private key. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let tail = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    const text = tail + chunk.toString('latin1');
    if (PEM_PRIVATE_KEY.test(text)) throw new PublishInputError(`${path} holds a private key: refusing to publish it. Keys belong in SSM SecureString parameters, never in the bucket`);
    tail = text.slice(-128);
  }
  return { sha256: hash.digest('hex'), size };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The files named by `args` (one folder, or files), hashed and sorted by name. */
export async function readLocalRelease(args: readonly string[]): Promise<LocalRelease> {
  if (args.length === 0) throw new PublishInputError('name a folder or files to publish');
  const named: { name: string; path: string }[] = [];
  for (const arg of args) {
    const path = resolve(arg);
    const stat = await fs.stat(path).catch(() => undefined);
    if (!stat) throw new PublishInputError(`${arg}: no such file or folder`);
    if (stat.isDirectory()) {
      if (args.length > 1) throw new PublishInputError(`${arg} is a folder: publish one folder alone, or files`);
      for (const file of await walk(path)) named.push({ name: relative(path, file).split('\\').join('/'), path: file });
    } else {
      named.push({ name: basename(path), path });
    }
  }
  const bad = named.filter(({ name }) => !releaseFileNameRule.safeParse(name).success);
  if (bad.length > 0) {
    throw new PublishInputError(`not publishable file name(s): ${bad.map((b) => JSON.stringify(b.name)).join(', ')}; use letters, digits, ".", "_" and "-" (not starting with "." or "-")`);
  }
  const names = named.map((n) => n.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) throw new PublishInputError(`the same name twice: ${[...new Set(twice)].join(', ')}`);
  if (named.length === 0) throw new PublishInputError(`${args[0]} holds no files`);

  const files: LocalFile[] = [];
  for (const { name, path } of named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    files.push({ name, path, ...(await hashFile(path)) });
  }
  const manifestFile = files.find((file) => file.name === MANIFEST_FILE);
  if (!manifestFile) return { files };
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(manifestFile.path, 'utf8'));
  } catch (error) {
    throw new PublishInputError(`${manifestFile.path}: not JSON (${(error as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PublishInputError(`${manifestFile.path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return { files, policy: parsed.data };
}
