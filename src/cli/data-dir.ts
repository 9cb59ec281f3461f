/**
 * What lives in DATA_DIR, for the commands that copy, fill or empty it:
 * the embedded database (`db/` and its lock `db.lock`), media (`media/`),
 * and the secrets Islet generated on first start, kept as files at its top
 * (`secret_key_base`, `vapid_keys`, and any added later).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { resolveDataDir } from "../config.ts";
import { LOCK_FILE } from "../db/connect.ts";

export { LOCK_FILE };
export const DB_FOLDER = "db";
export const MEDIA_FOLDER = "media";

/** DATA_DIR as the configuration resolves it, without creating anything. */
export function dataDirFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  return resolveDataDir(env, cwd);
}

/** The names in DATA_DIR; none when it does not exist. */
export function dataDirEntries(dataDir: string): string[] {
  try {
    return readdirSync(dataDir).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/**
 * The generated secret files at the top of DATA_DIR: every plain file
 * there but the database lock and archives (a backup written into DATA_DIR).
 */
export function generatedSecretFiles(dataDir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dataDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile() && entry.name !== LOCK_FILE && !/\.(tar\.gz|tgz|tar|partial)$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

