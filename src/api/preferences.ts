/**
 * Mastodon API: the owner's preferences, shared across clients. The posting
 * defaults are the profile's (`source[privacy]` and friends); Islet keeps
 * no reading preferences yet, so those are Mastodon's defaults.
 */
import { Hono } from "hono";
import { getPreferences } from "../core/profile.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";

export interface MastodonPreferences {
  "posting:default:visibility": "public" | "unlisted" | "private" | "direct";
  "posting:default:sensitive": boolean;
  "posting:default:language": string | null;
  "reading:expand:media": "default" | "show_all" | "hide_all";
  "reading:expand:spoilers": boolean;
}

/** Mastodon's defaults for a new account. */
export const DEFAULT_PREFERENCES: MastodonPreferences = {
  "posting:default:visibility": "public",
  "posting:default:sensitive": false,
  "posting:default:language": null,
  "reading:expand:media": "default",
  "reading:expand:spoilers": false,
};

export function preferencesRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/preferences", async (c) => {
    const accountId = requireUser(c, "read:accounts");
    const stored = await getPreferences(core, accountId);
    const preferences: MastodonPreferences = {
      ...DEFAULT_PREFERENCES,
      "posting:default:visibility": stored.privacy,
      "posting:default:sensitive": stored.sensitive,
      "posting:default:language": stored.language,
    };
    return c.json(preferences);
  });

  return app;
}
