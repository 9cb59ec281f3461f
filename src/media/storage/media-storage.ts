/**
 * The one interface every media file goes through: uploads and their
 * previews, avatars and headers, the remote media cache, pruning and
 * deletion. Two implementations: the filesystem under `DATA_DIR/media`
 * (filesystem.ts) and an S3-compatible bucket (s3.ts).
 *
 * A file is named by its key, a path such as
 * `media_attachments/000/117/341/1173411234567890/original.jpg`; keys are
 * never reused, so a stored file never changes.
 */
import type { Readable } from "node:stream";

/** What can be stored: bytes in memory, a stream, or a local file (by path). */
export type MediaBody = Uint8Array | Readable | { readonly path: string };

export interface PutOptions {
  /** The Content-Type the file is served with; by default from the key's extension. */
  contentType?: string;
  /** For a `{ path }` body: the local file is moved (renamed or uploaded, then removed) rather than copied. */
  move?: boolean;
}

export interface StoredObject {
  key: string;
  size: number;
  /** When it was stored. */
  modified: Date;
}

export interface MediaStorage {
  /** "fs" (DATA_DIR/media) or "s3" (a bucket). */
  readonly kind: "fs" | "s3";
  /** Where the files are, for messages: a folder or `s3://bucket`. */
  readonly location: string;
  /** Stores a file at `key`, whole or not at all. Throws MediaStorageError when the store refuses. */
  put(key: string, body: MediaBody, options?: PutOptions): Promise<void>;
  /** The file's bytes as a stream, with its size, or null when there is none. */
  get(key: string): Promise<{ body: Readable; size: number } | null>;
  /** The file's size, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;
  exists(key: string): Promise<boolean>;
  /** Deletes the files at these keys; missing ones are fine. */
  delete(keys: Iterable<string>): Promise<void>;
  /** Every file whose key starts with `prefix` (default: all), in no particular order. */
  list(prefix?: string): AsyncGenerator<StoredObject>;
  /** The public URL of `key`. */
  url(key: string): string;
}
