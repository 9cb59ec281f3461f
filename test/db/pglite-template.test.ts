/**
 * The prepared embedded database the build ships (src/db/pglite-template.ts):
 * a new DATA_DIR starts from it instead of initdb, but only when it was made
 * from exactly the migrations this code applies; a stale or foreign one is
 * ignored. The build made by `npm install` (postinstall) carries one, which
 * the first start of a new DATA_DIR uses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { migrationsFolder, openDatabase } from "../../src/db/connect.ts";
import { migrationsKey, saveTemplate, shippedTemplate, TEMPLATE_FILE } from "../../src/db/pglite-template.ts";
import { createTestDatabase, scratchRoot, type TestDatabase } from "../helpers/database.ts";
import { fileURLToPath } from "node:url";
import { requiredUnderCi } from "../helpers/skip.ts";

/** PostgreSQL's system identifier, chosen by initdb: data dirs copied from one archive share it. */
async function systemIdentifier(dataDir: string): Promise<string> {
  const database = await openDatabase({ databaseUrl: null, dataDir, share: false, exclusive: true });
  try {
    const [row] = await database.query<{ id: string }>(sqlSystemIdentifier);
    return String(row!.id);
  } finally {
    await database.close();
  }
}
const sqlSystemIdentifier = sql`SELECT system_identifier::text AS id FROM pg_control_system()`;

describe("the prepared embedded database", () => {
  let scratch: string;
  let source: TestDatabase;
  let archive: Blob;

  before(async () => {
    scratch = mkdtempSync(join(scratchRoot(), "islet-template-test-"));
    // An archive of a migrated database with one row to recognise it by.
    source = await createTestDatabase("pglite");
    const pg = new PGlite({ dataDir: join(source.dataDir, "db") });
    await pg.query("INSERT INTO kv_entries (key, value) VALUES (ARRAY['template-test'], '\"marked\"'::jsonb)");
    archive = await pg.dumpDataDir("gzip");
    await pg.close();
  });
  after(async () => {
    await source.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("an archive saved with the key of these migrations is found, and a new data dir starts from it", async () => {
    const folder = join(scratch, "matching");
    await saveTemplate(folder, archive, migrationsFolder());
    const found = shippedTemplate(migrationsFolder(), [join(scratch, "absent"), folder]);
    assert.ok(found, "the matching archive is found");
    const dataDir = join(scratch, "started");
    const database = await openDatabase({ databaseUrl: null, dataDir, pgliteTemplate: found, exclusive: true });
    try {
      const rows = await database.query<{ value: unknown }>(sql`SELECT value FROM kv_entries WHERE key = ARRAY['template-test']`);
      assert.deepEqual(rows.map((row) => row.value), ["marked"]);
      // Migrated: the owner's tables are there and empty.
      const [accounts] = await database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM accounts`);
      assert.equal(accounts!.n, 0);
    } finally {
      await database.close();
    }
  });

  test("an archive of other migrations, or without its key, is ignored", async () => {
    const changed = join(scratch, "changed-migrations");
    cpSync(migrationsFolder(), changed, { recursive: true });
    const sqlFile = readdirSync(changed).find((name) => name.endsWith(".sql"))!;
    writeFileSync(join(changed, sqlFile), "-- another schema\n", { flag: "a" });
    assert.notEqual(migrationsKey(changed), migrationsKey(migrationsFolder()));

    const folder = join(scratch, "other");
    await saveTemplate(folder, archive, changed);
    assert.equal(shippedTemplate(migrationsFolder(), [folder]), null, "made from other migrations");
    assert.ok(shippedTemplate(changed, [folder]), "while it is found for the migrations it was made from");

    const keyless = join(scratch, "keyless");
    mkdirSync(keyless);
    cpSync(join(folder, TEMPLATE_FILE), join(keyless, TEMPLATE_FILE));
    assert.equal(shippedTemplate(migrationsFolder(), [keyless]), null, "no key");
  });

  test("the build's archive matches these migrations, and new data dirs start from it", async (t) => {
    const dist = fileURLToPath(new URL("../../dist", import.meta.url));
    if (!existsSync(join(dist, TEMPLATE_FILE)) || shippedTemplate(migrationsFolder(), [dist]) == null) {
      t.skip(requiredUnderCi(`no prepared embedded database of these migrations in ${dist} (npm install or npm run build makes it)`));
      return;
    }
    // Two first starts from one archive share initdb's system identifier;
    // two initdb runs would not.
    const first = await systemIdentifier(join(scratch, "first-start-a"));
    const second = await systemIdentifier(join(scratch, "first-start-b"));
    assert.equal(first, second);
  });
});
