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
 * The query parameters a paginated route reads besides the cursors: only
 * these are carried into its `Link` header, as Mastodon's controllers slice
 * their pagination parameters. Array parameters come as `name[]` or `name`.
 */
const LINKED_PARAMETERS = new Set([
  "limit", "local", "remote", "only_media", "pinned", "exclude_replies", "exclude_reblogs", "tagged",
  "types", "exclude_types", "grouped_types", "account_id", "expand_accounts", "include_filtered", "any", "all", "none",
]);
/** The longest value carried into a link; no parameter above legitimately needs more. */
const MAX_LINKED_VALUE = 200;
/** At most this many values of one array parameter are carried. */
const MAX_LINKED_VALUES = 50;

/**
 * Sets the Link header for a page of items with these cursor IDs, on the
 * canonical origin. The route's own parameters are kept, within bounds
 * (so a huge or unknown parameter cannot swell the response headers); the
 * token never is.
 */
export function setLinkHeader(c: Context, origin: string, ids: readonly bigint[], options: { path?: string } = {}): void {
  if (ids.length === 0) return;
  const url = new URL(c.req.url);
  const base = new URL(options.path ?? url.pathname, origin);
  const counts = new Map<string, number>();
  for (const [key, value] of url.searchParams) {
    const name = key.endsWith("[]") ? key.slice(0, -2) : key;
    if (!LINKED_PARAMETERS.has(name) || value.length > MAX_LINKED_VALUE) continue;
    const count = (counts.get(name) ?? 0) + 1;
    counts.set(name, count);
    if (count <= MAX_LINKED_VALUES) base.searchParams.append(key, value);
  }
  const newest = ids.reduce((a, b) => (a > b ? a : b));
  const oldest = ids.reduce((a, b) => (a < b ? a : b));
  const next = new URL(base);
  next.searchParams.set("max_id", oldest.toString());
  const prev = new URL(base);
  prev.searchParams.set("min_id", newest.toString());
  c.header("Link", `<${next.href}>; rel="next", <${prev.href}>; rel="prev"`);
}
