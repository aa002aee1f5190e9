import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClientCliCaptured } from '../../testing/run-client-cli';

const run = runClientCliCaptured;

describe('client CLI: usage errors are one clear message, never a stack trace', () => {
  let empty: string;
  beforeAll(() => {
    empty = mkdtempSync(join(tmpdir(), 'client-cli-'));
  });
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('without options and without a sandbox, says what is missing and how to fix it', async () => {
    const { code, err } = await run(['list', '--sandbox-dir', empty]);
    expect(code).toBe(1);
    expect(err).toBe(
      `error: Missing --url, --issuer, --client-id, --cert/--key and no sandbox is running (no live ${join(empty, 'sandbox.json')}).\n` +
        '  hint: Start the local sandbox with `npm run dev`, or pass --url, --issuer, --client-id, --cert, --key (and --ca).\n',
    );
  });

  it('ignores a state file left by a sandbox that is no longer running', async () => {
    writeFileSync(join(empty, 'sandbox.json'), JSON.stringify({ version: 1, pids: { sandbox: 2 ** 22 + 12345 } }));
    const { code, err } = await run(['token', '--sandbox-dir', empty]);
    expect(code).toBe(1);
    expect(err).toMatch(/no sandbox is running/);
  });

  it('names an unreadable certificate file and the option that gave it', async () => {
    const { code, err } = await run(['token', '--url', 'https://p.example/', '--issuer', 'https://as.example', '--client-id', 'c', '--cert', join(empty, 'nope.crt'), '--key', join(empty, 'nope.key')]);
    expect(code).toBe(1);
    expect(err).toBe(`error: Cannot read the client certificate ${join(empty, 'nope.crt')} (ENOENT).\n  hint: Check the path given to --cert.\n`);
  });

  it('rejects a certificate without its key', async () => {
    const { code, err } = await run(['token', '--url', 'https://p.example/', '--issuer', 'https://as.example', '--client-id', 'c', '--cert', 'a.crt']);
    expect(code).toBe(1);
    expect(err).toMatch(/^error: A client certificate needs its private key, and the reverse\.\n  hint: Pass both --cert and --key\./);
  });

  it('rejects unknown options and commands', async () => {
    const unknownOption = await run(['list', '--colour']);
    expect(unknownOption.code).toBe(1);
    expect(unknownOption.err).toBe('error: unknown option --colour\n  hint: see --help\n');
    const unknownCommand = await run(['fetch', '--sandbox-dir', empty]);
    expect(unknownCommand.err).toBe('error: Unknown command "fetch".\n  hint: Commands: help, token, list, get (see --help).\n');
  });

  it('prints help with --help (exit 0) and without a command (exit 2)', async () => {
    expect(await run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('get <dataset> [-o <file>]') });
    expect((await run([])).code).toBe(2);
  });
});
