import { PassThrough } from 'node:stream';
import { runClientCli } from '../tools/client/cli';

/** Runs the client CLI in-process (stderr not a terminal) and returns its exit code and output. */
export async function runClientCliCaptured(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: false });
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runClientCli(args, { stdout, stderr });
  return { code, out, err };
}
