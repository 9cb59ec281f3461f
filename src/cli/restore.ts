/** `islet restore PATH`: fills an empty DATA_DIR and an empty database from a backup. */
import { existsSync, statSync } from "node:fs";
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as tar from "tar";
import { openDatabase } from "../db/connect.ts";
import { BACKUP_FORMAT_VERSION, DATA_PREFIX, DATABASE_DIR, readManifest } from "./backup-archive.ts";
import { CliError, cliConfig, parseOptions, type Command } from "./command.ts";
import { dataDirEntries, dataDirFromEnv, MEDIA_FOLDER } from "./data-dir.ts";
import { appliedMigrations, journal, loadTables, migrateUpTo, tablesWithRows } from "./database-dump.ts";
import { formatBytes, startProgress } from "./progress.ts";

const HELP = `
Usage: islet restore PATH

Fills an empty DATA_DIR and an empty database from an archive written by
\`islet backup\`: creates the tables, loads every row, and puts back the
generated secrets and the media files. The backup may come from the
embedded database or from PostgreSQL; it restores into either, whichever
the configuration (DATABASE_URL) names.

Refuses when DATA_DIR holds anything or the database holds any row: run
\`islet reset --yes\` first to start from nothing, or use a fresh DATA_DIR
and database.
`;

export const restoreCommand: Command = {
  name: "restore",
  summary: "fill an empty DATA_DIR and database from a backup",
  async run(argv) {
    const parsed = parseOptions(argv, {}, HELP, true);
    if (parsed == null) return;
    const [source, ...extra] = parsed.positionals;
    if (source == null) throw new CliError("missing PATH of the archive written by `islet backup`");
    if (extra.length > 0) throw new CliError(`one PATH only, got also ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
    const path = resolve(source);
    if (!existsSync(path)) throw new CliError(`${path}: no such file`);
    if (!statSync(path).isFile()) throw new CliError(`${path} is not a file`);

    // Checked before the configuration is read: reading it generates secrets in DATA_DIR.
    const dataDir = dataDirFromEnv();
    const present = dataDirEntries(dataDir);
    if (present.length > 0) {
      const shown = present.slice(0, 4).join(", ") + (present.length > 4 ? ", ..." : "");
      throw new CliError(`DATA_DIR ${dataDir} is not empty (${shown}): restore fills an empty one; run \`islet reset --yes\` or set DATA_DIR to a new folder`);
    }

    const manifest = await readManifest(path);
    if (manifest.formatVersion > BACKUP_FORMAT_VERSION) throw new CliError(`${path} needs a newer Islet`);
    const entries = await journal();
    const backupMigration = manifest.database.migration?.createdAt ?? null;
    if (backupMigration != null && !entries.some((entry) => entry.when === backupMigration)) {
      const newest = entries.at(-1)?.when ?? 0;
      throw new CliError(
        backupMigration > newest
          ? `the backup's database is of a newer Islet (${manifest.isletVersion}, migration ${manifest.database.migration?.tag ?? backupMigration}); upgrade Islet to restore it`
          : `the backup's database migration ${manifest.database.migration?.tag ?? backupMigration} is unknown to this Islet`,
      );
    }

    const existed = existsSync(dataDir);
    let config;
    let database;
    try {
      config = cliConfig();
      database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false, exclusive: true });
    } catch (error) {
      await clearDataDir(dataDir, existed);
      throw error;
    }
    const staging = join(config.dataDir, `.restore-${process.pid}`);
    let restored = false;
    try {
      const withRows = await tablesWithRows(database);
      if (withRows.length > 0) {
        throw new CliError(
          `the database already holds data (in ${withRows.slice(0, 3).join(", ")}${withRows.length > 3 ? ", ..." : ""}): ` +
            "restore fills an empty one; run `islet reset --yes` first or point DATABASE_URL at a new database",
        );
      }
      const applied = (await appliedMigrations(database.db)).at(-1)?.createdAt ?? null;
      if (applied != null && backupMigration != null && applied > backupMigration) {
        // Empty tables of a newer schema: loaded as they are, columns added since take their defaults.
      } else {
        await migrateUpTo(database, backupMigration ?? 0);
      }

      // Unpack everything beside where it goes (one file system, so it moves by renaming).
      await mkdir(staging, { mode: 0o700 });
      const files = manifest.media.files + manifest.secrets.length + manifest.tables.length + 1;
      const unpack = startProgress({ label: "Unpacking the archive", unit: "items", total: files });
      try {
        await tar.x({
          file: path,
          cwd: staging,
          strict: true,
          preserveOwner: false,
          onReadEntry: (entry) => {
            if (entry.type === "File") unpack.advance();
          },
        });
      } catch (error) {
        unpack.stop();
        throw new CliError(`cannot unpack ${path}: ${(error as Error).message}`);
      }
      unpack.done(`${files} files`);

      const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0);
      const load = startProgress({ label: "Loading the database", unit: "items", total: rows });
      try {
        await loadTables(database, join(staging, DATABASE_DIR), manifest.tables.map((t) => t.name), (n) => load.advance(n));
      } catch (error) {
        load.stop();
        throw error;
      }
      load.done(`${rows} rows in ${manifest.tables.length} tables`);
      await migrateUpTo(database, null);

      for (const name of manifest.secrets) {
        const from = join(staging, DATA_PREFIX, name);
        if (!existsSync(from)) throw new CliError(`the archive lacks ${DATA_PREFIX}/${name} that its manifest lists`);
        await chmod(from, 0o600);
        await rename(from, join(config.dataDir, name));
      }
      const media = join(staging, DATA_PREFIX, MEDIA_FOLDER);
      if (existsSync(media)) {
        await chmod(media, 0o700);
        await rename(media, join(config.dataDir, MEDIA_FOLDER));
      }
      restored = true;
    } finally {
      await rm(staging, { recursive: true, force: true });
      await database.close();
      // DATA_DIR was empty: whatever is in it now came from this attempt.
      if (!restored) await clearDataDir(dataDir, existed);
    }

    const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0);
    process.stdout.write(
      `Restored @${manifest.owner ?? "(no owner)"}@${manifest.localDomain} from ${path} (taken ${manifest.createdAt}): ` +
        `${rows} database rows into ${database.kind === "pglite" ? "the embedded database" : "PostgreSQL"}, ` +
        `${manifest.secrets.length} secret ${manifest.secrets.length === 1 ? "file" : "files"}, ` +
        `${manifest.media.files} media ${manifest.media.files === 1 ? "file" : "files"} (${formatBytes(manifest.media.bytes)}).\n`,
    );
    if (manifest.localDomain !== config.localDomain) {
      process.stderr.write(
        `Note: the backup is of ${manifest.localDomain} but this server is ${config.localDomain}; ` +
          "the owner's actor IDs follow the new domain at start, and other servers will not recognise it as the same account.\n",
      );
    }
    if (manifest.secretKeyBaseFromEnvironment) {
      process.stderr.write("Note: the backed-up server took SECRET_KEY_BASE from its environment; set the same value here.\n");
    }
  },
};

/** Empties DATA_DIR after a failed restore (it was empty before), or removes it if this command made it. */
async function clearDataDir(dataDir: string, existed: boolean): Promise<void> {
  if (!existed) {
    await rm(dataDir, { recursive: true, force: true });
    return;
  }
  for (const name of dataDirEntries(dataDir)) await rm(join(dataDir, name), { recursive: true, force: true });
}
