import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Temporal } from "@js-temporal/polyfill";
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/connect.ts";
import { DatabaseMessageQueue, retryDelaySeconds, type DatabaseMessageQueueOptions } from "../../src/db/message-queue.ts";
import { createTestDatabase, databaseKinds, type TestDatabase, withOpenDatabase } from "../helpers/database.ts";

/**
 * The shortest deadline a wait is given. A deadline only says when to give
 * up, never whether something was fast: on a machine busy with other work
 * the timers and queries here can be seconds late. Where promptness is
 * what a test is about, it is compared with the 60 s poll interval that a
 * prompt consumer does not wait for.
 */
const MIN_DEADLINE_MS = 20_000;

/** Polls `predicate` until it holds; fails after `timeoutMs` (at least MIN_DEADLINE_MS). */
async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  timeoutMs = Math.max(timeoutMs, MIN_DEADLINE_MS);
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves with `promise`, or fails after `timeoutMs` (at least MIN_DEADLINE_MS). */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  timeoutMs = Math.max(timeoutMs, MIN_DEADLINE_MS);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Warnings {
  messages: string[];
  warn(message: string, error?: unknown): void;
}

function warnings(): Warnings {
  const messages: string[] = [];
  return { messages, warn: (message) => void messages.push(message) };
}

interface Consumer {
  queue: DatabaseMessageQueue;
  listening: Promise<void>;
  stop(): Promise<void>;
}

/** Starts `listen` on a queue; `stop()` aborts and waits for it to resolve. */
function consume(
  database: Database,
  options: DatabaseMessageQueueOptions,
  handler: (message: any) => Promise<void> | void,
): Consumer {
  const queue = new DatabaseMessageQueue(database, options);
  const controller = new AbortController();
  const listening = queue.listen(handler, { signal: controller.signal });
  return {
    queue,
    listening,
    async stop() {
      controller.abort();
      await within(listening, 5000, "listen after abort");
    },
  };
}

interface Row {
  id: string;
  attempts: number;
  last_error: string | null;
  locked: boolean;
  later: boolean;
  failed: boolean;
}

function rows(database: Database, queue: string): Promise<Row[]> {
  return database.query<Row>(sql`
    SELECT id::text AS id, attempts, last_error,
           coalesce(locked_until > now(), false) AS locked,
           available_at > now() AS later,
           failed_at IS NOT NULL AS failed
    FROM queue_messages WHERE queue = ${queue} ORDER BY id
  `);
}

/** A Database whose queries can be counted and made to fail. */
function instrumented(database: Database): { database: Database; queries: number; failing: boolean } {
  const state = { database: undefined as unknown as Database, queries: 0, failing: false };
  state.database = {
    kind: database.kind,
    db: database.db,
    listen: (channel, onNotify) => database.listen(channel, onNotify),
    notify: (channel, payload) => database.notify(channel, payload),
    async query<T>(query: ReturnType<typeof sql>): Promise<T[]> {
      state.queries++;
      if (state.failing) throw new Error("connection terminated unexpectedly");
      return await database.query<T>(query);
    },
    close: () => database.close(),
  };
  return state;
}

test("retry back-off grows exponentially with jitter, capped at six hours", () => {
  assert.equal(retryDelaySeconds(1, () => 0), 1);
  assert.equal(retryDelaySeconds(1, () => 1), 2);
  assert.equal(retryDelaySeconds(5, () => 1), 32);
  assert.equal(retryDelaySeconds(5, () => 0), 16);
  assert.equal(retryDelaySeconds(40, () => 1), 6 * 3600);
  assert.equal(retryDelaySeconds(40, () => 0), 3 * 3600);
});

