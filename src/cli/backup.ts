/** `islet backup PATH`: the database, generated secrets and media in one archive. */
import { createWriteStream, existsSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { getOwner } from "../core/accounts.ts";
import { filesBelow } from "../media/storage.ts";
import { ISLET_VERSION } from "../version.ts";
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, DATA_PREFIX, DATABASE_DIR, MANIFEST, type BackupManifest } from "./backup-archive.ts";
import { CliError, parseOptions, withIslet, type Command } from "./command.ts";
import { generatedSecretFiles, MEDIA_FOLDER } from "./data-dir.ts";
import { dumpTables, journal } from "./database-dump.ts";
import { formatBytes, startProgress } from "./progress.ts";

const HELP = `
Usage: islet backup PATH [--force]

Writes one archive (gzipped tar) at PATH with:
  - the database, as one JSON-lines file per table (restores into the
    embedded database or PostgreSQL alike)
  - the secrets Islet generated in DATA_DIR (secret_key_base, vapid_keys)
  - the media files in DATA_DIR/media; with S3_ENABLED=true the media live
    in the bucket and are not in the archive (back the bucket up with the
    provider's tools, or bring them home first with
    \`islet media migrate --to fs\`)
  - manifest.json: versions, schema migration, time, counts

The archive holds secrets: it is written readable by you only (mode 0600).
It runs beside the server; with the embedded database the server waits
while the database is read. Restore with \`islet restore PATH\`.

Options:
  --force   replace PATH if it exists
`;

/** Files below `dir` (leaving out `skip` at its top): count and bytes. */
async function measure(dir: string, skip: string): Promise<{ files: number; bytes: number }> {
  const total = { files: 0, bytes: 0 };
  for await (const file of filesBelow(dir, { skip })) {
    total.files++;
    total.bytes += file.size;
  }
  return total;
}

export const backupCommand: Command = {
  name: "backup",
  summary: "write the database, keys and media to one archive",
  async run(argv) {
    const parsed = parseOptions(argv, { force: { type: "boolean", default: false } }, HELP, true);
    if (parsed == null) return;
    const [target, ...extra] = parsed.positionals;
    if (target == null) throw new CliError("missing PATH, e.g. islet backup /var/backups/islet-$(date +%F).tar.gz");
    if (extra.length > 0) throw new CliError(`one PATH only, got also ${extra.map((a) => JSON.stringify(a)).join(" ")}`);
    const path = resolve(target);
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) throw new CliError(`${path} is a folder; give the path of the archive file to write`);
      if (!parsed.values.force) throw new CliError(`${path} exists already; choose another path or pass --force to replace it`);
    }
    if (!existsSync(dirname(path))) throw new CliError(`cannot write ${path}: the folder ${dirname(path)} does not exist`);

    await withIslet(async ({ core, config }) => {
      const staging = await mkdtemp(join(tmpdir(), "islet-backup-"));
      const partial = `${path}.${process.pid}.partial`;
      try {
        // The database, from one snapshot.
        const dbProgress = startProgress({ label: "Dumping the database", unit: "items" });
        let dump;
        try {
          dump = await dumpTables(core.database, join(staging, DATABASE_DIR), (rows) => dbProgress.advance(rows));
        } catch (error) {
          dbProgress.stop();
          throw error;
        }
        const rows = dump.tables.reduce((sum, t) => sum + t.rows, 0);
        dbProgress.done(`${rows} rows in ${dump.tables.length} tables`);

        // Secrets and media, under data/.
        const data = join(staging, DATA_PREFIX);
        await mkdir(data, { mode: 0o700 });
        const secrets = generatedSecretFiles(config.dataDir).filter((name) => resolve(config.dataDir, name) !== path);
        for (const name of secrets) {
          await copyFile(join(config.dataDir, name), join(data, name));
          await chmod(join(data, name), 0o600);
        }
        const mediaDir = join(config.dataDir, MEDIA_FOLDER);
        const media = await measure(mediaDir, ".tmp");
        if (existsSync(mediaDir)) await symlink(mediaDir, join(data, MEDIA_FOLDER));

        const last = dump.migrations.at(-1) ?? null;
        const entries = await journal();
        const owner = await getOwner(core);
        const manifest: BackupManifest = {
          format: BACKUP_FORMAT,
          formatVersion: BACKUP_FORMAT_VERSION,
          isletVersion: ISLET_VERSION,
          createdAt: new Date().toISOString(),
          localDomain: config.localDomain,
          owner: owner?.account.username ?? null,
          database: {
            kind: core.database.kind,
            migration: last == null ? null : { tag: entries.find((e) => e.when === last.createdAt)?.tag ?? null, createdAt: last.createdAt },
            migrations: dump.migrations,
          },
          tables: dump.tables,
          secrets,
          secretKeyBaseFromEnvironment: !(config.sources.SECRET_KEY_BASE ?? "").startsWith(join(config.dataDir, "secret_key_base")),
          media,
        };
        await writeFile(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });

        // The archive: written aside, then moved into place whole.
        const databaseBytes = (await measure(join(staging, DATABASE_DIR), "")).bytes;
        const archiveProgress = startProgress({ label: "Writing the archive", unit: "bytes", total: databaseBytes + media.bytes });
        const skipTmp = `${DATA_PREFIX}/${MEDIA_FOLDER}/.tmp`;
        try {
          const pack = tar.c(
            {
              gzip: true,
              cwd: staging,
              follow: true,
              portable: true,
              filter: (entryPath, info) => {
                const normalized = entryPath.replace(/^\.\//, "");
                if (normalized === skipTmp || normalized.startsWith(`${skipTmp}/`)) return false;
                if ("isFile" in info && info.isFile()) archiveProgress.advance(info.size);
                return true;
              },
            },
            [MANIFEST, DATABASE_DIR, DATA_PREFIX],
          );
          await pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(partial, { mode: 0o600, flags: "w" }));
          await chmod(partial, 0o600);
          await rename(partial, path);
        } catch (error) {
          archiveProgress.stop();
          throw error;
        }
        archiveProgress.done(`${formatBytes(statSync(path).size)} written`);
        let note = manifest.secretKeyBaseFromEnvironment
          ? " SECRET_KEY_BASE comes from the environment and is not in the archive: keep it with the backup."
          : "";
        if (config.s3 != null) {
          note += ` Media are not included: they live in the bucket s3://${config.s3.bucket}` +
            `${config.s3.endpoint != null ? ` at ${config.s3.endpoint}` : ""}; back it up with your provider's tools.`;
        }
        process.stdout.write(
          `Backed up @${manifest.owner ?? "(no owner yet)"}@${config.localDomain} to ${path}: ` +
            `${rows} database rows, ${secrets.length} secret ${secrets.length === 1 ? "file" : "files"}, ` +
            `${media.files} media ${media.files === 1 ? "file" : "files"} (${formatBytes(media.bytes)}).${note}\n`,
        );
      } finally {
        await rm(partial, { force: true });
        await rm(staging, { recursive: true, force: true });
      }
    });
  },
};
