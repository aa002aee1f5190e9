/**
 * Log files → lines, streamed (a busy day's log need not fit in memory): plain or gzip'd
 * (logrotate's `compress`: `access.json.log.2.gz`), recognised by content, not by name.
 * Invalid UTF-8 becomes U+FFFD (nginx writes a header's bytes as they came).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

/** A log file that cannot be read; the message names it and says what to do. */
export class LogFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogFileError';
  }
}

/** Longer than any line nginx or the app writes; such a line is yielded as OVERLONG_LINE. */
export const MAX_LINE_CHARS = 1024 * 1024;
/** Stands in for a line cut at MAX_LINE_CHARS: not JSON, so the parser counts it malformed. */
export const OVERLONG_LINE = '\u0000overlong line';

/** Fails (LogFileError) when `file` is not a readable file: checked for every file before any is read. */
export async function checkReadable(file: string): Promise<void> {
  try {
    if (!(await stat(file)).isFile()) throw new LogFileError(`${file} is not a file; name the log file itself`);
    await (await open(file, 'r')).close();
  } catch (error) {
    if (error instanceof LogFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LogFileError(`no such file: ${file}`);
    if (code === 'EACCES' || code === 'EPERM') throw new LogFileError(`cannot read ${file}: permission denied (run as a user who may read it, e.g. with sudo, or copy it)`);
    throw new LogFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** The lines of `file`, without their line ends; a trailing empty line is not yielded. */
export async function* readLogLines(file: string): AsyncGenerator<string> {
  await checkReadable(file);
  const gzip = await isGzip(file);
  const source = createReadStream(file);
  const stream = gzip ? source.pipe(createGunzip()) : source;
  if (gzip) source.on('error', (error) => stream.destroy(error));
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let skipping = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const parts = (carry + decoder.write(chunk)).split('\n');
      carry = parts.pop()!;
      for (const part of parts) {
        if (skipping) skipping = false;
        else yield part.endsWith('\r') ? part.slice(0, -1) : part;
      }
      if (carry.length > MAX_LINE_CHARS) {
        if (!skipping) yield OVERLONG_LINE;
        skipping = true;
        carry = '';
      }
    }
  } catch (error) {
    if (error instanceof LogFileError) throw error;
    const message = (error as Error).message;
    throw new LogFileError(gzip ? `cannot read ${file}: not a complete gzip file (${message})` : `cannot read ${file}: ${message}`);
  }
  const rest = carry + decoder.end();
  if (rest !== '' && !skipping) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
