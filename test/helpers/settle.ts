/**
 * Waiting on a promise that may never settle, without letting a test hang:
 * what it settled to (its value, or the error it rejected with), or
 * "waiting" when it has not after `ms`.
 */
import { setTimeout as sleep } from "node:timers/promises";

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
