/**
 * `npx provider-host …` as a user runs it (the real bin, a real sandbox): data alone on
 * stdout, byte for byte; a reader that leaves early ends it quietly; help everywhere;
 * exit codes as documented.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox } from '../dev/sandbox';

const REPO = resolve(__dirname, '..', '..');
const BIN = join(REPO, 'bin', 'provider-host.js');

interface Run {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs the bin; with `closeAfterFirstChunk` the reader goes away like `| head -1`. */
function providerHost(args: string[], closeAfterFirstChunk = false): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (closeAfterFirstChunk) child.stdout.destroy();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout: Buffer.concat(chunks), stderr });
    });
  });
}

describe('provider-host, without a provider', () => {
  it('help, --help and no command: the command list (stdout, 0; stderr, 2 without one)', async () => {
    for (const args of [['help'], ['--help']]) {
      const run = await providerHost(args);
      expect(run.code).toBe(0);
      expect(run.stdout.toString()).toMatch(/^Usage: provider-host <command>/);
      expect(run.stdout.toString()).toContain('Exit codes: 0 done, 1 failed');
    }
    const none = await providerHost([]);
    expect(none.code).toBe(2);
    expect(none.stdout.length).toBe(0);
    expect(none.stderr).toMatch(/^Usage: provider-host <command>/);
  }, 60_000);

  it.each([['client', 'help'], ['client', '--help'], ['verify', '--help'], ['preflight', '--help'], ['preflight', 'help'], ['dev', '--help'], ['report', '--help'], ['revoke', '--help'], ['unrevoke', '-h'], ['revoked', '--help'], ['catalog', '--help']])(
    '%s %s prints its own usage, exit 0',
    async (command, flag) => {
      const run = await providerHost([command, flag]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.toString()).toMatch(/^Usage: /);
    },
    60_000,
  );

  it('an unknown command: exit 2 naming the commands', async () => {
    const run = await providerHost(['publsh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: unknown command "publsh"\n  hint: one of preflight, synth, client, verify, dev, publish, status, rollback, catalog, report, revoke, unrevoke, revoked, help\n');
  }, 60_000);
});

describe('provider-host client against the sandbox', () => {
  let stateDir: string;
  let sandbox: Sandbox;
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'provider-host-cli-'));
    sandbox = await startSandbox({ stateDir, port: 0 });
  }, 90_000);
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('get <dataset> > file: stdout is the dataset byte for byte, nothing else', async () => {
    const run = await providerHost(['client', 'get', 'half-hourly-consumption', '--sandbox-dir', stateDir]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout.equals(readFileSync(join(REPO, 'sample-data', 'half-hourly-consumption.csv')))).toBe(true);
  }, 60_000);

  it('get <dataset> | head -1: the reader leaving early ends it quietly, exit 0, no stack trace', async () => {
    const run = await providerHost(['client', 'get', 'half-hourly-consumption', '--sandbox-dir', stateDir], true);
    expect(run.stderr).not.toMatch(/EPIPE|Error:|\n\s+at /);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(0);
  }, 60_000);

  it('a dataset it may not read: exit 1, the refusal on stderr, stdout empty', async () => {
    const run = await providerHost(['client', 'get', 'no-such-dataset', '--sandbox-dir', stateDir]);
    expect(run.code).toBe(1);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/^error: .*404/);
  }, 60_000);

  it('-o into a folder that does not exist: named, without the .partial file name', async () => {
    const run = await providerHost(['client', 'get', 'carbon-intensity', '-o', '/missing-dir/x.csv', '--sandbox-dir', stateDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: Cannot save carbon-intensity to /missing-dir/x.csv: the folder /missing-dir does not exist.\n  hint: Create it, or choose another -o path.\n');
  }, 60_000);
});
