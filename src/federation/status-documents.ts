/**
 * The owner's public posts as ActivityPub documents at their IRIs, so that
 * other servers can fetch a post they were told about (a boost, a reply,
 * a search by URL). Followers-only and direct posts are not served.
 */
import type { Federation } from "@fedify/fedify";
import { Hono } from "hono";
import type { CoreContext } from "../core/context.ts";
import { parseId } from "../core/ids.ts";
import { mayFetch } from "./authorized-fetch.ts";
import { createOf } from "./collections.ts";
import { prefersActivityJson } from "./activity-accept.ts";
import { loadFederatedStatus, objectFromStatus } from "./objects.ts";

/**
 * The document of the owner's post `id` (its Create with `activity`) as
 * `request` asks for it: 404 unless public or unlisted, 401 for an unsigned
 * request under AUTHORIZED_FETCH. The signature is checked against the URL
 * the request was sent to (its path on the canonical origin), so the post's
 * IRI and its page URL (`/@owner/ID`) both work.
 */
export async function statusDocument(
  federation: Federation<void>,
  core: CoreContext,
  request: Request,
  username: string,
  rawId: string,
  activity = false,
): Promise<Response> {
  const headers = { "Content-Type": "application/activity+json", Vary: "Accept" };
  const url = new URL(request.url);
  const canonical = new Request(new URL(`${url.pathname}${url.search}`, core.config.origin), { method: request.method, headers: request.headers });
  if (!(await mayFetch(core, federation.createContext(canonical, undefined)))) {
    return new Response(JSON.stringify({ error: "Request not signed" }), { status: 401, headers });
  }
  const id = parseId(rawId);
  const data = id == null ? null : await loadFederatedStatus(core, id);
  if (
    data == null || data.author.domain != null || data.author.username !== username ||
    data.status.reblogOfId != null || (data.status.visibility !== "public" && data.status.visibility !== "unlisted")
  ) {
    return new Response(JSON.stringify({ error: "Record not found" }), { status: 404, headers });
  }
  const ctx = federation.createContext(new URL(core.config.origin), undefined);
  const object = objectFromStatus(ctx, data);
  const document = activity ? createOf(ctx, data.author.username, object) : object;
  const json = await document.toJsonLd({ contextLoader: ctx.contextLoader, format: "compact" });
  return new Response(JSON.stringify(json), { status: 200, headers });
}

export function statusDocumentRoutes(federation: Federation<void>, core: CoreContext): Hono {
  const app = new Hono();
  const serve = (activity: boolean) => async (c: import("hono").Context) => {
    const username = c.req.param("username")!;
    const id = c.req.param("id")!;
    // A browser is sent to the post's page, as Mastodon does.
    if (!prefersActivityJson(c.req.header("Accept"))) {
      c.header("Vary", "Accept");
      return c.redirect(`/@${encodeURIComponent(username)}/${encodeURIComponent(id)}`, 302);
    }
    return await statusDocument(federation, core, c.req.raw, username, id, activity);
  };
  app.get("/users/:username/statuses/:id", serve(false));
  app.get("/users/:username/statuses/:id/activity", serve(true));
  return app;
}
