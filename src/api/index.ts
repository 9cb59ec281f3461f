/**
 * The Mastodon client API: every router, behind token authentication.
 * Routers translate requests into core calls; the rules live in src/core.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { authenticate, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { instanceRoutes } from "./instance.ts";
import { oauthRoutes } from "./oauth.ts";
import { accountsRoutes } from "./accounts.ts";
import { searchRoutes } from "./search.ts";
import { notificationsRoutes } from "./notifications.ts";
import { markersRoutes } from "./markers.ts";
import { statusesRoutes } from "./statuses.ts";
import { pollsRoutes } from "./polls.ts";
import { scheduledStatusesRoutes } from "./scheduled-statuses.ts";
import { timelinesRoutes } from "./timelines.ts";
import { filtersRoutes } from "./filters.ts";
import { conversationsRoutes } from "./conversations.ts";
import { savedRoutes } from "./saved.ts";
import { mediaRoutes } from "./media.ts";
import { listsRoutes } from "./lists.ts";
import { preferencesRoutes } from "./preferences.ts";
import { tagsRoutes } from "./tags.ts";
import { discoveryRoutes } from "./discovery.ts";
import { endorsementsRoutes } from "./endorsements.ts";
import { featuredTagsRoutes } from "./featured-tags.ts";
import { domainBlocksRoutes } from "./domain-blocks.ts";
import { reportsRoutes } from "./reports.ts";
import { pushRoutes } from "./push.ts";

/** Uploads stream to disk under their own limits; other bodies are small. */
const UPLOAD_PATHS = /^\/api\/v[12]\/media(\/|$)/;
const PROFILE_PATHS = new Set(["/api/v1/accounts/update_credentials", "/api/v1/profile"]);

function limitBodies(): MiddlewareHandler {
  const tooLarge = (c: Parameters<MiddlewareHandler>[0]) => c.json({ error: "The request body is too large" }, 413);
  const small = bodyLimit({ maxSize: 1024 * 1024, onError: tooLarge });
  // Avatar and header images ride in the profile update.
  const profile = bodyLimit({ maxSize: 40 * 1024 * 1024, onError: tooLarge });
  return async (c, next) => {
    if (UPLOAD_PATHS.test(c.req.path)) return await next();
    return PROFILE_PATHS.has(c.req.path) ? await profile(c, next) : await small(c, next);
  };
}

export function apiRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use("/api/*", limitBodies());
  app.use("/oauth/*", limitBodies());
  app.use("/api/*", authenticate(deps.core));
  app.route("/", instanceRoutes(deps.core));
  app.route("/", oauthRoutes(deps));
  app.route("/", accountsRoutes(deps));
  app.route("/", searchRoutes(deps));
  app.route("/", notificationsRoutes(deps));
  app.route("/", markersRoutes(deps));
  app.route("/", statusesRoutes(deps));
  app.route("/", pollsRoutes(deps));
  app.route("/", scheduledStatusesRoutes(deps));
  app.route("/", timelinesRoutes(deps));
  app.route("/", filtersRoutes(deps));
  app.route("/", conversationsRoutes(deps));
  app.route("/", savedRoutes(deps));
  app.route("/", mediaRoutes(deps));
  app.route("/", listsRoutes(deps));
  app.route("/", preferencesRoutes(deps));
  app.route("/", tagsRoutes(deps));
  app.route("/", endorsementsRoutes(deps));
  app.route("/", discoveryRoutes(deps));
  app.route("/", featuredTagsRoutes(deps));
  app.route("/", domainBlocksRoutes(deps));
  app.route("/", reportsRoutes(deps));
  app.route("/", pushRoutes(deps));
  return app;
}
