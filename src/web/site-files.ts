/**
 * The files browsers and crawlers ask every site for: `/favicon.ico` (the
 * owner's avatar, or the default picture) and `/robots.txt`.
 */
import type { Hono } from "hono";
import { getOwner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { placeholders } from "./placeholder.ts";

/**
 * Mastodon's rules, for a server of one: crawlers keep out of the media
 * proxy, the sign-in and settings pages and the API; the pages themselves
 * say `noindex` when the owner asked not to be indexed.
 */
const ROBOTS = `User-agent: *
Disallow: /media_proxy/
Disallow: /oauth/
Disallow: /auth/
Disallow: /settings
Disallow: /authorize_interaction
Disallow: /api/
`;

export function siteFileRoutes(app: Hono, ctx: CoreContext): void {
  app.get("/robots.txt", (c) => c.body(ROBOTS, 200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "public, max-age=86400" }));

  app.get("/favicon.ico", async (c) => {
    const owner = await getOwner(ctx);
    const avatar = owner?.account.avatarUrl ?? null;
    if (avatar != null) {
      c.header("Cache-Control", "public, max-age=3600");
      return c.redirect(avatar, 302);
    }
    const image = placeholders()["/avatars/original/missing.png"];
    return c.body(new Uint8Array(image), 200, { "Content-Type": "image/png", "Cache-Control": "public, max-age=3600" });
  });
}
