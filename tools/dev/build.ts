import { build, stop } from 'esbuild';
import { join } from 'node:path';

/**
 * Bundles entry points (TypeScript sources) into plain JS under `outDir`, node_modules
 * left external (resolved from the repository). esbuild takes a fraction of a
 * second where `tsc` over the whole project takes several, which keeps `npm run dev`
 * snappy; it is the same kind of build as the host bundle's app file.
 * @param entries entry name → absolute source file
 * @returns entry name → built file
 */
export async function buildEntries(outDir: string, entries: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  await build({
    entryPoints: { ...entries },
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  // esbuild keeps a service process for further builds; the sandbox builds once
  await stop();
  return Object.fromEntries(Object.keys(entries).map((name) => [name, join(outDir, `${name}.js`)]));
}
