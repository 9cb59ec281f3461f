/**
 * Media files on disk, under `DATA_DIR/media`, readable by the owner of the
 * process only (folders 0700, files 0600). A file is named by its key, the
 * path below that root (`media_attachments/000/117/341/1173411234567890/original.jpg`),
 * which is what the database keeps and what `/system/<key>` serves; a
 * reverse proxy may serve `DATA_DIR/media` at `/system/` itself.
 *
 * Keys are never reused: a replaced picture gets a new key, so the files can
 * be cached forever (`Cache-Control: immutable`).
 */
import { randomBytes } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config.ts";
import type { MediaMeta } from "../db/schema.ts";
import { newId } from "../core/ids.ts";
import { processImage, type EncodedImage, type ImageKind } from "./processing.ts";
import { ensurePrivateDirectory, mediaRoot, UPLOAD_TMP_FOLDER } from "./storage/filesystem.ts";
import { storageFor, type StorageConfig } from "./storage/index.ts";

export { ensurePrivateDirectory, filesBelow, isValidKey, keyPath, mediaRoot } from "./storage/filesystem.ts";
export { contentTypeOfKey } from "./storage/content-types.ts";
export { keyOfMediaUrl, mediaUrl, storageFor, type MediaStorage, type StorageConfig } from "./storage/index.ts";

/** What storage needs of the configuration: where DATA_DIR is. */
export type StorageContext = { readonly config: StorageConfig };

/** Where uploads are received before they are checked: inside the media root (one file system, so a rename moves them) but never served. */
export function uploadTmpDir(config: Pick<Config, "dataDir">): string {
  return join(mediaRoot(config), UPLOAD_TMP_FOLDER);
}

/**
 * The folder part of a key made from an ID, Mastodon-style, so that no
 * folder holds too many entries: `000/117/341/1173411234567890`.
 */
export function idPath(id: bigint): string {
  const digits = id.toString().padStart(19, "0");
  return `${digits.slice(0, 3)}/${digits.slice(3, 6)}/${digits.slice(6, 9)}/${id}`;
}

/** The key folder of a media attachment's files. */
export function attachmentFolder(id: bigint): string {
  return `media_attachments/${idPath(id)}`;
}

/** Writes a file at `key` in the media store, whole or not at all. */
export async function writeMediaFile(config: StorageConfig, key: string, data: Uint8Array): Promise<void> {
  await storageFor(config).put(key, data);
}

/** Moves a received upload (a local file, e.g. under {@link uploadTmpDir}) to `key` in the media store. */
export async function moveIntoMedia(config: StorageConfig, from: string, key: string): Promise<void> {
  await storageFor(config).put(key, { path: from }, { move: true });
}

/**
 * Deletes the files at these keys (missing ones and nulls are fine), then
 * the folders they leave empty.
 */
export async function deleteMediaFiles(config: StorageConfig, keys: Iterable<string | null | undefined>): Promise<void> {
  const present = [...keys].filter((key): key is string => key != null);
  if (present.length > 0) await storageFor(config).delete(present);
}

/**
 * The upload directory, made on first use (which also clears leftovers of
 * uploads interrupted by a crash); a failure is retried on the next call.
 */
