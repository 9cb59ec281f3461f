/**
 * The README's "Your first post with curl" runs as written: the test takes
 * the shell block of that section, word for word, and runs it with bash
 * against a test server (the owner's password on stdin, where the block
 * reads it), then checks that the post it made is there.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT } from "../helpers/cli.ts";
import { scratchRoot } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { which } from "../deploy/tools.ts";
import { requiredUnderCi } from "../helpers/skip.ts";

const HEADING = "## Your first post with curl";

/** The first ```sh block of the README's section under HEADING. */
function readmeBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.notEqual(start, -1, `README.md has no "${HEADING}" section`);
  const section = readme.slice(start + 1).split(/\n## /)[0];
  const match = /\n```sh\n([\s\S]*?)\n```\n/.exec(section);
  assert.ok(match, `no sh block under "${HEADING}"`);
  return match[1];
}

const missing = ["bash", "curl", "jq"].filter((command) => which(command) == null);
const skip = missing.length === 0 ? false : requiredUnderCi(`${missing.join(", ")} not found: the README's curl walkthrough does not run`);

describe("the README's first post with curl", { skip }, () => {
  let instance: TestInstance | undefined;
  let dir: string | undefined;
  before(async () => {
    instance = await startInstance("pglite");
    dir = mkdtempSync(join(scratchRoot(), "islet-curl-"));
  });
  after(async () => {
    await instance?.close();
    if (dir != null) rmSync(dir, { recursive: true, force: true });
  });

  test("registers an app, signs in, gets a code and a token, posts and reads the post back", async () => {
    const block = readmeBlock();
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", block], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, ISLET: instance!.url, LOGIN: "owner" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end("a long test password\n");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, `the block failed:\n${stderr}`);
    assert.equal(stdout.trim().split("\n").at(-1), "<p>Hello from curl!</p>");

    // The post is the owner's, public, and seen by anyone.
    const account = instance!.owner!.account;
    const response = await fetch(`${instance!.url}/api/v1/accounts/${account.id}/statuses`);
    assert.equal(response.status, 200);
    const statuses = await response.json() as { content: string; visibility: string; application?: { name: string } | null }[];
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0].content, "<p>Hello from curl!</p>");
    assert.equal(statuses[0].visibility, "public");
  });
});
