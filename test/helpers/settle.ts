/**
 * Waiting on a promise that may never settle, without letting a test hang:
 * what it settled to (its value, or the error it rejected with), or
 * "waiting" when it has not after `ms`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";

export async function settled<T>(promise: Promise<T>, ms: number): Promise<T | Error | "waiting"> {
  const controller = new AbortController();
  try {
    return await Promise.race([
      promise.catch((error: Error) => error),
      sleep(ms, "waiting" as const, { signal: controller.signal }),
    ]);
  } finally {
    controller.abort();
  }
}

/**
 * How long a test waits for something that is bound to happen (a delivery
 * across two instances, the queue emptying) before it calls it lost. Only
 * a ceiling for a hang: on a machine shared with other work, things a quiet
 * machine does in a second can take tens of seconds, and a test must not
 * fail for that. Within the suite's per-test timeout (180 s).
 */
export const PATIENCE_MS = 120_000;

/**
 * Resolves once the durable queue has nothing left to do now: no message
 * that is due (waiting or being handled) and not given up on. Messages
 * delayed into the future (retries) do not count. After an activity was
 * accepted (202) or something was queued, this is the point from which
 * "nothing happened" can be asserted, with no fixed sleep.
 */
export async function queueSettled(
  core: { database: { query<T>(query: ReturnType<typeof sql>): Promise<T[]> } },
  timeoutMs = PATIENCE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await core.database.query<{ due: number | string }>(
      sql`select count(*) as due from queue_messages where failed_at is null and available_at <= now()`,
    );
    if (Number(row?.due ?? 0) === 0) return;
    if (Date.now() > deadline) throw new Error(`the queue still had ${row?.due} messages due after ${timeoutMs} ms`);
    await sleep(20);
  }
}
