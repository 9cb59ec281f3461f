/**
 * How the PostgreSQL connection behaves when the database goes away: the
 * health ping gives up instead of hanging, and after a long run of failed
 * connections the pool reconnects within seconds of the database coming
 * back (the driver's default backoff grows to 20 s between attempts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { openDatabase, ping, reconnectDelaySeconds, type Database } from "../../src/db/connect.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { settled } from "../helpers/settle.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

test("the delay between reconnection attempts starts small and never passes 2 s", () => {
  for (let attempt = 1; attempt <= 60; attempt++) {
    const delay = reconnectDelaySeconds(attempt);
    assert.ok(delay > 0 && delay <= 2, `attempt ${attempt}: ${delay} s`);
  }
  assert.ok(reconnectDelaySeconds(1) <= 0.1);
});

describe("PostgreSQL through a proxy that fails", { skip: !databaseKinds().includes("postgres") && "needs TEST_DATABASE_URL" }, () => {
  let testDatabase: TestDatabase;
  let proxy: TcpProxy;
  let database: Database;

  before(async () => {
    testDatabase = await createTestDatabase("postgres");
    const direct = new URL(testDatabase.databaseUrl!);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(direct);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    database = await openDatabase({ databaseUrl: viaProxy.toString(), dataDir: testDatabase.dataDir, maxConnections: 2 });
  });
  after(async () => {
    await proxy?.restore();
    await database?.close().catch(() => {});
    await proxy?.close();
    await testDatabase?.drop();
  });

  test("the health ping answers false when the database stops answering, and true once it answers again", async () => {
    assert.equal(await ping(database), true);
    proxy.stall();
    assert.equal(await settled(ping(database, 300), 10_000), false);
    await proxy.restore();
    assert.equal(await settled(ping(database), 10_000), true);
  });

  test("after many failed connections the pool is back within seconds of the database", async () => {
    await proxy.cut();
    let failures = 0;
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      // Each failed query is a failed connection attempt; the driver's own
      // backoff would be past 20 s after a dozen of them.
      const outcome = await settled(database.query(sql`select 1`).then(() => "answered", () => "failed"), 5_000);
      if (outcome === "failed") failures++;
    }
    assert.ok(failures >= 5, `${failures} failed queries while cut`);
    await proxy.restore();
    const answer = await settled(database.query<{ one: number }>(sql`select 1 as one`), 8_000);
    assert.deepEqual(Array.isArray(answer) ? [...answer] : answer, [{ one: 1 }]);
  });
});
