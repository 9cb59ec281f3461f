/**
 * Starts Islet in this process on a throwaway database, listening on a free
 * loopback port, with an owner account.
 */
import { createServer } from "node:net";
import { loadConfig } from "../../src/config.ts";
import { createOwner, type Owner } from "../../src/core/accounts.ts";
import { openIslet, type Islet } from "../../src/islet.ts";
import { createLogger } from "../../src/log.ts";
import { createApp, listen } from "../../src/server.ts";
import { createTestDatabase, type DatabaseKind, type TestDatabase } from "./database.ts";
import { PATIENCE_MS } from "./settle.ts";

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address != null ? address.port : 0));
    });
  });
}

export interface TestInstance {
  islet: Islet;
  owner: Owner | null;
  /** Where requests go: http://127.0.0.1:PORT. */
  url: string;
  /** The canonical origin: http://localhost:PORT. */
  origin: string;
  database: TestDatabase;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Create an owner with this username (default "owner"); null for none. */
  username?: string | null;
  env?: Record<string, string>;
  locked?: boolean;
}

export async function startInstance(kind: DatabaseKind, options: StartOptions = {}): Promise<TestInstance> {
  const database = await createTestDatabase(kind, { migrated: true });
  const port = await freePort();
  const config = loadConfig({
    DATA_DIR: database.dataDir,
    PORT: String(port),
    ALLOW_PRIVATE_ADDRESS: "true",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error",
    ...(database.databaseUrl == null ? {} : { DATABASE_URL: database.databaseUrl }),
    ...options.env,
  });
  const islet = await openIslet(config, { database: await database.open(), log: createLogger(config.logLevel) });
  let owner: Owner | null = null;
  const username = options.username === undefined ? "owner" : options.username;
  if (username != null) {
    owner = await createOwner(islet.core, { username, email: `${username}@example.com`, password: "a long test password" });
    if (options.locked) {
      const { accounts } = await import("../../src/db/schema.ts");
      const { eq } = await import("drizzle-orm");
      await islet.core.db.update(accounts).set({ locked: true }).where(eq(accounts.id, owner.account.id));
    }
  }
  const server = await listen(createApp(islet), port, "127.0.0.1");
  islet.startWorker();
  return {
    islet,
    owner,
    url: server.url,
    origin: config.origin,
    database,
    async close() {
      await server.close();
      await islet.close();
      await database.drop();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, what: string, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
