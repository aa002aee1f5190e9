/**
 * The host's renderer (host/render/host-render.ts) built as the bundle builds it — one
 * CommonJS file — for tests that run the host scripts against a fixture bundle. Built
 * once per test process, into the system's temp folder.
 */
import { buildSync } from 'esbuild';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..');
let built: string | undefined;

export function builtHostRenderer(): string {
  if (built !== undefined && existsSync(built)) return built;
  const outfile = join(tmpdir(), `ph-host-render-${process.pid}.js`);
  buildSync({
    entryPoints: [join(REPO, 'host', 'render', 'host-render.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
  });
  built = outfile;
  return outfile;
}
