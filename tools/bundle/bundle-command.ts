/**
 * `npm run bundle`: builds dist/host-bundle (or --out <dir>) from this project.
 */
import * as path from 'node:path';
import { PROJECT_ROOT, DEFAULT_BUNDLE_DIR } from '../../lib/project-paths';
import { BundleError, buildHostBundle } from './build-bundle';

async function main(argv: readonly string[]): Promise<void> {
  const outIndex = argv.indexOf('--out');
  const outDir = outIndex >= 0 && argv[outIndex + 1] ? path.resolve(argv[outIndex + 1]) : DEFAULT_BUNDLE_DIR;
  const { version } = await buildHostBundle({ root: PROJECT_ROOT, outDir });
  process.stdout.write(`host bundle ${version} → ${path.relative(process.cwd(), outDir) || outDir}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bundle: ${error instanceof BundleError ? error.message : String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
