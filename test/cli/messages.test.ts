/**
 * What the command line says to someone finding their way: the first
 * start's hint names the admin command of the deployment, a mistyped
 * account is one line saying what an account looks like, a failed refresh
 * is said once, and `islet config` looks without creating DATA_DIR.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runIslet, startServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, scratchRoot, type TestDatabase } from "../helpers/database.ts";
import { eventually, freePort } from "../helpers/instance.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";

/** The lines of a command's stderr. */
const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "");

describe("the first start without an owner", () => {
  let database: TestDatabase | undefined;
  after(async () => {
    await database?.drop();
  });

  test("names the admin command the deployment set, else npx islet, in the log and on the page", async () => {
    database = await createTestDatabase("pglite");
    const env = { DATA_DIR: database.dataDir, PORT: String(await freePort()), LOG_LEVEL: "warn" };
    for (const [command, expected] of [["islet-admin", "islet-admin setup"], [undefined, "npx islet setup"]] as const) {
      const server = await startServerProcess({ ...env, ISLET_ADMIN_COMMAND: command });
      try {
        // The hint follows the "running" line, once the owner was looked for.
        const output = await eventually(async () => /on a terminal to be asked/.test(server.output()) && server.output(), "the first start's hint");
        assert.match(output, /No owner account yet/);
        assert.ok(output.includes(`  ${expected} --username NAME`), output);
        assert.ok(output.includes(`\`${expected}\` on a terminal`), output);
        // The page at / says the same.
        const page = await (await fetch(`http://127.0.0.1:${env.PORT}/`, { headers: { Accept: "text/html" } })).text();
        assert.ok(page.includes(`<pre>${expected}</pre>`), page);
      } finally {
        await server.kill();
      }
    }
  });
});

describe("commands naming another account", () => {
  let instance: PreparedInstance | undefined;
  before(async () => {
    instance = await prepareInstance("pglite");
  });
  after(async () => {
    await instance?.database.drop();
  });

  test("account move --to without a domain says what an account looks like, in one line", async () => {
    const result = await runIslet(["account", "move", "--to", "nobody"], { env: instance!.env });
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, "");
    assert.deepEqual(lines(result.stderr), ["islet: nobody: not an account: give it as user@domain (for example alice@example.social) or as its actor URL"]);
  });

  test("accounts refresh of one unknown account says so once", async () => {
    const result = await runIslet(["accounts", "refresh", "nobody"], { env: instance!.env });
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, "");
    assert.equal(lines(result.stderr).length, 1, result.stderr);
    assert.match(result.stderr, /^islet: nobody: not an account: give it as user@domain/);

    const known = await runIslet(["accounts", "refresh", "ghost@unknown.example"], { env: instance!.env });
    assert.notEqual(known.code, 0);
    assert.equal(known.stdout, "");
    assert.deepEqual(lines(known.stderr), ["islet: ghost@unknown.example: not a known remote account"]);
  });
});

test("islet config creates no DATA_DIR", async () => {
  const parent = mkdtempSync(join(scratchRoot(), "islet-config-"));
  try {
    const dataDir = join(parent, "not-yet");
    const result = await runIslet(["config"], { env: { DATA_DIR: dataDir } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^DATA_DIR=/m);
    assert.match(result.stdout, /not there yet: made on the first start/);
    assert.equal(existsSync(dataDir), false, "DATA_DIR was created");
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
