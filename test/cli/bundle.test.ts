/**
 * `npm start` runs the esbuild bundle: build it and check that it serves,
 * migrations included, exactly as the sources do.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, runIslet, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { freePort } from "../helpers/instance.ts";

describe("the bundle", () => {
  let database: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.kill();
    await database?.drop();
  });

  test("builds and serves health, WebFinger, the actor and the instance", async () => {
    const build = spawnSync(process.execPath, [join(ROOT, "scripts", "build.js")], { cwd: ROOT, encoding: "utf8" });
    assert.equal(build.status, 0, build.stderr);
    const bundle = join(ROOT, "dist", "islet.js");
    assert.ok(existsSync(bundle));
    assert.ok(existsSync(join(ROOT, "dist", "migrations", "meta", "_journal.json")), "migrations are copied beside the bundle");
    assert.ok(statSync(bundle).size > 100_000);

    // `npm start` builds only when something changed since.
    const builtAt = statSync(bundle).mtimeMs;
    const again = spawnSync(process.execPath, [join(ROOT, "scripts", "build.js"), "--if-stale"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(statSync(bundle).mtimeMs, builtAt, "a fresh bundle is not built again");
    const source = join(ROOT, "src", "version.ts");
    const later = new Date(builtAt + 1);
    utimesSync(source, later, later);
    const stale = spawnSync(process.execPath, [join(ROOT, "scripts", "build.js"), "--if-stale"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(stale.status, 0, stale.stderr);
    assert.ok(statSync(bundle).mtimeMs > builtAt, "a changed source makes --if-stale build");

    database = await createTestDatabase("pglite");
    const port = await freePort();
    const env = { DATA_DIR: database.dataDir, PORT: String(port) };
    const setup = await runIslet(["setup", "--username", "owner", "--email", "o@example.com", "--password-file", "-"], {
      env, input: "a long enough password", fromSource: false,
    });
    assert.equal(setup.code, 0, setup.stderr);

    server = await startServerProcess(env, [], false);
    const base = `http://127.0.0.1:${port}`;
    assert.equal(await (await fetch(`${base}/health`)).text(), "OK");
    const finger = await fetch(`${base}/.well-known/webfinger?resource=acct:owner@localhost:${port}`);
    assert.equal(finger.status, 200);
    const actor = await fetch(`${base}/users/owner`, { headers: { Accept: "application/activity+json" } });
    assert.equal((await actor.json() as { type: string }).type, "Person");
    const instance = await (await fetch(`${base}/api/v2/instance`)).json() as { contact: { account: { username: string } } };
    assert.equal(instance.contact.account.username, "owner");
  });
});
