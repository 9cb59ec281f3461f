/**
 * The embedded database served on DATA_DIR/db.sock to admin commands
 * while the server has it open: PostgreSQL clients work through it, a
 * client's transaction and the server's statements never mix, a client
 * that goes away or goes quiet gives the database back (its transaction
 * rolled back), and the socket is private and cleaned up.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { shareEmbeddedDatabase, type SharedDatabase } from "../../src/db/embedded-socket.ts";

describe("the embedded database shared on a socket", () => {
  let dir: string;
  let pg: PGlite;
  let shared: SharedDatabase;
  const client = (options: postgres.Options<{}> = {}) => postgres({ path: shared.path, max: 1, prepare: false, onnotice: () => {}, connect_timeout: 5, ...options });
  const count = async () => (await pg.query<{ n: number }>("select count(*)::int as n from t")).rows[0]!.n;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "islet-socket-"));
    pg = new PGlite();
    await pg.exec("create table t (n int)");
    // A socket file left by a process that died is replaced.
    writeFileSync(join(dir, "db.sock"), "stale");
    shared = await shareEmbeddedDatabase(pg, join(dir, "db.sock"), { idleHoldMs: 500 });
  });
  after(async () => {
    await shared?.close();
    await pg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the socket is reachable by its owner only", () => {
    const stat = statSync(shared.path);
    assert.ok(stat.isSocket());
    assert.equal(stat.mode & 0o077, 0, (stat.mode & 0o777).toString(8));
  });

  test("a PostgreSQL client reads and writes what the server sees", async () => {
    const sql = client();
    try {
      await sql`insert into t values (1), (2)`;
      assert.deepEqual([...await sql`select sum(n)::int as total from t`], [{ total: 3 }]);
      assert.equal(await count(), 2);
      await pg.exec("insert into t values (3)");
      assert.deepEqual([...await sql`select count(*)::int as n from t`], [{ n: 3 }]);
    } finally {
      await sql.end();
    }
  });

  test("the server's statements wait for a client's transaction and never run inside it", async () => {
    const sql = client();
    try {
      const before = await count();
      let serverWrote = false;
      let serverWrite: Promise<unknown> | undefined;
      await sql.begin(async (tx) => {
        await tx`insert into t values (10)`;
        serverWrite = pg.exec("insert into t values (20)").then(() => { serverWrote = true; });
        await sleep(200);
        assert.equal(serverWrote, false, "the server waited for the transaction");
        assert.deepEqual([...await tx`select count(*)::int as n from t where n = 20`], [{ n: 0 }]);
        // Rolled back below: had the server's insert run in it, it would be lost too.
        throw new Error("roll back");
      }).catch((error: Error) => assert.equal(error.message, "roll back"));
      await serverWrite;
      assert.equal(await count(), before + 1);
      assert.equal((await pg.query<{ n: number }>("select count(*)::int as n from t where n = 10")).rows[0]!.n, 0);
    } finally {
      await sql.end();
    }
  });

  test("a client that disconnects inside a transaction is rolled back and the server goes on", async () => {
    const sql = client();
    const before = await count();
    const dying = sql.begin(async (tx) => {
      await tx`insert into t values (30)`;
      await sleep(10_000);
    }).catch(() => {});
    await sleep(100);
    const serverWrite = pg.exec("insert into t values (40)");
    await sql.end({ timeout: 0 });
    await serverWrite;
    await dying;
    assert.equal(await count(), before + 1);
    assert.equal((await pg.query<{ n: number }>("select count(*)::int as n from t where n = 30")).rows[0]!.n, 0);
    assert.equal(pg.isInTransaction(), false);
  });

  test("a client that holds the database and says nothing is disconnected", async () => {
    const sql = client();
    const before = await count();
    const quiet = sql.begin(async (tx) => {
      await tx`insert into t values (50)`;
      await sleep(5_000);
      await tx`select 1`;
    }).then(() => "committed", (error: Error) => error);
    await sleep(100);
    await pg.exec("insert into t values (60)");
    const outcome = await quiet;
    assert.ok(outcome instanceof Error && /CONNECTION_CLOSED/.test(outcome.message), String(outcome));
    assert.equal(await count(), before + 1);
    await sql.end({ timeout: 0 });
  });

  test("garbage on the socket closes that connection only", async () => {
    const socket = connect(shared.path);
    await new Promise((resolve) => socket.once("connect", resolve));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.write(Buffer.from([0, 0, 0, 8, 1, 2, 3, 4]));
    await closed;
    const sql = client();
    try {
      assert.deepEqual([...await sql`select 1 as one`], [{ one: 1 }]);
    } finally {
      await sql.end();
    }
  });

  test("closing removes the socket file", async () => {
    const path = shared.path;
    await shared.close();
    assert.equal(existsSync(path), false);
    shared = await shareEmbeddedDatabase(pg, path);
    assert.ok(existsSync(path));
  });
});
