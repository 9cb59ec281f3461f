/**
 * Fedify's message queue over the `queue_messages` table: durable, delivered
 * at least once, and safe with several processes consuming one PostgreSQL
 * queue (claims use `FOR UPDATE SKIP LOCKED`).
 *
 * A consumer claims a message by taking a lease (`locked_until`) and renews
 * it while the handler runs; the row is deleted only once the handler has
 * resolved. A consumer that dies leaves its lease to run out, and the message
 * is claimed again. A handler that throws puts the message back with an
 * exponential back-off; after `maxAttempts` the row is marked `failed_at` and
 * kept. Consumers wake on NOTIFY `islet_queue` (sent by `enqueue`) and on a
 * timer set to the next due message, at most `pollIntervalMs` away.
 */
import type { MessageQueue, MessageQueueDepth } from "@fedify/fedify";
import { sql, type SQL } from "drizzle-orm";
import type { Database, Unlisten } from "./connect.ts";
import { durationToMilliseconds, type TtlDuration } from "./kv-store.ts";

/** The NOTIFY channel; the payload is the queue's name. */
export const QUEUE_CHANNEL = "islet_queue";

/** The longest retry back-off. */
const MAX_BACKOFF_SECONDS = 6 * 60 * 60;
/** The longest pause after a database error in the consumer loop. */
const MAX_ERROR_PAUSE_MS = 30_000;
/** Rows per INSERT in enqueueMany, well under the bind parameter limit. */
const INSERT_CHUNK = 1000;

export interface QueueLogger {
  warn(message: string, error?: unknown): void;
}

export interface DatabaseMessageQueueOptions {
  /** The queue's name, so several queues can share the table. */
  queue?: string;
  /** How long a claim lasts unless renewed (renewed every third of it). */
  visibilityTimeoutSeconds?: number;
  /** Handlers run at once by one `listen` call. */
  concurrency?: number;
  /** The longest sleep between looks at the table when nothing wakes it. */
  pollIntervalMs?: number;
  /** Attempts before a message is marked failed. */
  maxAttempts?: number;
  logger?: QueueLogger;
}

export interface DatabaseMessageQueueEnqueueOptions {
  readonly delay?: TtlDuration;
  readonly orderingKey?: string;
}

export interface DatabaseMessageQueueListenOptions {
  signal?: AbortSignal;
}

/** A claimed row. */
interface Claimed {
  id: string;
  payload: string;
  attempts: number;
  ordering_key: string | null;
}

/**
 * The back-off before retry number `attempts + 1`: 2^attempts seconds, at
 * most six hours, with "equal jitter" (between half and all of it).
 */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(2 ** Math.max(attempts, 0), MAX_BACKOFF_SECONDS);
  return base / 2 + (random() * base) / 2;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}

function seconds(value: number): SQL {
  return sql`make_interval(secs => ${value}::double precision)`;
}

/** Wakes the consumer loop; a wake-up that comes early is not lost. */
class Wakeup {
  #pending = false;
  #resolve: (() => void) | null = null;

  wake(): void {
    this.#pending = true;
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.();
  }

  /** Forgets earlier wake-ups: call before looking at the table. */
  reset(): void {
    this.#pending = false;
  }

  /** Sleeps `ms`, or less if woken. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.#resolve === done) this.#resolve = null;
        this.#pending = false;
        resolve();
      };
      timer = setTimeout(done, Math.max(0, ms));
      this.#resolve = done;
    });
  }
}

/** Sleeps `ms`, or less if the signal aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class DatabaseMessageQueue implements MessageQueue {
  /** Fedify retries failed deliveries itself. */
  readonly nativeRetrial = false;
  readonly queueName: string;
  readonly #database: Database;
  readonly #visibilityTimeoutSeconds: number;
  readonly #concurrency: number;
  readonly #pollIntervalMs: number;
  readonly #maxAttempts: number;
  readonly #logger: QueueLogger;

