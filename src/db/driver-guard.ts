/**
 * A guard for one fault of the PostgreSQL driver. postgres.js 3.4.9 may
 * write to a connection's socket from a setImmediate after the connection
 * closed and dropped its socket (porsager/postgres#1154, #1066): a
 * TypeError thrown from a timer, which no caller can catch and which would
 * end the process whenever the database connection drops under load.
 * scripts/patch-dependencies.js fixes the driver at install time (the
 * waiting queries are failed with CONNECTION_CLOSED); this guard is for an
 * install where that fix could not be applied: it drops exactly that
 * error with a warning, and any other uncaught exception still ends the
 * process, as it would without it.
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
