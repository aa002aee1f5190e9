/**
 * Published data releases: the one definition of their keys in the bucket and of the
 * three JSON documents that travel through it. `provider-host publish` writes them, the
 * host reads them (through `host-render release-*`), the tests and the replica use them.
 *
 *   shared_data/objects/<sha256>        the bytes of one file, named by their SHA-256
 *   shared_data/releases/<id>.json      a release manifest: names, sizes, hashes, policy
 *   shared_data/current.json            the pointer: which release is live (written LAST)
 *   host-status/release.json            what the host serves (the one key besides the
 *                                       certificate backup it may write)
 *
 * A publish uploads every object first, then the manifest, then the pointer: a partial
 * upload is never live. The host checks every byte against the manifest before a swap.
 */
import { z } from 'zod';
import { manifestSchema } from '../provider-app/manifest';
import { BUCKET_LAYOUT } from './bucket-layout';

export const RELEASE_FORMAT = 1;

export const RELEASE_LAYOUT = {
  objects: `${BUCKET_LAYOUT.data}objects/`,
  releases: `${BUCKET_LAYOUT.data}releases/`,
  pointerKey: `${BUCKET_LAYOUT.data}current.json`,
  hostStatusKey: 'host-status/release.json',
} as const;

/** A lower-case hex SHA-256. */
export const sha256Rule = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256 (64 characters)');

/** `20260122T101500Z-<first 12 of the manifest's file list hash>`: sorts by time, unique per content. */
export const releaseIdRule = z.string().regex(/^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$/, 'must look like 20260122T101500Z-0123456789ab');

/** One path segment the host can write as a file name (as storage.ts allowed for S3 keys). */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const releaseFileNameRule = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => name.split('/').every((segment) => SEGMENT.test(segment)), 'must be path segments of letters, digits, ".", "_" and "-", none starting with "." or "-"');

export const releaseFileSchema = z.strictObject({
  name: releaseFileNameRule.describe('Path under shared_data/ on the host, e.g. carbon-intensity.csv'),
  size: z.number().int().nonnegative().describe('Bytes'),
  sha256: sha256Rule.describe('SHA-256 of the bytes; the object key is objects/<sha256>'),
});

export const releaseManifestSchema = z
  .strictObject({
    format: z.literal(RELEASE_FORMAT),
    id: releaseIdRule,
    createdAt: z.iso.datetime().describe('When the release was published (UTC)'),
    files: z.array(releaseFileSchema).describe('Every file of the release, sorted by name'),
    policy: manifestSchema.optional().describe('The per-dataset policy (manifest.json beside the files), also shipped as the file manifest.json'),
  })
  .superRefine((manifest, ctx) => {
    const names = manifest.files.map((file) => file.name);
    const duplicates = names.filter((name, i) => names.indexOf(name) !== i);
    if (duplicates.length > 0) ctx.addIssue({ code: 'custom', path: ['files'], message: `duplicate file names: ${[...new Set(duplicates)].join(', ')}` });
    const prefixes = names.filter((name) => names.some((other) => other.startsWith(`${name}/`)));
    if (prefixes.length > 0) ctx.addIssue({ code: 'custom', path: ['files'], message: `a name is both a file and a folder: ${prefixes.join(', ')}` });
  });

export const releasePointerSchema = z.strictObject({
  format: z.literal(RELEASE_FORMAT),
  release: releaseIdRule,
  manifestKey: z.string().describe('Key of the release manifest, shared_data/releases/<id>.json'),
  manifestSha256: sha256Rule.describe('SHA-256 of the manifest bytes (the host checks it)'),
  publishedAt: z.iso.datetime(),
  previous: releaseIdRule.optional().describe('The release this one replaced (rollback goes back to it)'),
});

export const hostReleaseStatusSchema = z.strictObject({
  format: z.literal(RELEASE_FORMAT),
  /** The release the host serves now ("none" before the first one). */
  serving: z.union([releaseIdRule, z.literal('none')]),
  servingSince: z.iso.datetime().optional(),
  checkedAt: z.iso.datetime(),
  /** The last release the host refused, and why (cleared when it serves a newer one). */
  rejected: z.strictObject({ release: z.string(), reason: z.string(), at: z.iso.datetime() }).optional(),
});

export type ReleaseFile = z.output<typeof releaseFileSchema>;
export type ReleaseManifest = z.output<typeof releaseManifestSchema>;
export type ReleasePointer = z.output<typeof releasePointerSchema>;
export type HostReleaseStatus = z.output<typeof hostReleaseStatusSchema>;

export const objectKey = (sha256: string): string => `${RELEASE_LAYOUT.objects}${sha256}`;
export const releaseKey = (id: string): string => `${RELEASE_LAYOUT.releases}${id}.json`;

export class ReleaseFormatError extends Error {
  constructor(what: string, issues: readonly string[]) {
    super(`${what} is not valid: ${issues.join('; ')}`);
    this.name = 'ReleaseFormatError';
  }
}

function parseWith<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ReleaseFormatError(what, [`not JSON (${(error as Error).message})`]);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new ReleaseFormatError(what, result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  return result.data;
}

export const parseReleaseManifest = (text: string, what = 'the release manifest'): ReleaseManifest => parseWith(releaseManifestSchema, text, what);
export const parseReleasePointer = (text: string, what = 'the release pointer'): ReleasePointer => parseWith(releasePointerSchema, text, what);
export const parseHostReleaseStatus = (text: string, what = 'the host status'): HostReleaseStatus => parseWith(hostReleaseStatusSchema, text, what);

/** Canonical JSON of a document (what is uploaded and hashed). */
export const releaseJson = (document: ReleaseManifest | ReleasePointer | HostReleaseStatus): string => `${JSON.stringify(document, null, 2)}\n`;
