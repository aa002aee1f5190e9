/**
 * Where releases are published: the data bucket (s3-store.ts) or a folder standing in
 * for it (folder-store.ts, the replica's "S3"). Both keep the same keys and see the same
 * writes in the same order; an object appears under its key only once it is complete.
 */
import type { Transform } from 'node:stream';

/** A pass-through the file's bytes flow through on their way out (a progress bar). */
export type PutObserver = Transform;

export interface ReleaseStore {
  /** For messages: `s3://bucket` or the folder. */
  readonly description: string;
  /** The object's size, or undefined when there is no such key. */
  head(key: string): Promise<{ readonly size: number } | undefined>;
  /** A small object's text (manifests, pointers), or undefined when there is no such key. */
  getText(key: string): Promise<string | undefined>;
  /** Streams a file to `key` (multipart when large); never buffers the whole file. */
  putFile(key: string, file: string, size: number, observer?: PutObserver): Promise<void>;
  /** Writes a small document. */
  putText(key: string, text: string, contentType: string): Promise<void>;
}
