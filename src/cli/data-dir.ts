/**
 * What lives in DATA_DIR, for the commands that copy, fill or empty it:
 * the embedded database (`db/` and its lock `db.lock`), media (`media/`),
 * and the secrets Islet generated on first start, kept as files at its top
 * (`secret_key_base`, `vapid_keys`, and any added later).
 */
import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

export const DB_FOLDER = "db";
export const MEDIA_FOLDER = "media";
export const LOCK_FILE = "db.lock";

/** DATA_DIR as the configuration resolves it, without creating anything. */
export function dataDirFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  const raw = (env.DATA_DIR ?? "").trim() || "./data";
  return isAbsolute(raw) ? raw : resolve(cwd, raw);
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

/** The process holding the embedded database's lock, if it is alive. */
export function lockHolder(dataDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, LOCK_FILE), "utf8");
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}
