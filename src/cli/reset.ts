/** `islet reset --yes`: deletes every piece of data, to start from scratch. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { lockHolder, openDatabase, takeLock } from "../db/connect.ts";
import { ask, CliError, cliConfig, parseOptions, type Command } from "./command.ts";
import { DB_FOLDER, generatedSecretFiles, MEDIA_FOLDER } from "./data-dir.ts";
import { dropIsletTables, migrateUpTo } from "./database-dump.ts";

const HELP = `
Usage: islet reset [--yes]

Deletes all of Islet's data: the owner account, posts, follows, keys, media
and the secrets Islet generated in DATA_DIR. With the embedded database its
files under DATA_DIR/db go; with PostgreSQL (DATABASE_URL) Islet's tables
are dropped and made again, empty. Nothing else in that database is touched.

Stop the server first. On a terminal it asks you to type the domain to
confirm; elsewhere pass --yes. There is no undo: \`islet backup\` first if in
doubt.

Options:
  --yes   do not ask
`;

export const resetCommand: Command = {
  name: "reset",
  summary: "delete all data and start from scratch",
  async run(argv) {
    const parsed = parseOptions(argv, { yes: { type: "boolean", default: false } }, HELP);
    if (parsed == null) return;
    const config = cliConfig();
    const where = config.databaseUrl == null ? `the embedded database in ${join(config.dataDir, DB_FOLDER)}` : "Islet's tables in PostgreSQL (DATABASE_URL)";
    if (!parsed.values.yes) {
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        throw new CliError("refusing to delete all data without confirmation: pass --yes to reset when not on a terminal");
      }
      process.stdout.write(`This deletes ${where}, DATA_DIR/media and the generated secrets in ${config.dataDir}.\n`);
      const typed = await ask(`Type the domain, ${config.localDomain}, to confirm: `);
      if (typed.toLowerCase() !== config.localDomain.toLowerCase()) throw new CliError("the domain typed does not match; nothing was deleted");
    }

    const holder = lockHolder(config.dataDir);
    if (holder != null) {
      throw new CliError(`the embedded database in ${config.dataDir} is in use by another islet process (pid ${holder}); stop the server first`);
    }
    // Held for the time of the reset, so that no server starts meanwhile.
    const release = takeLock(config.dataDir);
    try {
      if (config.databaseUrl == null) {
        await rm(join(config.dataDir, DB_FOLDER), { recursive: true, force: true });
      } else {
        const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false, maxConnections: 1 });
        try {
          const [others] = await database.query<{ n: number }>(sql`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'islet'`);
          if (others != null && Number(others.n) > 0) {
            throw new CliError(`an Islet server is connected to this database (${others.n} connections); stop it first`);
          }
          await dropIsletTables(database);
          await migrateUpTo(database, null);
        } finally {
          await database.close();
        }
      }
      await rm(join(config.dataDir, MEDIA_FOLDER), { recursive: true, force: true });
      for (const name of generatedSecretFiles(config.dataDir)) await rm(join(config.dataDir, name), { force: true });
    } finally {
      release();
    }
    process.stdout.write(
      `Deleted ${where}, the media and the generated secrets: Islet starts from scratch` +
        `${config.databaseUrl == null ? " (the next start creates a new database)" : ""}. Create the owner again with \`islet setup\`.\n`,
    );
  },
};
