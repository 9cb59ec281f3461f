/**
 * Caching headers for the public pages and feeds: an ETag that is a hash of
 * the body, and a Last-Modified that is when this process first served that
 * body at that address (so it changes whenever anything on the page does,
 * counts included). A request whose If-None-Match names the current ETag,
 * or (without If-None-Match) whose If-Modified-Since is not older than
 * Last-Modified, gets 304 with no body.
 */
import { createHash } from "node:crypto";
import type { Context } from "hono";

/** How many addresses keep their first-served time; the oldest are forgotten first. */
const REMEMBERED = 2_000;

export class ConditionalResponder {
  readonly #firstServed = new Map<string, { etag: string; at: Date }>();

  #lastModified(key: string, etag: string): Date {
    const known = this.#firstServed.get(key);
    if (known != null && known.etag === etag) return known.at;
    // Whole seconds: HTTP dates have no finer grain.
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    this.#firstServed.delete(key);
    this.#firstServed.set(key, { etag, at });
    if (this.#firstServed.size > REMEMBERED) this.#firstServed.delete(this.#firstServed.keys().next().value!);
    return at;
  }

  /**
   * Answers `body` with `headers` (Content-Type, Cache-Control, ...), or 304
   * when the request's validators match. `status` other than 200 is sent
   * as it is, without validators.
   */
  respond(c: Context, body: string, headers: Record<string, string>, status: 200 | 404 = 200): Response {
    if (status !== 200) return c.body(body, status, headers);
    const etag = `W/"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const url = new URL(c.req.url);
    const lastModified = this.#lastModified(`${url.pathname}${url.search}`, etag);
    const validators = { ETag: etag, "Last-Modified": lastModified.toUTCString() };
    const ifNoneMatch = c.req.header("If-None-Match");
    const ifModifiedSince = c.req.header("If-Modified-Since");
    let fresh = false;
    if (ifNoneMatch != null) {
      const tags = ifNoneMatch.split(",").map((tag) => tag.trim().replace(/^W\//, ""));
      fresh = tags.includes("*") || tags.includes(etag.replace(/^W\//, ""));
    } else if (ifModifiedSince != null) {
      const since = Date.parse(ifModifiedSince);
      fresh = !Number.isNaN(since) && since >= lastModified.getTime();
    }
    if (fresh) {
      const kept: Record<string, string> = { ...validators };
      if (headers["Cache-Control"] != null) kept["Cache-Control"] = headers["Cache-Control"];
      if (headers.Vary != null) kept.Vary = headers.Vary;
      return c.body(null, 304, kept);
    }
    return c.body(body, 200, { ...headers, ...validators });
  }
}
