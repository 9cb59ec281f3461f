/** Building account archives in tests, packed as Mastodon packs them. */
import { createWriteStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";

/** Zips the files under `dir` (folders included) into `file`, as Mastodon's archive is packed. */
export async function writeZip(dir: string, file: string): Promise<void> {
  const zip = new yazl.ZipFile();
  const add = async (folder: string, prefix: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await add(path, `${prefix}${entry.name}/`);
      else zip.addFile(path, `${prefix}${entry.name}`);
    }
  };
  await add(dir, "");
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
}
