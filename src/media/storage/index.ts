/**
 * The media store of a configuration: the S3 bucket when S3_ENABLED=true,
 * else the filesystem under `DATA_DIR/media`; and the public URLs of keys.
 */
import type { Config } from "../../config.ts";
import { FilesystemStorage } from "./filesystem.ts";
import type { MediaStorage } from "./media-storage.ts";
import { S3Storage, s3PublicBase } from "./s3.ts";

export type { MediaBody, MediaStorage, PutOptions, StoredObject } from "./media-storage.ts";
export { FilesystemStorage } from "./filesystem.ts";
export { S3Storage } from "./s3.ts";

/** What choosing a store needs of the configuration. */
export type StorageConfig = Pick<Config, "dataDir"> & Partial<Pick<Config, "s3" | "origin">>;

const stores = new WeakMap<object, MediaStorage>();

/** The store media of `config` lives in; one per configuration object. */
export function storageFor(config: StorageConfig): MediaStorage {
  let store = stores.get(config);
  if (store == null) {
    store = config.s3 != null ? new S3Storage(config.s3) : new FilesystemStorage(config);
    stores.set(config, store);
    registerMediaUrls(config);
  }
  return store;
}

/** The filesystem store of `config`, whatever S3_ENABLED says (for `islet media migrate`). */
export function filesystemStorage(config: StorageConfig): FilesystemStorage {
  return new FilesystemStorage(config);
}

/** Closes what a store holds open (the S3 client's connections). */
export function closeStorage(config: StorageConfig): void {
  const store = stores.get(config);
  if (store instanceof S3Storage) store.destroy();
  stores.delete(config);
}

/**
 * Public URL bases by origin. The JSON of the API and ActivityPub is made
 * from an origin alone (src/api/entities, src/federation), so the bucket's
 * base is found by the origin of the instance that stores there.
 */
const publicBases = new Map<string, string>();

/** Records where `config`'s media are served from, for {@link mediaUrl}. */
export function registerMediaUrls(config: StorageConfig): void {
  if (config.origin == null) return;
  if (config.s3 != null) publicBases.set(config.origin, s3PublicBase(config.s3));
  else publicBases.delete(config.origin);
}

/** The base every key's URL starts with: the bucket's (or S3_ALIAS_HOST's) or `ORIGIN/system`. */
export function mediaBaseUrl(origin: string): string {
  return publicBases.get(origin) ?? `${origin}/system`;
}

/** The public URL of a stored file: in the bucket (or at S3_ALIAS_HOST) with S3, else `ORIGIN/system/KEY`. */
export function mediaUrl(origin: string, key: string): string {
  return `${mediaBaseUrl(origin)}/${key}`;
}

/** The key of a file stored by the instance at `origin`, from its URL (either base); null for any other URL. */
export function keyOfMediaUrl(origin: string, url: string | null | undefined): string | null {
  if (url == null) return null;
  for (const base of [mediaBaseUrl(origin), `${origin}/system`]) {
    if (url.startsWith(`${base}/`)) return url.slice(base.length + 1);
  }
  return null;
}