  constructor(database: Database, options: DatabaseMessageQueueOptions = {}) {
    this.#database = database;
    this.queueName = options.queue ?? "default";
    this.#visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 60;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
    this.#pollIntervalMs = options.pollIntervalMs ?? 5000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 20);
    this.#logger = options.logger ?? {
      warn: (message, error) => error === undefined ? console.warn(message) : console.warn(message, error),
    };
    if (!(this.#visibilityTimeoutSeconds > 0)) throw new RangeError("visibilityTimeoutSeconds must be positive");
    if (!(this.#pollIntervalMs > 0)) throw new RangeError("pollIntervalMs must be positive");
  }

  async enqueue(message: unknown, options?: DatabaseMessageQueueEnqueueOptions): Promise<void> {
    await this.enqueueMany([message], options);
  }

  async enqueueMany(messages: readonly unknown[], options?: DatabaseMessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return;
    const delayMs = options?.delay == null ? 0 : durationToMilliseconds(options.delay);
    if (!(delayMs >= 0)) throw new RangeError("the delay must not be negative");
    const payloads = messages.map((message) => {
      const json = JSON.stringify(message);
      if (json === undefined) throw new TypeError("a queue message must be serializable as JSON");
      return json;
    });
    const availableAt = delayMs > 0 ? sql`now() + ${seconds(delayMs / 1000)}` : sql`now()`;
    const orderingKey = options?.orderingKey ?? null;
    for (let start = 0; start < payloads.length; start += INSERT_CHUNK) {
      const rows = payloads.slice(start, start + INSERT_CHUNK).map(
        (payload) => sql`(${this.queueName}::text, ${payload}::jsonb, ${orderingKey}::text, ${availableAt})`,
      );
      await this.#database.query(sql`
        INSERT INTO queue_messages (queue, payload, ordering_key, available_at) VALUES ${sql.join(rows, sql`, `)}
      `);
    }
    await this.#notify();
  }

  /** Counts unfailed messages not currently held by a consumer. */
  async getDepth(): Promise<MessageQueueDepth> {
    const rows = await this.#database.query<{ queued: number; ready: number; delayed: number }>(sql`
      SELECT count(*)::int AS queued,
             count(*) FILTER (WHERE available_at <= now())::int AS ready,
             count(*) FILTER (WHERE available_at > now())::int AS delayed
      FROM queue_messages
      WHERE queue = ${this.queueName} AND failed_at IS NULL AND (locked_until IS NULL OR locked_until < now())
    `);
    const row = rows[0];
    return { queued: Number(row?.queued ?? 0), ready: Number(row?.ready ?? 0), delayed: Number(row?.delayed ?? 0) };
  }

  /**
   * Consumes messages until `signal` aborts, then waits for the handlers in
   * flight and resolves. Never rejects: database errors are logged and the
   * loop pauses and goes on.
   */
  async listen(
    handler: (message: any) => Promise<void> | void,
    options: DatabaseMessageQueueListenOptions = {},
  ): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return;
    const wakeup = new Wakeup();
    const onAbort = () => wakeup.wake();
    signal?.addEventListener("abort", onAbort, { once: true });
    const active = new Set<Promise<void>>();
    let unlisten: Unlisten | null = null;
    let listenFailed = false;
    let errorPause = 0;
    try {
      while (!signal?.aborted) {
        if (unlisten == null) {
          try {
            unlisten = await this.#database.listen(QUEUE_CHANNEL, (payload) => {
              if (payload === this.queueName || payload === "") wakeup.wake();
            });
            listenFailed = false;
          } catch (error) {
            // Polling still works; try again on the next round.
            if (!listenFailed) this.#logger.warn(`queue ${this.queueName}: cannot LISTEN, polling only`, error);
            listenFailed = true;
          }
        }
        try {
          wakeup.reset();
          while (active.size < this.#concurrency && !signal?.aborted) {
            const message = await this.#claim();
            if (message == null) break;
            if (signal?.aborted) {
              await this.#release(message);
              break;
            }
            const task: Promise<void> = this.#run(message, handler).finally(() => {
              active.delete(task);
              wakeup.wake();
            });
            active.add(task);
          }
          if (signal?.aborted) break;
          let sleep = this.#pollIntervalMs;
          if (active.size < this.#concurrency) {
            const due = await this.#nextDueMs();
            if (due != null) sleep = Math.min(sleep, due);
          }
          errorPause = 0;
          await wakeup.wait(sleep);
        } catch (error) {
          errorPause = errorPause === 0 ? 1000 : Math.min(errorPause * 2, MAX_ERROR_PAUSE_MS);
          this.#logger.warn(
            `queue ${this.queueName}: database error; trying again in ${errorPause / 1000} s`,
            error,
          );
          await pause(errorPause, signal);
        }
      }
    } catch (error) {
      // Not expected; listen must not reject all the same.
      this.#logger.warn(`queue ${this.queueName}: consumer stopped`, error);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await Promise.allSettled([...active]);
      if (unlisten != null) await unlisten().catch(() => {});
    }
  }

  /** Claims the next claimable message, or returns null. */
  async #claim(): Promise<Claimed | null> {
    const rows = await this.#database.query<Claimed>(sql`
      UPDATE queue_messages
      SET locked_until = now() + ${seconds(this.#visibilityTimeoutSeconds)}, attempts = attempts + 1
      WHERE id = (
        SELECT m.id FROM queue_messages m
        WHERE m.queue = ${this.queueName}
          AND m.failed_at IS NULL
          AND m.available_at <= now()
          AND (m.locked_until IS NULL OR m.locked_until < now())
          AND (m.ordering_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM queue_messages o
            WHERE o.ordering_key = m.ordering_key AND o.queue = m.queue AND o.id < m.id AND o.failed_at IS NULL
          ))
        ORDER BY m.available_at, m.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id::text AS id, payload::text AS payload, attempts, ordering_key
    `);
    const row = rows[0];
    return row == null ? null : { ...row, attempts: Number(row.attempts) };
  }

  /** Milliseconds until a message may become claimable, if any is pending. */
  async #nextDueMs(): Promise<number | null> {
    const rows = await this.#database.query<{ ms: number | null }>(sql`
      SELECT (extract(epoch FROM (min(t) - now())) * 1000)::float8 AS ms FROM (
        SELECT min(available_at) AS t FROM queue_messages
        WHERE queue = ${this.queueName} AND failed_at IS NULL AND available_at > now()
        UNION ALL
        SELECT min(locked_until) FROM queue_messages
        WHERE queue = ${this.queueName} AND failed_at IS NULL AND locked_until > now()
      ) due
    `);
    const ms = rows[0]?.ms;
    return ms == null ? null : Math.max(0, Math.ceil(Number(ms)));
  }

  async #run(message: Claimed, handler: (message: any) => Promise<void> | void): Promise<void> {
    try {
      if (message.attempts > this.#maxAttempts) {
        // Claimed again and again without an outcome: its consumers died.
        await this.#fail(message, `abandoned after ${message.attempts - 1} claims that never finished`, true);
        return;
      }
      let renewing = false;
      const renew = setInterval(() => {
        if (renewing) return;
        renewing = true;
        this.#renew(message)
          .catch((error) => this.#logger.warn(`queue ${this.queueName}: cannot renew the lease of message ${message.id}`, error))
          .finally(() => {
            renewing = false;
          });
      }, Math.max(50, (this.#visibilityTimeoutSeconds * 1000) / 3));
      let failure: { error: unknown } | null = null;
      try {
        await handler(JSON.parse(message.payload));
      } catch (error) {
        failure = { error };
      } finally {
        clearInterval(renew);
      }
      if (failure == null) {
        await this.#database.query(sql`DELETE FROM queue_messages WHERE id = ${message.id}::bigint`);
        // Its successors with the same key may now run, perhaps elsewhere.
        if (message.ordering_key != null) await this.#notify();
      } else {
        await this.#fail(message, failure.error, message.attempts >= this.#maxAttempts);
      }
    } catch (error) {
      // The lease runs out and the message is handed out again.
      this.#logger.warn(`queue ${this.queueName}: cannot record the outcome of message ${message.id}`, error);
    }
  }

  /** Extends the lease, unless another consumer has claimed it since. */
  async #renew(message: Claimed): Promise<void> {
    await this.#database.query(sql`
      UPDATE queue_messages SET locked_until = now() + ${seconds(this.#visibilityTimeoutSeconds)}
      WHERE id = ${message.id}::bigint AND attempts = ${message.attempts}::int AND failed_at IS NULL
    `);
  }

  /** Schedules a retry, or marks the message failed for good. */
  async #fail(message: Claimed, error: unknown, final: boolean): Promise<void> {
    const lastError = typeof error === "string" ? error : describeError(error);
    const mine = sql`id = ${message.id}::bigint AND attempts = ${message.attempts}::int`;
    if (final) {
      await this.#database.query(sql`
        UPDATE queue_messages SET failed_at = now(), locked_until = NULL, last_error = ${lastError}::text
        WHERE ${mine}
      `);
      this.#logger.warn(
        `queue ${this.queueName}: message ${message.id} failed after ${message.attempts} attempts; ` +
          "giving up (kept with failed_at set)",
        error,
      );
      await this.#notify();
      return;
    }
    const delay = retryDelaySeconds(message.attempts);
    await this.#database.query(sql`
      UPDATE queue_messages
      SET available_at = now() + ${seconds(delay)}, locked_until = NULL, last_error = ${lastError}::text
      WHERE ${mine}
    `);
    await this.#notify();
  }

  /** Gives back a message claimed while stopping. */
  async #release(message: Claimed): Promise<void> {
    try {
      await this.#database.query(sql`
        UPDATE queue_messages SET locked_until = NULL, attempts = attempts - 1
        WHERE id = ${message.id}::bigint AND attempts = ${message.attempts}::int
      `);
    } catch (error) {
      this.#logger.warn(`queue ${this.queueName}: cannot release message ${message.id}`, error);
    }
  }

  async #notify(): Promise<void> {
    try {
      await this.#database.notify(QUEUE_CHANNEL, this.queueName);
    } catch (error) {
      // Consumers still find the message when they next poll.
      this.#logger.warn(`queue ${this.queueName}: NOTIFY failed`, error);
    }
  }
}
