/**
 * The `islet` command as an admin runs it: a real child process reading the
 * environment, one plain line and a non-zero exit on every failure.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { requireOwner } from "../../src/core/accounts.ts";
import { verifyPassword } from "../../src/core/passwords.ts";
import { loadConfig } from "../../src/config.ts";
import { openCore } from "../../src/islet.ts";
import { createLogger } from "../../src/log.ts";
import { runIslet, startServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { freePort } from "../helpers/instance.ts";

/** A failure is one line on stderr, prefixed `islet:`, and exit status 1. */
function assertPlainFailure(result: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.equal(result.code, 1, `expected exit 1, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^islet: /);
  assert.match(lines[0], pattern);
}

describe("islet without a database", () => {
  test("--help lists the commands", async () => {
    const result = await runIslet(["--help"]);
    assert.equal(result.code, 0);
    for (const name of ["serve", "setup", "config", "migrate", "account"]) assert.match(result.stdout, new RegExp(`\\n  ${name} `));
  });

  test("an unknown command fails plainly", async () => {
    assertPlainFailure(await runIslet(["frobnicate"]), /unknown command "frobnicate"/);
  });

  test("an unknown option fails plainly", async () => {
    assertPlainFailure(await runIslet(["config", "--frob"]), /--frob/);
  });

  test("a bad config value names the variable", async () => {
    assertPlainFailure(await runIslet(["config"], { env: { PORT: "eighty" } }), /^islet: PORT: expected a whole number/);
    assertPlainFailure(await runIslet(["config"], { env: { DATABASE_URL: "mysql://x/y" } }), /DATABASE_URL: expected a postgres:\/\/ URL/);
  });

  test("config masks secrets and names their source", async () => {
    const secret = "s3cret-".repeat(8);
    const result = await runIslet(["config"], { env: { SECRET_KEY_BASE: secret, DATABASE_URL: "postgres://islet:hunter22@db:5433/islet", DATA_DIR: join(process.env.TMPDIR ?? "/tmp", `islet-cfg-${process.pid}`) } });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes(secret), "SECRET_KEY_BASE is printed");
    assert.ok(!result.stdout.includes("hunter22"), "the database password is printed");
    assert.match(result.stdout, /SECRET_KEY_BASE=\*\*\*\* \(from SECRET_KEY_BASE\)/);
    assert.match(result.stdout, /DATABASE_URL=postgres:\/\/islet:\*\*\*\*@db:5433\/islet/);
  });
});

for (const kind of databaseKinds()) {
  describe(`islet setup and account (${kind})`, () => {
    let database: TestDatabase;
    let env: Record<string, string | undefined>;
    let passwordFile: string;

    before(async () => {
      database = await createTestDatabase(kind);
      env = { DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? undefined, PORT: "3000" };
      passwordFile = join(database.dataDir, "password");
      writeFileSync(passwordFile, "first password\n");
    });
    after(async () => {
      await database?.drop();
    });

    async function withOwner<T>(fn: (core: Awaited<ReturnType<typeof openCore>>["core"]) => Promise<T>): Promise<T> {
      const config = loadConfig({ ...env } as Record<string, string>);
      const opened = await openCore(config, { log: createLogger("error") });
      try {
        return await fn(opened.core);
      } finally {
        await opened.close();
      }
    }

    test("setup refuses bad input before touching anything", async () => {
      assertPlainFailure(
        await runIslet(["setup", "--username", "no spaces", "--email", "a@example.com", "--password-file", passwordFile], { env }),
        /username may contain only/,
      );
      assertPlainFailure(
        await runIslet(["setup", "--username", "alice", "--email", "not-an-address", "--password-file", passwordFile], { env }),
        /not an email address/,
      );
      assertPlainFailure(
        await runIslet(["setup", "--username", "alice", "--email", "a@example.com", "--password-file", "-"], { env, input: "short" }),
        /at least 8 characters/,
      );
      assertPlainFailure(
        await runIslet(["setup", "--username", "alice", "--email", "a@example.com"], { env }),
        /no password given: pass --password-file/,
      );
      assertPlainFailure(
        await runIslet(["setup", "--username", "alice", "--email", "a@example.com", "--password-file", "/nonexistent/pw"], { env }),
        /cannot read the password file \/nonexistent\/pw/,
      );
    });

    test("setup creates the owner, password from stdin", async () => {
      const result = await runIslet(
        ["setup", "--username", "alice", "--email", "alice@example.com", "--display-name", "Alice A.", "--password-file", "-"],
        { env, input: "a password from stdin\n" },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Created @alice@localhost:3000 \(http:\/\/localhost:3000\/users\/alice\)/);
      await withOwner(async (core) => {
        const owner = await requireOwner(core);
        assert.equal(owner.account.displayName, "Alice A.");
        assert.equal(owner.user.email, "alice@example.com");
        assert.match(owner.user.passwordHash, /^\$argon2id\$/);
        assert.ok(await verifyPassword("a password from stdin", owner.user.passwordHash));
        assert.ok(!await verifyPassword("a password from stdin!", owner.user.passwordHash));
      });
    });

    test("a second owner is refused", async () => {
      assertPlainFailure(
        await runIslet(["setup", "--username", "bob", "--email", "bob@example.com", "--password-file", passwordFile], { env }),
        /an owner account exists already \(@alice\)/,
      );
    });

    test("account show prints the owner from the stored data", async () => {
      const result = await runIslet(["account", "show"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /handle: +@alice@localhost:3000/);
      assert.match(result.stdout, /email: +alice@example\.com/);
      assert.match(result.stdout, /actor: +http:\/\/localhost:3000\/users\/alice/);
    });

    test("account password sets a new password", async () => {
      const result = await runIslet(["account", "password", "--password-file", passwordFile], { env });
      assert.equal(result.code, 0, result.stderr);
      await withOwner(async (core) => {
        const owner = await requireOwner(core);
        assert.ok(await verifyPassword("first password", owner.user.passwordHash));
        assert.ok(!await verifyPassword("a password from stdin", owner.user.passwordHash));
      });
      assertPlainFailure(await runIslet(["account", "password", "--password-file", "-"], { env, input: "tiny" }), /at least 8/);
      assertPlainFailure(await runIslet(["account", "frob"], { env }), /unknown subcommand "frob"/);
    });

    test("migrate reports an up-to-date database", async () => {
      const result = await runIslet(["migrate"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /up to date/);
    });

    if (kind === "pglite") {
      test("admin commands run beside the server, through its socket; a second server and restore are refused", async () => {
        const port = await freePort();
        const server = await startServerProcess({ ...env, PORT: String(port) });
        const backupDir = mkdtempSync(join(tmpdir(), "islet-beside-"));
        try {
          const health = await fetch(`http://127.0.0.1:${port}/health`);
          assert.equal(await health.text(), "OK");
          const shown = await runIslet(["account", "show"], { env });
          assert.equal(shown.code, 0, shown.stderr);
          assert.match(shown.stdout, /@alice@/);
          const blocked = await runIslet(["domain", "block", "spam.example"], { env });
          assert.equal(blocked.code, 0, blocked.stderr);
          const listed = await runIslet(["domain", "list"], { env });
          assert.equal(listed.code, 0, listed.stderr);
          assert.match(listed.stdout, /spam\.example/);
          // The server sees what the command wrote: the domain is refused at its inbox.
          const inbox = await fetch(`http://127.0.0.1:${port}/inbox`, {
            method: "POST",
            headers: { "content-type": "application/activity+json" },
            body: JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", type: "Follow", id: "https://spam.example/1", actor: "https://spam.example/users/x", object: "http://localhost:3000/users/alice" }),
          });
          await inbox.body?.cancel();
          assert.equal(inbox.status, 403);
          const archive = join(backupDir, "beside.tar.gz");
          const backup = await runIslet(["backup", archive], { env });
          assert.equal(backup.code, 0, backup.stderr);
          assert.ok(statSync(archive).size > 0);
          const doctor = await runIslet(["doctor"], { env });
          assert.match(doctor.stdout, /^ok +database: reachable, \d+ migrations applied, none pending$/m, doctor.stdout + doctor.stderr);
          const unblocked = await runIslet(["domain", "unblock", "spam.example"], { env });
          assert.equal(unblocked.code, 0, unblocked.stderr);

          const second = await runIslet(["serve"], { env: { ...env, PORT: String(await freePort()) } });
          assertPlainFailure(second, new RegExp(`in use by another islet process \\(pid ${server.child.pid}\\)`));
          assertPlainFailure(await runIslet(["reset", "--yes"], { env }), /stop the server first/);
          // The server is unharmed.
          assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
        } finally {
          await server.kill();
          rmSync(backupDir, { recursive: true, force: true });
        }
        assert.ok(!existsSync(join(env.DATA_DIR!, "db.sock")), "the socket is removed when the server stops");
        // Once it has stopped, the commands open the database themselves.
        const result = await runIslet(["domain", "list"], { env });
        assert.equal(result.code, 0, result.stderr);
        assert.doesNotMatch(result.stdout, /spam\.example/);
      });
    }
  });
}
