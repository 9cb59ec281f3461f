/**
 * Mastodon API: the owner's bookmarks and favourites, most recently saved
 * first, paged by the id of the bookmark or favourite.
 */
import { Hono, type Context } from "hono";
import { savedStatuses } from "../core/timelines.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeStatuses } from "./entities/status.ts";
import { readPage } from "./pagination.ts";

/**
 * The Link header of lists paged by cursors that are not the items' ids
 * (bookmarks, favourites, conversations), as Mastodon writes it: `next`
 * only when the page is full, `prev` unless it is empty; of the request's
 * parameters only `limit` is carried over.
 */
export function setCursorLinkHeader(
  c: Context,
  origin: string,
  cursors: { newest: bigint; oldest: bigint } | null,
  pageIsFull: boolean,
): void {
  if (cursors == null) return;
  const base = new URL(new URL(c.req.url).pathname, origin);
  const limit = c.req.query("limit");
  if (limit != null && limit !== "") base.searchParams.set("limit", limit);
  const links: string[] = [];
  if (pageIsFull) {
    const next = new URL(base);
    next.searchParams.set("max_id", cursors.oldest.toString());
    links.push(`<${next.href}>; rel="next"`);
  }
  const prev = new URL(base);
  prev.searchParams.set("min_id", cursors.newest.toString());
  links.push(`<${prev.href}>; rel="prev"`);
  c.header("Link", links.join(", "));
}

export function savedRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  for (const kind of ["bookmarks", "favourites"] as const) {
    app.get(`/api/v1/${kind}`, async (c) => {
      const ownerId = requireUser(c, `read:${kind}`);
      const page = readPage(c);
      const saved = await savedStatuses(core, ownerId, kind, page);
      const body = await serializeStatuses(core, saved.map((item) => item.status), ownerId);
      setCursorLinkHeader(
        c,
        core.config.origin,
        saved.length === 0 ? null : { newest: saved[0].cursor, oldest: saved[saved.length - 1].cursor },
        saved.length === page.limit,
      );
      return c.json(body);
    });
  }

  return app;
}
