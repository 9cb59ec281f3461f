/**
 * Named job queues over the shared queue table (mail, Web Push, ...): the
 * same durable DatabaseMessageQueue Fedify runs on, with each queue's own
 * attempts, lease and concurrency, and its log lines prefixed by its name.
 */
import type { Logger } from "../log.ts";
import type { Database } from "./connect.ts";
import { DatabaseMessageQueue } from "./message-queue.ts";

/** What a job's producer and worker need of a queue: DatabaseMessageQueue fits. */
export interface JobQueue {
  enqueue(message: unknown): Promise<void>;
  listen(handler: (message: unknown) => Promise<void>, options: { signal?: AbortSignal }): Promise<void>;
}

/** Settings a caller (a test, say) may override. */
export interface JobQueueOptions {
  maxAttempts?: number;
  visibilityTimeoutSeconds?: number;
  /** The longest sleep between looks at the table. */
  pollIntervalMs?: number;
  log?: Logger;
}

/** A queue's own defaults. */
export interface JobQueueDefaults {
  /** The queue's name in the table, also the prefix of its log lines. */
  name: string;
  maxAttempts: number;
  /** How long one job may take before another worker may claim it. */
  visibilityTimeoutSeconds: number;
  concurrency: number;
}

export function createJobQueue(database: Database, defaults: JobQueueDefaults, options: JobQueueOptions = {}): DatabaseMessageQueue {
  const log = options.log;
  const name = defaults.name;
  return new DatabaseMessageQueue(database, {
    queue: name,
    maxAttempts: options.maxAttempts ?? defaults.maxAttempts,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? defaults.visibilityTimeoutSeconds,
    pollIntervalMs: options.pollIntervalMs,
    concurrency: defaults.concurrency,
    logger: {
      warn: (message, error) => {
        if (log == null) console.warn(`${name}: ${message}`, error ?? "");
        else if (/giving up/.test(message)) log.error(`${name}: ${message}`, error);
        else log.warn(`${name}: ${message}`, error);
      },
    },
  });
}
