#!/usr/bin/env node
/** `npm run preflight -- --env <name>`: checks an AWS account before a deploy (see cli.ts). */
import { runPreflightCli } from './cli';

// The SDK's nine-line notice that its 2027 releases drop Node 20 would precede every
// report; the project's engines field decides the Node version, not this tool's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void runPreflightCli(process.argv.slice(2), process.stdout, process.stderr).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
