/** `islet migrate`: applies pending database migrations. */
import { migrate } from "../db/connect.ts";
import { cliConfig, parseOptions, type Command } from "./command.ts";

const HELP = `
Usage: islet migrate

Applies pending database migrations (the server also does at start).
`;

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply pending database migrations",
  async run(argv) {
    if (parseOptions(argv, {}, HELP) == null) return;
    const config = cliConfig();
    await migrate({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    process.stdout.write(`Database is up to date (${config.databaseUrl == null ? "embedded PGlite" : "PostgreSQL"}).\n`);
  },
};
