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
import { loadFederatedStatus, objectFromStatus } from "./objects.ts";

const ACTIVITY_TYPES = /application\/(activity\+json|ld\+json)/;

export function statusDocumentRoutes(federation: Federation<void>, core: CoreContext): Hono {
  const app = new Hono();
  const serve = (activity: boolean, page = false) => async (c: import("hono").Context, next: () => Promise<void>) => {
    const username = (page ? c.req.param("handle")?.slice(1) : c.req.param("username")) ?? "";
    if (!ACTIVITY_TYPES.test(c.req.header("Accept") ?? "")) {
      // The post's page is someone else's to answer.
      if (page) return await next();
      const id = c.req.param("id");
      return c.redirect(`/@${username}/${id}`, 302);
    }
    // Under AUTHORIZED_FETCH only signed requests read posts; the signature
    // covers the URL as the sender addressed it, on the canonical origin.
    const url = new URL(c.req.url);
    const canonical = new Request(new URL(`${url.pathname}${url.search}`, core.config.origin), { method: c.req.method, headers: c.req.raw.headers });
    if (!(await mayFetch(core, federation.createContext(canonical, undefined)))) {
      return c.json({ error: "Request not signed" }, 401);
    }
    const id = parseId(c.req.param("id"));
    const data = id == null ? null : await loadFederatedStatus(core, id);
    if (
      data == null || data.author.domain != null || data.author.username !== username ||
      data.status.reblogOfId != null || (data.status.visibility !== "public" && data.status.visibility !== "unlisted")
    ) {
      return c.json({ error: "Record not found" }, 404);
    }
    const ctx = federation.createContext(new URL(core.config.origin), undefined);
    const object = objectFromStatus(ctx, data);
    const document = activity ? createOf(ctx, data.author.username, object) : object;
    const json = await document.toJsonLd({ contextLoader: ctx.contextLoader, format: "compact" });
    return c.body(JSON.stringify(json), 200, { "Content-Type": "application/activity+json", Vary: "Accept" });
  };
  app.get("/users/:username/statuses/:id", serve(false));
  app.get("/users/:username/statuses/:id/activity", serve(true));
  // Mastodon answers its post pages' URLs with the post too when asked for
  // ActivityPub, and other servers look posts up by those URLs.
  app.get("/:handle{@[^/]+}/:id{[0-9]+}", serve(false, true));
  return app;
}
