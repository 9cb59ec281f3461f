/**
 * Extracting a zip archive (what Mastodon's "Request your archive" gives
 * since 4.x) into a folder: plain files and folders only, every name kept
 * inside the folder (yauzl refuses absolute names and `..`), each file
 * streamed to disk so a large archive never sits in memory.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, strictFileNames: true }, (error, zipfile) => (error != null ? reject(error) : resolve(zipfile)));
  });
}

function openEntry(zipfile: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zipfile.openReadStream(entry, (error, stream) => (error != null ? reject(error) : resolve(stream)));
  });
}

/** Extracts the zip at `path` into the folder `dir` (which exists). */
export async function extractZip(path: string, dir: string): Promise<void> {
  const zipfile = await openZip(path);
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      zipfile.close();
      reject(error);
    };
    zipfile.on("error", fail);
    zipfile.on("end", () => resolve());
    zipfile.on("entry", (entry: yauzl.Entry) => {
      const target = join(dir, entry.fileName);
      const done = (promise: Promise<unknown>) => promise.then(() => zipfile.readEntry(), fail);
      if (entry.fileName.endsWith("/")) {
        done(mkdir(target, { recursive: true }));
        return;
      }
      done((async () => {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(await openEntry(zipfile, entry), createWriteStream(target, { flags: "wx", mode: 0o600 }));
      })());
    });
    zipfile.readEntry();
  });
}
