/**
 * A migrated embedded database shipped with the build. `initdb` inside
 * PGlite takes several seconds (more on a busy machine) and leaves the
 * process near 800 MiB, so the build makes one migrated data dir and saves
 * it beside the bundle; the first start on a new DATA_DIR unpacks it instead
 * (about a second) and then migrates as usual. The archive carries the key
 * of the migrations it was made from, and is used only when that key matches
 * the migrations this code would apply: a stale or foreign archive is
 * ignored, never half-used.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const TEMPLATE_FILE = "pglite-template.tar.gz";
const KEY_FILE = "pglite-template.key";

/** PGlite's own version: a data dir written by one version may not open in another. */
function pgliteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve("@electric-sql/pglite")));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
}

/** Names a set of migrations (file names and contents) and the PGlite that ran them. */
export function migrationsKey(folder: string): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(relative(folder, path)).update("\0").update(readFileSync(path));
    }
  };
  walk(folder);
  hash.update(`pglite ${pgliteVersion()}`);
  return hash.digest("hex");
}

/** Where the build puts the archive: beside the bundle (dist/), whether running it or the sources. */
function templateFolders(): string[] {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return [here, join(here, "..", "..", "dist")];
}

/** The shipped archive made from exactly these migrations, or null. */
export function shippedTemplate(migrations: string, folders = templateFolders()): Blob | null {
  for (const folder of folders) {
    const file = join(folder, TEMPLATE_FILE);
    const keyFile = join(folder, KEY_FILE);
    if (!existsSync(file) || !existsSync(keyFile)) continue;
    if (readFileSync(keyFile, "utf8").trim() !== migrationsKey(migrations)) continue;
    return new Blob([readFileSync(file)], { type: "application/gzip" });
  }
  return null;
}

/** Saves an archive (as made by `migratedPgliteArchive`) into `folder` with its key. */
export async function saveTemplate(folder: string, archive: Blob, migrations: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  const staging = join(folder, `${TEMPLATE_FILE}.${process.pid}`);
  writeFileSync(staging, new Uint8Array(await archive.arrayBuffer()));
  renameSync(staging, join(folder, TEMPLATE_FILE));
  writeFileSync(join(folder, KEY_FILE), `${migrationsKey(migrations)}\n`);
}
