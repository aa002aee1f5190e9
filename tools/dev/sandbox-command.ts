#!/usr/bin/env node
/**
 * `npm run dev`: the whole provider on this machine (dev PKI, authorization
 * server, provider app, TLS terminator) until Ctrl-C. See sandbox.ts.
 */
import { parseArgs } from 'node:util';
import { startSandbox, type SandboxOptions } from './sandbox';

export const SANDBOX_HELP = `Usage: provider-host dev [options]   (or: npm run dev -- [options])

Starts the local provider sandbox: dev PKI (once, in .dev/pki), the authorization
server, the provider app on a UNIX socket with sample-data/, and a TLS terminator
requiring client certificates (nginx when installed, else a Node one).

  --port <n>                 HTTPS port (default 8443, or a free one if taken)
  --terminator <auto|nginx|node>  default auto (also: SANDBOX_TERMINATOR)
  --profile <open-energy|ib1>  trust framework (default open-energy). ib1: IB1 PKI
                             (ECDSA, Directory URL client ids, roles), JWT access
                             tokens, open and role-gated datasets, heartbeat; needs nginx
  --data-dir <dir>           datasets to serve (default sample-data/)
  --state-dir <dir>          PKI, sockets, logs, state (default .dev/)`;

function parse(argv: string[]): SandboxOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      terminator: { type: 'string' },
      profile: { type: 'string' },
      'data-dir': { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const terminator = values.terminator ?? process.env.SANDBOX_TERMINATOR ?? 'auto';
  if (terminator !== 'auto' && terminator !== 'nginx' && terminator !== 'node') {
    throw new Error(`--terminator must be auto, nginx or node, got "${terminator}"`);
  }
  const profile = values.profile ?? 'open-energy';
  if (profile !== 'open-energy' && profile !== 'ib1') throw new Error(`--profile must be open-energy or ib1, got "${values.profile}"`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new Error(`--port must be a port number (0 for any free port), got "${values.port}"`);
  }
  return { port, terminator, profile, dataDir: values['data-dir'], stateDir: values['state-dir'] };
}

/** Runs the sandbox until a signal; returns the exit code (2: bad usage). */
export async function runSandboxCli(argv: string[]): Promise<number> {
  let options: SandboxOptions | 'help';
  try {
    options = parse(argv);
  } catch (error) {
    process.stderr.write(`dev: ${(error as Error).message}\n${SANDBOX_HELP}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${SANDBOX_HELP}\n`);
    return 0;
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  // listen from the start: a Ctrl-C during start-up must still clean up, not kill us mid-way
  let signalled: string | undefined;
  let wake: (reason: string) => void = () => undefined;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      signalled ??= signal;
      wake(signal);
    });
  }
  let sandbox;
  try {
    sandbox = await startSandbox({ ...options, log });
  } catch (error) {
    log(signalled ? `dev: interrupted (${signalled}) during start-up; stopped what had started` : `dev: the sandbox did not start: ${(error as Error).message}`);
    return signalled ? 0 : 1;
  }
  const failed = sandbox.failed;
  const reason = signalled ?? (await new Promise<string>((resolve) => {
    wake = resolve;
    process.stdout.write(sandbox.instructions);
    // Ctrl-C reaches the children too (same process group) and one may exit before
    // our own handler runs: a signal arriving just after a child's exit wins
    void failed.then((why) => setTimeout(() => resolve(why), 300));
  }));
  log(`\nStopping (${reason})…`);
  await sandbox.stop();
  log('Stopped: every process the sandbox started has exited.');
  return reason.startsWith('SIG') ? 0 : 1;
}

if (require.main === module) {
  // exit explicitly: a handle left open by a child's pipes must not keep a stopped sandbox alive
  void runSandboxCli(process.argv.slice(2)).then((code) => process.exit(code));
}
