/**
 * Opens the database: PostgreSQL through postgres.js when DATABASE_URL is set,
 * the embedded PGlite under DATA_DIR/db otherwise. Both get the same schema,
 * the same migrations and the same Drizzle API.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { runDataMigrations } from "./data-migrations.ts";
import type { Db } from "./db.ts";
import { EMBEDDED_SOCKET, shareEmbeddedDatabase, type SharedDatabase } from "./embedded-socket.ts";
import { DatabaseError } from "./errors.ts";
import { shippedTemplate } from "./pglite-template.ts";
import * as schema from "./schema.ts";

export type { Db };

export type Unlisten = () => Promise<void>;

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly db: Db;
  /** Subscribes to a NOTIFY channel (across processes on PostgreSQL). */
  listen(channel: string, onNotify: (payload: string) => void): Promise<Unlisten>;
  notify(channel: string, payload?: string): Promise<void>;
  /** Runs raw SQL and returns the rows, whichever driver is underneath. */
  query<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]>;
  close(): Promise<void>;
}

export { DatabaseError };

export interface OpenOptions {
  /** PostgreSQL connection string; null for PGlite. */
  databaseUrl: string | null;
  /** Where PGlite keeps its files (DATA_DIR). */
  dataDir: string;
  /** PGlite only: start from this data dir archive instead of initdb (tests). */
  pgliteTemplate?: Blob;
  /** PGlite only: keep the database in memory, not on disk (tests). */
  inMemory?: boolean;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Largest number of PostgreSQL connections in the pool. */
  maxConnections?: number;
  /**
   * PGlite only: while open, serve the database to admin commands on
   * DATA_DIR/db.sock (the server does; see embedded-socket.ts). Implies
   * exclusive: a second server fails rather than connect to the first.
   */
  share?: boolean;
  /**
   * PGlite only: when the server has the database open, fail instead of
   * connecting through its socket (commands that need it stopped).
   */
  exclusive?: boolean;
}

/** Where the SQL migrations are: beside this file, or beside the bundle. */
export function migrationsFolder(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  for (const candidate of [join(here, "migrations"), join(here, "db", "migrations")]) {
    if (existsSync(join(candidate, "meta", "_journal.json"))) return candidate;
  }
  throw new DatabaseError(`migrations not found next to ${here}`);
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl == null && !options.inMemory && !options.exclusive && !options.share) {
    // The server has the embedded database: go through it.
    const socket = join(options.dataDir, EMBEDDED_SOCKET);
    const holder = lockHolder(options.dataDir);
    if (holder != null && existsSync(socket)) return await openThroughServer(socket, holder);
  }
  const database = options.databaseUrl == null
    ? await openPglite(options)
    : await openPostgres(options.databaseUrl, options.maxConnections ?? 10);
  if (options.migrate !== false) {
    try {
      await database.migrateFn();
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

/** Applies pending migrations. Safe to run from several processes at once. */
export async function migrate(options: OpenOptions): Promise<void> {
  const database = await openDatabase({ ...options, migrate: true });
  await database.close();
}

/** The file in DATA_DIR naming the process that has the embedded database open. */
export const LOCK_FILE = "db.lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The live process (another than this one) holding DATA_DIR/db.lock, if any. */
export function lockHolder(dataDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, LOCK_FILE), "utf8");
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  return isAlive(pid) ? pid : null;
}

/**
 * Takes DATA_DIR/db.lock for this process (a stale one is taken over);
 * returns its release. PGlite has no lock of its own, and two processes
 * writing one data dir would corrupt it.
 */
export function takeLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new DatabaseError(`cannot create ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
      }
      const owner = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new DatabaseError(
          `the embedded database in ${dataDir} is in use by another islet process (pid ${owner}); ` +
            "stop it first, or set DATABASE_URL to use PostgreSQL, which several processes can share",
        );
      }
      // The process that held it is gone: the lock is stale.
      unlinkSync(path);
    }
  }
  throw new DatabaseError(`cannot take ${path}`);
}

interface OpenedDatabase extends Database {
  migrateFn(): Promise<void>;
}

async function openPglite(options: OpenOptions): Promise<OpenedDatabase> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  let release = () => {};
  let dataDir: string | undefined;
  if (!options.inMemory) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    release = takeLock(options.dataDir);
    dataDir = join(options.dataDir, "db");
  }
  // PGlite's defaults turn fsync off (-F); keep it on so that a write PGlite
  // acknowledged survives a crash. A small shared_buffers saves ~120 MiB.
  const startParams = [
    ...PGlite.defaultStartParams.filter((param) => param !== "-F"),
    "-c", "shared_buffers=16MB",
  ];
  let pg: InstanceType<typeof PGlite>;
  try {
    const fresh = dataDir == null || !existsSync(join(dataDir, "PG_VERSION"));
    pg = new PGlite({
      dataDir,
      // A new data dir starts from the migrated archive the build made,
      // when it matches these migrations, instead of initdb.
      loadDataDir: fresh ? options.pgliteTemplate ?? (dataDir == null ? undefined : shippedTemplate(migrationsFolder()) ?? undefined) : undefined,
      startParams,
    });
    await pg.waitReady;
  } catch (error) {
    release();
    throw new DatabaseError(`cannot open the embedded database in ${dataDir ?? "memory"}: ${(error as Error).message}`);
  }
  let shared: SharedDatabase | null = null;
  if (options.share && dataDir != null) {
    try {
      shared = await shareEmbeddedDatabase(pg, join(options.dataDir, EMBEDDED_SOCKET));
    } catch (error) {
      await pg.close().catch(() => {});
      release();
      throw new DatabaseError(`cannot open ${join(options.dataDir, EMBEDDED_SOCKET)} for admin commands: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const db = drizzle(pg, { schema }) as unknown as Db;
  return {
    kind: "pglite",
    db,
    async listen(channel, onNotify) {
      const unsubscribe = await pg.listen(channel, onNotify);
      return async () => {
        if (!pg.closed) await unsubscribe();
      };
    },
    async notify(channel, payload = "") {
      await pg.query("SELECT pg_notify($1, $2)", [channel, payload]);
    },
    async query<T>(query: ReturnType<typeof sql>) {
      const result = await db.execute(query) as unknown as { rows: T[] };
      return result.rows;
    },
    async close() {
      try {
        await shared?.close();
        if (!pg.closed) await pg.close();
      } finally {
        release();
      }
    },
    async migrateFn() {
      await migrate(drizzle(pg), { migrationsFolder: migrationsFolder() });
      await runDataMigrations(db);
    },
  };
}

