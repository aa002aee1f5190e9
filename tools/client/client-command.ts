#!/usr/bin/env node
/** `npm run client -- <command>`: the consumer CLI (see cli.ts). */
import { runClientCli } from './cli';

void runClientCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
