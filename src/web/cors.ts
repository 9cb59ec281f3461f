/**
 * CORS on the documents any web page may read, as Mastodon sends it:
 * `Access-Control-Allow-Origin: *` without credentials on the well-known
 * documents (WebFinger, host-meta, NodeInfo links) and NodeInfo itself, so
 * a web client running in a browser can discover a server and its owner.
 * The API has its own (src/server.ts); feeds set the header themselves.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/** The paths (Hono patterns) that get {@link publicCors}. */
export const PUBLIC_CORS_PATHS = ["/.well-known/*", "/nodeinfo/*"] as const;

export function publicCors(): MiddlewareHandler {
  return cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"], maxAge: 86_400 });
}
