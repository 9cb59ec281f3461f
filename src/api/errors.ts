/**
 * Mastodon-style errors: `{"error": "..."}` with the status Mastodon uses.
 * Handlers throw ApiError; the app turns it (and CoreError) into a response.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CoreError } from "../core/context.ts";

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
  return null;
}
