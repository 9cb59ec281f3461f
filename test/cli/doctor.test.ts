/**
 * `islet doctor` against real things: a throwaway database, a real SMTP
 * server on loopback, DATA_DIRs in good and bad states.
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOwner } from "../../src/core/accounts.ts";
import { isPublicDomain } from "../../src/cli/doctor.ts";
import { runIslet, startServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { freePort } from "../helpers/instance.ts";
import { startSmtpServer, type TestSmtpServer } from "../mail/smtp.ts";
import { envFor, withCore, type Env } from "./support.ts";

const LOGIN = { username: "islet-mailer", password: "the right password" };

/** The check lines of a doctor run, by name. */
function checks(stdout: string): Map<string, { status: string; detail: string }> {
  const found = new Map<string, { status: string; detail: string }>();
  for (const line of stdout.trim().split("\n")) {
    const match = /^(ok|warn|fail) +([a-z ]+): (.*)$/.exec(line);
    assert.ok(match != null, `not a check line: ${JSON.stringify(line)}`);
    found.set(match[2]!, { status: match[1]!, detail: match[3]! });
  }
  return found;
}

function assertFailedChecks(result: { code: number | null; stderr: string }, failed: number): void {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stderr, `islet: ${failed} ${failed === 1 ? "check" : "checks"} failed\n`);
}

describe("islet doctor without a good setup", () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "islet-doctor-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test("an unreachable database fails, the rest is still checked", async () => {
    const result = await runIslet(["doctor"], { env: { DATA_DIR: join(work, "a"), DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
    assertFailedChecks(result, 1);
    const found = checks(result.stdout);
    assert.equal(found.get("database")?.status, "fail");
    assert.match(found.get("database")!.detail, /cannot connect to PostgreSQL \(DATABASE_URL\): .*ECONNREFUSED/);
    assert.equal(found.get("data dir")?.status, "ok");
    assert.equal(found.get("smtp")?.status, "warn");
    assert.match(found.get("smtp")!.detail, /not configured/);
  });

  test("a DATA_DIR that is a file fails the configuration", async () => {
    const file = join(work, "a-file");
    writeFileSync(file, "");
    const result = await runIslet(["doctor"], { env: { DATA_DIR: file } });
    assertFailedChecks(result, 2);
    const found = checks(result.stdout);
    assert.match(found.get("configuration")!.detail, /^DATA_DIR: cannot create or use/);
    assert.match(found.get("data dir")!.detail, /is not a folder/);
  });

  test("public domains are told from local and reserved ones", () => {
    for (const host of ["example.com", "social.example.org", "xn--bcher-kva.de"]) assert.ok(isPublicDomain(host), host);
    for (const host of ["localhost:3000", "islet.example", "box.local", "127.0.0.1", "intranet", "a.test", "x.localhost"]) assert.ok(!isPublicDomain(host), host);
  });
});