async function openPostgres(url: string, maxConnections: number): Promise<OpenedDatabase> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { migrate } = await import("drizzle-orm/postgres-js/migrator");
  const client = postgres(url, {
    max: maxConnections,
    onnotice: () => {},
    connection: { application_name: "islet" },
    // The driver's own backoff grows to 20 s between attempts after a run
    // of failed connections, so every request would keep waiting that long
    // after PostgreSQL is back. Retry within a second or two instead.
    backoff: reconnectDelaySeconds,
    connect_timeout: 10,
  });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new DatabaseError(`cannot connect to PostgreSQL (DATABASE_URL): ${(error as Error).message}`);
  }
  return {
    ...postgresJsDatabase(client, drizzle),
    async migrateFn() {
      // One connection holds an advisory lock so that processes starting
      // together apply each migration, and each data migration, once.
      const single = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await single`select pg_advisory_lock(7324451029)`;
        await migrate(drizzle(single), { migrationsFolder: migrationsFolder() });
        await runDataMigrations(drizzle(single, { schema }) as unknown as Db);
        await single`select pg_advisory_unlock(7324451029)`;
      } finally {
        await single.end({ timeout: 5 });
      }
    },
  };
}

/**
 * An archive of a freshly initialised and migrated PGlite data dir. Opening
 * from it (`pgliteTemplate`) skips initdb, which takes seconds and leaves the
 * process near 800 MiB RSS: tests start many databases this way.
 */
export async function migratedPgliteArchive(compression: "none" | "gzip" = "none"): Promise<Blob> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const pg = new PGlite();
  try {
    await migrate(drizzle(pg), { migrationsFolder: migrationsFolder() });
    await runDataMigrations(drizzle(pg, { schema }) as unknown as Db);
    return await pg.dumpDataDir(compression);
  } finally {
    await pg.close();
  }
}

type PostgresClient = import("postgres").Sql;
type PostgresDrizzle = typeof import("drizzle-orm/postgres-js").drizzle;

/** A Database over a postgres.js client, which it ends when closed. */
function postgresJsDatabase(client: PostgresClient, drizzle: PostgresDrizzle): Database {
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    kind: "postgres",
    db,
    async listen(channel, onNotify) {
      const { unlisten } = await client.listen(channel, onNotify);
      return async () => {
        await unlisten().catch(() => {});
      };
    },
    async notify(channel, payload = "") {
      await client.notify(channel, payload);
    },
    async query<T>(query: ReturnType<typeof sql>) {
      return await db.execute(query) as unknown as T[];
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * The embedded database of the running server (pid `holder`), through its
 * socket: one connection, spoken to as PostgreSQL. No migrations (the
 * server applied them) and no prepared statements left in its session.
 */
async function openThroughServer(path: string, holder: number): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const client = postgres({
    path,
    max: 1,
    prepare: false,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: "islet-admin" },
  });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new DatabaseError(`the embedded database is in use by the running server (pid ${holder}), and its socket ${path} did not answer: ${(error as Error).message}`);
  }
  return postgresJsDatabase(client, drizzle);
}

/** Seconds before the `attempt`th reconnection after failures: 0.1 s doubling, at most 2 s, with jitter. */
export function reconnectDelaySeconds(attempt: number): number {
  return Math.min(0.1 * 2 ** Math.max(0, attempt - 1), 2) * (0.5 + Math.random() / 2);
}

/** True when the database answers within `timeoutMs`; a health check must not hang with it. */
export async function ping(database: Database, timeoutMs = 3_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([database.query(sql`select 1`).then(() => true, () => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
