/**
 * `islet import …` and `islet export …` as an admin runs them: the real
 * commands against throwaway databases, with accounts found through
 * WebFinger on a stand-in server.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { createOwner } from "../../src/core/accounts.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { accounts, follows, statuses } from "../../src/db/schema.ts";
import { runIslet } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer } from "../helpers/federation.ts";
import { assertPlainFailure, envFor, withCore, type Env } from "./support.ts";

for (const kind of databaseKinds()) {
  describe(`islet import and export (${kind})`, () => {
    let database: TestDatabase;
    let other: TestDatabase;
    let env: Env;
    let otherEnv: Env;
    let remote: DocumentServer;
    let work: string;
    let host: string;

    before(async () => {
      [database, other, remote] = await Promise.all([createTestDatabase(kind), createTestDatabase(kind), startDocumentServer()]);
      await remote.addActor("alice");
      host = new URL(remote.origin).host;
      work = await mkdtemp(join(tmpdir(), "islet-import-cli-"));
      env = envFor(database, { ALLOW_PRIVATE_ADDRESS: "true" });
      otherEnv = envFor(other, { ALLOW_PRIVATE_ADDRESS: "true" });
      await withCore(env, async (core) => {
        const owner = await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
        await createStatus(core, owner.account, { text: "written before the move", spoilerText: "moving" });
      });
      await withCore(otherEnv, async (core) => {
        await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
      });
    });
    after(async () => {
      await Promise.all([database?.drop(), other?.drop(), remote?.close()]);
      if (work != null) await rm(work, { recursive: true, force: true });
    });

    test("import following: rows worked, a report of those that failed", async () => {
      const file = join(work, "following_accounts.csv");
      await writeFile(file, `Account address,Show boosts,Notify on new posts,Languages\nalice@${host},false,true,\nnobody@${host},true,false,\n`);
      const result = await runIslet(["import", "following", file], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^line 3: nobody@${host.replace(/\./g, "\\.")}: no account found`, "m"));
      assert.match(result.stderr, /1 imported, 1 failed, 0 skipped/);
      await withCore(env, async (core) => {
        const rows = await core.db.select({ uri: accounts.uri, showReblogs: follows.showReblogs }).from(follows).innerJoin(accounts, eq(accounts.id, follows.targetAccountId));
        assert.deepEqual(rows, [{ uri: `${remote.origin}/users/alice`, showReblogs: false }]);
      });
    });

    test("export csv writes Mastodon's six files", async () => {
      const dir = join(work, "csv");
      const result = await runIslet(["export", "csv", dir], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(join(dir, "following_accounts.csv"), "utf8"), `Account address,Show boosts,Notify on new posts,Languages\nalice@${host},false,true,\n`);
      for (const name of ["blocked_accounts.csv", "muted_accounts.csv", "blocked_domains.csv", "bookmarks.csv", "lists.csv"]) {
        assert.equal(typeof (await readFile(join(dir, name), "utf8")), "string", name);
      }
    });

    test("export archive, then import archive into another instance", async () => {
      const file = join(work, "archive.tar.gz");
      const exported = await runIslet(["export", "archive", file], { env });
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stderr, /1 posts, 0 boosts/);
      const imported = await runIslet(["import", "archive", file], { env: otherEnv });
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /^1 posts, 0 boosts, 0 media files, 0 favourites and 0 bookmarks imported, profile updated; 0 were there already, 0 skipped\.$/m);
      await withCore(otherEnv, async (core) => {
        const rows = await core.db.select({ spoilerText: statuses.spoilerText, content: statuses.content }).from(statuses);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.spoilerText, "moving");
        assert.match(rows[0]!.content, /written before the move/);
      });
    });

    test("bad input fails with one plain line", async () => {
      assertPlainFailure(await runIslet(["import", "blocks", join(work, "missing.csv")], { env }), /cannot read .*missing\.csv/);
      const lists = join(work, "lists-as-blocks.csv");
      await writeFile(lists, "List name,Account address\nFriends,alice@a.example\n");
      assertPlainFailure(await runIslet(["import", "blocks", lists], { env }), /not that of a blocking export/);
      assertPlainFailure(await runIslet(["import", "archive", join(work, "archive.zip")], { env }), /does not exist/);
      await writeFile(join(work, "archive.zip"), "PK");
      assertPlainFailure(await runIslet(["import", "archive", join(work, "archive.zip")], { env }), /could not be read as a zip archive/);
      assertPlainFailure(await runIslet(["import", "following"], { env }), /one FILE/);
      assertPlainFailure(await runIslet(["export", "csv"], { env }), /one DIR/);
    });
  });
}
