/**
 * The layout of a backup archive (a gzipped tar):
 *
 *   manifest.json          what is inside: versions, migration, counts
 *   database/<table>.jsonl one file per table (see ./database-dump.ts)
 *   data/<secret file>     the secrets Islet generated at the top of DATA_DIR
 *   data/media/...         DATA_DIR/media, without uploads in progress
 *
 * `data/` maps onto DATA_DIR as it is.
 */
import { createReadStream } from "node:fs";
import * as tar from "tar";
import { CliError } from "./errors.ts";

export const MANIFEST = "manifest.json";
export const DATABASE_DIR = "database";
export const DATA_PREFIX = "data";
export const BACKUP_FORMAT = "islet-backup";
export const BACKUP_FORMAT_VERSION = 1;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  isletVersion: string;
  createdAt: string;
  localDomain: string;
  owner: string | null;
  database: {
    /** Where it was taken from: "pglite" or "postgres". */
    kind: string;
    /** The last migration applied: its tag and journal time. */
    migration: { tag: string | null; createdAt: number } | null;
    /** Drizzle's record of applied migrations. */
    migrations: { hash: string; createdAt: number }[];
  };
  tables: { name: string; rows: number }[];
  /** The generated secret files under data/. */
  secrets: string[];
  /** True when SECRET_KEY_BASE came from the environment (so is not in the archive). */
  secretKeyBaseFromEnvironment: boolean;
  media: { files: number; bytes: number };
}

/** Reads the manifest, the archive's first entry, without reading the rest. */
export async function readManifest(path: string): Promise<BackupManifest> {
  const input = createReadStream(path);
  try {
    const text = await new Promise<string>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (!settled) {
          settled = true;
          fn();
        }
      };
      const notBackup = (why: string) => new CliError(`${path} is not an Islet backup (${why})`);
      const parser = tar.t({
        strict: true,
        onReadEntry(entry) {
          if (entry.path !== MANIFEST) {
            entry.resume();
            settle(() => reject(notBackup("it does not start with manifest.json")));
            return;
          }
          const chunks: Buffer[] = [];
          entry.on("data", (chunk: Buffer) => chunks.push(chunk));
          entry.on("end", () => settle(() => resolve(Buffer.concat(chunks).toString("utf8"))));
        },
      });
      input.on("error", (error: NodeJS.ErrnoException) => {
        settle(() => reject(new CliError(`cannot read ${path} (${error.code ?? error.message})`)));
      });
      parser.on("error", (error: Error) => settle(() => reject(notBackup(error.message))));
      parser.on("end", () => settle(() => reject(notBackup("no manifest.json"))));
      parser.on("close", () => settle(() => reject(notBackup("no manifest.json"))));
      input.pipe(parser as unknown as NodeJS.WritableStream);
    });
    let manifest: BackupManifest;
    try {
      manifest = JSON.parse(text) as BackupManifest;
    } catch {
      throw new CliError(`${path} is not an Islet backup (its manifest.json is not JSON)`);
    }
    if (manifest.format !== BACKUP_FORMAT) throw new CliError(`${path} is not an Islet backup (manifest format ${JSON.stringify(manifest.format)})`);
    if (manifest.formatVersion > BACKUP_FORMAT_VERSION) {
      throw new CliError(`${path} was written by a newer Islet (${manifest.isletVersion}, backup format ${manifest.formatVersion}); upgrade Islet to restore it`);
    }
    return manifest;
  } finally {
    input.destroy();
  }
}
