#!/usr/bin/env node
/**
 * `provider-host <command>` (`npx provider-host …`): the one command for users. Data goes to
 * stdout and nothing else does; messages and progress go to stderr; a reader that goes
 * away (`| head`) ends it quietly.
 *
 * Exit codes: 0 done (or every check passed), 1 it failed (an error answer, a failed
 * check, a host that did not start), 2 bad usage or configuration.
 */
import { spawn } from 'node:child_process';
import { runCatalogCli } from '../catalog/catalog-command';
import { runClientCli } from '../client/cli';
import { runSandboxCli } from '../dev/sandbox-command';
import { runPreflightCli } from '../preflight/cli';
import { runReleaseCli } from '../publish/cli';
import { runReportCli } from '../report/report-command';
import { runRevokeCli } from '../revoke/revoke-cli';
import { runVerifyCli } from '../verify/cli';
import { PROJECT_ROOT } from '../../lib/project-paths';

type Runner = (argv: string[]) => Promise<number>;

interface Command {
  readonly summary: string;
  readonly run: Runner;
}

/** `npx cdktf synth` of PROVIDER_ENV, as `npm run synth` does, its output passed through. */
const synth: Runner = (argv) =>
  new Promise((resolve) => {
    const child = spawn('npx', ['--no-install', 'cdktf', 'synth', ...argv], {
      cwd: PROJECT_ROOT,
      stdio: 'inherit',
      env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    });
    child.on('error', () => resolve(1));
    child.on('close', (code) => resolve(code ?? 1));
  });

export const COMMANDS: Readonly<Record<string, Command>> = {
  preflight: { summary: 'check an AWS account before a deploy (--env <name>)', run: (argv) => runPreflightCli(argv, process.stdout, process.stderr) },
  synth: { summary: 'synthesize the Terraform JSON of PROVIDER_ENV (default example) into cdktf.out/', run: synth },
  client: { summary: 'the consumer side: token, list, get <dataset> (data on stdout or -o <file>)', run: (argv) => runClientCli(argv, { stdout: process.stdout, stderr: process.stderr }) },
  verify: { summary: 'check a deployed provider from outside (<https url>, or the sandbox)', run: (argv) => runVerifyCli(argv, process.stdout, process.stderr) },
  dev: { summary: 'run the whole provider locally until Ctrl-C (the sandbox)', run: runSandboxCli },
  publish: { summary: 'publish datasets to the bucket, no deploy: <folder | files> (--dry-run)', run: (argv) => runReleaseCli('publish', argv, { stdout: process.stdout, stderr: process.stderr }) },
  status: { summary: 'the live data release and the one the host serves', run: (argv) => runReleaseCli('status', argv, { stdout: process.stdout, stderr: process.stderr }) },
  rollback: { summary: 'point the data back to the previous release', run: (argv) => runReleaseCli('rollback', argv, { stdout: process.stdout, stderr: process.stderr }) },
  catalog: { summary: 'the DCAT catalog records (JSON-LD) of a release: <folder> | --env <name> (--publisher, --out)', run: (argv) => runCatalogCli(argv, { stdout: process.stdout, stderr: process.stderr }) },
  report: { summary: 'access report per consumer and dataset from the host logs: <nginx logs> (--day, --out report.html, --json)', run: (argv) => runReportCli(argv, { stdout: process.stdout, stderr: process.stderr }) },
  revoke: { summary: 'refuse a client certificate now (deny list): <cert.pem> | --serial --issuer | --sha1', run: (argv) => runRevokeCli('revoke', argv, { stdout: process.stdout, stderr: process.stderr }) },
  unrevoke: { summary: 'take a certificate off the deny list', run: (argv) => runRevokeCli('unrevoke', argv, { stdout: process.stdout, stderr: process.stderr }) },
  revoked: { summary: "the deny list and the host's revocation status (CRLs)", run: (argv) => runRevokeCli('revoked', argv, { stdout: process.stdout, stderr: process.stderr }) },
};

export const HELP = `Usage: provider-host <command> [options]      (provider-host <command> --help for its options)

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)}${c.summary}`).join('\n')}
  help       this text

Exit codes: 0 done, 1 failed (an error answer, a failed check), 2 bad usage or configuration.`;

export async function runProviderHost(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? err : out).write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    err.write(`error: unknown command "${name}"\n  hint: one of ${[...Object.keys(COMMANDS), 'help'].join(', ')}\n`);
    return 2;
  }
  return command.run(rest);
}

/** The process entry: bin/provider-host.js calls it (so does `node` on this file). */
export function main(): void {
  // `provider-host client get x | head -1`: the reader left; that is not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void runProviderHost(process.argv.slice(2), process.stdout, process.stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) main();
