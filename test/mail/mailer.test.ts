/**
 * The mailer over the durable queue: `send` only stores the message; the
 * consumer sends it, retrying with back-off while the SMTP server is down,
 * and gives up after the queue's maximum attempts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { loadConfig, type Config } from "../../src/config.ts";
import type { Database } from "../../src/db/connect.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { createMailer, createMailQueue, MAIL_QUEUE, MailError, type MailQueue } from "../../src/mail/mailer.ts";
import { testMessage } from "../../src/mail/messages.ts";
import { databaseKinds, type TestDatabase, withOpenDatabase } from "../helpers/database.ts";
import { startSmtpServer, unusedPort, type TestSmtpServer } from "./smtp.ts";

const SHORT = { connectionTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 5000 };

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger("debug", (line) => lines.push(line));
  return Object.assign(logger, { lines });
}

async function eventually<T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value != null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Row {
  attempts: number;
  failed_at: string | null;
  last_error: string | null;
  payload: string;
}

async function mailRows(database: Database): Promise<Row[]> {
  const rows = await database.query<Row>(sql`
    SELECT attempts, failed_at::text AS failed_at, last_error, payload::text AS payload
    FROM queue_messages WHERE queue = ${MAIL_QUEUE} ORDER BY id
  `);
  return rows.map((row) => ({ ...row, attempts: Number(row.attempts) }));
}

describe("mail disabled (no SMTP_SERVER)", () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "islet-mailer-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test("send logs what it would have sent at debug level and queues nothing", async () => {
    const config = loadConfig({ DATA_DIR: dataDir, LOCAL_DOMAIN: "islet.example" });
    const queued: unknown[] = [];
    const queue: MailQueue = {
      enqueue: async (message) => void queued.push(message),
      listen: async () => assert.fail("a disabled mailer does not consume"),
    };
    const log = recordingLogger();
    const mailer = createMailer(config, queue, log);
    assert.equal(mailer.enabled, false);
    await mailer.send(testMessage(config, "owner@example.com"));
    assert.deepEqual(queued, []);
    const line = log.lines.find((l) => l.includes("DEBUG"));
    assert.ok(line != null, log.lines.join(""));
    assert.match(line, /mail is disabled \(no SMTP_SERVER\); would have sent "Islet test message" to owner@example\.com/);
    assert.match(line, /test message from the Islet server/);
    await mailer.start(new AbortController().signal);
    await assert.rejects(mailer.verify(), (error: unknown) => error instanceof MailError && /SMTP_SERVER is not set/.test(error.message));
  });

  test("send refuses a message without a valid recipient", async () => {
    const config = loadConfig({ DATA_DIR: dataDir, SMTP_SERVER: "127.0.0.1", SMTP_AUTH_METHOD: "none" });
    const queued: unknown[] = [];
    const mailer = createMailer(config, { enqueue: async (m) => void queued.push(m), listen: async () => {} }, recordingLogger());
    await assert.rejects(mailer.send({ ...testMessage(config, "x@example.com"), to: "not an address" }), TypeError);
    await assert.rejects(mailer.send({ ...testMessage(config, "x@example.com"), html: undefined as unknown as string }), TypeError);
    assert.equal(queued.length, 0);
  });
});

for (const kind of databaseKinds()) {
  describe(`mail through the queue (${kind})`, () => {
    let testDatabase: TestDatabase;
    let database: Database;

    withOpenDatabase(kind, (opened, made) => {
      database = opened;
      testDatabase = made;
    });

    function configFor(port: number, env: Record<string, string> = {}): Config {
      return loadConfig({
        DATA_DIR: testDatabase.dataDir,
        LOCAL_DOMAIN: "islet.example",
        SMTP_SERVER: "127.0.0.1",
        SMTP_PORT: String(port),
        SMTP_ENABLE_STARTTLS: "never",
        SMTP_AUTH_METHOD: "none",
        ...env,
      });
    }

    test("a message waits in the queue while the SMTP server is down, and goes once it is up", async () => {
      const port = await unusedPort();
      const config = configFor(port);
      const log = recordingLogger();
      const queue = createMailQueue(database, { log, pollIntervalMs: 200 });
      const mailer = createMailer(config, queue, log, { timeouts: SHORT });
      assert.equal(mailer.enabled, true);

      // No consumer yet: send only stores the message.
      await mailer.send(testMessage(config, "owner@example.com"));
      const stored = await mailRows(database);
      assert.equal(stored.length, 1);
      assert.equal(stored[0].attempts, 0);
      assert.deepEqual(JSON.parse(stored[0].payload).mail.to, "owner@example.com");

      const stop = new AbortController();
      const consumer = mailer.start(stop.signal);
      let server: TestSmtpServer | null = null;
      try {
        const retried = await eventually(async () => {
          const rows = await mailRows(database);
          return rows.length === 1 && rows[0].attempts >= 2 ? rows[0] : null;
        }, "two failed attempts");
        assert.equal(retried.failed_at, null, "given up too early");
        assert.match(retried.last_error ?? "", /connection refused by 127\.0\.0\.1/);
        assert.ok(log.lines.some((l) => /WARN mail: could not send "Islet test message" to owner@example\.com: connection refused/.test(l)), log.lines.join(""));

        server = await startSmtpServer({ port });
        await eventually(async () => server!.received.length > 0, "the delivery once the server is up");
        assert.equal(server.received.length, 1);
        assert.deepEqual(server.received[0].to, ["owner@example.com"]);
        await eventually(async () => (await mailRows(database)).length === 0, "the message to leave the queue");
        assert.ok(log.lines.some((l) => /INFO mail: sent "Islet test message" to owner@example\.com via 127\.0\.0\.1:\d+/.test(l)));
      } finally {
        stop.abort();
        await consumer;
        await server?.close();
      }
      assert.equal(server.received.length, 1, "sent twice");
    });

    test("after its maximum attempts a message is marked failed, and that is logged", async () => {
      const port = await unusedPort();
      const config = configFor(port);
      const log = recordingLogger();
      const queue = createMailQueue(database, { log, maxAttempts: 2, pollIntervalMs: 200 });
      const mailer = createMailer(config, queue, log, { timeouts: SHORT });
      const stop = new AbortController();
      const consumer = mailer.start(stop.signal);
      try {
        await mailer.send(testMessage(config, "owner@example.com"));
        const failed = await eventually(async () => (await mailRows(database)).find((row) => row.failed_at != null), "the message to fail");
        assert.equal(failed.attempts, 2);
        assert.ok(log.lines.some((l) => /ERROR mail: queue mail: message \d+ failed after 2 attempts; giving up/.test(l)), log.lines.join(""));
      } finally {
        stop.abort();
        await consumer;
        await database.query(sql`DELETE FROM queue_messages WHERE queue = ${MAIL_QUEUE}`);
      }
    });

    test("a recipient the server refuses is given up at once", async () => {
      const server = await startSmtpServer({ refuse: ["nobody@example.com"] });
      const config = configFor(server.port);
      const log = recordingLogger();
      const queue = createMailQueue(database, { log, pollIntervalMs: 200 });
      const mailer = createMailer(config, queue, log, { timeouts: SHORT });
      const stop = new AbortController();
      const consumer = mailer.start(stop.signal);
      try {
        await mailer.send(testMessage(config, "nobody@example.com"));
        await mailer.send(testMessage(config, "owner@example.com"));
        await eventually(async () => server.received.length === 1 && (await mailRows(database)).length === 0, "both messages handled");
        assert.deepEqual(server.received[0].to, ["owner@example.com"]);
        assert.ok(log.lines.some((l) => /ERROR mail: gave up on "Islet test message" to nobody@example\.com: 127\.0\.0\.1:\d+ refused the recipient/.test(l)), log.lines.join(""));
      } finally {
        stop.abort();
        await consumer;
        await server.close();
      }
    });

    test("verify() checks the connection and the login", async () => {
      const server = await startSmtpServer({ login: { username: "me", password: "right" } });
      try {
        const base = { SMTP_AUTH_METHOD: "plain", SMTP_LOGIN: "me" };
        const good = createMailer(configFor(server.port, { ...base, SMTP_PASSWORD: "right" }), createMailQueue(database), recordingLogger(), { timeouts: SHORT });
        await good.verify();
        assert.deepEqual(server.logins.at(-1), { method: "PLAIN", username: "me", password: "right" });
        const bad = createMailer(configFor(server.port, { ...base, SMTP_PASSWORD: "wrong" }), createMailQueue(database), recordingLogger(), { timeouts: SHORT });
        await assert.rejects(bad.verify(), (error: unknown) => error instanceof MailError && /^authentication failed at 127\.0\.0\.1/.test(error.message));
      } finally {
        await server.close();
      }
    });
  });
}