for (const kind of databaseKinds()) {
  describe(`islet doctor (${kind})`, () => {
    let database: TestDatabase;
    let smtp: TestSmtpServer;
    let env: Env;

    before(async () => {
      database = await createTestDatabase(kind);
      smtp = await startSmtpServer({ login: LOGIN });
      env = envFor(database, {
        LOCAL_DOMAIN: "islet.example",
        SMTP_SERVER: "127.0.0.1",
        SMTP_PORT: String(smtp.port),
        SMTP_ENABLE_STARTTLS: "never",
        SMTP_LOGIN: LOGIN.username,
        SMTP_PASSWORD: LOGIN.password,
      });
    });
    after(async () => {
      await smtp?.close();
      await database?.drop();
    });

    test("pending migrations warn; without an owner, the owner check fails", async () => {
      if (kind === "postgres") {
        // A new PostgreSQL database has no tables yet.
        const fresh = await runIslet(["doctor"], { env });
        assert.equal(fresh.code, 0, fresh.stdout);
        const found = checks(fresh.stdout);
        assert.equal(found.get("database")?.status, "warn");
        assert.match(found.get("database")!.detail, /reachable, \d+ migrations pending: run `islet migrate`/);
        assert.equal(found.get("owner")?.status, "warn");
        assert.equal((await runIslet(["migrate"], { env })).code, 0);
      }
      const result = await runIslet(["doctor"], { env });
      assertFailedChecks(result, 1);
      const found = checks(result.stdout);
      assert.equal(found.get("owner")?.status, "fail");
      assert.match(found.get("owner")!.detail, /islet setup/);
    });

    test("a good setup is ok throughout", async () => {
      await withCore(env, async (core) => {
        await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
      });
      const result = await runIslet(["doctor"], { env });
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      assert.equal(result.stderr, "");
      const found = checks(result.stdout);
      assert.deepEqual([...found.keys()], ["configuration", "data dir", "database", "clock", "owner", "smtp", "webfinger", "media storage", "ffmpeg"]);
      // ffmpeg is optional: a warning where it is not installed.
      for (const [name, check] of found) if (name !== "ffmpeg") assert.equal(check.status, "ok", `${name}: ${check.detail}`);
      assert.match(found.get("media storage")!.detail, /media \(S3_ENABLED is false\)$/);
      assert.match(found.get("database")!.detail, /none pending/);
      assert.match(found.get("clock")!.detail, /within a second of/);
      assert.equal(found.get("owner")!.detail, "@owner@islet.example");
      assert.equal(found.get("smtp")!.detail, `127.0.0.1:${smtp.port} accepted the login of ${LOGIN.username}`);
      assert.match(found.get("webfinger")!.detail, /skipped: islet\.example is not a public domain/);
      assert.ok(smtp.logins.some((login) => login.username === LOGIN.username && login.password === LOGIN.password));
    });

    test("Mastodon settings Islet does not use: one warning line in doctor and at start; equivalents are read", async () => {
      const copied = {
        ...env,
        LOG_LEVEL: "warning",
        RAILS_SERVE_STATIC_FILES: "true",
        REDIS_HOST: "localhost",
        SMTP_ENABLE_STARTTLS_AUTO: "false",
        SMTP_ENABLE_STARTTLS: undefined,
        SINGLE_USER_MODE: "true",
      };
      const warning = "Mastodon settings that Islet does not use, ignored: RAILS_SERVE_STATIC_FILES, REDIS_HOST";
      const result = await runIslet(["doctor"], { env: copied });
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      const found = checks(result.stdout);
      assert.equal(found.get("mastodon settings")?.status, "warn");
      assert.equal(found.get("mastodon settings")!.detail, `${warning}; remove them, or see README.md for Islet's names`);
      assert.equal(found.get("smtp")?.status, "ok", "SMTP_ENABLE_STARTTLS_AUTO=false is read as never: the plain-text server accepts the login");

      const server = await startServerProcess({ ...copied, PORT: String(await freePort()) });
      try {
        const lines = server.output().split("\n").filter((line) => line.includes("Islet does not use"));
        assert.equal(lines.length, 1, server.output());
        assert.match(lines[0]!, new RegExp(`^\\S+ WARN ${warning}$`));
      } finally {
        await server.kill();
      }
    });

    test("a wrong SMTP password fails the smtp check", async () => {
      const result = await runIslet(["doctor"], { env: { ...env, SMTP_PASSWORD: "the wrong password" } });
      assertFailedChecks(result, 1);
      const found = checks(result.stdout);
      assert.equal(found.get("smtp")?.status, "fail");
      assert.match(found.get("smtp")!.detail, /authentication failed at 127\.0\.0\.1:\d+ for "islet-mailer"/);
    });

    test("a DATA_DIR others may write is narrowed and reported", async () => {
      chmodSync(database.dataDir, 0o777);
      const result = await runIslet(["doctor"], { env });
      assert.equal(result.code, 0, result.stdout);
      const found = checks(result.stdout);
      assert.equal(found.get("data dir")?.status, "warn");
      assert.match(found.get("data dir")!.detail, /was writable by everyone \(mode 777\); Islet narrowed it to 700/);
      assert.equal(statSync(database.dataDir).mode & 0o777, 0o700);
    });

    test("a DATA_DIR of another user fails", { skip: process.getuid?.() !== 0 ? "needs root to give the folder away" : false }, async () => {
      const { uid, gid } = statSync(database.dataDir);
      chownSync(database.dataDir, 4242, gid);
      try {
        const result = await runIslet(["doctor"], { env });
        assertFailedChecks(result, 1);
        const found = checks(result.stdout);
        assert.equal(found.get("data dir")?.status, "fail");
        assert.match(found.get("data dir")!.detail, /belongs to user 4242, not to this user \(0\)/);
      } finally {
        chownSync(database.dataDir, uid, gid);
      }
    });
  });
}
