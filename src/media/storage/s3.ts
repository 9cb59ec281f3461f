/**
 * Media files in an S3-compatible bucket (AWS, Backblaze B2, Wasabi,
 * Cloudflare R2, MinIO, Garage), configured with Mastodon's variables (see
 * S3Config in src/config.ts). Files are streamed up with multipart uploads
 * (`@aws-sdk/lib-storage`), or with one PUT each under
 * S3_FORCE_SINGLE_REQUEST; clients load them from the bucket's public URL
 * (S3_ALIAS_HOST when set, e.g. a CDN).
 */
import { createReadStream } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ObjectCannedACL,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Config } from "../../config.ts";
import { MediaStorageError } from "../errors.ts";
import { contentTypeOfKey } from "./content-types.ts";
import { isValidKey } from "./filesystem.ts";
import type { MediaBody, MediaStorage, PutOptions, StoredObject } from "./media-storage.ts";

/** Multipart part size: S3's minimum, so that a stream holds at most a few parts in memory. */
const PART_SIZE = 5 * 1024 * 1024;
/** Parts in flight at once per upload. */
const QUEUE_SIZE = 2;
/** Deletions in flight at once. */
const DELETE_CONCURRENCY = 4;

/** The public base URL of a bucket: `PROTOCOL://ALIAS_HOST`, or the bucket's own address. */
export function s3PublicBase(s3: S3Config): string {
  if (s3.aliasHost != null) return `${s3.protocol}://${s3.aliasHost}`;
  return s3.pathStyle ? `${s3.protocol}://${s3.hostname}/${s3.bucket}` : `${s3.protocol}://${s3.bucket}.${s3.hostname}`;
}

/** What the bucket answered, in one line: the S3 error code and message, or the network failure. */
export function describeS3Error(error: unknown): string {
  const e = error as { name?: string; Code?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.Code ?? e?.name ?? e?.code ?? "Error";
  const status = e?.$metadata?.httpStatusCode;
  const message = e?.message != null && e.message !== code && e.message !== "UnknownError" ? `: ${e.message}` : "";
  return `${code}${status != null ? ` (HTTP ${status})` : ""}${message}`;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.Code === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404 && e?.name !== "NoSuchBucket";
}

/**
 * Reads `stream` until `limit` bytes: all of it (`rest` null) when it ends
 * first, else what was read and the iterator of the rest.
 */
async function readUpTo(stream: Readable, limit: number): Promise<{ head: Buffer; rest: AsyncIterator<Uint8Array> | null }> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < limit) {
    const next = await iterator.next();
    if (next.done) return { head: Buffer.concat(chunks), rest: null };
    const chunk = Buffer.from(next.value);
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  return { head: Buffer.concat(chunks), rest: iterator };
}

async function* prepend(head: Buffer, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

export class S3Storage implements MediaStorage {
  readonly kind = "s3" as const;
  readonly location: string;
  readonly #s3: S3Config;
  readonly #client: S3Client;
  readonly #base: string;

  constructor(s3: S3Config) {
    this.#s3 = s3;
    this.location = `s3://${s3.bucket}${s3.endpoint != null ? ` at ${s3.endpoint}` : ""}`;
    this.#base = s3PublicBase(s3);
    this.#client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint ?? undefined,
      forcePathStyle: s3.pathStyle,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      // Checksums only where S3 requires them: most S3-compatible servers know no CRC32 trailers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    });
  }

  #fail(what: string, key: string, error: unknown): never {
    throw new MediaStorageError(`object storage ${this.location} could not ${what} ${key}: ${describeS3Error(error)}`, { cause: error });
  }

  async put(key: string, body: MediaBody, options: PutOptions = {}): Promise<void> {
    if (!isValidKey(key)) throw new Error(`invalid media key ${JSON.stringify(key)}`);
    const contentType = options.contentType ?? contentTypeOfKey(key);
    const common = {
      Bucket: this.#s3.bucket,
      Key: key,
      ContentType: contentType,
      CacheControl: "public, max-age=315576000, immutable",
      ...(this.#s3.permission != null ? { ACL: this.#s3.permission as ObjectCannedACL } : {}),
    };
    const isFile = !(body instanceof Uint8Array) && !(body instanceof Readable);
    try {
      // Small files (and everything under S3_FORCE_SINGLE_REQUEST) go in one PUT
      // of known length; larger ones stream up in parts.
      let head: Buffer;
      let rest: AsyncIterator<Uint8Array> | null = null;
      const path = isFile ? (body as { path: string }).path : null;
      const size = path != null ? (await stat(path)).size : null;
      if (body instanceof Uint8Array) head = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      else if (path != null && size! < PART_SIZE) head = await readFile(path);
      else if (path != null && this.#s3.forceSingleRequest) {
        await this.#client.send(new PutObjectCommand({ ...common, Body: createReadStream(path), ContentLength: size! }));
        if (options.move) await rm(path, { force: true });
        return;
      } else {
        const stream: Readable = body instanceof Readable ? body : createReadStream((body as { path: string }).path);
        const read = await readUpTo(stream, this.#s3.forceSingleRequest ? Number.POSITIVE_INFINITY : PART_SIZE);
        head = read.head;
        rest = read.rest;
      }
      if (rest == null) {
        await this.#client.send(new PutObjectCommand({ ...common, Body: head, ContentLength: head.byteLength }));
      } else {
        const upload = new Upload({
          client: this.#client,
          params: { ...common, Body: Readable.from(prepend(head, rest)) },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
          leavePartsOnError: false,
        });
        await upload.done();
      }
    } catch (error) {
      if (error instanceof MediaStorageError) throw error;
      this.#fail("store", key, error);
    }
    if (isFile && options.move) await rm((body as { path: string }).path, { force: true });
  }

  async get(key: string): Promise<{ body: Readable; size: number } | null> {
    if (!isValidKey(key)) return null;
    try {
      const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#s3.bucket, Key: key }));
      if (answer.Body == null) return null;
      return { body: answer.Body as Readable, size: answer.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      this.#fail("read", key, error);
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    if (!isValidKey(key)) return null;
    try {
      const answer = await this.#client.send(new HeadObjectCommand({ Bucket: this.#s3.bucket, Key: key }));
      return { size: answer.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      this.#fail("look up", key, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) != null;
  }

  async delete(keys: Iterable<string>): Promise<void> {
    const pending = [...new Set([...keys].filter(isValidKey))];
    const worker = async () => {
      for (let key = pending.pop(); key != null; key = pending.pop()) {
        try {
          await this.#client.send(new DeleteObjectCommand({ Bucket: this.#s3.bucket, Key: key }));
        } catch (error) {
          if (!isNotFound(error)) this.#fail("delete", key, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, pending.length) }, worker));
  }

  async *list(prefix = ""): AsyncGenerator<StoredObject> {
    let token: string | undefined;
    do {
      let answer;
      try {
        answer = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#s3.bucket, Prefix: prefix === "" ? undefined : prefix, ContinuationToken: token }),
        );
      } catch (error) {
        this.#fail("list", prefix === "" ? "its files" : `${prefix}*`, error);
      }
      for (const object of answer.Contents ?? []) {
        if (object.Key == null) continue;
        yield { key: object.Key, size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
      }
      token = answer.IsTruncated ? answer.NextContinuationToken : undefined;
    } while (token != null);
  }

  url(key: string): string {
    return `${this.#base}/${key}`;
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.#client.destroy();
  }
}
