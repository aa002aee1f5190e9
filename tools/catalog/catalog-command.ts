/**
 * `provider-host catalog`: the provider's Data Catalog Records (JSON-LD) for a release, from
 * the folder it is published from or from the live release in the bucket. The document on
 * stdout (or `--out`), messages on stderr. Exit codes: 0 done, 2 bad usage or input (each
 * problem named with its fix), 1 anything else (the bucket refused, nothing published).
 * Nothing here reads process.argv: the entry passes it in.
 */
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { EnvironmentError, loadNamedEnvironment } from '../../config/load';
import { ReleaseFormatError, type ReleaseFile } from '../../contract/release-manifest';
import { ENVIRONMENTS_DIR } from '../../lib/project-paths';
import type { Manifest } from '../../provider-app/manifest';
import { openStore, STORE_FLAGS, WHERE, type ReleaseCliIo, type StoreOptions } from '../publish/cli';
import { OutputFileError, writeOutputFile } from '../lib/output-file';
import { PublishInputError, readLocalRelease } from '../publish/local-files';
import { readLiveRelease } from '../publish/publish';
import { buildCatalog, CatalogError, IB1_CORE_TRUST_FRAMEWORK, type CatalogProblem, type ProviderFacts, type TrustFramework } from './catalog-records';

export const CATALOG_HELP = `Usage: provider-host catalog (<folder> | --bucket <name> | --env <name> | --bucket-dir <dir>) --publisher <url> [--base-url <url>] [options]

The provider's Data Catalog Records (IB1 Data Catalog Records 1.0): one DCAT record per
dataset as JSON-LD, with its licence, the roles that may read it (any one of), its
sensitivity class, its CSV download (size, SHA-256), the trust framework and the scheme.
Read from manifest.json (title, description, licence, roles, access, sensitivity, keywords)
and the files of a release: the folder you publish from, or the live release in the bucket.
Publish the document at a public https URL (no authentication, Content-Type
application/ld+json) and register that URL in the Directory.

  <folder>                        the folder you publish (manifest.json beside the datasets)
${WHERE}
  --publisher <url>               your Member URL in the Directory (dcterms:publisher)
  --base-url <url>                where the datasets are read: <url>/<name>; default with
                                  --env: https://<its domain>
  --trust-framework <name>        ib1 (default) or open-energy; ib1 refuses a record that
                                  lacks what IB1 makes mandatory, naming the field
  --scheme <url>                  the Scheme's Registry URL (ib1:scheme); required for ib1
  --trust-framework-url <url>     ib1:trustFramework; default ${IB1_CORE_TRUST_FRAMEWORK}
  --heartbeat-url <url>           a URL answering 200 while the provider is up (dcat:DataService)
  --heartbeat-description <url>   the Registry's OpenAPI file of that heartbeat
  --out <file>                    write the document there instead of stdout
  -h, --help                      this text`;

export type CatalogCliIo = ReleaseCliIo;

class UsageError extends Error {}
/** The document could not be written where --out says. */

const TRUST_FRAMEWORKS: readonly TrustFramework[] = ['ib1', 'open-energy'];

/** The flag each provider fact comes from, to name it in a problem. */
const FLAG_OF: Readonly<Record<string, string>> = {
  baseUrl: '--base-url',
  publisher: '--publisher',
  scheme: '--scheme',
  trustFrameworkUrl: '--trust-framework-url',
  heartbeatUrl: '--heartbeat-url',
  heartbeatDescription: '--heartbeat-description',
};

interface Options {
  readonly folder?: string;
  readonly store: StoreOptions;
  readonly facts: Omit<ProviderFacts, 'baseUrl'> & { readonly baseUrl?: string };
  readonly out?: string;
}

