/**
 * Receives a multipart upload by streaming it: file parts go straight to
 * temporary files (mode 0600) and are never held in memory whole, and each
 * file stops being written once past its size limit, which is chosen from
 * its first bytes (images have a smaller limit than video). The rest of an
 * oversized file is read and dropped, so that the client gets the 422
 * rather than a reset connection; a body larger than `maxBodyBytes` is cut
 * off.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform, Writable, type TransformCallback } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { Busboy, type BusboyInstance } from "@fastify/busboy";
import { CoreError } from "../core/context.ts";
import { MediaError, tooLargeMessage } from "./errors.ts";
import { SNIFF_BYTES } from "./sniff.ts";

export interface ReceivedFile {
  /** The temporary file; it holds the first `size` bytes of the upload. */
  path: string;
  /** Bytes written to `path`. */
  size: number;
  /** True when the upload was larger than its limit; `path` then holds only its beginning. */
  tooLarge: boolean;
  /** The limit that applied. */
  limit: number;
  /** As the client named and typed it: for logs only, never trusted. */
  filename: string;
  declaredType: string;
}

export interface ReceivedForm {
  /** Text fields as name–value pairs, in the order they came (for `nest()`). */
  fields: [string, string][];
  files: Record<string, ReceivedFile>;
  /** Removes the temporary files that are still there. */
  cleanup(): Promise<void>;
}

export interface ReceiveOptions {
  /** Folder for the temporary files; it must exist. */
  tmpDir: string;
  /** The file fields to keep, each with its size limit given the file's first bytes. Other files are dropped. */
  files: Record<string, (head: Uint8Array) => number>;
  /** Cut the body off past this many bytes. */
  maxBodyBytes: number;
  /** Longest text field, in bytes (default 64 KiB). */
  maxFieldBytes?: number;
}

/** A body cut off for its size. */
export class BodyTooLargeError extends MediaError {
  constructor(limit: number) {
    super(tooLargeMessage(limit));
    this.name = "BodyTooLargeError";
  }
}

/** Counts bytes through; fails once past `max`. */
class ByteLimit extends Transform {
  total = 0;
  readonly max: number;
  constructor(max: number) {
    super();
    this.max = max;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.max) {
      callback(new BodyTooLargeError(this.max));
      return;
    }
    callback(null, chunk);
  }
}

/** Passes a file part through to disk until it is past its limit, then drops the rest. */
/**
 * A temporary file that never stops the form: when the disk refuses a write
 * (full, over quota), the failure is kept and the rest of the part is read
 * and dropped, so the request is read to its end and the client gets a
 * clean answer instead of a connection closed mid-upload.
 */
class TemporaryFile extends Writable {
  readonly #file: ReturnType<typeof createWriteStream>;
  failure: Error | null = null;

  constructor(path: string) {
    super();
    this.#file = createWriteStream(path, { flags: "wx", mode: 0o600 });
    this.#file.on("error", (error) => {
      this.failure ??= error;
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure != null) {
      callback();
      return;
    }
    this.#file.write(chunk, (error) => {
      if (error != null) this.failure ??= error;
      callback();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.failure != null) {
      this.#file.destroy();
      callback();
      return;
    }
    this.#file.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#file.destroy();
    callback(error);
  }
}

class FileLimit extends Transform {
  readonly record: ReceivedFile;
  readonly limitFor: (head: Uint8Array) => number;
  head: Buffer[] = [];
  headLength = 0;
  decided = false;
  constructor(record: ReceivedFile, limitFor: (head: Uint8Array) => number) {
    super();
    this.record = record;
    this.limitFor = limitFor;
  }
  decide(): void {
    this.decided = true;
    this.record.limit = this.limitFor(Buffer.concat(this.head));
    this.head = [];
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.record.tooLarge) return callback();
    if (!this.decided) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      if (this.headLength >= SNIFF_BYTES) this.decide();
    }
    if (this.record.size + chunk.length > this.record.limit) {
      this.record.tooLarge = true;
      return callback();
    }
    this.record.size += chunk.length;
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    if (!this.decided) this.decide();
    if (this.record.size > this.record.limit) this.record.tooLarge = true;
    callback();
  }
}

/** Whether a request carries a multipart body. */
export function isMultipart(contentType: string | null | undefined): boolean {
  return /^multipart\/form-data\s*;/i.test(contentType ?? "");
}

/**
 * Reads a `multipart/form-data` request. Throws a CoreError "invalid" (422)
 * for a malformed body and a {@link BodyTooLargeError} for one past
 * `maxBodyBytes`; temporary files are removed on failure.
 */
export async function receiveMultipart(request: Request, options: ReceiveOptions): Promise<ReceivedForm> {
  const contentType = request.headers.get("content-type") ?? "";
  const fields: [string, string][] = [];
  const files: Record<string, ReceivedFile> = {};
  const paths: string[] = [];
  const cleanup = async () => {
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  };

  let parser: BusboyInstance;
  try {
    parser = Busboy({
      headers: { "content-type": contentType },
      limits: {
        fieldSize: options.maxFieldBytes ?? 65536,
        fields: 100,
        files: 10,
        parts: 110,
        fileSize: options.maxBodyBytes,
      },
    });
  } catch {
    throw new CoreError("invalid", "the request body is not a well-formed multipart form");
  }

  const writes: Promise<void>[] = [];
  const streams: Readable[] = [];
  parser.on("field", (name, value, _nameTruncated, valueTruncated) => {
    if (valueTruncated) {
      // Longer than any field we take: a trailing NUL makes sure it fails
      // its length or format check instead of passing cut short.
      fields.push([name, `${value}\u0000`]);
      return;
    }
    fields.push([name, value]);
  });
  parser.on("file", (name, stream, filename, _encoding, mimeType) => {
    const limitFor = options.files[name];
    if (limitFor == null || files[name] != null) {
      stream.resume();
      return;
    }
    streams.push(stream);
    const path = join(options.tmpDir, `${randomBytes(12).toString("hex")}.upload`);
    paths.push(path);
    const record: ReceivedFile = { path, size: 0, tooLarge: false, limit: options.maxBodyBytes, filename: filename ?? "", declaredType: mimeType ?? "" };
    files[name] = record;
    stream.on("limit", () => {
      record.tooLarge = true;
    });
    const file = new TemporaryFile(path);
    const write = pipeline(stream, new FileLimit(record, limitFor), file).then(() => {
      // The disk's refusal, once the whole part has been read.
      if (file.failure != null) throw file.failure;
    });
    // Awaited below; until then a failure must not count as unhandled.
    write.catch(() => {});
    writes.push(write);
  });

  const body = request.body;
  try {
    if (body == null) throw new CoreError("invalid", "the request has no body");
    const done = new Promise<void>((resolve, reject) => {
      parser.on("finish", resolve);
      parser.on("error", reject);
    });
    done.catch(() => {});
    await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), new ByteLimit(options.maxBodyBytes), parser);
    await done;
    await Promise.all(writes);
  } catch (error) {
    for (const stream of streams) stream.destroy();
    await Promise.allSettled(writes);
    await cleanup();
    if (error instanceof CoreError) throw error;
    // A failure of this machine (disk full, permissions) is not the client's.
    if (typeof (error as NodeJS.ErrnoException).code === "string" && (error as NodeJS.ErrnoException).syscall != null) throw error;
    throw new CoreError("invalid", "the request body is not a well-formed multipart form");
  }
  return { fields, files, cleanup };
}
