/**
 * `provider-host publish | status | rollback`: datasets reach the bucket without a deploy.
 * Data (the plan, the status) on stdout, progress and errors on stderr. Exit codes: 0 done,
 * 1 failed (the bucket refused, a release is missing), 2 bad usage or input.
 * Nothing here reads process.env or process.argv: the entry passes them in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { EnvironmentError, loadNamedEnvironment } from '../../config/load';
import { ReleaseFormatError, RELEASE_LAYOUT } from '../../contract/release-manifest';
import { ENVIRONMENTS_DIR, PROJECT_ROOT } from '../../lib/project-paths';
import { formatBytes, ProgressBar, type ProgressTarget } from '../client/progress-bar';
import { FolderStore } from './folder-store';
import { PublishInputError, readLocalRelease } from './local-files';
import { publishRelease, releaseStatus, rollbackRelease } from './publish';
import type { ReleaseStore } from './release-store';
import { S3Store } from './s3-store';

export const WHERE = `Where (one of):
  --bucket <name>      the data bucket (the stack's output "bucket")
  --env <name>         config/environments/<name>.yaml: its region, and its bucket from the
                       local state terraform.<name>.tfstate when there is one
  --region <region>    default: the environment's region, else $AWS_REGION
  --bucket-dir <dir>   a folder standing in for the bucket (the replica's S3; no AWS)`;

export const PUBLISH_HELP = `Usage: provider-host publish <folder | files...> [--dry-run] [--merge] (--bucket <name> | --env <name> | --bucket-dir <dir>)

Publishes datasets to the data bucket without a deploy. Each file is uploaded once, named
by its SHA-256 (shared_data/objects/<sha256>; multipart when large), so an unchanged file is
not sent again and an interrupted publish resumes. Then the release manifest
(shared_data/releases/<id>.json: names, sizes, hashes, manifest.json's policy) and LAST the
pointer shared_data/current.json: a partial upload is never live. The host picks the
release up by itself within a minute, checks every hash, and swaps atomically.

A folder is the whole release (what it lacks is removed); files are published by base name.
  --dry-run            show what would change (new, changed, removed, unchanged), upload nothing
  --merge              keep the live release's files not named here
${WHERE}
  -h, --help           this text`;

export const STATUS_HELP = `Usage: provider-host status (--bucket <name> | --env <name> | --bucket-dir <dir>)

The live release (the pointer) and the release the host reports it serves, since when,
and the last release it refused and why.
${WHERE}`;

export const ROLLBACK_HELP = `Usage: provider-host rollback [--to <release id>] (--bucket <name> | --env <name> | --bucket-dir <dir>)

Points shared_data/current.json back to the previous release (or --to <id>); the host
swaps back within a minute. Nothing is uploaded or deleted; a second rollback undoes it.
${WHERE}`;

export type ReleaseCommand = 'publish' | 'status' | 'rollback';
const HELPS: Record<ReleaseCommand, string> = { publish: PUBLISH_HELP, status: STATUS_HELP, rollback: ROLLBACK_HELP };

export interface ReleaseCliIo {
  readonly stdout: NodeJS.WritableStream & ProgressTarget;
  readonly stderr: NodeJS.WritableStream & ProgressTarget;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Builds the S3 client for a region (tests pass a mocked one). */
  readonly s3Client?: (region: string) => S3Client;
  /** @default config/environments */
  readonly environmentsDir?: string;
  /** Where terraform.<env>.tfstate is looked for. @default the project root */
  readonly stateDir?: string;
  readonly now?: () => Date;
}

class UsageError extends Error {}

interface Options {
  readonly help: boolean;
  readonly positionals: string[];
  readonly dryRun: boolean;
  readonly merge: boolean;
  readonly to?: string;
  readonly bucket?: string;
  readonly bucketDir?: string;
  readonly env?: string;
  readonly region?: string;
}

function parse(command: ReleaseCommand, argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'dry-run': { type: 'boolean' },
        merge: { type: 'boolean' },
        to: { type: 'string' },
        ...STORE_FLAGS,
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (command !== 'publish' && (v['dry-run'] || v.merge)) throw new UsageError(`--dry-run and --merge are options of publish, not ${command}`);
  if (command !== 'rollback' && v.to !== undefined) throw new UsageError('--to is an option of rollback');
  if (command !== 'publish' && parsed.positionals.length > 0) throw new UsageError(`${command} takes no arguments, got ${parsed.positionals.join(' ')}`);
  return {
    help: v.help ?? false,
    positionals: parsed.positionals,
    dryRun: v['dry-run'] ?? false,
    merge: v.merge ?? false,
    ...(v.to !== undefined ? { to: v.to } : {}),
    ...(v.bucket !== undefined ? { bucket: v.bucket } : {}),
    ...(v['bucket-dir'] !== undefined ? { bucketDir: v['bucket-dir'] } : {}),
    ...(v.env !== undefined ? { env: v.env } : {}),
    ...(v.region !== undefined ? { region: v.region } : {}),
  };
}

