/**
 * The data bucket through the AWS SDK: HeadObject to skip what is there, a multipart
 * `Upload` (lib-storage) streaming each file in parts (a bounded number in flight: memory
 * stays flat whatever the file size), PutObject for the small documents. The bucket's
 * default encryption (its KMS key) applies; nothing here names a key.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { PutObserver, ReleaseStore } from './release-store';

/** 8 MiB parts (S3's minimum is 5 MiB; 10,000 parts → files up to 78 GiB). */
export const PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight per file: peak memory ≈ PART_SIZE × QUEUE_SIZE. */
export const QUEUE_SIZE = 4;

function notFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

export class S3Store implements ReleaseStore {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly options: { readonly partSize?: number; readonly queueSize?: number } = {},
  ) {
    this.description = `s3://${bucket}`;
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: answer.ContentLength ?? 0 };
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return answer.Body ? await answer.Body.transformToString('utf8') : '';
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  async putFile(key: string, file: string, size: number, observer?: PutObserver): Promise<void> {
    const read = createReadStream(file, { highWaterMark: 1 << 20 });
    let body: Readable = read;
    if (observer) {
      read.on('error', (error) => observer.destroy(error));
      body = read.pipe(observer);
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentLength: size, ContentType: 'application/octet-stream' },
      partSize: this.options.partSize ?? PART_SIZE,
      queueSize: this.options.queueSize ?? QUEUE_SIZE,
      // A failed multipart upload is aborted (the bucket's lifecycle rule also cleans up after 7 days).
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async putText(key: string, text: string, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: contentType }));
  }
}
