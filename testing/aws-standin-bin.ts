/**
 * The AWS stand-in as an `aws` command for host-script tests that do not build the project:
 * testing/replica/bin/aws runs the compiled dist/ copy (the replica's, after `npm run
 * build`); this bundles the source into one file instead (node starts it in a few ms,
 * ts-node would take a second per call).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { REPO } from './host-scripts';

/** Writes `binDir/aws` (and the bundle beside it); returns the command's path. */
export function writeAwsStandinBin(binDir: string): string {
  mkdirSync(binDir, { recursive: true });
  const bundle = join(binDir, 'aws-standin.js');
  buildSync({ entryPoints: [join(REPO, 'testing', 'replica', 'aws-standin.ts')], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent' });
  const command = join(binDir, 'aws');
  writeFileSync(command, `#!/bin/sh\nexec '${process.execPath}' '${bundle}' "$@"\n`);
  chmodSync(command, 0o755);
  return command;
}
