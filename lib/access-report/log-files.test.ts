import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { checkReadable, LogFileError, MAX_LINE_CHARS, OVERLONG_LINE, readLogLines } from './log-files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-logs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function lines(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLogLines(file)) out.push(line);
  return out;
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('reading a log file', () => {
  it('plain: one string per line, CRLF or LF, with or without a final newline', async () => {
    expect(await lines(file('a.log', 'one\r\ntwo\nthree'))).toEqual(['one', 'two', 'three']);
    expect(await lines(file('b.log', 'one\n'))).toEqual(['one']);
    expect(await lines(file('empty.log', ''))).toEqual([]);
  });

  it("gzip'd (logrotate's compress), recognised by its content whatever the name", async () => {
    expect(await lines(file('access.json.log.2.gz', gzipSync('a\nb\n')))).toEqual(['a', 'b']);
    expect(await lines(file('renamed.log', gzipSync('c\n')))).toEqual(['c']);
  });

  it('invalid UTF-8 becomes U+FFFD, split across chunks or not', async () => {
    const bytes = Buffer.concat([Buffer.from('ok \u00e9 '), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(' end\n')]);
    expect(await lines(file('bad.log', bytes))).toEqual(['ok é \ufffd(\ufffd\ufffd end']);
  });

  it('a line longer than any log writes is one OVERLONG_LINE, and reading goes on', async () => {
    const path = file('long.log', `first\n${'x'.repeat(MAX_LINE_CHARS * 2 + 10)}\nlast\n`);
    expect(await lines(path)).toEqual(['first', OVERLONG_LINE, 'last']);
  });

  it('a missing file, a folder, an unreadable file: a LogFileError naming it and what to do', async () => {
    await expect(checkReadable(join(dir, 'nope.log'))).rejects.toThrow(new LogFileError(`no such file: ${join(dir, 'nope.log')}`));
    mkdirSync(join(dir, 'logs'));
    await expect(lines(join(dir, 'logs'))).rejects.toThrow(`${join(dir, 'logs')} is not a file; name the log file itself`);
    if (process.getuid?.() !== 0) {
      const locked = file('locked.log', 'x\n');
      chmodSync(locked, 0o000);
      await expect(checkReadable(locked)).rejects.toThrow(/^cannot read .*locked\.log: permission denied/);
    }
  });

  it('a gzip file cut short: a LogFileError naming it', async () => {
    const gz = gzipSync('a\n'.repeat(10000));
    const path = file('cut.log.gz', gz.subarray(0, gz.length - 20));
    await expect(lines(path)).rejects.toThrow(new RegExp(`^cannot read ${path.replace(/[.]/g, '\\.')}: not a complete gzip file`));
  });
});
