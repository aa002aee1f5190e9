/**
 * `aws s3api put-object | get-object | delete-object` for the stand-in (aws-standin.ts), with
 * S3's conditional writes: `--if-none-match '*'` creates only when the key does not exist,
 * `--if-match ETAG` replaces only the object with that ETag; either fails with 412
 * PreconditionFailed otherwise. Two concurrent callers cannot both succeed (an O_EXCL link,
 * or a compare-and-swap under a lock file), as with S3 itself.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AwsServiceError, withFileLock } from './standin-error';

const etagOf = (file: string): string => `"${createHash('md5').update(readFileSync(file)).digest('hex')}"`;

function objectPath(root: string, options: Map<string, string>): string {
  const bucket = options.get('--bucket') ?? '';
  const key = options.get('--key') ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`--bucket ${JSON.stringify(bucket)} is not a bucket name`);
  if (key === '' || key.startsWith('/') || key.split('/').includes('..')) throw new Error(`--key ${JSON.stringify(key)} is not a key the stand-in stores`);
  return join(root, 's3', bucket, key);
}

function answer(value: Record<string, unknown>, options: Map<string, string>): string {
  const query = options.get('--query');
  if (query !== undefined) {
    if (options.get('--output') !== 'text' || !(query in value)) throw new Error(`the stand-in answers --query with one field of ${Object.keys(value).join(', ')} and --output text`);
    return `${String(value[query])}\n`;
  }
  return `${JSON.stringify(value, null, 4)}\n`;
}

const preconditionFailed = (operation: string) => new AwsServiceError('PreconditionFailed', operation, 'At least one of the pre-conditions you specified did not hold');

export function s3api(root: string, command: string, positional: readonly string[], options: Map<string, string>): string {
  const file = objectPath(root, options);
  if (command === 'put-object') {
    const body = options.get('--body');
    if (body === undefined || !existsSync(body)) throw new Error('--body FILE is required');
    const ifNoneMatch = options.get('--if-none-match');
    const ifMatch = options.get('--if-match');
    if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw new AwsServiceError('NotImplemented', 'PutObject', 'A header you provided implies functionality that is not implemented (If-None-Match takes only *)');
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.standin-${process.pid}`;
    copyFileSync(body, tmp);
    try {
      if (ifNoneMatch === '*') {
        try {
          linkSync(tmp, file); // fails when the key exists: the create is atomic
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw preconditionFailed('PutObject');
          throw error;
        }
      } else if (ifMatch !== undefined) {
        withFileLock(`${file}.standin-lock`, () => {
          if (!existsSync(file) || etagOf(file) !== ifMatch) throw preconditionFailed('PutObject');
          renameSync(tmp, file);
        });
      } else {
        renameSync(tmp, file);
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    return answer({ ETag: etagOf(file) }, options);
  }
  if (command === 'get-object') {
    const [outfile] = positional;
    if (!outfile) throw new Error('get-object needs an outfile');
    if (!existsSync(file) || !statSync(file).isFile()) throw new AwsServiceError('NoSuchKey', 'GetObject', 'The specified key does not exist.');
    const etag = etagOf(file);
    copyFileSync(file, outfile);
    return answer({ ETag: etag, ContentLength: statSync(outfile).size, LastModified: statSync(file).mtime.toUTCString() }, options);
  }
  if (command === 'delete-object') {
    const ifMatch = options.get('--if-match');
    withFileLock(`${file}.standin-lock`, () => {
      if (ifMatch !== undefined && (!existsSync(file) || etagOf(file) !== ifMatch)) throw preconditionFailed('DeleteObject');
      rmSync(file, { force: true });
    });
    return '';
  }
  throw new Error(`the stand-in does not implement "aws s3api ${command}"`);
}
