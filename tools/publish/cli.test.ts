import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { runReleaseCli, type ReleaseCommand } from './cli';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'publish-cli-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function cli(command: ReleaseCommand, args: string[], extra: { tty?: boolean; env?: Record<string, string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => ({ isTTY: extra.tty ?? false, columns: 100, write: (t: string | Uint8Array) => into.push(String(t)) > 0 }) as never;
  const code = await runReleaseCli(command, args, { stdout: sink(out), stderr: sink(err), env: extra.env ?? {}, stateDir: root, now: () => new Date('2026-01-22T10:15:00Z') });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function data(files: Record<string, string>): string {
  const dir = join(root, `data-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('provider-host publish | status | rollback', () => {
  it('--help: the usage on stdout, exit 0', async () => {
    for (const command of ['publish', 'status', 'rollback'] as const) {
      const run = await cli(command, ['--help']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(new RegExp(`^Usage: provider-host ${command} `));
    }
  });

  it('bad usage exits 2 with a hint', async () => {
    expect(await cli('publish', ['--frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('hint: provider-host publish --help') });
    expect(await cli('status', ['--dry-run', '--bucket-dir', root])).toMatchObject({ code: 2 });
    expect(await cli('publish', [data({ 'a.csv': 'a' })])).toMatchObject({ code: 2, stderr: expect.stringContaining('which bucket?') });
    expect(await cli('publish', ['--bucket', 'b', data({ 'a.csv': 'a' })])).toMatchObject({ code: 2, stderr: expect.stringContaining('which region?') });
    expect(await cli('publish', ['--bucket-dir', join(root, 'bucket')])).toMatchObject({ code: 2, stderr: 'error: name a folder or files to publish\n' });
    expect(await cli('publish', ['--bucket-dir', join(root, 'bucket'), join(root, 'missing')])).toMatchObject({ code: 2 });
  });

  it('--dry-run shows new, changed, removed and unchanged, and writes nothing', async () => {
    const bucket = join(root, 'bucket');
    expect((await cli('publish', ['--bucket-dir', bucket, data({ 'a.csv': 'a', 'b.csv': 'b', 'c.csv': 'c' })])).code).toBe(0);
    const run = await cli('publish', ['--dry-run', '--bucket-dir', bucket, data({ 'a.csv': 'a', 'b.csv': 'B', 'd.csv': 'd' })]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^would publish 20260122T101500Z-[0-9a-f]{12} \(replaces 20260122T101500Z-[0-9a-f]{12}\)\n/);
    expect(run.stdout).toMatch(/\n {2}new {8}d\.csv {2}1 B\n {2}changed {4}b\.csv {2}1 B\n {2}removed {4}c\.csv\n {2}unchanged {2}a\.csv\n/);
    expect(run.stdout).toContain('would upload 2 object(s) (2 B); 1 already in folder');
    expect(run.stdout).toContain('dry run: nothing written');
    const status = await cli('status', ['--bucket-dir', bucket]);
    expect(status.stdout).toMatch(/^live {6}\S+ {2}published 2026-01-22T10:15:00.000Z, 3 file\(s\), 3 B\nhost {6}has not reported yet\n$/);
  });

  it('publish, publish again (nothing to do), rollback: exit 0 each; rollback with nothing before exits 1', async () => {
    const bucket = join(root, 'bucket');
    const dir = data({ 'a.csv': 'a' });
    expect((await cli('rollback', ['--bucket-dir', bucket])).code).toBe(1);
    const first = await cli('publish', ['--bucket-dir', bucket, dir]);
    expect(first.stdout).toContain('(the first)');
    expect(first.stderr).toBe('uploaded a.csv (1 B)\n');
    expect((await cli('publish', ['--bucket-dir', bucket, dir])).stdout).toMatch(/^nothing to publish/);
    const rollback = await cli('rollback', ['--bucket-dir', bucket]);
    expect(rollback).toMatchObject({ code: 1, stderr: expect.stringContaining('names no previous release') });
  });

  it('draws a progress bar on a terminal only', async () => {
    const run = await cli('publish', ['--bucket-dir', join(root, 'bucket'), data({ 'a.csv': 'x'.repeat(300000) })], { tty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('\r\x1b[2K');
  });

  it('--env takes the region from the environment file and the bucket from the local state', async () => {
    const s3 = mockClient(S3Client);
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    writeFileSync(join(root, 'terraform.example.tfstate'), JSON.stringify({ outputs: { bucket: { value: 'provider-example-123' } } }));
    const run = await runReleaseCli('status', ['--env', 'example'], {
      stdout: { write: () => true } as never,
      stderr: { write: () => true } as never,
      stateDir: root,
      env: {},
      s3Client: (region) => {
        expect(region).toBe('eu-west-2');
        return new S3Client({ region });
      },
    });
    s3.restore();
    expect(run).toBe(1); // GetObject is not mocked: the SDK call fails, exit 1
  });
});