/** The bucket output of a local state file (a deploy with the default local backend). */
function bucketFromState(stateDir: string, env: string): string | undefined {
  const file = join(stateDir, `terraform.${env}.tfstate`);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as { outputs?: { bucket?: { value?: unknown } } };
  const value = state.outputs?.bucket?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The bucket options alone: revoke (tools/revoke) opens the same store the same way. */
/** The bucket selection flags (WHERE), for every command that opens the store with openStore. */
export const STORE_FLAGS = {
  bucket: { type: 'string' },
  'bucket-dir': { type: 'string' },
  env: { type: 'string' },
  region: { type: 'string' },
} as const;

export type StoreOptions = Pick<Options, 'bucket' | 'bucketDir' | 'env' | 'region'>;

export function openStore(options: StoreOptions, io: ReleaseCliIo): ReleaseStore {
  if (options.bucketDir !== undefined) {
    if (options.bucket !== undefined || options.env !== undefined) throw new UsageError('--bucket-dir stands in for the bucket: give it alone, without --bucket or --env');
    return new FolderStore(options.bucketDir);
  }
  const env = io.env ?? process.env;
  const config = options.env !== undefined ? loadNamedEnvironment(io.environmentsDir ?? ENVIRONMENTS_DIR, options.env) : undefined;
  const bucket = options.bucket ?? (options.env !== undefined ? bucketFromState(io.stateDir ?? PROJECT_ROOT, options.env) : undefined);
  if (bucket === undefined) {
    throw new UsageError(
      options.env !== undefined
        ? `no local state terraform.${options.env}.tfstate with a "bucket" output (a remote backend?); pass --bucket <name>: the "bucket" line of PROVIDER_ENV=${options.env} npx cdktf output ${options.env}`
        : 'which bucket? pass --bucket <name> (the stack output "bucket"), --env <name>, or --bucket-dir <dir>',
    );
  }
  const region = options.region ?? config?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined) throw new UsageError('which region? pass --region <region> or --env <name> (or set AWS_REGION)');
  return new S3Store(io.s3Client?.(region) ?? new S3Client({ region }), bucket);
}

const pad = (text: string, width: number): string => text.padEnd(width);

async function publish(options: Options, store: ReleaseStore, io: ReleaseCliIo): Promise<number> {
  const local = await readLocalRelease(options.positionals);
  const sizes = new Map(local.files.map((file) => [file.name, file.size]));
  const result = await publishRelease({
    store,
    local,
    merge: options.merge,
    dryRun: options.dryRun,
    ...(io.now ? { now: io.now() } : {}),
    onUpload: (file) => (io.stderr.isTTY ? new ProgressBar(io.stderr, file.name, file.size) : undefined),
    onUploaded: (file) => io.stderr.write(`uploaded ${file.name} (${formatBytes(file.size)})\n`),
  });
  const { diff, release } = result;
  if (!release) {
    io.stdout.write(`nothing to publish: ${store.description} already serves these ${diff.unchanged.length} file(s) as ${result.previous}\n`);
    return 0;
  }
  const width = Math.max(...[...diff.added, ...diff.changed, ...diff.removed, ...diff.unchanged].map((name) => name.length), 4);
  const lines = [
    `${options.dryRun ? 'would publish' : 'release'} ${release.id}${result.previous ? ` (replaces ${result.previous})` : ' (the first)'}`,
    ...diff.added.map((name) => `  new        ${pad(name, width)}  ${formatBytes(sizes.get(name) ?? 0)}`),
    ...diff.changed.map((name) => `  changed    ${pad(name, width)}  ${formatBytes(sizes.get(name) ?? 0)}`),
    ...diff.removed.map((name) => `  removed    ${name}`),
    ...diff.unchanged.map((name) => `  unchanged  ${name}`),
  ];
  const bytes = result.uploaded.reduce((sum, file) => sum + file.size, 0);
  lines.push(`${options.dryRun ? 'would upload' : 'uploaded'} ${result.uploaded.length} object(s) (${formatBytes(bytes)}); ${result.present.length} already in ${store.description}`);
  lines.push(options.dryRun ? 'dry run: nothing written' : `live: ${RELEASE_LAYOUT.pointerKey} → ${release.id}; the host serves it within a minute (provider-host status)`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function status(store: ReleaseStore, io: ReleaseCliIo): Promise<number> {
  const { live, host } = await releaseStatus(store);
  const lines: string[] = [];
  if (!live) lines.push(`live      none: nothing published to ${store.description} yet (provider-host publish <folder>)`);
  else {
    const total = live.manifest.files.reduce((sum, file) => sum + file.size, 0);
    lines.push(`live      ${live.pointer.release}  published ${live.pointer.publishedAt}, ${live.manifest.files.length} file(s), ${formatBytes(total)}`);
    if (live.pointer.previous) lines.push(`previous  ${live.pointer.previous}`);
  }
  if (!host) lines.push('host      has not reported yet');
  else {
    const behind = live && host.serving !== live.pointer.release ? ' (not the live release yet)' : '';
    lines.push(`host      serving ${host.serving}${host.servingSince ? ` since ${host.servingSince}` : ''}${behind}, checked ${host.checkedAt}`);
    if (host.rejected) lines.push(`refused   ${host.rejected.release} at ${host.rejected.at}: ${host.rejected.reason}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function runReleaseCli(command: ReleaseCommand, argv: readonly string[], io: ReleaseCliIo): Promise<number> {
  try {
    const options = parse(command, argv);
    if (options.help) {
      io.stdout.write(`${HELPS[command]}\n`);
      return 0;
    }
    const store = openStore(options, io);
    if (command === 'publish') return await publish(options, store, io);
    if (command === 'status') return await status(store, io);
    const { from, to } = await rollbackRelease(store, options.to, io.now?.());
    io.stdout.write(`rolled back: ${RELEASE_LAYOUT.pointerKey} → ${to} (was ${from}); the host swaps back within a minute\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof PublishInputError || error instanceof EnvironmentError) {
      io.stderr.write(`error: ${error.message}\n${error instanceof UsageError ? `  hint: provider-host ${command} --help\n` : ''}`);
      return 2;
    }
    const e = error as Error;
    io.stderr.write(`error: ${error instanceof ReleaseFormatError ? e.message : `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`}\n`);
    return 1;
  }
}
