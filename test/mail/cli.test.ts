/**
 * `islet mail test ADDRESS` as an admin runs it: the real command in a child
 * process, against a real SMTP server on loopback, with no database at all.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runIslet } from "../helpers/cli.ts";
import { makeCertificate, startSmtpServer, unusedPort, type TestCertificate, type TestSmtpServer } from "./smtp.ts";

const LOGIN = { username: "islet-mailer", password: "the right password" };

/** A failure is one line on stderr, prefixed `islet:`, and exit status 1. */
function assertPlainFailure(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(result.code, 1, `expected exit 1, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^islet: /);
  assert.match(lines[0], pattern);
  assert.equal(result.stdout, "");
}

describe("islet mail test", () => {
  let dataDir: string;
  let certificate: TestCertificate;
  let server: TestSmtpServer;
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "islet-mail-cli-"));
    certificate = makeCertificate();
    server = await startSmtpServer({ certificate, login: LOGIN });
    env = {
      DATA_DIR: dataDir,
      LOCAL_DOMAIN: "islet.example",
      // Unreachable: the command must not try to open a database.
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      SMTP_SERVER: "127.0.0.1",
      SMTP_PORT: String(server.port),
      SMTP_ENABLE_STARTTLS: "always",
      SMTP_CA_FILE: certificate.certFile,
      SMTP_LOGIN: LOGIN.username,
      SMTP_PASSWORD: LOGIN.password,
    };
  });
  after(async () => {
    await server?.close();
    certificate?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("sends a test message at once and says where it went", async () => {
    const result = await runIslet(["mail", "test", "owner@example.com"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Sent a test message to owner@example.com via 127.0.0.1:${server.port}\n`);
    assert.equal(server.received.length, 1);
    assert.deepEqual(server.received[0].to, ["owner@example.com"]);
    assert.equal(server.received[0].secure, true);
    assert.equal(server.received[0].user, LOGIN.username);
    assert.match(server.received[0].raw, /^Subject: Islet test message$/m);
    // No database was opened or created.
    assert.ok(!existsSync(join(dataDir, "db")), `DATA_DIR holds ${readdirSync(dataDir).join(", ")}`);
  });

  test("a wrong password fails with one line naming the problem", async () => {
    const before = server.received.length;
    const result = await runIslet(["mail", "test", "owner@example.com"], { env: { ...env, SMTP_PASSWORD: "a wrong password" } });
    assertPlainFailure(
      result,
      new RegExp(`^islet: could not send the test message: authentication failed at 127\\.0\\.0\\.1:${server.port} for "islet-mailer" with PLAIN: check SMTP_LOGIN, SMTP_PASSWORD and SMTP_AUTH_METHOD`),
    );
    assert.ok(!result.stderr.includes("a wrong password"), "the password is printed");
    assert.equal(server.logins.at(-1)?.password, "a wrong password");
    assert.equal(server.received.length, before);
  });

  test("a server that is down fails with one line", async () => {
    const port = await unusedPort();
    assertPlainFailure(
      await runIslet(["mail", "test", "owner@example.com"], { env: { ...env, SMTP_PORT: String(port) } }),
      new RegExp(`^islet: could not send the test message: connection refused by 127\\.0\\.0\\.1:${port}`),
    );
  });

  test("an untrusted certificate fails with one line", async () => {
    const { SMTP_CA_FILE: _, ...rest } = env;
    assertPlainFailure(
      await runIslet(["mail", "test", "owner@example.com"], { env: rest }),
      /^islet: could not send the test message: the certificate of 127\.0\.0\.1:\d+ is not trusted: it is self-signed/,
    );
  });

  test("without SMTP_SERVER, or without an address, it says so", async () => {
    const { SMTP_SERVER: _, ...rest } = env;
    assertPlainFailure(await runIslet(["mail", "test", "owner@example.com"], { env: rest }), /^islet: SMTP_SERVER is not set, so mail is disabled/);
    assertPlainFailure(await runIslet(["mail", "test"], { env }), /^islet: missing ADDRESS/);
    assertPlainFailure(await runIslet(["mail", "test", "nobody"], { env }), /^islet: "nobody" is not an email address/);
    assertPlainFailure(await runIslet(["mail", "send"], { env }), /^islet: unknown subcommand "send"; expected test/);
    assertPlainFailure(await runIslet(["mail", "test", "a@example.com"], { env: { ...env, SMTP_AUTH_METHOD: "magic" } }), /^islet: SMTP_AUTH_METHOD: expected plain, login, cram_md5 or none/);
  });

  test("islet --help lists it", async () => {
    const result = await runIslet(["--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /\n {2}mail +send a test message/);
  });
});
