/**
 * Mastodon API: what clients fetch at start-up and on their explore pages,
 * beyond the big resources: custom emojis, announcements, trends, follow
 * suggestions, the profile directory, and the instance's
 * peers, activity, rules, descriptions, policies and moderated servers.
 * Islet has no announcements, custom emojis or rules yet:
 * those answer with empty lists (never a 404, which some clients take for
 * a broken server).
 */
import { createHash } from "node:crypto";
import { Hono, type Context } from "hono";
import { findAccountById, getOwner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import {
  directory,
  dismissSuggestion,
  followSuggestions,
  peerDomains,
  serverDomainBlocks,
  trendingStatuses,
  trendingTags,
  weeklyActivity,
} from "../core/discovery.ts";
import { escapeHtml } from "../text/escape-html.ts";
import { optionalUser, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccount } from "./entities/account.ts";
import { serializeStatuses } from "./entities/status.ts";
import { notFound } from "./errors.ts";
import { pathId, queryParams, read } from "./params.ts";
import { serializeTags } from "./entities/tag.ts";

/** When the text of the privacy policy below last changed. */
const PRIVACY_POLICY_UPDATED_AT = "2025-06-01T00:00:00.000Z";

/** `limit` clamped to 1..max as Mastodon does, and `offset` (at least 0). */
function offsetPage(c: Context, defaultLimit: number, maxLimit: number): { limit: number; offset: number } {
  const params = queryParams(c);
  const limit = read.integer(params, "limit") ?? defaultLimit;
  const offset = read.integer(params, "offset", { min: 0 }) ?? 0;
  return { limit: Math.min(Math.max(limit, 1), maxLimit), offset };
}

async function hostHandle(ctx: CoreContext): Promise<{ handle: string | null; note: string; updatedAt: Date | null }> {
  const owner = await getOwner(ctx);
  if (owner == null) return { handle: null, note: "", updatedAt: null };
  return { handle: `@${owner.account.username}@${ctx.config.localDomain}`, note: owner.account.note, updatedAt: owner.account.updatedAt };
}

function privacyPolicy(host: string, handle: string | null): string {
  const who = handle == null ? "its owner" : escapeHtml(handle);
  return [
    `<p>${escapeHtml(host)} is a single-user fediverse server run by ${who}. This notice says what it keeps and shares.</p>`,
    "<h2>What is kept</h2>",
    "<ul>",
    "<li>The owner's profile, posts, media and settings, and a hashed password.</li>",
    "<li>Public profiles and posts of accounts on other servers that the owner follows or interacts with, as those servers send them.</li>",
    "<li>Follows, favourites, boosts, mentions, reports and other activities addressed to this server.</li>",
    "<li>Technical logs of requests, kept briefly to run and secure the server.</li>",
    "</ul>",
    "<h2>What is shared</h2>",
    "<p>Posts and profile changes are delivered to the servers of their audience, as the fediverse works. Followers-only and direct posts go only to the servers of the accounts that may see them; those servers and their operators can read them.</p>",
    "<p>Nothing is sold or shared with advertisers. Cookies serve only to keep the owner signed in.</p>",
    "<h2>Removal</h2>",
    `<p>To ask for removal of data about you, contact ${who}.</p>`,
  ].join("\n");
}

export function discoveryRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  // --- Custom emojis and announcements: none yet. ---

  app.get("/api/v1/custom_emojis", (c) => c.json([]));

  app.get("/api/v1/announcements", (c) => {
    requireUser(c);
    return c.json([]);
  });

  app.post("/api/v1/announcements/:id/dismiss", (c) => {
    requireUser(c, "write:accounts");
    pathId(c);
    throw notFound();
  });

  for (const method of ["put", "delete"] as const) {
    app[method]("/api/v1/announcements/:id/reactions/:name", (c) => {
      requireUser(c, "write:favourites");
      pathId(c);
      throw notFound();
    });
  }

  // --- Trends, among what this server has seen. ---

  const tagTrends = async (c: Context<ApiEnv>) => {
    const viewerId = optionalUser(c);
    const page = offsetPage(c, 10, 20);
    return c.json(await serializeTags(core, await trendingTags(core, page), viewerId));
  };
  app.get("/api/v1/trends/tags", tagTrends);
  // The name before Mastodon 3.5, still used by some clients.
  app.get("/api/v1/trends", tagTrends);

  app.get("/api/v1/trends/statuses", async (c) => {
    const viewerId = optionalUser(c);
    const page = offsetPage(c, 20, 40);
    return c.json(await serializeStatuses(core, await trendingStatuses(core, page), viewerId));
  });

  app.get("/api/v1/trends/links", (c) => {
    offsetPage(c, 10, 20);
    return c.json([]);
  });

  // --- Follow suggestions: followers the owner does not follow back. ---

  app.get("/api/v2/suggestions", async (c) => {
    const ownerId = requireUser(c, "read");
    const limit = offsetPage(c, 40, 80).limit;
    const suggested = await followSuggestions(core, ownerId, limit);
    return c.json(await Promise.all(suggested.map(async (account) => ({
      source: "past_interactions",
      sources: ["most_interactions"],
      account: await serializeAccount(core, account),
    }))));
  });

  app.get("/api/v1/suggestions", async (c) => {
    const ownerId = requireUser(c, "read");
    const limit = offsetPage(c, 40, 80).limit;
    const suggested = await followSuggestions(core, ownerId, limit);
    return c.json(await Promise.all(suggested.map((account) => serializeAccount(core, account))));
  });

  app.delete("/api/v1/suggestions/:account_id", async (c) => {
    const ownerId = requireUser(c, "read");
    // Mastodon answers {} even for an unknown or malformed id.
    const account = /^\d{1,19}$/.test(c.req.param("account_id")) ? await findAccountById(core, BigInt(c.req.param("account_id"))) : null;
    if (account != null) await dismissSuggestion(core, ownerId, account.id);
    return c.json({});
  });

  // --- The profile directory. ---

  app.get("/api/v1/directory", async (c) => {
    const viewerId = optionalUser(c);
    const params = queryParams(c);
    const { limit, offset } = offsetPage(c, 40, 80);
    const order = read.string(params, "order") === "new" ? "new" : "active";
    const local = read.boolean(params, "local") ?? false;
    const found = await directory(core, { local, order, limit, offset, viewerId });
    return c.json(await Promise.all(found.map((account) => serializeAccount(core, account))));
  });

  // --- The instance, beyond /api/v1/instance and /api/v2/instance. ---

  app.get("/api/v1/instance/peers", async (c) => c.json(await peerDomains(core)));

  app.get("/api/v1/instance/activity", async (c) => {
    const weeks = await weeklyActivity(core);
    return c.json(weeks.map((week) => ({
      week: String(week.week),
      statuses: String(week.statuses),
      logins: String(week.logins),
      registrations: String(week.registrations),
    })));
  });

  app.get("/api/v1/instance/rules", (c) => c.json([]));

  app.get("/api/v1/instance/extended_description", async (c) => {
    const { handle, note, updatedAt } = await hostHandle(core);
    const intro = handle == null
      ? `<p>${escapeHtml(core.config.localDomain)} is a single-user fediverse server.</p>`
      : `<p>${escapeHtml(core.config.localDomain)} is the fediverse home of ${escapeHtml(handle)}.</p>`;
    return c.json({ updated_at: (updatedAt ?? new Date(0)).toISOString(), content: note === "" ? intro : `${intro}\n${note}` });
  });

  app.get("/api/v1/instance/translation_languages", (c) => c.json({}));

  app.get("/api/v1/instance/privacy_policy", async (c) => {
    const { handle } = await hostHandle(core);
    return c.json({ updated_at: PRIVACY_POLICY_UPDATED_AT, content: privacyPolicy(core.config.localDomain, handle) });
  });

  // No terms of service are configured: Mastodon answers 404 then, and
  // /api/v2/instance says `terms_of_service: null`.
  app.get("/api/v1/instance/terms_of_service", () => {
    throw notFound();
  });
  app.get("/api/v1/instance/terms_of_service/:date", () => {
    throw notFound();
  });

  // The servers this one refuses to federate with, in the open. The
  // admin's comment is a private note, so it is not shown.
  app.get("/api/v1/instance/domain_blocks", async (c) => {
    const rows = await serverDomainBlocks(core);
    return c.json(rows.map((row) => ({
      domain: row.domain,
      digest: createHash("sha256").update(row.domain).digest("hex"),
      severity: row.severity,
      comment: null,
    })));
  });

  return app;
}
