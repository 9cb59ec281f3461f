/**
 * Mastodon API: hashtags. Looking one up, following and featuring it, and
 * the tags the owner follows.
 */
import { Hono } from "hono";
import type { CoreContext } from "../core/context.ts";
import { featureTag, unfeatureTagByName } from "../core/featured-tags.ts";
import { cleanTagName, followTag, getFollowedTags, unfollowTag } from "../core/tag-follows.ts";
import { findTagByName, normalizeTagName, type Tag, type TagDay } from "../core/tags.ts";
import { optionalUser, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeTags, tagUrl, type MastodonTag } from "./entities/tag.ts";
import { notFound } from "./errors.ts";
import { readPage, setLinkHeader } from "./pagination.ts";

/** A week with no use: what a tag not stored yet shows. */
function emptyWeek(now = new Date()): TagDay[] {
  const today = Math.floor(now.getTime() / 86_400_000) * 86_400;
  return Array.from({ length: 7 }, (_, i) => ({ day: String(today - i * 86_400), uses: "0", accounts: "0" }));
}

/**
 * A tag nobody used yet, as Mastodon shows one: no id, no history.
 * Looking a tag up does not store it.
 */
function unknownTag(ctx: CoreContext, name: string, viewerId: bigint | null): MastodonTag {
  return {
    id: "",
    name,
    url: tagUrl(ctx.config.origin, normalizeTagName(name)),
    history: emptyWeek(),
    ...(viewerId == null ? {} : { following: false, featuring: false }),
  };
}

async function tagJson(ctx: CoreContext, tag: Tag | null, name: string, viewerId: bigint | null): Promise<MastodonTag> {
  if (tag == null) return unknownTag(ctx, name, viewerId);
  return (await serializeTags(ctx, [tag], viewerId))[0];
}

/** The valid hashtag named in the path; anything else is a 404, as on Mastodon. */
function pathTagName(name: string | undefined): string {
  const clean = cleanTagName(name ?? "");
  if (clean == null) throw notFound();
  return clean;
}

export function tagsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/tags/:name", async (c) => {
    const viewerId = optionalUser(c);
    const name = pathTagName(c.req.param("name"));
    return c.json(await tagJson(core, await findTagByName(core, name), name, viewerId));
  });

  app.post("/api/v1/tags/:name/follow", async (c) => {
    const viewerId = requireUser(c, "write:follows");
    const name = pathTagName(c.req.param("name"));
    const tag = await followTag(core, viewerId, name);
    return c.json(await tagJson(core, tag, name, viewerId));
  });

  app.post("/api/v1/tags/:name/unfollow", async (c) => {
    const viewerId = requireUser(c, "write:follows");
    const name = pathTagName(c.req.param("name"));
    const tag = await unfollowTag(core, viewerId, name);
    return c.json(await tagJson(core, tag, name, viewerId));
  });

  app.post("/api/v1/tags/:name/feature", async (c) => {
    const viewerId = requireUser(c, "write:accounts");
    const name = pathTagName(c.req.param("name"));
    const featured = await featureTag(core, viewerId, name);
    return c.json(await tagJson(core, featured.tag, name, viewerId));
  });

  app.post("/api/v1/tags/:name/unfeature", async (c) => {
    const viewerId = requireUser(c, "write:accounts");
    const name = pathTagName(c.req.param("name"));
    const tag = await unfeatureTagByName(core, viewerId, name);
    return c.json(await tagJson(core, tag, name, viewerId));
  });

  app.get("/api/v1/followed_tags", async (c) => {
    const viewerId = requireUser(c, "read:follows");
    const page = readPage(c, 100, 200);
    const rows = await getFollowedTags(core, viewerId, page);
    setLinkHeader(c, core.config.origin, rows.map((row) => row.followId));
    return c.json(await serializeTags(core, rows.map((row) => row.tag), viewerId));
  });

  return app;
}
