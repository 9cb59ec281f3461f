/**
 * Mastodon's pagination: `max_id`, `since_id`, `min_id` and `limit` in,
 * a `Link` header with `next` (older) and `prev` (newer) out.
 */
import type { Context } from "hono";
import { parseId } from "../core/ids.ts";
import { unprocessable } from "./errors.ts";

export interface Page {
  /** Items older than this. */
  maxId?: bigint;
  /** Items newer than this, newest first. */
  sinceId?: bigint;
  /** Items newer than this, the oldest of them first (paging forward). */
  minId?: bigint;
  limit: number;
}

/** Reads the page parameters; `limit` is clamped to 1..max as Mastodon does. */
export function readPage(c: Context, defaultLimit = 20, maxLimit = 40): Page {
  const page: Page = { limit: defaultLimit };
  for (const [name, key] of [["max_id", "maxId"], ["since_id", "sinceId"], ["min_id", "minId"]] as const) {
    const raw = c.req.query(name);
    if (raw == null || raw === "") continue;
    const id = parseId(raw);
    // Mastodon ignores cursors it cannot parse rather than failing.
    if (id != null) page[key] = id;
  }
  const limit = c.req.query("limit");
  if (limit != null && limit !== "") {
    if (!/^-?\d+$/.test(limit)) throw unprocessable("limit must be a whole number");
    page.limit = Math.min(Math.max(Number(limit), 1), maxLimit);
  }
  return page;
}

/**
 * Sets the Link header for a page of items with these cursor IDs, on the
 * canonical origin. Other query parameters of the request are kept.
 */
export function setLinkHeader(c: Context, origin: string, ids: readonly bigint[], options: { path?: string } = {}): void {
  if (ids.length === 0) return;
  const url = new URL(c.req.url);
  const base = new URL(options.path ?? url.pathname, origin);
  for (const [key, value] of url.searchParams) {
    // The token never goes into a link a client may log or share.
    if (!["max_id", "since_id", "min_id", "access_token"].includes(key)) base.searchParams.append(key, value);
  }
  const newest = ids.reduce((a, b) => (a > b ? a : b));
  const oldest = ids.reduce((a, b) => (a < b ? a : b));
  const next = new URL(base);
  next.searchParams.set("max_id", oldest.toString());
  const prev = new URL(base);
  prev.searchParams.set("min_id", newest.toString());
  c.header("Link", `<${next.href}>; rel="next", <${prev.href}>; rel="prev"`);
}
