/**
 * Moving the media files from one store to another (`islet media migrate`):
 * every file is copied, checked by size, and only then (when asked) removed
 * from the source. A file the target already holds at the same size is
 * skipped, so an interrupted migration resumes where it stopped.
 */
import { MediaStorageError } from "../errors.ts";
import type { MediaStorage, StoredObject } from "./media-storage.ts";

export interface MigrateOptions {
  /** Delete each file from the source once the target holds it. */
  deleteSource?: boolean;
  /** Called once the source is listed: how many files and bytes there are. */
  onTotal?: (files: number, bytes: number) => void;
  /** Called after each file, copied or skipped. */
  onFile?: (file: StoredObject, copied: boolean) => void;
}

export interface MigrateResult {
  files: number;
  bytes: number;
  /** Files the target already held (an earlier, interrupted run). */
  skipped: number;
  deleted: number;
}

export async function migrateMedia(from: MediaStorage, to: MediaStorage, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files: StoredObject[] = [];
  let total = 0;
  for await (const file of from.list()) {
    files.push(file);
    total += file.size;
  }
  options.onTotal?.(files.length, total);
  const result: MigrateResult = { files: 0, bytes: 0, skipped: 0, deleted: 0 };
  for (const file of files) {
    const present = await to.stat(file.key);
    const copied = present?.size !== file.size;
    if (copied) {
      const source = await from.get(file.key);
      if (source == null) continue; // Deleted meanwhile.
      await to.put(file.key, source.body);
      const stored = await to.stat(file.key);
      if (stored?.size !== file.size) {
        throw new MediaStorageError(`${to.location} holds ${stored?.size ?? "no"} bytes of ${file.key} after copying ${file.size}; stopped, nothing deleted`);
      }
      result.files++;
      result.bytes += file.size;
    } else {
      result.skipped++;
    }
    if (options.deleteSource) {
      await from.delete([file.key]);
      result.deleted++;
    }
    options.onFile?.(file, copied);
  }
  return result;
}