export function lazyUploadTmpDir(config: Pick<Config, "dataDir">): () => Promise<string> {
  let ready: Promise<string> | undefined;
  return () => {
    ready ??= (async () => {
      const dir = uploadTmpDir(config);
      await ensurePrivateDirectory(dir);
      cleanUploadTmp(config).catch(() => {});
      return dir;
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };
}

/** Removes upload leftovers older than `maxAgeMs` from {@link uploadTmpDir} (after a crash). */
export async function cleanUploadTmp(config: Pick<Config, "dataDir">, maxAgeMs = 24 * 3600 * 1000): Promise<number> {
  const dir = uploadTmpDir(config);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  const cutoff = Date.now() - maxAgeMs;
  for (const name of names) {
    // Uploads waiting for their conversion: resumed (or removed) at start by src/core/media-processing.ts.
    if (name === "processing") continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (info.mtimeMs < cutoff) {
        await rm(path, { force: true, recursive: true });
        removed++;
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return removed;
}

/** `{width, height, size: "WxH", aspect}` as Mastodon's meta has it. */
export function sizeMeta(width: number, height: number): { width: number; height: number; size: string; aspect: number } {
  return { width, height, size: `${width}x${height}`, aspect: height > 0 ? width / height : 1 };
}

export interface StoredImage {
  /** The processed original. */
  key: string;
  /**
   * The preview: within 640x640 for attachments; for an avatar or header a
   * still picture of the same size, which is `key` itself unless the
   * picture is animated.
   */
  previewKey: string;
  meta: MediaMeta;
  blurhash: string;
  /** Of the original as stored. */
  contentType: string;
  /** Bytes of the original as stored. */
  size: number;
}

export interface StoreImageOptions {
  /** For an attachment: its ID, which names its folder. Default: a new ID. */
  id?: bigint;
  /** The folder to store in, instead of the kind's own (a remote account's picture goes to the cache). */
  folder?: string;
}

/**
 * A new folder for a remote account's avatar or header in the media cache,
 * apart from the owner's pictures (`accounts/...`): `cache/accounts/avatars/<id path>`.
 */
export function cachedProfileImageFolder(kind: "avatar" | "header"): string {
  return `cache/accounts/${kind}s/${idPath(newId())}`;
}

function folderFor(kind: "attachment" | "avatar" | "header", id: bigint): string {
  if (kind === "attachment") return attachmentFolder(id);
  return `accounts/${kind}s/${idPath(id)}`;
}

async function writeEncoded(ctx: StorageContext, key: string, image: EncodedImage): Promise<void> {
  await writeMediaFile(ctx.config, key, image.data);
}

/**
 * Checks, processes and stores an image: an attachment (scaled to at most
 * 3840x2160 worth of pixels, with a 640x640 preview), an avatar (cropped to
 * a square of at most 400x400) or a header (cropped to at most 1500x500,
 * 3:1). `input` is the bytes or the path of a file. Throws a MediaError
 * (422) when the input is not an image Islet takes; see processing.ts.
 */
export async function storeImage(
  ctx: StorageContext,
  input: Uint8Array | string,
  kind: "attachment" | "avatar" | "header",
  options: StoreImageOptions = {},
): Promise<StoredImage> {
  const processed = await processImage(input, kind as ImageKind);
  const folder = options.folder ?? folderFor(kind, options.id ?? newId());
  const key = `${folder}/original.${processed.original.ext}`;
  await writeEncoded(ctx, key, processed.original);
  let previewKey = key;
  if (processed.preview !== processed.original) {
    previewKey = `${folder}/${kind === "attachment" ? "small" : "static"}.${processed.preview.ext}`;
    try {
      await writeEncoded(ctx, previewKey, processed.preview);
    } catch (error) {
      await deleteMediaFiles(ctx.config, [key]);
      throw error;
    }
  }
  return {
    key,
    previewKey,
    meta: {
      original: sizeMeta(processed.original.width, processed.original.height),
      small: sizeMeta(processed.preview.width, processed.preview.height),
    },
    blurhash: processed.blurhash,
    contentType: processed.original.contentType,
    size: processed.original.data.byteLength,
  };
}

export interface StoredThumbnail {
  key: string;
  small: { width: number; height: number; size: string; aspect: number };
  blurhash: string;
}

/**
 * Stores a custom preview ("thumbnail") for attachment `id`: a still within
 * 640x640, under a fresh name so that caches never see an old one.
 */
export async function storeThumbnail(ctx: StorageContext, input: Uint8Array | string, id: bigint): Promise<StoredThumbnail> {
  const processed = await processImage(input, "thumbnail");
  const key = `${attachmentFolder(id)}/thumbnail-${randomBytes(4).toString("hex")}.${processed.original.ext}`;
  await writeEncoded(ctx, key, processed.original);
  return { key, small: sizeMeta(processed.original.width, processed.original.height), blurhash: processed.blurhash };
}
