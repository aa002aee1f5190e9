/**
 * A folder standing in for the data bucket: `<root>/<key>` is the object. This is the
 * layout the replica's aws stand-in serves (testing/replica/aws-standin.ts), so the host
 * scripts read what this store wrote. Like S3, an object appears under its key only when
 * complete: each write goes to a temporary file beside it, then one rename.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PutObserver, ReleaseStore } from './release-store';

export class FolderStore implements ReleaseStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `folder ${root}`;
  }

  private path(key: string): string {
    if (key.split('/').some((segment) => segment === '..' || segment === '')) throw new Error(`not a valid key: ${key}`);
    return join(this.root, key);
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    const stat = await fs.stat(this.path(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return stat?.isFile() ? { size: stat.size } : undefined;
  }

  async getText(key: string): Promise<string | undefined> {
    return fs.readFile(this.path(key), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
  }

  async putFile(key: string, file: string, _size: number, observer?: PutObserver): Promise<void> {
    const target = this.path(key);
    await fs.mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.upload-${process.pid}`;
    try {
      await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), observer ?? new PassThrough(), createWriteStream(tmp));
      await fs.rename(tmp, target);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
  }

  async putText(key: string, text: string, _contentType?: string): Promise<void> {
    const target = this.path(key);
    await fs.mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.upload-${process.pid}`;
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, target);
  }
}
