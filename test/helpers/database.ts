/**
 * Throwaway databases for tests: PGlite always, and PostgreSQL too when
 * TEST_DATABASE_URL names a server (each call creates a fresh database there
 * and drops it afterwards).
 *
 * Both can start from a migrated template made once per version of the
 * schema (its key hashes the migrations and the code that applies them) and
 * shared by every test process of a run, and of later runs:
 * - PGlite: always; a migrated data dir, copied into each new DATA_DIR (a
 *   file copy instead of initdb and the migrations);
 * - PostgreSQL: with `{ migrated: true }` (as startInstance, prepareInstance
 *   and withOpenDatabase ask), a database `islet_template_<key>` on the
 *   server, which the new database is created from (`CREATE DATABASE …
 *   TEMPLATE …`); without it, an empty database, migrated by open().
 * Whoever makes a template first makes it under a lock (a rename for the
 * data dir, an advisory lock on PostgreSQL); the others wait and use it.
 *
 * DATA_DIRs are made under {@link scratchRoot}: /dev/shm where there is
 * one, since copying a data dir onto a disk that other work keeps busy
 * takes several times longer than into memory.
 */
import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import postgres from "postgres";
import { migratedPgliteArchive, migrationsFolder, openDatabase, type Database } from "../../src/db/connect.ts";

export type DatabaseKind = "pglite" | "postgres";

/** The kinds of database this test run covers. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/**
 * Where test DATA_DIRs (and the PGlite template) are made: ISLET_TEST_TMPDIR
 * when set, else /dev/shm when it is a writable folder, else the system's
 * temporary folder.
 */
export function scratchRoot(): string {
  const chosen = process.env.ISLET_TEST_TMPDIR;
  if (chosen) return chosen;
  try {
    accessSync("/dev/shm", constants.W_OK);
    if (statSync("/dev/shm").isDirectory()) return "/dev/shm";
  } catch {
    // None: the system's temporary folder.
  }
  return tmpdir();
}

const SRC_DB = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "db");

let key: string | undefined;

/** Names this schema: the migrations, the code that runs them, and PGlite's version. */
function templateKey(): string {
  if (key != null) return key;
  const hash = createHash("sha256");
  // Names relative to src/db, so that every clone of the same schema shares it.
  const add = (path: string) => hash.update(relative(SRC_DB, path)).update(readFileSync(path));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else add(path);
    }
  };
  walk(migrationsFolder());
  add(join(SRC_DB, "data-migrations.ts"));
  add(join(SRC_DB, "connect.ts"));
  hash.update(JSON.parse(readFileSync(join(SRC_DB, "..", "..", "node_modules", "@electric-sql", "pglite", "package.json"), "utf8")).version as string);
  key = hash.digest("hex").slice(0, 16);
  return key;
}

let pgliteTemplateDir: Promise<string> | undefined;

/** Templates of other schemas untouched for a day: another branch's, or an older version's. */
function removeStaleTemplates(keep: string): void {
  const root = dirname(keep);
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (!name.startsWith("islet-test-template-") || path === keep) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > 24 * 60 * 60 * 1000) rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone already.
    }
  }
}

/**
 * A migrated PGlite data dir (the `db` folder of a DATA_DIR), made once per
 * schema: the first process to need it builds it in a folder of its own and
 * renames that into place; a process that loses the race uses the winner's.
 */
function pgliteTemplate(): Promise<string> {
  pgliteTemplateDir ??= (async () => {
    const final = join(scratchRoot(), `islet-test-template-${templateKey()}`);
    const ready = join(final, "db", "PG_VERSION");
    if (existsSync(ready)) return join(final, "db");
    removeStaleTemplates(final);
    const building = mkdtempSync(`${final}.building-`);
    try {
      const archive = await migratedPgliteArchive();
      await (await openDatabase({ databaseUrl: null, dataDir: building, pgliteTemplate: archive, migrate: false })).close();
      try {
        renameSync(building, final);
      } catch (error) {
        // Another process put its template there first.
        if (!existsSync(ready)) throw error;
      }
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
    return join(final, "db");
  })();
  return pgliteTemplateDir;
}

let postgresTemplateName: Promise<string> | undefined;

/** Runs `use` with a connection to the admin database. */
async function onAdmin<T>(adminUrl: string, use: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    return await use(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/**
 * A migrated database on the PostgreSQL server at `adminUrl`, marked as a
 * template once complete. Made under an advisory lock, so that processes
 * starting together make it once; one left half-made (not marked) is made
 * again.
 */
function postgresTemplate(adminUrl: string): Promise<string> {
  postgresTemplateName ??= (async () => {
    const name = `islet_template_${templateKey()}`;
    await onAdmin(adminUrl, async (admin) => {
      const complete = async () => (await admin`select 1 from pg_database where datname = ${name} and datistemplate`).length > 0;
      if (await complete()) return;
      await admin`select pg_advisory_lock(7324451030)`;
      try {
        if (await complete()) return;
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.unsafe(`CREATE DATABASE ${name}`);
        const url = new URL(adminUrl);
        url.pathname = `/${name}`;
        const dataDir = mkdtempSync(join(tmpdir(), "islet-test-"));
        try {
          await (await openDatabase({ databaseUrl: url.toString(), dataDir })).close();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
        await admin.unsafe(`ALTER DATABASE ${name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
      } finally {
        await admin`select pg_advisory_unlock(7324451030)`;
      }
    });
    return name;
  })();
  return postgresTemplateName;
}

export interface TestDatabase {
  /** DATABASE_URL for this database, or null for PGlite. */
  databaseUrl: string | null;
  /** A DATA_DIR made for this database, removed by drop(). */
  dataDir: string;
  /** Opens (and migrates) a connection; close it before drop(). */
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export interface CreateOptions {
  /**
   * Created already migrated, on PostgreSQL too (PGlite's always is).
   * Without it a PostgreSQL database starts with no tables, as a new one
   * given to Islet does.
   */
  migrated?: boolean;
}

/** Creates a throwaway database of the given kind, with no rows. */
export async function createTestDatabase(kind: DatabaseKind, options: CreateOptions = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(scratchRoot(), "islet-test-"));
  if (kind === "pglite") {
    // The migrated data dir goes on disk now, so that child processes
    // started on this DATA_DIR skip initdb too.
    cpSync(await pgliteTemplate(), join(dataDir, "db"), { recursive: true });
    return {
      databaseUrl: null,
      dataDir,
      open: () => openDatabase({ databaseUrl: null, dataDir }),
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const template = options.migrated ? await postgresTemplate(adminUrl) : null;
  const name = `islet_test_${randomBytes(6).toString("hex")}`;
  await onAdmin(adminUrl, (admin) => admin.unsafe(template == null ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    databaseUrl,
    dataDir,
    open: () => openDatabase({ databaseUrl, dataDir }),
    async drop() {
      await onAdmin(adminUrl, (admin) => admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * For the enclosing suite: makes and opens a throwaway database before its
 * tests, hands it to `ready`, and closes and drops it after them.
 */
export function withOpenDatabase(kind: DatabaseKind, ready: (database: Database, testDatabase: TestDatabase) => void): void {
  let testDatabase: TestDatabase | undefined;
  let database: Database | undefined;
  before(async () => {
    testDatabase = await createTestDatabase(kind, { migrated: true });
    database = await testDatabase.open();
    ready(database, testDatabase);
  });
  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });
}
