/**
 * Mastodon API: timelines (home, public, hashtag, list, and the old direct
 * timeline). Each reads a page from src/core/timelines.ts, applies the
 * viewer's filters for its context and answers Status lists with a Link
 * header.
 */
import { Hono, type Context } from "hono";
import type { CoreContext } from "../core/context.ts";
import type { FilterContext } from "../core/filters.ts";
import {
  directTimeline,
  homeTimeline,
  listTimeline,
  loadFilteredPage,
  publicTimeline,
  tagTimeline,
  type PageOptions,
  type StatusRow,
} from "../core/timelines.ts";
import { optionalUser, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeStatuses } from "./entities/status.ts";
import { queryParams, read, pathId, type Params } from "./params.ts";
import { readPage, setLinkHeader } from "./pagination.ts";

/** The viewer of a public timeline: nobody, or a token's owner; a token must carry read:statuses, as on Mastodon. */
function publicViewer(c: Context<ApiEnv>): bigint | null {
  return optionalUser(c, "read:statuses");
}

async function answer(
  c: Context<ApiEnv>,
  core: CoreContext,
  viewerId: bigint | null,
  context: FilterContext | null,
  page: PageOptions,
  load: (page: PageOptions) => Promise<StatusRow[]>,
): Promise<Response> {
  const { rows, filtered } = await loadFilteredPage(core, viewerId, context, page, load);
  const body = await serializeStatuses(core, rows, viewerId, { filtered });
  setLinkHeader(c, core.config.origin, rows.map((row) => row.id));
  return c.json(body);
}

/** The `local`, `remote` and `only_media` switches of the public and tag timelines. */
function readScope(params: Params): { local: boolean; remote: boolean; onlyMedia: boolean } {
  return {
    local: read.boolean(params, "local") ?? false,
    remote: read.boolean(params, "remote") ?? false,
    onlyMedia: read.boolean(params, "only_media") ?? false,
  };
}

export function timelinesRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/timelines/home", async (c) => {
    const ownerId = requireUser(c, "read:statuses");
    const page = readPage(c);
    return await answer(c, core, ownerId, "home", page, (p) => homeTimeline(core, ownerId, p));
  });

  app.get("/api/v1/timelines/public", async (c) => {
    const viewerId = publicViewer(c);
    const options = readScope(queryParams(c));
    const page = readPage(c);
    return await answer(c, core, viewerId, "public", page, (p) => publicTimeline(core, viewerId, options, p));
  });

  app.get("/api/v1/timelines/tag/:hashtag", async (c) => {
    const viewerId = publicViewer(c);
    const params = queryParams(c);
    const options = {
      ...readScope(params),
      any: read.strings(params, "any"),
      all: read.strings(params, "all"),
      none: read.strings(params, "none"),
    };
    const hashtag = c.req.param("hashtag");
    const page = readPage(c);
    return await answer(c, core, viewerId, "public", page, (p) => tagTimeline(core, viewerId, hashtag, options, p));
  });

  app.get("/api/v1/timelines/list/:list_id", async (c) => {
    const ownerId = requireUser(c, "read:lists");
    const listId = pathId(c, "list_id");
    const page = readPage(c);
    return await answer(c, core, ownerId, "home", page, (p) => listTimeline(core, ownerId, listId, p));
  });

  // Statuses linking to a trending article. Islet has no link trends, so
  // there is no trending article to list: Mastodon with trends off answers
  // an empty list too.
  app.get("/api/v1/timelines/link", (c) => {
    requireUser(c, "read:statuses");
    read.string(queryParams(c), "url", { required: true });
    return c.json([]);
  });

  // Removed from Mastodon in 3.0 in favour of conversations; still answered
  // as it was documented, for old clients.
  app.get("/api/v1/timelines/direct", async (c) => {
    const ownerId = requireUser(c, "read:statuses");
    const page = readPage(c);
    return await answer(c, core, ownerId, null, page, (p) => directTimeline(core, ownerId, p));
  });

  return app;
}
