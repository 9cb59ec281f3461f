/** Mastodon API: discovery. */
import { Hono } from "hono";
import type { ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";

export function discoveryRoutes(_deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  return app;
}
