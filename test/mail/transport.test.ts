/**
 * Sending through a real SMTP server on loopback: implicit TLS with a
 * self-signed certificate trusted through SMTP_CA_FILE, STARTTLS, and plain
 * without authentication; and the plain sentences for what goes wrong.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig, type Config } from "../../src/config.ts";
import { testMessage } from "../../src/mail/messages.ts";
import { describeSmtpError, sendNow, smtpTransportOptions, verifySmtp } from "../../src/mail/transport.ts";
import { decodeMail, makeCertificate, startSmtpServer, unusedPort, type TestCertificate, type TestSmtpServer } from "./smtp.ts";

const LOGIN = { username: "islet@example.com", password: "correct horse battery staple" };
const SHORT = { connectionTimeoutMs: 5000, greetingTimeoutMs: 5000, socketTimeoutMs: 10_000 };

let dataDir: string;
let certificate: TestCertificate;

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), "islet-mail-test-"));
  certificate = makeCertificate();
});
after(() => {
  rmSync(dataDir, { recursive: true, force: true });
  certificate.remove();
});

function config(env: Record<string, string>): Config {
  return loadConfig({ DATA_DIR: dataDir, LOCAL_DOMAIN: "islet.example", ...env });
}

async function sendError(cfg: Config): Promise<unknown> {
  try {
    await sendNow(cfg, testMessage(cfg, "owner@example.com"), SHORT);
  } catch (error) {
    return error;
  }
  assert.fail("the send succeeded");
}

describe("implicit TLS (SMTP_TLS=true) with a self-signed certificate", () => {
  let server: TestSmtpServer;
  before(async () => {
    server = await startSmtpServer({ secure: true, certificate, login: LOGIN });
  });
  after(() => server.close());

  const env = () => ({
    SMTP_SERVER: "127.0.0.1",
    SMTP_PORT: String(server.port),
    SMTP_TLS: "true",
    SMTP_LOGIN: LOGIN.username,
    SMTP_PASSWORD: LOGIN.password,
    SMTP_CA_FILE: certificate.certFile,
  });

  test("sends over TLS, logged in with the configured login and password", async () => {
    const cfg = config(env());
    const response = await sendNow(cfg, testMessage(cfg, "owner@example.com"), SHORT);
    assert.match(response, /^250/);
    assert.equal(server.received.length, 1);
    const mail = server.received[0];
    assert.equal(mail.secure, true);
    assert.equal(mail.user, LOGIN.username);
    assert.deepEqual(mail.to, ["owner@example.com"]);
    assert.equal(mail.from, "notifications@islet.example");
    assert.deepEqual(server.logins.at(-1), { method: "PLAIN", username: LOGIN.username, password: LOGIN.password });
    const text = decodeMail(mail.raw);
    assert.match(text, /^Subject: Islet test message$/m);
    assert.match(text, /^Auto-Submitted: auto-generated$/m);
    assert.match(text, /Content-Type: text\/plain/);
    assert.match(text, /Content-Type: text\/html/);
    assert.match(text, /test message from the Islet server at https:\/\/islet\.example/);
  });

  test("SMTP_AUTH_METHOD=login and cram_md5 log in with those methods", async () => {
    await sendNow(config({ ...env(), SMTP_AUTH_METHOD: "login" }), testMessage(config(env()), "owner@example.com"), SHORT);
    assert.deepEqual(server.logins.at(-1), { method: "LOGIN", username: LOGIN.username, password: LOGIN.password });
    await sendNow(config({ ...env(), SMTP_AUTH_METHOD: "cram_md5" }), testMessage(config(env()), "owner@example.com"), SHORT);
    assert.deepEqual(server.logins.at(-1), { method: "CRAM-MD5", username: LOGIN.username, password: null });
  });

  test("verify() connects and logs in", async () => {
    const before = server.logins.length;
    await verifySmtp(config(env()), SHORT);
    assert.equal(server.logins.length, before + 1);
  });

  test("without SMTP_CA_FILE the certificate is not trusted", async () => {
    const { SMTP_CA_FILE: _, ...rest } = env();
    const cfg = config(rest);
    const count = server.received.length;
    const error = await sendError(cfg);
    assert.match(describeSmtpError(error, cfg), /^the certificate of 127\.0\.0\.1:\d+ is not trusted: it is self-signed; name its CA in SMTP_CA_FILE/);
    assert.equal(server.received.length, count);
  });

  test("SMTP_OPENSSL_VERIFY_MODE=none accepts it without the CA", async () => {
    const { SMTP_CA_FILE: _, ...rest } = env();
    await sendNow(config({ ...rest, SMTP_OPENSSL_VERIFY_MODE: "none" }), testMessage(config(env()), "owner@example.com"), SHORT);
    assert.equal(server.received.at(-1)?.secure, true);
  });

  test("a certificate for another host name is refused", async () => {
    const other = makeCertificate("DNS:mail.example");
    const otherServer = await startSmtpServer({ secure: true, certificate: other, login: LOGIN });
    try {
      const cfg = config({ ...env(), SMTP_PORT: String(otherServer.port), SMTP_CA_FILE: other.certFile });
      const error = await sendError(cfg);
      assert.match(describeSmtpError(error, cfg), /^the certificate of 127\.0\.0\.1:\d+ is not for the host name 127\.0\.0\.1/);
      assert.equal(otherServer.logins.length, 0, "the password was sent to an unverified server");
    } finally {
      await otherServer.close();
      other.remove();
    }
  });

  test("a wrong password fails as authentication, naming the login", async () => {
    const cfg = config({ ...env(), SMTP_PASSWORD: "wrong" });
    const error = await sendError(cfg);
    assert.match(describeSmtpError(error, cfg), /^authentication failed at 127\.0\.0\.1:\d+ for "islet@example\.com" with PLAIN: check SMTP_LOGIN, SMTP_PASSWORD/);
  });

  test("plain text to a TLS port is described", async () => {
    const cfg = config({ ...env(), SMTP_TLS: "false", SMTP_ENABLE_STARTTLS: "never" });
    let error: unknown;
    try {
      await sendNow(cfg, testMessage(cfg, "owner@example.com"), { ...SHORT, greetingTimeoutMs: 1000 });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error != null, "the send succeeded");
    assert.match(describeSmtpError(error, cfg), /^no answer from 127\.0\.0\.1:\d+ in time \(if it expects TLS from the start, set SMTP_TLS=true\)$/);
  });

  test("TLS to a plain port is described", async () => {
    const plain = await startSmtpServer({});
    try {
      const cfg = config({ ...env(), SMTP_PORT: String(plain.port) });
      const error = await sendError(cfg);
      assert.match(describeSmtpError(error, cfg), /^127\.0\.0\.1:\d+ does not speak TLS from the start: unset SMTP_TLS/);
    } finally {
      await plain.close();
    }
  });
});

describe("STARTTLS (SMTP_ENABLE_STARTTLS=always)", () => {
  let server: TestSmtpServer;
  before(async () => {
    server = await startSmtpServer({ certificate, login: LOGIN });
  });
  after(() => server.close());

  const env = () => ({
    SMTP_SERVER: "127.0.0.1",
    SMTP_PORT: String(server.port),
    SMTP_ENABLE_STARTTLS: "always",
    SMTP_LOGIN: LOGIN.username,
    SMTP_PASSWORD: LOGIN.password,
    SMTP_CA_FILE: certificate.certFile,
  });

  test("upgrades the connection, then logs in and sends", async () => {
    const cfg = config(env());
    assert.equal(smtpTransportOptions(cfg).requireTLS, true);
    await sendNow(cfg, testMessage(cfg, "owner@example.com"), SHORT);
    assert.equal(server.received.length, 1);
    assert.equal(server.received[0].secure, true);
    assert.equal(server.received[0].user, LOGIN.username);
    assert.deepEqual(server.logins.at(-1), { method: "PLAIN", username: LOGIN.username, password: LOGIN.password });
  });

  test("auto upgrades too when the server offers STARTTLS", async () => {
    const cfg = config({ ...env(), SMTP_ENABLE_STARTTLS: "auto" });
    await sendNow(cfg, testMessage(cfg, "owner@example.com"), SHORT);
    assert.equal(server.received.at(-1)?.secure, true);
  });

  test("without the CA the upgrade fails on the certificate", async () => {
    const { SMTP_CA_FILE: _, ...rest } = env();
    const cfg = config(rest);
    const error = await sendError(cfg);
    assert.match(describeSmtpError(error, cfg), /is not trusted: it is self-signed/);
  });
});

describe("STARTTLS required but not offered", () => {
  let server: TestSmtpServer;
  before(async () => {
    server = await startSmtpServer({});
  });
  after(() => server.close());

  test("always refuses to go on in plain text", async () => {
    const cfg = config({ SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(server.port), SMTP_ENABLE_STARTTLS: "always", SMTP_AUTH_METHOD: "none" });
    const error = await sendError(cfg);
    assert.match(describeSmtpError(error, cfg), /^127\.0\.0\.1:\d+ does not offer STARTTLS, which SMTP_ENABLE_STARTTLS=always requires/);
    assert.equal(server.received.length, 0);
  });
});

describe("plain, without authentication", () => {
  let server: TestSmtpServer;
  before(async () => {
    // The server offers STARTTLS, and `never` must not take it.
    server = await startSmtpServer({ certificate });
  });
  after(() => server.close());

  test("SMTP_ENABLE_STARTTLS=never and SMTP_AUTH_METHOD=none send in plain text, no login", async () => {
    const cfg = config({
      SMTP_SERVER: "127.0.0.1",
      SMTP_PORT: String(server.port),
      SMTP_ENABLE_STARTTLS: "never",
      SMTP_AUTH_METHOD: "none",
      SMTP_FROM_ADDRESS: "Islet <mailer@islet.example>",
    });
    assert.equal(smtpTransportOptions(cfg).auth, undefined);
    await sendNow(cfg, testMessage(cfg, "owner@example.com"), SHORT);
    assert.equal(server.received.length, 1);
    const mail = server.received[0];
    assert.equal(mail.secure, false);
    assert.equal(mail.user, null);
    assert.equal(mail.from, "mailer@islet.example");
    assert.match(mail.raw, /^From: Islet <mailer@islet\.example>$/m);
    assert.equal(server.logins.length, 0);
  });
});

describe("nothing listening", () => {
  test("connection refused names the host and port", async () => {
    const port = await unusedPort();
    const cfg = config({ SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(port), SMTP_AUTH_METHOD: "none" });
    const error = await sendError(cfg);
    assert.equal(describeSmtpError(error, cfg), `connection refused by 127.0.0.1:${port}: is the SMTP server running, and is SMTP_PORT right?`);
    await assert.rejects(verifySmtp(cfg, SHORT));
  });
});
