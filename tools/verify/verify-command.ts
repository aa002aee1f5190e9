#!/usr/bin/env node
/** `npm run verify -- <https url>`: post-deploy checks (see cli.ts). */
import { runVerifyCli } from './cli';

void runVerifyCli(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
  process.exitCode = code;
});
