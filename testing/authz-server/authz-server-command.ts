#!/usr/bin/env node
/**
 * CLI: `node dist/testing/authz-server/authz-server-command.js --config <file.json>`.
 * Prints exactly one line `{"ready":true,"issuer":"https://127.0.0.1:PORT","port":PORT}` on
 * stdout once it listens (everything else goes to stderr); SIGTERM/SIGINT stop it.
 * Started with an IPC channel (index.ts), it also takes `{ id, op: 'rotate-signing-key' |
 * 'publish-signing-keys' }` and answers `{ id, kid? }`.
 */
import { parseArgs } from 'node:util';
import { loadAuthzServerConfig } from './config';
import { runAuthzServer } from './server';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } } });
  if (!values.config) {
    process.stderr.write('authz-server: --config <file.json> is required\n');
    process.exit(2);
  }
  const config = loadAuthzServerConfig(values.config);
  const running = await runAuthzServer(config);
  process.stdout.write(`${JSON.stringify({ ready: true, issuer: running.issuer, port: running.port })}\n`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.on('message', (message: { id?: unknown; op?: unknown }) => {
    if (message.op === 'rotate-signing-key') process.send?.({ id: message.id, kid: running.rotateSigningKey() });
    else if (message.op === 'publish-signing-keys') {
      running.publishSigningKeys();
      process.send?.({ id: message.id });
    } else process.send?.({ id: message.id, error: `unknown operation ${String(message.op)}` });
  });
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`authz-server: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
