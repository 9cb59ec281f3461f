/** The database could not be opened or used; the message says why. */
export class DatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseError";
  }
}

/**
 * Error codes meaning "the database is not reachable right now", as opposed
 * to a query it refused: postgres.js's connection codes, the socket errors
 * under them, and PostgreSQL's connection-exception and shutdown SQLSTATEs.
 */
const UNAVAILABLE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/**
 * True when `error`, or an error it wraps (Drizzle wraps the driver's in
 * `cause`), says the database server cannot be reached: worth a 503 and a
 * retry, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailableCode(error) != null;
}

/** The code that makes {@link isDatabaseUnavailable} true (ECONNREFUSED, CONNECT_TIMEOUT…), or null. */
export function unavailableCode(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current != null && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08"))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
