/**
 * Builds the host bundle (CONTRACTS.md): everything the host needs, no node_modules.
 *
 *   <out>/host/...                           host scripts and files (tests left out)
 *   <out>/nginx/...                          nginx templates, snippets, renderer
 *   <out>/provider-app/ecosystem.config.js   PM2 file (starts ../dist/provider-app/start-provider-app.js)
 *   <out>/dist/provider-app/start-provider-app.js          the app, one esbuild file
 *   <out>/dist/host/host-render.js           the host's renderer (host/render), one esbuild file
 *   <out>/VERSION                            content hash of all of the above
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { hashDirectory } from '../../lib/content-hash';

export interface BundleOptions {
  /** Project root (holds provider-app/, host/, nginx/). */
  readonly root: string;
  /** Output folder; replaced as a whole once the new bundle is complete. */
  readonly outDir: string;
  /** Node.js version the host runs. @default 'node20' */
  readonly target?: string;
}

export interface BundleResult {
  readonly outDir: string;
  readonly version: string;
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** TypeScript (tests included: the host has no TS toolchain; the app ships compiled), test folders and litter never ship. */
function shipped(source: string): boolean {
  const base = path.basename(source);
  return !base.startsWith('.') && !/\.ts$/.test(base) && !['__snapshots__', 'test-support', 'fixtures'].includes(base);
}

export async function buildHostBundle(options: BundleOptions): Promise<BundleResult> {
  const { root, outDir, target = 'node20' } = options;
  const entry = path.join(root, 'provider-app', 'start-provider-app.ts');
  const ecosystem = path.join(root, 'provider-app', 'ecosystem.config.js');
  const missing = [entry, ecosystem, path.join(root, 'host'), path.join(root, 'nginx'), path.join(root, HOST_RENDER_ENTRY)].filter((p) => !fs.existsSync(p));
  if (missing.length > 0) {
    throw new BundleError(
      `cannot build the host bundle: missing ${missing.map((p) => path.relative(root, p)).join(', ')}. ` +
        'The bundle needs the provider app (provider-app/start-provider-app.ts and ecosystem.config.js), host/ and nginx/.',
    );
  }

  // Build beside the target and swap at the end: a reader (the replica, a parallel test)
  // sees the old bundle or the new one, never a half-built folder.
  const finalDir = outDir;
  const building = `${finalDir}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(building, { recursive: true });
  try {
    const version = await assemble(root, building, entry, ecosystem, target);
    const old = `${finalDir}.old-${process.pid}`;
    if (fs.existsSync(finalDir)) fs.renameSync(finalDir, old);
    fs.renameSync(building, finalDir);
    fs.rmSync(old, { recursive: true, force: true });
    return { outDir: finalDir, version };
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
}

/** The host renderer's source and where it goes in the bundle (host scripts: $PH_CURRENT/dist/host/host-render.js). */
export const HOST_RENDER_ENTRY = path.join('host', 'render', 'host-render.ts');
export const HOST_RENDER_OUTPUT = path.join('dist', 'host', 'host-render.js');

/** One self-contained CommonJS file for Node (the host has no node_modules). */
async function compile(entry: string, outfile: string, target: string): Promise<void> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target,
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'silent',
  }).catch((error: { errors?: { text: string; location?: { file: string; line: number } | null }[] }) => {
    const details = (error.errors ?? []).map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text));
    throw new BundleError(`esbuild could not bundle ${path.basename(entry)}:\n  ${details.join('\n  ') || String(error)}`);
  });
  if (result.errors.length > 0) throw new BundleError(`esbuild reported errors: ${result.errors.map((e) => e.text).join('; ')}`);
}

async function assemble(root: string, outDir: string, entry: string, ecosystem: string, target: string): Promise<string> {

  await compile(entry, path.join(outDir, 'dist', 'provider-app', 'start-provider-app.js'), target);
  await compile(path.join(root, HOST_RENDER_ENTRY), path.join(outDir, HOST_RENDER_OUTPUT), target);

  for (const folder of ['host', 'nginx']) {
    fs.cpSync(path.join(root, folder), path.join(outDir, folder), { recursive: true, filter: shipped });
  }
  fs.mkdirSync(path.join(outDir, 'provider-app'), { recursive: true });
  fs.copyFileSync(ecosystem, path.join(outDir, 'provider-app', 'ecosystem.config.js'));

  const version = hashDirectory(outDir);
  fs.writeFileSync(path.join(outDir, 'VERSION'), `${version}\n`);
  return version;
}
