#!/usr/bin/env node
/**
 * CLI: `node dist/testing/pki/pki-command.js --out <dir> [--dns name]... [--ip addr]... [--consumer cn] [--provider cn]`
 * writes the standard development PKI set (see `createDevSet`) and prints a JSON summary.
 */
import { parseArgs } from 'node:util';
import { createDevSet } from './dev-set';

const USAGE = 'usage: pki --out <dir> [--dns <name>]... [--ip <address>]... [--consumer <cn>] [--provider <cn>] [--org <name>]';

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        dns: { type: 'string', multiple: true },
        ip: { type: 'string', multiple: true },
        consumer: { type: 'string' },
        provider: { type: 'string' },
        org: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    process.stderr.write(`pki: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.out) {
    process.stderr.write(`pki: --out <dir> is required (the folder to write certificates and keys into)\n${USAGE}\n`);
    return 2;
  }
  const set = createDevSet(values.out, {
    dnsNames: values.dns,
    ipAddresses: values.ip,
    consumerName: values.consumer,
    providerName: values.provider,
    organization: values.org,
  });
  process.stdout.write(`${JSON.stringify({ dir: set.dir, files: set.files })}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
