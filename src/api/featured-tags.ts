/**
 * Mastodon API: featured tags, the hashtags shown on a profile, and
 * suggestions of which to feature.
 */
import { Hono } from "hono";
import type { Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { featureTag, getFeaturedTags, suggestFeaturedTags, unfeatureTag, type FeaturedTagInfo } from "../core/featured-tags.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { bodyParams, pathId, read } from "./params.ts";
import { serializeTags } from "./entities/tag.ts";
import { requireAccount } from "./lookups.ts";

export interface MastodonFeaturedTag {
  id: string;
  name: string;
  url: string;
  statuses_count: string;
  last_status_at: string | null;
}

/** A featured tag; its URL is the account's posts with the tag. */
export function serializeFeaturedTag(ctx: CoreContext, account: Account, featured: FeaturedTagInfo): MastodonFeaturedTag {
  const profile = account.url ?? account.uri ?? `${ctx.config.origin}/@${account.username}`;
  return {
    id: featured.id.toString(),
    name: featured.tag.displayName,
    url: `${profile.replace(/\/+$/, "")}/tagged/${encodeURIComponent(featured.tag.name)}`,
    statuses_count: String(featured.statusesCount),
    last_status_at: featured.lastStatusAt == null ? null : featured.lastStatusAt.toISOString().slice(0, 10),
  };
}

export function featuredTagsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  const owner = (accountId: bigint): Promise<Account> => requireAccount(core, accountId);

  app.get("/api/v1/featured_tags", async (c) => {
    const accountId = requireUser(c, "read:accounts");
    const account = await owner(accountId);
    const rows = await getFeaturedTags(core, accountId);
    return c.json(rows.map((row) => serializeFeaturedTag(core, account, row)));
  });

  app.post("/api/v1/featured_tags", async (c) => {
    const accountId = requireUser(c, "write:accounts");
    const params = await bodyParams(c);
    const name = read.string(params, "name", { required: true, max: 200 })!;
    const featured = await featureTag(core, accountId, name);
    return c.json(serializeFeaturedTag(core, await owner(accountId), featured));
  });

  app.delete("/api/v1/featured_tags/:id", async (c) => {
    const accountId = requireUser(c, "write:accounts");
    await unfeatureTag(core, accountId, pathId(c));
    return c.json({});
  });

  app.get("/api/v1/featured_tags/suggestions", async (c) => {
    const accountId = requireUser(c, "read:accounts");
    return c.json(await serializeTags(core, await suggestFeaturedTags(core, accountId), accountId));
  });

  app.get("/api/v1/accounts/:id/featured_tags", async (c) => {
    const account = await owner(pathId(c));
    const rows = await getFeaturedTags(core, account.id);
    return c.json(rows.map((row) => serializeFeaturedTag(core, account, row)));
  });

  return app;
}
