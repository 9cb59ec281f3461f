/** `islet serve`: runs the server (what `npm start` runs). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { adminCommand, ignoredVariablesWarning, type Config } from "../config.ts";
import { getOwner } from "../core/accounts.ts";
import { guardDriverFaults } from "../db/driver-guard.ts";
import { openIslet } from "../islet.ts";
import { createLogger } from "../log.ts";
import { createApp, createStreamingApp, listen, type RunningServer } from "../server.ts";
import { ISLET_VERSION } from "../version.ts";
import { CliError, cliConfig, parseOptions, type Command } from "./command.ts";

const HELP = `
Usage: islet serve [--role all|web|worker|streaming]

Runs Islet. Roles split one server into processes sharing a PostgreSQL
database:
  all        HTTP and the background worker (default)
  web        HTTP only: pages, API, federation endpoints, streaming
  worker     the background worker only: deliveries and inbox processing
  streaming  the streaming API only (/api/v1/streaming), no worker

all listens on PORT (default 3000) at BIND (default 127.0.0.1), or on the
Unix socket SOCKET when set, and also on STREAMING_PORT when set; web
listens on PORT (or SOCKET); streaming listens on
STREAMING_PORT, or PORT when it is unset. Events raised in any process reach
the streaming clients of every other (PostgreSQL LISTEN/NOTIFY).
`;

const ROLES = ["all", "web", "worker", "streaming"] as const;

export const serveCommand: Command = {
  name: "serve",
  summary: "run the server (npm start)",
  async run(argv) {
    const parsed = parseOptions(argv, { role: { type: "string", default: "all" } }, HELP);
    if (parsed == null) return;
    const role = parsed.values.role as (typeof ROLES)[number];
    if (!ROLES.includes(role)) throw new CliError(`--role: expected one of ${ROLES.join(", ")}, got ${JSON.stringify(role)}`);
    const config = cliConfig();
    if (config.databaseUrl == null && role !== "all") {
      throw new CliError(`--role ${role} needs PostgreSQL (DATABASE_URL): the embedded database serves one process`);
    }
    const log = createLogger(config.logLevel);
    const ignored = ignoredVariablesWarning(config.ignoredMastodonVariables);
    if (ignored != null) log.warn(ignored);
    if (config.databaseUrl != null) guardDriverFaults(log);
    initialiseEmbeddedDatabase(config);
    // With the embedded database, admin commands reach it through this process.
    const islet = await openIslet(config, { log, shareDatabase: true });
    const servers: RunningServer[] = [];
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: stopping`);
      await Promise.all(servers.map((s) => s.close()));
      await islet.close();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));

    if (role === "all" || role === "worker") islet.startWorker();
    if (role !== "worker") {
      const app = role === "streaming" ? createStreamingApp(islet) : createApp(islet);
      const ports: { variable: string; port: number | { socket: string } }[] = [];
      if (role === "streaming") ports.push(config.streamingPort == null ? { variable: "PORT", port: config.port } : { variable: "STREAMING_PORT", port: config.streamingPort });
      else if (config.socket != null) ports.push({ variable: "SOCKET", port: { socket: config.socket } });
      else ports.push({ variable: "PORT", port: config.port });
      if (role === "all" && config.streamingPort != null) ports.push({ variable: "STREAMING_PORT", port: config.streamingPort });
      for (const { variable, port } of ports) {
        try {
          servers.push(await listen(app, port, config.bind));
        } catch (error) {
          await Promise.all(servers.map((s) => s.close()));
          await islet.close();
          const code = (error as NodeJS.ErrnoException).code;
          const where = typeof port === "number" ? `${config.bind}:${port}` : port.socket;
          if (code === "EADDRINUSE") throw new CliError(`${variable}: ${where} is already in use; stop the other server or set ${variable}`);
          if (code === "EACCES") throw new CliError(`${variable}: not allowed to listen on ${where}; ${typeof port === "number" ? "use a port above 1023" : "check the folder's owner and mode"}`);
          if (code === "ENOENT") throw new CliError(`${variable}: the folder of ${where} does not exist`);
          throw error;
        }
      }
    }
    const database = config.databaseUrl == null ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL";
    const where = servers.length > 0 ? ` at ${servers.map((s) => s.url).join(" and ")}` : "";
    process.stdout.write(`Islet ${ISLET_VERSION} (${role}) running${where}, origin ${config.origin}, database: ${database}\n`);
    if (await getOwner(islet.core) == null) {
      process.stdout.write(
        "No owner account yet. Create it with:\n" +
          `  ${adminCommand()} setup --username NAME --email ADDRESS --password-file PATH\n` +
          `(or \`${adminCommand()} setup\` on a terminal to be asked)\n`,
      );
    }
  },
};

/**
 * Creating a PGlite database (initdb) leaves a process near 800 MiB of
 * memory until it exits, so a first start does it in a short-lived child
 * (`islet migrate`) and the server opens the finished database at a
 * fraction of that.
 */
function initialiseEmbeddedDatabase(config: Config): void {
  if (config.databaseUrl != null || existsSync(join(config.dataDir, "db", "PG_VERSION"))) return;
  const entry = process.argv[1];
  if (entry == null || !existsSync(entry)) return;
  process.stdout.write(`First start: creating the embedded database in ${join(config.dataDir, "db")} ...\n`);
  const child = spawnSync(process.execPath, [entry, "migrate"], { stdio: ["ignore", "ignore", "inherit"], env: process.env });
  if (child.status !== 0) throw new CliError("could not create the embedded database (see the message above)");
}
