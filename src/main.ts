/**
 * The `islet` command. Every subcommand reads the same configuration as the
 * server, so nothing needs sourcing first. Failures print one plain line on
 * stderr and exit non-zero.
 */
import { ConfigError } from "./config.ts";
import { CoreError } from "./core/context.ts";
import { DatabaseError } from "./db/errors.ts";
import { CliError, type Command } from "./cli/errors.ts";
import { ISLET_VERSION } from "./version.ts";

/** Each command loads its module only when it runs: `islet --help` stays instant. */
interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

const COMMANDS: CommandEntry[] = [
  { name: "serve", summary: "run the server (npm start)", load: async () => (await import("./cli/serve.ts")).serveCommand },
  { name: "setup", summary: "create the owner account", load: async () => (await import("./cli/setup.ts")).setupCommand },
  { name: "config", summary: "print the resolved configuration (secrets masked)", load: async () => (await import("./cli/config.ts")).configCommand },
  { name: "migrate", summary: "apply pending database migrations", load: async () => (await import("./cli/migrate.ts")).migrateCommand },
  { name: "account", summary: "show the owner account, set its password, or move it", load: async () => (await import("./cli/account.ts")).accountCommand },
  { name: "apps", summary: "list the apps that hold access to the account, or revoke one", load: async () => (await import("./cli/apps.ts")).appsCommand },
  { name: "accounts", summary: "refresh remote accounts", load: async () => (await import("./cli/accounts.ts")).accountsCommand },
  { name: "mail", summary: "send a test message to check the SMTP settings", load: async () => (await import("./cli/mail.ts")).mailCommand },
  { name: "domain", summary: "block, unblock or list blocked domains", load: async () => (await import("./cli/domain.ts")).domainCommand },
  { name: "media", summary: "show media disk use, or prune the remote media cache", load: async () => (await import("./cli/media.ts")).mediaCommand },
  { name: "import", summary: "take over a Mastodon in place, or import its CSV exports or account archive", load: async () => (await import("./cli/import.ts")).importCommand },
  { name: "export", summary: "export Mastodon's CSV files or an account archive", load: async () => (await import("./cli/export.ts")).exportCommand },
  { name: "backup", summary: "write the database, keys and media to one archive", load: async () => (await import("./cli/backup.ts")).backupCommand },
  { name: "restore", summary: "fill an empty DATA_DIR and database from a backup", load: async () => (await import("./cli/restore.ts")).restoreCommand },
  { name: "reset", summary: "delete all data and start from scratch", load: async () => (await import("./cli/reset.ts")).resetCommand },
  { name: "doctor", summary: "check configuration, database, DATA_DIR, clock, mail and reachability", load: async () => (await import("./cli/doctor.ts")).doctorCommand },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "Usage: islet <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `islet <command> --help` for a command's options.",
    "Configuration comes from environment variables (see README.md).",
  ].join("\n");
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name == null || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`islet ${ISLET_VERSION}\n`);
    return;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry == null) {
    fail(`unknown command ${JSON.stringify(name)}; run \`islet --help\` for the list`);
  }
  try {
    const command = await entry.load();
    await command.run(rest);
  } catch (error) {
    fail(describeError(error));
  }
}

/** One plain line for an error a person can act on. */
export function describeError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof CliError || error instanceof CoreError || error instanceof DatabaseError) {
    return error.message;
  }
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" || code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return `${(error as Error).message.split("\n")[0]}; see --help`;
  }
  if (error instanceof Error) {
    if (process.env.LOG_LEVEL === "debug") return error.stack ?? error.message;
    return `${error.message} (set LOG_LEVEL=debug for details)`;
  }
  return String(error);
}

function fail(message: string): never {
  process.stderr.write(`islet: ${message}\n`);
  process.exit(1);
}