for (const kind of databaseKinds()) {
  describe(kind, () => {
    let testDatabase: TestDatabase;
    let database: Database;
    let counter = 0;
    const queueName = () => `q${++counter}`;

    withOpenDatabase(kind, (opened, made) => {
      database = opened;
      testDatabase = made;
    });

    test("an enqueued message is handled once, then deleted", async () => {
      const queue = queueName();
      const log = warnings();
      const producer = new DatabaseMessageQueue(database, { queue, logger: log });
      await producer.enqueue({ type: "hello", n: 1 });
      const seen: unknown[] = [];
      const consumer = consume(database, { queue, logger: log }, (message) => void seen.push(message));
      try {
        await waitFor(() => seen.length >= 1, 2000, "the message");
        await sleep(300);
        assert.deepEqual(seen, [{ type: "hello", n: 1 }]);
        await waitFor(async () => (await rows(database, queue)).length === 0, 1000, "the row to be deleted");
      } finally {
        await consumer.stop();
      }
      assert.deepEqual(log.messages, []);
    });

    test("getDepth counts ready and delayed messages, not failed or claimed ones", async () => {
      const queue = queueName();
      const mq = new DatabaseMessageQueue(database, { queue });
      assert.deepEqual(await mq.getDepth(), { queued: 0, ready: 0, delayed: 0 });
      await mq.enqueueMany([{ a: 1 }, { a: 2 }]);
      await mq.enqueue({ a: 3 }, { delay: Temporal.Duration.from({ hours: 1 }) });
      await mq.enqueue({ a: 4 });
      await database.query(sql`UPDATE queue_messages SET failed_at = now() WHERE queue = ${queue} AND payload = '{"a":4}'`);
      assert.deepEqual(await mq.getDepth(), { queued: 3, ready: 2, delayed: 1 });
      await database.query(sql`
        UPDATE queue_messages SET locked_until = now() + interval '1 minute'
        WHERE queue = ${queue} AND payload = '{"a":1}'
      `);
      assert.deepEqual(await mq.getDepth(), { queued: 2, ready: 1, delayed: 1 });
      assert.equal(mq.nativeRetrial, false);
    });

    test("a delayed message is not handed out early, and is handed out when due", async () => {
      const queue = queueName();
      const seenAt: number[] = [];
      // The default 5 s poll interval: only the due-time timer can be on time.
      const consumer = consume(database, { queue }, () => void seenAt.push(Date.now()));
      try {
        await sleep(100);
        const enqueuedAt = Date.now();
        await consumer.queue.enqueue("later", { delay: Temporal.Duration.from({ milliseconds: 1200 }) });
        await sleep(900);
        assert.deepEqual(seenAt, [], "handed out before its delay");
        const depth = await consumer.queue.getDepth();
        assert.deepEqual(depth, { queued: 1, ready: 0, delayed: 1 });
        await waitFor(() => seenAt.length === 1, 1500, "the delayed message once due");
        assert.ok(seenAt[0] - enqueuedAt >= 1150, `handled after ${seenAt[0] - enqueuedAt} ms`);
      } finally {
        await consumer.stop();
      }
    });

    test("messages with one ordering key run one at a time, in order", async () => {
      const queue = queueName();
      const producer = new DatabaseMessageQueue(database, { queue });
      for (let i = 0; i < 5; i++) await producer.enqueue({ key: "k", i }, { orderingKey: "k" });
      for (let i = 0; i < 3; i++) await producer.enqueue({ key: "j", i }, { orderingKey: "j" });
      for (let i = 0; i < 3; i++) await producer.enqueue({ key: null, i });
      const running = new Map<string, number>();
      const maxRunning = new Map<string, number>();
      const order = new Map<string, number[]>();
      let firstKDone = false;
      let startedWhileFirstKRan = 0;
      const consumer = consume(database, { queue, concurrency: 8 }, async (message: { key: string | null; i: number }) => {
        const key = message.key ?? "none";
        if (!firstKDone && !(key === "k" && message.i === 0)) startedWhileFirstKRan++;
        running.set(key, (running.get(key) ?? 0) + 1);
        maxRunning.set(key, Math.max(maxRunning.get(key) ?? 0, running.get(key)!));
        order.set(key, [...(order.get(key) ?? []), message.i]);
        await sleep(key === "k" && message.i === 0 ? 200 : 20);
        if (key === "k" && message.i === 0) firstKDone = true;
        running.set(key, running.get(key)! - 1);
      });
      try {
        await waitFor(
          () => (order.get("k")?.length ?? 0) + (order.get("j")?.length ?? 0) + (order.get("none")?.length ?? 0) === 11,
          5000,
          "all 11 messages",
        );
        await waitFor(async () => (await rows(database, queue)).length === 0, 1000, "the rows to be deleted");
      } finally {
        await consumer.stop();
      }
      assert.deepEqual(order.get("k"), [0, 1, 2, 3, 4]);
      assert.deepEqual(order.get("j"), [0, 1, 2]);
      assert.equal(maxRunning.get("k"), 1);
      assert.equal(maxRunning.get("j"), 1);
      assert.ok(maxRunning.get("none")! > 1, "messages without a key run in parallel");
      // Other keys and unkeyed messages did not wait for the slow first "k".
      assert.ok(startedWhileFirstKRan >= 4, `only ${startedWhileFirstKRan} started beside the slow one`);
    });

    test("a failing handler's message is retried later with attempts incremented", async () => {
      const queue = queueName();
      const log = warnings();
      const calls: number[] = [];
      let failures = 0;
      const consumer = consume(database, { queue, logger: log, pollIntervalMs: 200 }, (message: { n: number }) => {
        calls.push(Date.now());
        if (failures++ === 0) throw new Error(`boom ${message.n}`);
      });
      try {
        await consumer.queue.enqueue({ n: 7 });
        await waitFor(() => calls.length === 1, 2000, "the first attempt");
        await waitFor(async () => (await rows(database, queue))[0]?.last_error != null, 1000, "the failure to be stored");
        const [row] = await rows(database, queue);
        assert.equal(row.attempts, 1);
        assert.match(row.last_error!, /boom 7/);
        assert.equal(row.locked, false, "the lease is cleared");
        assert.equal(row.later, true, "the retry is scheduled in the future");
        assert.equal(row.failed, false);
        await sleep(600);
        assert.equal(calls.length, 1, "retried before the back-off (at least 1 s)");
        await waitFor(() => calls.length === 2, 3000, "the retry");
        assert.ok(calls[1] - calls[0] >= 950, `retried after ${calls[1] - calls[0]} ms`);
        await waitFor(async () => (await rows(database, queue)).length === 0, 1000, "the row to be deleted");
      } finally {
        await consumer.stop();
      }
      assert.deepEqual(log.messages, []);
    });

    test("a failed message blocks later ones with its ordering key until it succeeds", async () => {
      const queue = queueName();
      const producer = new DatabaseMessageQueue(database, { queue });
      await producer.enqueue("first", { orderingKey: "actor" });
      await producer.enqueue("second", { orderingKey: "actor" });
      await producer.enqueue("other", { orderingKey: "other" });
      const seen: string[] = [];
      let failed = false;
      const consumer = consume(database, { queue, pollIntervalMs: 200 }, (message: string) => {
        seen.push(message);
        if (message === "first" && !failed) {
          failed = true;
          throw new Error("temporary");
        }
      });
      try {
        await waitFor(() => seen.length === 4, 4000, "the retry and the rest");
      } finally {
        await consumer.stop();
      }
      assert.deepEqual(seen.filter((m) => m !== "other"), ["first", "first", "second"]);
      assert.ok(seen.indexOf("other") < 2, "another key did not wait for the retry");
    });

    test("after maxAttempts a message is kept as failed, logged, and not handed out again", async () => {
      const queue = queueName();
      const log = warnings();
      let calls = 0;
      const consumer = consume(database, { queue, logger: log, maxAttempts: 1, pollIntervalMs: 100 }, () => {
        calls++;
        throw new Error("permanent");
      });
      try {
        await consumer.queue.enqueue({ doomed: true }, { orderingKey: "x" });
        await consumer.queue.enqueue({ after: true }, { orderingKey: "x" });
        await waitFor(() => calls === 2, 2000, "both attempts");
        await waitFor(async () => (await rows(database, queue)).every((row) => row.failed), 1000, "failed_at");
        await sleep(400);
        assert.equal(calls, 2, "a failed message was handed out again");
      } finally {
        await consumer.stop();
      }
      const kept = await rows(database, queue);
      assert.equal(kept.length, 2);
      assert.ok(kept.every((row) => row.failed && row.attempts === 1 && /permanent/.test(row.last_error ?? "")));
      assert.equal(log.messages.length, 2);
      assert.match(log.messages[0], /giving up/);
      assert.deepEqual(await consumer.queue.getDepth(), { queued: 0, ready: 0, delayed: 0 });
    });

    test("a long handler keeps renewing its lease, so no one else gets the message", async () => {
      const queue = queueName();
      const seen: string[] = [];
      const a = consume(database, { queue, visibilityTimeoutSeconds: 1, pollIntervalMs: 100 }, async () => {
        seen.push("a");
        await sleep(2500);
      });
      let b: Consumer | undefined;
      try {
        await a.queue.enqueue({ long: true });
        await waitFor(() => seen.length === 1, 2000, "consumer a to start");
        b = consume(database, { queue, visibilityTimeoutSeconds: 1, pollIntervalMs: 100 }, () => void seen.push("b"));
        await waitFor(async () => (await rows(database, queue)).length === 0, 5000, "the message to be done");
        assert.deepEqual(seen, ["a"]);
      } finally {
        await b?.stop();
        await a.stop();
      }
    });

    test("a message survives a consumer that dies while handling it", async () => {
      const crashDatabase = await createTestDatabase(kind);
      try {
        const databaseA = await crashDatabase.open();
        const logA = warnings();
        let startedA = 0;
        let releaseA!: () => void;
        const hung = new Promise<void>((resolve) => {
          releaseA = resolve;
        });
        const a = consume(databaseA, { queue: "crash", visibilityTimeoutSeconds: 1, logger: logA }, async () => {
          startedA++;
          await hung;
        });
        await a.queue.enqueue({ survivor: true });
        await waitFor(() => startedA === 1, 2000, "consumer a to claim the message");
        // The process "dies": its connection goes, its handler never finishes.
        await databaseA.close();

        const databaseB = await crashDatabase.open();
        try {
          const [claimed] = await rows(databaseB, "crash");
          assert.equal(claimed.attempts, 1);
          const seen: unknown[] = [];
          const claimedAgainAt: number[] = [];
          const b = consume(databaseB, { queue: "crash", visibilityTimeoutSeconds: 1 }, (message) => {
            claimedAgainAt.push(Date.now());
            seen.push(message);
          });
          try {
            await waitFor(() => seen.length === 1, 4000, "consumer b to get the message");
            assert.deepEqual(seen, [{ survivor: true }]);
            await waitFor(async () => (await rows(databaseB, "crash")).length === 0, 1000, "the row to be deleted");
            await sleep(300);
            assert.equal(seen.length, 1);
          } finally {
            await b.stop();
          }
        } finally {
          // Let the dead consumer's loop go; its outcome cannot be recorded.
          releaseA();
          await a.stop();
          await databaseB.close();
        }
        assert.equal(startedA, 1);
        assert.ok(logA.messages.length > 0, "the dead consumer logged its database errors");
      } finally {
        await crashDatabase.drop();
      }
    });

    test("two consumers on separate connections share 200 messages, each handled exactly once", async () => {
      const shared = await createTestDatabase(kind);
      // PGlite is one process's embedded database: there the two consumers
      // share its connection; PostgreSQL gets two separate connection pools.
      const first = await shared.open();
      const second = kind === "postgres" ? await shared.open() : first;
      try {
        const counts = new Map<number, number>();
        const byConsumer = [0, 0];
        const handler = (consumer: number) => async (message: { id: number }) => {
          counts.set(message.id, (counts.get(message.id) ?? 0) + 1);
          byConsumer[consumer]++;
          await sleep(Math.random() * 4);
        };
        const options = { queue: "shared", concurrency: 4, pollIntervalMs: 1000 };
        const a = consume(first, options, handler(0));
        const b = consume(second, options, handler(1));
        try {
          const producer = new DatabaseMessageQueue(first, { queue: "shared" });
          const ids = Array.from({ length: 200 }, (_, i) => i);
          await producer.enqueueMany(ids.slice(0, 100).map((id) => ({ id })));
          for (const id of ids.slice(100)) await producer.enqueue({ id });
          await waitFor(() => counts.size === 200, 15000, "all 200 messages");
          await waitFor(async () => (await rows(first, "shared")).length === 0, 2000, "all rows to be deleted");
          await sleep(200);
          assert.deepEqual([...counts.keys()].sort((x, y) => x - y), ids);
          const duplicates = [...counts].filter(([, n]) => n !== 1);
          assert.deepEqual(duplicates, [], "handled more than once");
          assert.ok(byConsumer[0] > 0 && byConsumer[1] > 0, `split ${byConsumer.join("/")}`);
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
      } finally {
        await first.close();
        if (second !== first) await second.close();
        await shared.drop();
      }
    });

    test("NOTIFY wakes an idle consumer at once", async () => {
      const queue = queueName();
      const other = kind === "postgres" ? await testDatabase.open() : database;
      try {
        const seenAt: number[] = [];
        const consumer = consume(database, { queue, pollIntervalMs: 60_000 }, () => void seenAt.push(Date.now()));
        try {
          await sleep(200);
          const sentAt = Date.now();
          await new DatabaseMessageQueue(other, { queue }).enqueue("wake up");
          // Well before the 60 s poll would have found it.
          await waitFor(() => seenAt.length === 1, 1000, "the notified consumer");
          assert.ok(seenAt[0] - sentAt < 30_000);
        } finally {
          await consumer.stop();
        }
      } finally {
        if (other !== database) await other.close();
      }
    });

    test("an idle consumer does not busy-loop", async () => {
      const queue = queueName();
      const counted = instrumented(database);
      const consumer = consume(counted.database, { queue, pollIntervalMs: 300 }, () => {});
      try {
        await sleep(1000);
      } finally {
        await consumer.stop();
      }
      // About two queries (claim, next due time) per 300 ms poll.
      assert.ok(counted.queries <= 12, `${counted.queries} queries in 1 s of idling`);
      assert.ok(counted.queries >= 1, "never polled");
    });

    test("database errors are logged and the consumer goes on; listen never rejects", async () => {
      const queue = queueName();
      const log = warnings();
      const flaky = instrumented(database);
      flaky.failing = true;
      await new DatabaseMessageQueue(database, { queue }).enqueue({ after: "outage" });
      const seen: unknown[] = [];
      const consumer = consume(flaky.database, { queue, logger: log, pollIntervalMs: 200 }, (m) => void seen.push(m));
      try {
        await sleep(1300);
        assert.deepEqual(seen, []);
        assert.ok(log.messages.length >= 1 && log.messages.length <= 3, `${log.messages.length} warnings`);
        assert.ok(flaky.queries <= 6, `${flaky.queries} failing queries: not backing off`);
        flaky.failing = false;
        await waitFor(() => seen.length === 1, 4000, "the message after the outage");
      } finally {
        await consumer.stop();
      }
      assert.deepEqual(seen, [{ after: "outage" }]);
    });

    test("listen resolves on abort, after the handlers in flight finish", async () => {
      const queue = queueName();
      // Already aborted: resolves at once.
      const aborted = new AbortController();
      aborted.abort();
      await within(new DatabaseMessageQueue(database, { queue }).listen(() => {}, { signal: aborted.signal }), 500, "listen");

      let started = false;
      let finished = false;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const consumer = consume(database, { queue, pollIntervalMs: 60_000 }, async () => {
        started = true;
        await gate;
        finished = true;
      });
      await consumer.queue.enqueue("slow");
      await waitFor(() => started, 2000, "the handler to start");
      // Whether the handler had finished when listen resolved: it must have.
      let finishedWhenResolved: boolean | undefined;
      void consumer.listening.then(() => {
        finishedWhenResolved = finished;
      });
      const stopping = consumer.stop();
      // The handler is let go only after stop() has had time to resolve on
      // its own if it did not wait for it.
      setTimeout(release, 300);
      await stopping;
      assert.equal(finished, true);
      assert.equal(finishedWhenResolved, true, "resolved before the handler finished");
      assert.equal((await rows(database, queue)).length, 0, "the finished message was deleted");

      // An idle consumer stops promptly despite a long poll interval.
      const idle = consume(database, { queue, pollIntervalMs: 60_000 }, () => {});
      await sleep(100);
      const stopAt = Date.now();
      await idle.stop();
      assert.ok(Date.now() - stopAt < 30_000, "waited for the poll interval to stop");
    });
  });
}
