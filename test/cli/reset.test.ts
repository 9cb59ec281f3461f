/**
 * `islet reset`: refuses without confirmation or while a server holds the
 * data, and with --yes leaves an empty instance that starts.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { count } from "drizzle-orm";
import { createOwner, getOwner } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { tablesWithRows } from "../../src/cli/database-dump.ts";
import { accounts } from "../../src/db/schema.ts";
import { attachmentFolder, writeMediaFile } from "../../src/media/storage.ts";
import { runIslet, startServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { eventually, freePort } from "../helpers/instance.ts";
import { assertPlainFailure, envFor, runOnTerminal, terminalAvailable, withCore, type Env } from "./support.ts";

for (const kind of databaseKinds()) {
  describe(`islet reset (${kind})`, () => {
    let database: TestDatabase;
    let env: Env;

    before(async () => {
      database = await createTestDatabase(kind);
      env = envFor(database, { PORT: String(await freePort()) });
      await withCore(env, async (core) => {
        await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
        await writeMediaFile(core.config, `${attachmentFolder(newId())}/original.png`, new Uint8Array(10));
      });
    });
    after(async () => {
      await database?.drop();
    });

    test("without --yes and off a terminal it refuses and deletes nothing", async () => {
      assertPlainFailure(await runIslet(["reset"], { env }), /refusing to delete all data without confirmation: pass --yes/);
      await withCore(env, async (core) => assert.equal((await getOwner(core))?.account.username, "owner"));
      assert.ok(existsSync(join(database.dataDir, "secret_key_base")));
      assert.ok(existsSync(join(database.dataDir, "media")));
    });

    test("on a terminal it asks for the domain, and a wrong one deletes nothing", { skip: !terminalAvailable() && "needs util-linux script" }, async () => {
      const result = (await runOnTerminal(["reset"], env, /to confirm: /, "wrong.example"))!;
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /Type the domain, localhost:\d+, to confirm: /);
      assert.match(result.output, /islet: the domain typed does not match; nothing was deleted/);
      await withCore(env, async (core) => assert.equal((await getOwner(core))?.account.username, "owner"));
    });

    test("it refuses while a server holds the database", async () => {
      const server = await startServerProcess(env);
      try {
        const result = await runIslet(["reset", "--yes"], { env });
        assertPlainFailure(result, kind === "pglite"
          ? new RegExp(`in use by another islet process \\(pid ${server.child.pid}\\); stop the server first`)
          : /an Islet server is connected to this database \(\d+ connections\); stop it first/);
      } finally {
        await server.kill();
      }
      await withCore(env, async (core) => assert.equal((await getOwner(core))?.account.username, "owner"));
    });

    test("--yes deletes everything and leaves an empty instance that starts", async () => {
      const result = await runIslet(["reset", "--yes"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Deleted .*Islet starts from scratch/);
      assert.deepEqual(readdirSync(database.dataDir), [], "DATA_DIR still holds files");
      if (kind === "postgres") {
        await withCore(env, async (core) => {
          assert.deepEqual(await tablesWithRows(core.database), []);
          const [row] = await core.db.select({ n: count() }).from(accounts);
          assert.equal(row?.n, 0);
        });
      }
      const server = await startServerProcess(env);
      try {
        await eventually(async () => /No owner account yet/.test(server.output()), "the server to say there is no owner");
        const health = await fetch(`http://127.0.0.1:${env.PORT}/health`);
        assert.equal(health.status, 200);
      } finally {
        await server.kill();
      }
      assert.ok(existsSync(join(database.dataDir, "secret_key_base")), "a new secret is made at start");
    });

    test("--help explains it", async () => {
      const result = await runIslet(["reset", "--help"], { env });
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^Usage: islet reset \[--yes\]/);
    });
  });
}
