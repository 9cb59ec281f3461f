/**
 * The HTML side: `/` leads to the owner's profile; the public pages (the
 * profile and its tabs, each post, hashtags), their RSS feeds, oEmbed,
 * the favicon and robots.txt; an actor URL opened in a browser leads to
 * the profile; the password reset pages (src/web/password-reset.ts) are
 * mounted here.
 *
 * These routes answer browsers. ActivityPub requests for the same
 * addresses are answered in front of them (content negotiation), so every
 * page here says `Vary: Accept`.
 */
import { Hono, type Context } from "hono";
import { findLocalAccount, getOwner, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { parseId } from "../core/ids.ts";
import {
  findPublicThread,
  getPublicProfile,
  listPublicFeedStatuses,
  listPublicProfileStatuses,
  listPublicTagStatuses,
  type ProfileTab,
} from "../core/public-statuses.ts";
import { profileImageUrl } from "../media/profile-images.ts";
import { escapeHtml } from "../text/escape-html.ts";
import { ConditionalResponder } from "./conditional.ts";
import { FEED_LIMIT, rssFeed } from "./feeds.ts";
import { oembed } from "./oembed.ts";
import { profilePage } from "./pages/profile-page.ts";
import { embedPage, statusPage } from "./pages/status-page.ts";
import { tagPage } from "./pages/tag-page.ts";
import { passwordResetRoutes } from "./password-reset.ts";
import { placeholders } from "./placeholder.ts";
import { publicPage } from "./public-layout.ts";
import { siteFileRoutes } from "./site-files.ts";
import { nameOf } from "./status-html.ts";

/** Posts per page of the profile and hashtag pages. */
export const PAGE_SIZE = 20;

const PAGE_HEADERS = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=60", Vary: "Accept" };
const FEED_HEADERS = {
  "Content-Type": "application/rss+xml; charset=utf-8",
  "Cache-Control": "public, max-age=300",
  "Access-Control-Allow-Origin": "*",
};

function notFoundPage(c: Context, message = "This page does not exist, or is not public."): Response {
  const body = publicPage({
    title: "Not found",
    body: `<header class="page-head card"><h1>Not found</h1><p>${escapeHtml(message)}</p></header>`,
    noindex: true,
  });
  return c.html(body, 404, { "Cache-Control": "no-cache", Vary: "Accept" });
}

/** `?max_id=` of a later page, when it is a valid id. */
function maxIdOf(c: Context): bigint | undefined {
  return parseId(c.req.query("max_id")) ?? undefined;
}

/** The username a `@name` (or `@name@this-domain`) path segment names; null for another server's handle. */
function usernameOf(ctx: CoreContext, handle: string): string | null {
  const [username, domain, ...rest] = handle.slice(1).split("@");
  if (username === "" || rest.length > 0) return null;
  if (domain != null && domain.toLowerCase() !== ctx.config.localDomain.toLowerCase() && domain.toLowerCase() !== new URL(ctx.config.origin).host) return null;
  return username;
}

/** The local account a `@name` (or `@name@this-domain`) path segment names. */
async function accountOf(ctx: CoreContext, handle: string): Promise<Account | null> {
  const username = usernameOf(ctx, handle);
  return username == null ? null : await findLocalAccount(ctx, username);
}

export function webRoutes(ctx: CoreContext): Hono {
  const app = new Hono();
  const conditional = new ConditionalResponder();
  const { origin, localDomain } = ctx.config;
  app.route("/", passwordResetRoutes(ctx));
  siteFileRoutes(app, ctx);

  app.get("/", async (c) => {
    const owner = await getOwner(ctx);
    if (owner == null) {
      return c.html(publicPage({
        title: "Islet",
        body: `<header class="page-head card"><h1>Islet is running</h1>
<p>There is no owner account yet. On the server, run:</p>
<pre>${escapeHtml(ctx.config.adminCommand)} setup</pre></header>`,
        noindex: true,
      }));
    }
    return c.redirect(`/@${owner.account.username}`, 302);
  });

  const profile = (tab: ProfileTab) => async (c: Context) => {
    const handle = c.req.param("handle")!;
    if (tab === "posts" && handle.endsWith(".rss")) return await profileFeed(c, handle.slice(0, -".rss".length));
    const account = await accountOf(ctx, handle);
    if (account == null) return notFoundPage(c, "No such account here.");
    if (handle.slice(1) !== account.username) {
      const url = new URL(c.req.url);
      return c.redirect(`${url.pathname.replace(/^\/[^/]+/, `/@${account.username}`)}${url.search}`, 301);
    }
    const maxId = maxIdOf(c);
    const [summary, page] = await Promise.all([
      getPublicProfile(ctx, account),
      listPublicProfileStatuses(ctx, account, tab, { maxId, limit: PAGE_SIZE }),
    ]);
    return conditional.respond(c, profilePage(summary, { origin, localDomain, tab, page, later: maxId != null }), PAGE_HEADERS);
  };

  const profileFeed = async (c: Context, handle: string) => {
    const account = await accountOf(ctx, handle);
    if (account == null) return c.text("Not found", 404);
    const views = await listPublicFeedStatuses(ctx, account, FEED_LIMIT);
    const name = nameOf(account);
    const link = account.url ?? `${origin}/@${account.username}`;
    const feed = rssFeed({
      title: name,
      description: `Public posts from @${account.username}@${localDomain}`,
      link,
      self: `${origin}/@${account.username}.rss`,
      image: profileImageUrl(origin, account, "avatar", "original"),
    }, views);
    return conditional.respond(c, feed, FEED_HEADERS);
  };

  app.get("/:handle{@[^/]+}", profile("posts"));
  app.get("/:handle{@[^/]+}/with_replies", profile("replies"));
  app.get("/:handle{@[^/]+}/media", profile("media"));

  const status = (embed: boolean) => async (c: Context) => {
    const id = parseId(c.req.param("id"));
    const username = usernameOf(ctx, c.req.param("handle")!);
    const thread = id == null || username == null ? null : await findPublicThread(ctx, username, id);
    if (thread == null) return notFoundPage(c);
    const options = { origin, localDomain, icon: thread.status.avatarUrl };
    if (!embed) return conditional.respond(c, statusPage(thread, options), PAGE_HEADERS);
    return conditional.respond(c, embedPage(thread, options), {
      ...PAGE_HEADERS,
      // Other sites may frame this page (and only this one).
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; frame-ancestors *; base-uri 'none'",
    });
  };
  app.get("/:handle{@[^/]+}/:id{[0-9]+}", status(false));
  app.get("/:handle{@[^/]+}/:id{[0-9]+}/embed", status(true));

  app.get("/tags/:tag{[^/]+}", async (c) => {
    let name = c.req.param("tag");
    const feed = name.endsWith(".rss");
    if (feed) name = name.slice(0, -".rss".length);
    const owner = await getOwner(ctx);
    const found = owner == null || name === "" ? null : await listPublicTagStatuses(ctx, owner.account, name, {
      maxId: feed ? undefined : maxIdOf(c),
      limit: feed ? FEED_LIMIT : PAGE_SIZE,
    });
    if (owner == null || found == null) return feed ? c.text("Not found", 404) : notFoundPage(c, "No posts here carry this hashtag.");
    const account = owner.account;
    const icon = profileImageUrl(origin, account, "avatar", "original");
    const path = `/tags/${encodeURIComponent(found.tag.name)}`;
    if (feed) {
      return conditional.respond(c, rssFeed({
        title: `#${found.tag.displayName}`,
        description: `Public posts from @${account.username}@${localDomain} tagged #${found.tag.displayName}`,
        link: `${origin}${path}`,
        self: `${origin}${path}.rss`,
        image: icon,
      }, found.page.statuses), FEED_HEADERS);
    }
    return conditional.respond(c, tagPage(found.tag, {
      origin,
      localDomain,
      ownerName: nameOf(account),
      ownerUrl: account.url ?? `${origin}/@${account.username}`,
      icon,
      page: found.page,
      later: maxIdOf(c) != null,
      noindex: !account.indexable,
    }), PAGE_HEADERS);
  });

  app.get("/api/oembed", (c) => oembed(ctx, c));

  // An actor URL opened in a browser (Fedify answers ActivityPub requests).
  app.get("/users/:username", async (c) => {
    const account = await findLocalAccount(ctx, c.req.param("username"));
    if (account == null) return notFoundPage(c, "No such account here.");
    return c.redirect(`/@${account.username}`, 302);
  });

  for (const [path, image] of Object.entries(placeholders())) {
    app.get(path, (c) => {
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(new Uint8Array(image), 200, { "Content-Type": "image/png" });
    });
  }
  return app;
}
