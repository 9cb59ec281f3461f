/**
 * Every admin command explains itself with --help, without reading the
 * configuration or touching a database.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { runIslet } from "../helpers/cli.ts";
import { assertPlainFailure } from "./support.ts";

const COMMANDS = ["domain", "media", "backup", "restore", "reset", "doctor", "import", "export"];

describe("admin command help", () => {
  const work = mkdtempSync(join(tmpdir(), "islet-help-"));
  // Neither a data folder nor a database may be needed for --help.
  const env = { DATA_DIR: join(work, "never-created"), DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" };
  after(() => rmSync(work, { recursive: true, force: true }));

  test("islet --help lists them", async () => {
    const result = await runIslet(["--help"], { env });
    assert.equal(result.code, 0);
    for (const name of [...COMMANDS, "accounts"]) assert.match(result.stdout, new RegExp(`\\n  ${name} +\\S`), name);
    assert.match(result.stdout, /\n  account +show the owner account, set its password, or move it\n/);
    assert.match(result.stdout, /\n  accounts +refresh remote accounts\n/);
  });

  for (const name of COMMANDS) {
    test(`islet ${name} --help`, async () => {
      const result = await runIslet([name, "--help"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: islet ${name}`));
      assert.equal(result.stderr, "");
      assert.equal(existsSync(env.DATA_DIR), false, `islet ${name} --help created DATA_DIR`);
    });
  }

  test("unknown options and extra arguments fail with one line", async () => {
    for (const name of COMMANDS) assertPlainFailure(await runIslet([name, "--frob"], { env }), /--frob/);
    assertPlainFailure(await runIslet(["backup", "a.tar.gz", "b.tar.gz"], { env }), /one PATH only/);
    assertPlainFailure(await runIslet(["doctor", "extra"], { env }), /extra/);
  });
});