/** The keys whose value is defined: the options are exact-optional. */
function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function parse(argv: readonly string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...STORE_FLAGS,
        publisher: { type: 'string' },
        'base-url': { type: 'string' },
        'trust-framework': { type: 'string' },
        scheme: { type: 'string' },
        'trust-framework-url': { type: 'string' },
        'heartbeat-url': { type: 'string' },
        'heartbeat-description': { type: 'string' },
        out: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const store = defined({ bucket: v.bucket, bucketDir: v['bucket-dir'], env: v.env, region: v.region });
  const fromBucket = store.bucket !== undefined || store.bucketDir !== undefined || store.env !== undefined;
  if (parsed.positionals.length > 1) throw new UsageError(`name one folder, got ${parsed.positionals.join(' ')}`);
  const folder = parsed.positionals[0];
  if (folder !== undefined && fromBucket) throw new UsageError('read a folder or the bucket (--bucket, --env, --bucket-dir), not both');
  if (folder === undefined && !fromBucket) throw new UsageError('which release? name the folder you publish, or --bucket <name>, --env <name> or --bucket-dir <dir> for the live one');
  if (v.publisher === undefined) throw new UsageError('--publisher <url> is required: your Member URL in the Directory, e.g. https://directory.core.trust.ib1.org/member/827252');
  const trustFramework = (v['trust-framework'] ?? 'ib1') as TrustFramework;
  if (!TRUST_FRAMEWORKS.includes(trustFramework)) throw new UsageError(`--trust-framework ${JSON.stringify(v['trust-framework'])}: use ib1 or open-energy`);
  return {
    ...defined({ folder, out: v.out }),
    store,
    facts: {
      trustFramework,
      publisher: v.publisher,
      ...defined({
        baseUrl: v['base-url'],
        scheme: v.scheme,
        trustFrameworkUrl: v['trust-framework-url'],
        heartbeatUrl: v['heartbeat-url'],
        heartbeatDescription: v['heartbeat-description'],
      }),
    },
  };
}

/** The release's files and policy: from the folder (hashed here) or the live release. */
async function readRelease(options: Options, io: CatalogCliIo): Promise<{ files: ReleaseFile[]; policy: Manifest | undefined; from: string }> {
  if (options.folder !== undefined) {
    const stat = await fs.stat(options.folder).catch(() => undefined);
    if (!stat?.isDirectory()) throw new UsageError(`${options.folder} is not a folder: name the folder you publish (manifest.json beside the datasets)`);
    const local = await readLocalRelease([options.folder]);
    return { files: local.files.map(({ name, size, sha256 }) => ({ name, size, sha256 })), policy: local.policy, from: options.folder };
  }
  let store;
  try {
    store = openStore(options.store, io);
  } catch (error) {
    // openStore refuses only over the options or an environment's files: bad usage.
    if (error instanceof EnvironmentError) throw error;
    throw new UsageError((error as Error).message);
  }
  const live = await readLiveRelease(store);
  if (!live) throw new Error(`nothing published to ${store.description} yet: provider-host publish <folder> first, or name the folder`);
  return { files: [...live.manifest.files], policy: live.manifest.policy, from: `${store.description} release ${live.pointer.release}` };
}

function baseUrlOf(options: Options, io: CatalogCliIo): string {
  if (options.facts.baseUrl !== undefined) return options.facts.baseUrl;
  if (options.store.env === undefined) throw new UsageError('--base-url <url> is required (where the datasets are read, e.g. https://data.example.com), unless --env names the environment');
  return `https://${loadNamedEnvironment(io.environmentsDir ?? ENVIRONMENTS_DIR, options.store.env).domain}`;
}

const explain = (problem: CatalogProblem): string => {
  const flag = FLAG_OF[problem.where];
  if (flag !== undefined) return `${flag}: ${problem.message}`;
  return problem.where.startsWith('datasets.') ? `manifest.json ${problem.where}: ${problem.message}` : `${problem.where}: ${problem.message}`;
};

async function run(options: Options, io: CatalogCliIo): Promise<number> {
  const baseUrl = baseUrlOf(options, io);
  const { files, policy, from } = await readRelease(options, io);
  const catalog = buildCatalog({ files, policy, provider: { ...options.facts, baseUrl } });
  for (const warning of catalog.warnings) io.stderr.write(`warning: ${warning}\n`);
  const text = `${JSON.stringify(catalog.document, null, 2)}\n`;
  const summary = `${catalog.datasets.length} dataset record(s) from ${from}`;
  if (options.out === undefined) {
    io.stdout.write(text);
    io.stderr.write(`${summary}\n`);
    return 0;
  }
  await writeOutputFile(options.out, text);
  io.stderr.write(`wrote ${options.out}: ${summary}\n`);
  return 0;
}

export async function runCatalogCli(argv: readonly string[], io: CatalogCliIo): Promise<number> {
  try {
    const options = parse(argv);
    if (options === 'help') {
      io.stdout.write(`${CATALOG_HELP}\n`);
      return 0;
    }
    return await run(options, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n  hint: provider-host catalog --help\n`);
      return 2;
    }
    if (error instanceof CatalogError) {
      io.stderr.write(`error: the catalog records cannot be written:\n${error.problems.map((p) => `  ${explain(p)}\n`).join('')}`);
      return 2;
    }
    if (error instanceof PublishInputError || error instanceof EnvironmentError || error instanceof OutputFileError) {
      io.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    const e = error as Error;
    io.stderr.write(`error: ${error instanceof ReleaseFormatError ? e.message : `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`}\n`);
    return 1;
  }
}
