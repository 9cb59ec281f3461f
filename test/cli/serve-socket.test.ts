/**
 * `islet serve` on a Unix socket (SOCKET, Mastodon's name), for a proxy on
 * the same machine: it answers there, open to the proxy's user, not on
 * PORT, and takes the place of a socket file a killed server left behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { freePort } from "../helpers/instance.ts";
import { envFor } from "./support.ts";

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ socketPath, path, headers: { host: "islet.example" } }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${path}`)));
    req.on("error", fail);
    req.end();
  });
}

/** Whether something accepts a connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

describe("islet serve on a Unix socket", () => {
  let database: TestDatabase;
  let dir: string;
  before(async () => {
    // One database is enough: this is about where the server listens.
    database = await createTestDatabase(databaseKinds().at(-1)!);
    dir = mkdtempSync(join(tmpdir(), "islet-socket-"));
  });
  after(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("answers on SOCKET, not on PORT, after clearing a dead server's socket file", async () => {
    const socket = join(dir, "web.socket");
    // A server killed outright leaves its socket file behind.
    const killed = spawnSync(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`]);
    assert.equal(killed.signal, "SIGKILL");
    assert.ok(lstatSync(socket).isSocket(), "a stale socket file is there");

    const port = await freePort();
    const server = await startServerProcess(envFor(database, { LOCAL_DOMAIN: "islet.example", PORT: String(port), SOCKET: socket }));
    try {
      assert.match(server.output(), new RegExp(`running at unix:${socket.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")},`));
      const health = await get(socket, "/health");
      assert.equal(health.status, 200, health.body);
      const webfinger = await get(socket, "/.well-known/webfinger?resource=acct:nobody@islet.example");
      assert.equal(webfinger.status, 404);
      assert.equal(lstatSync(socket).mode & 0o666, 0o666, "the proxy's user may connect (the folder decides who reaches it)");
      assert.equal(await accepts(port), false, "nothing listens on PORT");
    } finally {
      await server.kill();
    }
    assert.ok(!existsSync(socket), "a clean stop removes the socket file");
  });
});
