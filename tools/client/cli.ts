import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ConsumerClient } from './consumer-client';
import { CONSUMER_OPTIONS, CONSUMER_OPTIONS_HELP, toConsumerFlags } from './consumer-flags';
import { resolveConsumerSettings } from './consumer-settings';
import { ClientError, ProviderAnswerError } from './errors';
import { formatBytes, ProgressBar, type ProgressTarget } from './progress-bar';

/** Where the CLI writes; the process streams in production, buffers in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: ProgressTarget & NodeJS.WritableStream;
}

export const CLIENT_HELP = `Usage: provider-host client <command> [options]   (or: npm run -s client -- <command>)

Commands:
  help                           this text
  token [--json] [--fresh]       get an access token (client_credentials, mTLS client auth);
                                 prints the token on stdout, its expiry on stderr
  list [--json]                  the datasets you may read
  get <dataset> [-o <file>]      download a dataset to a file (or stdout); progress on a terminal

${CONSUMER_OPTIONS_HELP}`;

/** Runs the consumer CLI; returns the exit code. Never throws for user errors. */
export async function runClientCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ...CONSUMER_OPTIONS,
        output: { type: 'string', short: 'o' },
        json: { type: 'boolean' },
        fresh: { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || !command || command === 'help') {
      io.stdout.write(`${CLIENT_HELP}\n`);
      return values.help || command === 'help' ? 0 : 2;
    }
    const expectArgs = (count: number, usage: string): void => {
      if (rest.length !== count) throw new ClientError(`Usage: ${usage}`);
    };
    if (!['token', 'list', 'get'].includes(command)) {
      throw new ClientError(`Unknown command "${command}".`, 'Commands: help, token, list, get (see --help).');
    }
    const settings = resolveConsumerSettings(toConsumerFlags(values));
    const client = new ConsumerClient(settings);
    switch (command) {
      case 'token': {
        expectArgs(0, 'token [--json] [--fresh]');
        const token = await client.token({ fresh: values.fresh });
        const expiresIn = Math.round((token.expiresAt - Date.now()) / 1000);
        if (values.json) {
          io.stdout.write(`${JSON.stringify({
            access_token: token.accessToken,
            token_type: token.tokenType,
            expires_in: expiresIn,
            expires_at: new Date(token.expiresAt).toISOString(),
            scope: token.scope,
          })}\n`);
        } else {
          io.stdout.write(`${token.accessToken}\n`);
          io.stderr.write(
            `${token.tokenType} token for ${settings.clientId}${token.scope ? ` (scope: ${token.scope})` : ''}, ` +
              `expires in ${expiresIn}s at ${new Date(token.expiresAt).toISOString()}${token.fromCache ? ', from cache' : ''}\n`,
          );
        }
        return 0;
      }
      case 'list': {
        expectArgs(0, 'list [--json]');
        const datasets = await client.listDatasets();
        if (values.json) {
          io.stdout.write(`${JSON.stringify(datasets, null, 2)}\n`);
        } else {
          const width = Math.max(4, ...datasets.map((d) => d.name.length));
          for (const d of datasets) io.stdout.write(`${d.name.padEnd(width)}  ${d.size !== undefined ? formatBytes(d.size) : ''}`.trimEnd() + '\n');
          if (datasets.length === 0) io.stderr.write(noDatasetsHint(settings.scope));
        }
        return 0;
      }
      case 'get': {
        expectArgs(1, 'get <dataset> [-o <file>]');
        await download(client, rest[0]!, values.output, io, !values['no-progress']);
        return 0;
      }
      default:
        throw new ClientError(`Unknown command "${command}".`, 'Commands: help, token, list, get (see --help).');
    }
  } catch (error) {
    // The reader went away (`| head`): not an error of ours, and nothing left to say.
    if (isBrokenPipe(error)) return 0;
    io.stderr.write(`${describeError(error)}\n`);
    return 1;
  }
}

export function isBrokenPipe(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'EPIPE';
}

/** An empty list most often means a token without the provider's scope: say so. */
export function noDatasetsHint(scope: string | undefined): string {
  return `No datasets you may read with this token (${scope ? `scope: ${scope}` : 'no scope requested'}).\n`
    + '  hint: the provider lists only what the token may read; ask for the scope it requires with --scope <scope> (its oauth.scope)\n';
}

async function download(client: ConsumerClient, name: string, output: string | undefined, io: CliIo, progress: boolean): Promise<void> {
  const res = await client.getDataset(name);
  // a bar only where a human watches and the data does not go to the same terminal
  const showBar = progress && Boolean(io.stderr.isTTY) && (output !== undefined || !io.stdout.isTTY);
  const bar = new ProgressBar(showBar ? io.stderr : { isTTY: false, write: () => true }, name, res.size);
  if (output === undefined || output === '-') {
    await pipeline(res.body, bar, io.stdout, { end: false });
    return;
  }
  // write beside the target and rename on success: a failed download leaves no half file
  const folder = dirname(resolve(output));
  if (!existsSync(folder)) throw new ClientError(`Cannot save ${name} to ${output}: the folder ${folder} does not exist.`, 'Create it, or choose another -o path.');
  const partial = `${output}.partial`;
  try {
    await pipeline(res.body, bar, createWriteStream(partial));
    if (res.size !== undefined && bar.bytes !== res.size) {
      throw new ClientError(`Download of ${name} stopped at ${bar.bytes} of ${res.size} bytes.`, 'Try again.');
    }
    renameSync(partial, output);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  io.stderr.write(`Saved ${name} to ${output} (${formatBytes(bar.bytes)}${res.interactionId ? `, x-fapi-interaction-id ${res.interactionId}` : ''})\n`);
}

/** One or two lines for the terminal; a stack trace only for a bug (non-ClientError). */
export function describeError(error: unknown): string {
  if (error instanceof ClientError) {
    const lines = [`error: ${error.message}`];
    if (error instanceof ProviderAnswerError && error.interactionId) lines.push(`  x-fapi-interaction-id: ${error.interactionId}`);
    if (error.hint) lines.push(`  hint: ${error.hint}`);
    return lines.join('\n');
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // Node's own message quotes unevenly ('-- "--x"); name the option plainly.
    const option = /'([^']+)'/.exec((error as Error).message)?.[1] ?? 'an option';
    return `error: unknown option ${option}\n  hint: see --help`;
  }
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    return `error: ${(error as Error).message}\n  hint: see --help`;
  }
  if (code === 'EACCES' || code === 'ENOENT' || code === 'ENOSPC' || code === 'EISDIR') {
    return `error: ${(error as Error).message.replace(/\.partial\b/, '')}\n  hint: check the -o path and the disk`;
  }
  return `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}
