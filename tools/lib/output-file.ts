/**
 * Writing a command's `--out` file: one message for the ways it fails (a folder that does
 * not exist, a folder given as the file), naming the path and the fix.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class OutputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFileError';
  }
}

export async function writeOutputFile(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `the folder ${dirname(resolve(path))} does not exist` : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new OutputFileError(`cannot write ${path}: ${why}; choose another --out`);
  }
}
