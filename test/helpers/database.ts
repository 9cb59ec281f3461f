/**
 * Throwaway databases for tests: PGlite always, and PostgreSQL too when
 * TEST_DATABASE_URL names a server (each call creates a fresh database there
 * and drops it afterwards).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import postgres from "postgres";
import { migratedPgliteArchive, openDatabase, type Database } from "../../src/db/connect.ts";

export type DatabaseKind = "pglite" | "postgres";

/** The kinds of database this test run covers. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

let template: Promise<Blob> | undefined;

/** A migrated PGlite data dir archive, made once per test process. */
function pgliteTemplate(): Promise<Blob> {
  template ??= migratedPgliteArchive();
  return template;
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

/** Creates an empty throwaway database of the given kind. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), "islet-test-"));
  if (kind === "pglite") {
    // Lay the migrated data dir on disk now, so that child processes
    // started on this DATA_DIR skip initdb too.
    const blob = await pgliteTemplate();
    await (await openDatabase({ databaseUrl: null, dataDir, pgliteTemplate: blob })).close();
    return {
      databaseUrl: null,
      dataDir,
      open: () => openDatabase({ databaseUrl: null, dataDir, pgliteTemplate: blob }),
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `islet_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    databaseUrl,
    dataDir,
    open: () => openDatabase({ databaseUrl, dataDir }),
    async drop() {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
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
    testDatabase = await createTestDatabase(kind);
    database = await testDatabase.open();
    ready(database, testDatabase);
  });
  after(async () => {
    await database?.close();
    await testDatabase?.drop();
  });
}
