/**
 * A guard for one fault of the PostgreSQL driver. postgres.js 3.4.9 may
 * write to a connection's socket from a setImmediate after the connection
 * closed and dropped its socket (porsager/postgres#1154, #1066): a
 * TypeError thrown from a timer, which no caller can catch and which would
 * end the process whenever the database connection drops under load. By
 * then the driver has already failed that connection's queries with
 * CONNECTION_CLOSED, so the buffered write has nobody waiting for it.
 * (That holds for pooled connections; Islet reserves none.) The guard
 * drops exactly that error with a warning; any other uncaught exception
 * still ends the process, as it would without it.
 */
import type { Logger } from "../log.ts";

/** Whether `error` is the driver writing to a socket its connection already closed. */
export function isClosedSocketWrite(error: unknown): boolean {
  return error instanceof TypeError &&
    /\(reading 'write'\)/.test(error.message) &&
    /\bnextWrite\b/.test(error.stack ?? "");
}

/** Installs the guard for this process; returns a function that removes it. */
export function guardDriverFaults(log: Logger): () => void {
  const onUncaught = (error: unknown) => {
    if (isClosedSocketWrite(error)) {
      log.warn("database: dropped a write to a connection that had just closed (its queries were already failed)");
      return;
    }
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", onUncaught);
  return () => process.off("uncaughtException", onUncaught);
}
