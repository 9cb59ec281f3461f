/**
 * The fixes scripts/patch-dependencies.js applies to the PostgreSQL driver:
 * present in the installed copy, applied once however often the script
 * runs, skipped (the file left alone) when the dependency has changed, and,
 * against a real PostgreSQL, doing what they are for: a connection that
 * lost its socket with a write pending comes back, and a server that hangs
 * up during startup fails the query instead of leaving it waiting.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import postgres from "postgres";
import { FIXES, patchDependencies } from "../../scripts/patch-dependencies.js";
import { ROOT } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { settled } from "../helpers/settle.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

const DRIVER_FILES = ["node_modules/postgres/src/connection.js", "node_modules/postgres/cjs/src/connection.js"];
const MARK = "patched by Islet";

test("the installed postgres driver has every fix", () => {
  for (const file of DRIVER_FILES) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const fix of FIXES) {
      assert.ok(text.includes(fix.to), `${file} lacks "${fix.name}": run npm install (its postinstall applies it)`);
    }
  }
});

test("the fixes are applied once, and not at all to a driver that changed", () => {
  const root = mkdtempSync(join(tmpdir(), "islet-patch-"));
  try {
    const [fresh, changed] = DRIVER_FILES;
    for (const file of DRIVER_FILES) mkdirSync(dirname(join(root, file)), { recursive: true });
    // An unpatched copy: the installed file with every fix taken out again.
    const installed = readFileSync(join(ROOT, fresh), "utf8");
    const original = FIXES.reduce((text, fix) => text.replace(fix.to, fix.from), installed);
    assert.ok(!original.includes(MARK));
    writeFileSync(join(root, fresh), original);
    writeFileSync(join(root, changed), "function nextWrite(fn) { return other(fn) }\n");
    patchDependencies(root);
    patchDependencies(root);
    assert.equal(readFileSync(join(root, fresh), "utf8"), installed);
    assert.equal(readFileSync(join(root, changed), "utf8"), "function nextWrite(fn) { return other(fn) }\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe("the driver against PostgreSQL", { skip: !databaseKinds().includes("postgres") && "needs TEST_DATABASE_URL" }, () => {
  let testDatabase: TestDatabase;
  let direct: URL;

  before(async () => {
    testDatabase = await createTestDatabase("postgres");
    direct = new URL(testDatabase.databaseUrl!);
  });
  after(async () => {
    await testDatabase?.drop();
  });

  test("a connection whose socket closed while a write was pending connects again and answers", async () => {
    const sockets: Socket[] = [];
    // `socket` (a function making the connection's socket) is a documented
    // option that the driver's type declarations leave out.
    const options = {
      max: 1,
      connect_timeout: 3,
      onnotice: () => {},
      socket: () => {
        const socket = connect(Number(direct.port || 5432), direct.hostname);
        sockets.push(socket);
        return socket;
      },
    };
    const sql = postgres(direct.toString(), options as postgres.Options<{}>);
    try {
      assert.deepEqual([...await sql`select 1 as one`], [{ one: 1 }]);
      const pending = sql`select 2 as two`.execute();
      // Let the driver take the query and buffer its bytes behind a
      // setImmediate, then deliver the peer's close before that runs.
      for (let i = 0; i < 20; i++) await null;
      const first = sockets[0]!;
      first.emit("close", false);
      first.destroy();
      const lost = await settled(pending, 5_000);
      assert.ok(lost instanceof Error && (lost as Error & { code?: string }).code === "CONNECTION_CLOSED", `the query on the closed connection: ${String(lost)}`);
      const again = await settled(sql`select 3 as three`, 10_000);
      assert.deepEqual(Array.isArray(again) ? [...again] : again, [{ three: 3 }]);
      assert.equal(sockets.length, 2, "one new connection");
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  describe("through a proxy that hangs up during startup", () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    });
    after(async () => {
      await proxy?.close();
    });

    test("the query fails with CONNECTION_CLOSED instead of waiting forever, and the next one works once the server is back", async () => {
      const viaProxy = new URL(direct);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      const sql = postgres(viaProxy.toString(), { max: 1, connect_timeout: 3, onnotice: () => {} });
      try {
        proxy.hangUp();
        const refused = await settled(sql`select 1 as one`, 10_000);
        assert.ok(refused instanceof Error && (refused as Error & { code?: string }).code === "CONNECTION_CLOSED", `while hung up: ${String(refused)}`);
        await proxy.restore();
        const answer = await settled(sql`select 1 as one`, 10_000);
        assert.deepEqual(Array.isArray(answer) ? [...answer] : answer, [{ one: 1 }]);
      } finally {
        await sql.end({ timeout: 1 });
      }
    });
  });
});
