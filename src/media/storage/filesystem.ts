/**
 * Media files on disk, under `DATA_DIR/media`, readable by the owner of the
 * process only (folders 0700, files 0600); `/system/<key>` serves them, or a
 * reverse proxy serving `DATA_DIR/media` at `/system/`.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, copyFile, mkdir, readdir, rename, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import type { Config } from "../../config.ts";
import type { MediaBody, MediaStorage, PutOptions, StoredObject } from "./media-storage.ts";

/** The folder all media files live under: `DATA_DIR/media`. */
export function mediaRoot(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "media");
}

/** The folder below the media root where uploads are received; never a key's first segment. */
export const UPLOAD_TMP_FOLDER = ".tmp";

/** Creates `path` and its missing parents with mode 0700. */
export async function ensurePrivateDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Whether `key` is well-formed: plain segments, no dot-segments, no hidden files, no encoding. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > 512) return false;
  const segments = key.split("/");
  return segments.every((segment) => SEGMENT.test(segment) && !segment.includes(".."));
}

/** The absolute path of a key, or null when the key is malformed or leaves the media root. */
export function keyPath(config: Pick<Config, "dataDir">, key: string): string | null {
  if (!isValidKey(key)) return null;
  const root = resolve(mediaRoot(config));
  const path = resolve(root, key);
  return path.startsWith(root + sep) ? path : null;
}

/**
 * Every file below `dir` (no symbolic links followed), with its size;
 * nothing when `dir` does not exist. `skip` names an entry of `dir` itself
 * to leave out.
 */
export async function* filesBelow(dir: string, options: { skip?: string } = {}): AsyncGenerator<{ path: string; size: number; modified: Date }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name === options.skip) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* filesBelow(path);
    } else if (entry.isFile()) {
      try {
        const info = await stat(path);
        yield { path, size: info.size, modified: info.mtime };
      } catch {
        // Removed meanwhile.
      }
    }
  }
}

/** The filesystem store under `DATA_DIR/media`. */
export class FilesystemStorage implements MediaStorage {
  readonly kind = "fs" as const;
  readonly location: string;
  readonly #config: Pick<Config, "dataDir"> & Partial<Pick<Config, "origin">>;

  constructor(config: Pick<Config, "dataDir"> & Partial<Pick<Config, "origin">>) {
    this.#config = config;
    this.location = mediaRoot(config);
  }

  #path(key: string): string {
    const path = keyPath(this.#config, key);
    if (path == null) throw new Error(`invalid media key ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, body: MediaBody, options: PutOptions = {}): Promise<void> {
    const path = this.#path(key);
    await ensurePrivateDirectory(dirname(path));
    if (!(body instanceof Uint8Array) && !(body instanceof Readable) && options.move) {
      // Received on the same file system (under DATA_DIR/media/.tmp): a rename.
      await chmod(body.path, 0o600);
      try {
        await rename(body.path, path);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      }
    }
    const part = `${path}.${randomBytes(6).toString("hex")}.part`;
    try {
      if (body instanceof Uint8Array) await writeFile(part, body, { mode: 0o600, flag: "wx" });
      else if (body instanceof Readable) await pipeline(body, createWriteStream(part, { mode: 0o600, flags: "wx" }));
      else {
        await copyFile(body.path, part);
        await chmod(part, 0o600);
      }
      await rename(part, path);
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
    if (!(body instanceof Uint8Array) && !(body instanceof Readable) && options.move) await rm(body.path, { force: true });
  }

  async get(key: string): Promise<{ body: Readable; size: number } | null> {
    const path = keyPath(this.#config, key);
    if (path == null) return null;
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      return { body: createReadStream(path), size: info.size };
    } catch {
      return null;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const path = keyPath(this.#config, key);
    if (path == null) return null;
    try {
      const info = await stat(path);
      return info.isFile() ? { size: info.size } : null;
    } catch {
      return null;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) != null;
  }

  async delete(keys: Iterable<string>): Promise<void> {
    const root = resolve(this.location);
    const folders = new Set<string>();
    for (const key of keys) {
      const path = keyPath(this.#config, key);
      if (path == null) continue;
      try {
        await unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      folders.add(dirname(path));
    }
    for (const folder of folders) {
      // Walk up while empty, stopping below the key's first segment
      // (`media_attachments`, `accounts`, ...).
      let current = folder;
      while (current.startsWith(root + sep) && dirname(current) !== root) {
        try {
          await rmdir(current);
        } catch {
          break;
        }
        current = dirname(current);
      }
    }
  }

  async *list(prefix = ""): AsyncGenerator<StoredObject> {
    const root = this.location;
    // Start at the deepest folder the prefix names.
    const folder = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    if (folder !== "" && !isValidKey(folder)) return;
    for await (const file of filesBelow(folder === "" ? root : join(root, folder), { skip: folder === "" ? UPLOAD_TMP_FOLDER : undefined })) {
      const key = relative(root, file.path).split(sep).join("/");
      if (!key.startsWith(prefix) || /\.part$/.test(key)) continue;
      yield { key, size: file.size, modified: file.modified };
    }
  }

  url(key: string): string {
    return `${this.#config.origin ?? ""}/system/${key}`;
  }
}
