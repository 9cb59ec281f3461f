/**
 * Mastodon-style errors: `{"error": "..."}` with the status Mastodon uses.
 * Handlers throw ApiError; the app turns it (and CoreError) into a response.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CoreError } from "../core/context.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { MediaStorageError } from "../media/errors.ts";

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly description?: string;
  constructor(status: ContentfulStatusCode, message: string, description?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.description = description;
  }
}

export const notFound = (what = "Record not found") => new ApiError(404, what);
export const unprocessable = (message: string) => new ApiError(422, `Validation failed: ${message}`);
export const forbidden = (message = "This action is not allowed") => new ApiError(403, message);

const CORE_STATUS: Record<CoreError["code"], ContentfulStatusCode> = {
  not_found: 404,
  conflict: 422,
  invalid: 422,
  forbidden: 403,
};

/** The response for an error thrown by a handler, or null if it is not ours. */
export function errorResponse(c: Context, error: unknown): Response | null {
  if (error instanceof ApiError) {
    const body: Record<string, string> = { error: error.message };
    if (error.description != null) body.error_description = error.description;
    return c.json(body, error.status);
  }
  if (error instanceof CoreError) {
    const message = error.code === "invalid" ? `Validation failed: ${error.message}` : error.message;
    return c.json({ error: message }, CORE_STATUS[error.code]);
  }
  // The database is down or restarting: the request may be repeated.
  if (isDatabaseUnavailable(error)) {
    c.header("Retry-After", "5");
    return c.json({ error: "Service unavailable: the database cannot be reached; try again shortly" }, 503);
  }
  // PostgreSQL refused a value from the request (SQLSTATE class 22: a NUL
  // character in text, a number out of range, a malformed date).
  if (isDataException(error)) {
    return c.json({ error: "Validation failed: the request contains a value that cannot be stored" }, 422);
  }
  // The media store (an S3 bucket) refused or could not be reached.
  if (error instanceof MediaStorageError) {
    c.header("Retry-After", "30");
    return c.json({ error: `Service unavailable: ${error.message}` }, 503);
  }
  // The disk holding DATA_DIR is full (an upload, the embedded database).
  if (isNoSpace(error)) {
    return c.json({ error: "Insufficient storage: the server's disk is full" }, 507);
  }
  // An inbox POST fails before its activity is queued only while the
  // payload is parsed, expanded as JSON-LD or its signature checked: a
  // malformed date, context or signature, or nesting too deep to expand.
  // That is the sender's fault, as Mastodon answers it.
  if (c.req.method === "POST" && INBOX_PATH.test(c.req.path)) {
    return c.json({ error: "The activity could not be read" }, 400);
  }
  return null;
}

/** The personal and the shared inbox. */
const INBOX_PATH = /^\/(users\/[^/]+\/)?inbox\/?$/;

/** True when `error` or an error it wraps is a PostgreSQL data exception (SQLSTATE 22xxx). */
function isDataException(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current != null && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^22[0-9A-Z]{3}$/.test(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True when `error` or an error it wraps is ENOSPC or EDQUOT. */
function isNoSpace(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current != null && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
