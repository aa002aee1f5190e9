import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes, ProgressBar } from './progress-bar';

function target(isTTY: boolean): { isTTY: boolean; columns: number; text: string; write(t: string): boolean } {
  return { isTTY, columns: 100, text: '', write(t: string) { this.text += t; return true; } };
}

describe('progress bar', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });

  it('shows the share of a known total and passes the bytes through unchanged', async () => {
    const tty = target(true);
    const bar = new ProgressBar(tty, 'big', 4096, 0);
    const sink = new PassThrough();
    const received: Buffer[] = [];
    sink.on('data', (c: Buffer) => received.push(c));
    await pipeline(Readable.from([Buffer.alloc(1024, 1), Buffer.alloc(1024, 2)]), bar, sink);
    expect(Buffer.concat(received).length).toBe(2048);
    expect(bar.line()).toMatch(/^big \[#+\.+\]  50% 2\.0 KiB\/4\.0 KiB /);
    expect(tty.text).toContain(' 25% ');
    expect(tty.text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('draws nothing when the target is not a terminal', async () => {
    const pipe = target(false);
    const bar = new ProgressBar(pipe, 'big', 10, 0);
    await pipeline(Readable.from([Buffer.alloc(10)]), bar, new PassThrough().resume());
    expect(pipe.text).toBe('');
  });
});
