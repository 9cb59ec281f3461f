/**
 * The one-time cleanup of remote HTML stored before every remote text went
 * through the sanitiser: rows written as older versions wrote them are
 * clean after it runs (in batches), local rows are left alone, it runs once
 * per database and resumes when interrupted, and on PostgreSQL it runs
 * inside the migration lock, so processes starting together run it once.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import postgres from "postgres";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../../src/db/connect.ts";
import { runDataMigration, runDataMigrations, SANITIZE_REMOTE_HTML } from "../../src/db/data-migrations.ts";
import { accounts, statusEdits, statuses, type ProfileField } from "../../src/db/schema.ts";
import { newId } from "../../src/core/ids.ts";
import { databaseKinds, withOpenDatabase, type TestDatabase } from "../helpers/database.ts";
import { eventually } from "../helpers/instance.ts";
import { assertHarmlessKept, assertNoActiveContent, HARMLESS, HOSTILE, VECTORS } from "../helpers/xss.ts";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

for (const kind of databaseKinds()) {
  describe(`cleaning remote HTML stored by older versions (${kind})`, () => {
    let database: Database;
    let testDatabase: TestDatabase;
    withOpenDatabase(kind, (opened, made) => {
      database = opened;
      testDatabase = made;
    });

    const marker = sql`ARRAY['islet', 'data-migration', ${SANITIZE_REMOTE_HTML.name}]::text[]`;

    /** The record of the cleanup, as if this database predated it. */
    async function forgetItRan(): Promise<void> {
      await database.query(sql`DELETE FROM kv_entries WHERE key = ${marker}`);
    }

    /** A remote account as older versions stored it: bio and fields verbatim, field names escaped. */
    async function oldRemoteAccount(username: string, fields: ProfileField[] = VECTORS.map((vector, i) => ({ name: escapeHtml(`<b>field ${i}</b>`), value: vector.html }))) {
      const id = newId();
      await database.db.insert(accounts).values({
        id,
        username,
        domain: "hostile.example",
        uri: `https://hostile.example/users/${username}`,
        url: "javascript:alert(1)",
        displayName: `<script>${username}</script>`,
        note: `${HARMLESS}${HOSTILE}`,
        fields: [...fields, { name: "harmless", value: HARMLESS, verifiedAt: "2026-12-01T00:00:00.000Z" }],
      });
      return id;
    }

    async function account(id: bigint) {
      return (await database.db.select().from(accounts).where(eq(accounts.id, id)))[0]!;
    }

    test("a fresh database gets no record, so it stays empty for `islet restore`", async () => {
      assert.equal((await database.query(sql`SELECT value FROM kv_entries`)).length, 0);
      await runDataMigrations(database.db);
      assert.equal((await database.query(sql`SELECT value FROM kv_entries`)).length, 0);
    });

    test("old rows are clean after it runs, in batches; local rows are left alone; it runs once", async () => {
      await forgetItRan();
      const remoteIds: bigint[] = [];
      for (let i = 0; i < 5; i++) remoteIds.push(await oldRemoteAccount(`mallory${i}`));
      // The owner's own profile is Islet's HTML, not a remote server's.
      const localId = newId();
      const localNote = `<p onclick="kept">a local note, not for the cleanup to judge</p>`;
      await database.db.insert(accounts).values({ id: localId, username: "owner", domain: null, uri: "https://islet.example/users/owner", note: localNote });
      const statusIds: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        const id = newId();
        statusIds.push(id);
        await database.db.insert(statuses).values({ id, accountId: remoteIds[i]!, uri: `https://hostile.example/notes/${i}`, url: "data:text/html,x", content: `${HARMLESS}${HOSTILE}` });
      }
      const localStatus = newId();
      await database.db.insert(statuses).values({ id: localStatus, accountId: localId, uri: "https://islet.example/statuses/1", content: localNote });
      for (const version of [0, 1]) {
        await database.db.insert(statusEdits).values({ id: newId(), statusId: statusIds[0]!, accountId: remoteIds[0]!, content: `${HARMLESS}${HOSTILE}<p>v${version}</p>` });
      }

      const result = await runDataMigration(database.db, SANITIZE_REMOTE_HTML, 2);
      assert.deepEqual(result?.changed, { accounts: 5, statuses: 3, status_edits: 2 });

      for (const id of remoteIds) {
        const row = await account(id);
        assertNoActiveContent({ note: row.note, fields: row.fields.map((field) => field.value), url: row.url }, `account ${row.username}`);
        assertHarmlessKept(row.note, "the bio");
        assertHarmlessKept(row.fields.at(-1)!.value, "the harmless field");
        assert.equal(row.fields.at(-1)!.verifiedAt, "2026-12-01T00:00:00.000Z", "a field keeps its verification");
        assert.equal(row.fields[0]!.name, "<b>field 0</b>", "field names become the plain text they were");
        assert.equal(row.url, null, "a javascript: profile URL goes");
        assert.equal(row.displayName, `<script>${row.username}</script>`, "display names are plain text, left as they are");
      }
      const remoteStatuses = await database.db.select().from(statuses).where(eq(statuses.accountId, remoteIds[0]!));
      assertNoActiveContent(remoteStatuses.map((row) => ({ content: row.content, url: row.url })), "remote statuses");
      assertHarmlessKept(remoteStatuses[0]!.content, "a remote status");
      const edits = await database.db.select().from(statusEdits).where(eq(statusEdits.statusId, statusIds[0]!));
      assert.equal(edits.length, 2);
      assertNoActiveContent(edits.map((row) => row.content), "the edit history");
      assert.equal((await account(localId)).note, localNote);
      assert.equal((await database.db.select().from(statuses).where(eq(statuses.id, localStatus)))[0]!.content, localNote);

      // Once done, it does not run again: a row stored raw now stays as it is.
      const later = await oldRemoteAccount("later");
      assert.deepEqual((await runDataMigrations(database.db)).filter((ran) => ran.name === SANITIZE_REMOTE_HTML.name), []);
      assert.equal((await account(later)).note, `${HARMLESS}${HOSTILE}`);
    });

    test("an interrupted run resumes after the last batch it committed", async () => {
      await forgetItRan();
      await database.db.delete(accounts).where(sql`${accounts.domain} IS NOT NULL`);
      // Older versions escaped a field name "&lt;" typed as such into "&amp;lt;":
      // a second pass over the same row would turn it into "<".
      const first = await oldRemoteAccount("first", [{ name: "&amp;lt;", value: "<p>one</p>" }]);
      const second = await oldRemoteAccount("second", [{ name: "&amp;lt;", value: "<p>two</p>" }]);
      // The first batch committed, then the process stopped.
      await database.query(sql`
        INSERT INTO kv_entries (key, value) VALUES (${marker}, ${JSON.stringify({ done: false, after: { accounts: first.toString() }, changed: { accounts: 1 } })}::jsonb)`);
      await database.db.update(accounts).set({ fields: [{ name: "&lt;", value: "<p>one</p>" }], note: "<p>done</p>" }).where(eq(accounts.id, first));
      const result = await runDataMigration(database.db, SANITIZE_REMOTE_HTML);
      assert.equal(result?.changed.accounts, 2);
      assert.equal((await account(first)).fields[0]!.name, "&lt;", "the row done before is not done twice");
      assert.equal((await account(second)).fields[0]!.name, "&lt;");
    });

    test("on PostgreSQL it runs inside the migration lock, so processes starting together run it once", { skip: kind !== "postgres" }, async () => {
      await forgetItRan();
      await database.db.delete(accounts).where(sql`${accounts.domain} IS NOT NULL`);
      const id = await oldRemoteAccount("racer", [{ name: "&amp;lt;b&amp;gt;", value: "<script>x</script><p>field</p>" }]);
      // Another process is migrating: it holds the lock.
      const other = postgres(testDatabase.databaseUrl!, { max: 1, onnotice: () => {} });
      try {
        await other`select pg_advisory_lock(7324451029)`;
        const starting = testDatabase.open();
        await eventually(async () => (await other`
          SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ${7324451029 % 2 ** 32}`).length > 0,
        "the second process to wait for the lock");
        // The other process finishes the cleanup (the record says so) and lets go.
        await database.query(sql`
          INSERT INTO kv_entries (key, value) VALUES (${marker}, ${JSON.stringify({ done: true, after: {}, changed: {} })}::jsonb)`);
        await other`select pg_advisory_unlock(7324451029)`;
        await (await starting).close();
      } finally {
        await other.end();
      }
      // The waiting process found the cleanup done and did not run it again.
      assert.equal((await account(id)).fields[0]!.name, "&amp;lt;b&amp;gt;");
    });
  });
}
