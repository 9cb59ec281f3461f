/**
 * The logical dump's loading side on its own: rows of an older schema load
 * into that schema and then migrate forward, as `islet restore` does with a
 * backup of an older Islet; rows a database cannot hold are refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { appliedMigrations, journal, loadTables, migrateUpTo, tablesInLoadOrder } from "../../src/cli/database-dump.ts";
import { openDatabase, type Database } from "../../src/db/connect.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";

test("tables come parents first", () => {
  const order = tablesInLoadOrder();
  const at = (name: string) => order.indexOf(name);
  assert.ok(at("accounts") < at("users"));
  assert.ok(at("statuses") < at("media_attachments"));
  assert.ok(at("oauth_tokens") < at("push_subscriptions"));
  assert.ok(at("polls") < at("poll_votes"));
  assert.equal(new Set(order).size, order.length);
});

for (const kind of databaseKinds()) {
  describe(`loading a dump of an older schema (${kind})`, () => {
    let testDatabase: TestDatabase | null = null;
    let database: Database;
    let dir: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "islet-dump-"));
      if (kind === "pglite") {
        database = await openDatabase({ databaseUrl: null, dataDir: dir, inMemory: true, migrate: false });
      } else {
        testDatabase = await createTestDatabase("postgres");
        database = await openDatabase({ databaseUrl: testDatabase.databaseUrl, dataDir: testDatabase.dataDir, migrate: false });
      }
    });
    after(async () => {
      await database?.close();
      await testDatabase?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("rows load at their migration, then the rest of the migrations apply", async () => {
      const entries = await journal();
      const older = entries.at(-2)!;
      await migrateUpTo(database, older.when);
      assert.equal((await appliedMigrations(database.db)).at(-1)?.createdAt, older.when);
      writeFileSync(join(dir, "accounts.jsonl"), `${JSON.stringify({ id: "117000000000000001", username: "old", domain: null, uri: "http://localhost:3000/users/old", fields: "[{\"name\": \"a\", \"value\": \"b\"}]", created_at: "2024-02-29 12:34:56.123456+00" })}\n`);
      writeFileSync(join(dir, "users.jsonl"), `${JSON.stringify({ id: "117000000000000002", account_id: "117000000000000001", email: "old@example.com", password_hash: "$argon2id$x" })}\n`);
      await loadTables(database, dir, ["accounts", "users"]);
      await migrateUpTo(database, null);
      assert.equal((await appliedMigrations(database.db)).at(-1)?.createdAt, entries.at(-1)!.when);
      const [account] = await database.query<{ id: string; fields: string; created: string }>(sql`
        SELECT id::text AS id, fields::text AS fields, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created FROM accounts`);
      assert.deepEqual(account, { id: "117000000000000001", fields: "[{\"name\": \"a\", \"value\": \"b\"}]", created: "2024-02-29 12:34:56.123456" });
      const [user] = await database.query<{ email: string; token: string | null }>(sql`SELECT email, reset_password_token_hash AS token FROM users`);
      assert.deepEqual(user, { email: "old@example.com", token: null });
    });

    test("a table or column this Islet does not know is refused, and nothing is loaded", async () => {
      await assert.rejects(loadTables(database, dir, ["accounts", "gadgets"]), /a table this version of Islet does not know: gadgets/);
      writeFileSync(join(dir, "tags.jsonl"), `${JSON.stringify({ id: "1", name: "x", display_name: "X" })}\n`);
      writeFileSync(join(dir, "lists.jsonl"), `${JSON.stringify({ id: "2", account_id: "117000000000000001", title: "t", colour: "red" })}\n`);
      await assert.rejects(loadTables(database, dir, ["tags", "lists"]), /the backup's lists has columns this database lacks \(colour\)/);
      const [tags] = await database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM tags`);
      assert.equal(Number(tags?.n), 0);
    });
  });
}
