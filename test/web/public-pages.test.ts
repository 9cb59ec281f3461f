/**
 * The public pages over plain HTTP: what each page lists and leaves out
 * (unlisted posts have a page but are listed nowhere; followers-only and
 * direct posts are 404), the thread on a post's page, the machine-readable
 * links and previews, the RSS feeds read back as RSS 2.0, oEmbed in
 * Mastodon's shape, conditional requests, CORS, robots.txt and the favicon.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { XMLParser } from "fast-xml-parser";
import { after, before, describe, test } from "node:test";
import { accounts } from "../../src/db/schema.ts";
import { api } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { featureRemoteAccount, pathOf, seedPublicContent, type PublicFixture } from "./public-fixture.ts";

type Json = Record<string, any>;

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async function get(instance: TestInstance, path: string, headers: Record<string, string> = {}): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${instance.url}${path}`, { headers: { Accept: BROWSER_ACCEPT, ...headers }, redirect: "manual" });
  return { response, text: await response.text() };
}

async function page(instance: TestInstance, path: string): Promise<string> {
  const { response, text } = await get(instance, path);
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/, path);
  return text;
}

/** The attributes of every tag `name` in an HTML document. */
function tagsOf(html: string, name: string): Record<string, string>[] {
  return [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, "gi"))].map((match) => {
    const attributes: Record<string, string> = {};
    for (const attribute of match[1].matchAll(/([a-z:-]+)\s*=\s*"([^"]*)"/gi)) attributes[attribute[1].toLowerCase()] = attribute[2];
    return attributes;
  });
}

function link(html: string, rel: string, type: string): Record<string, string> | undefined {
  return tagsOf(html, "link").find((entry) => entry.rel === rel && entry.type === type);
}

function metaContent(html: string, key: string): string | undefined {
  return tagsOf(html, "meta").find((entry) => entry.property === key || entry.name === key)?.content;
}

/** The ids of the posts shown on a page, in order. */
function shownIds(html: string): string[] {
  return [...html.matchAll(/<article class="status[^"]*" id="status-(\d+)"/g)].map((match) => match[1]);
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** A feed parsed back; fails unless it is an RSS 2.0 document with a channel. */
function parseRss(xml: string): { channel: Json; items: Json[] } {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", isArray: (name) => name === "item" || name === "media:content" || name === "category" });
  const document = parser.parse(xml, true) as Json;
  assert.equal(document.rss?.["@version"], "2.0", "an <rss version=\"2.0\"> root");
  const channel = document.rss.channel as Json;
  for (const required of ["title", "link", "description"]) assert.ok(channel[required] != null && channel[required] !== "", `channel <${required}>`);
  const items = (channel.item ?? []) as Json[];
  for (const item of items) {
    assert.ok(item.title != null || item.description != null, "an item has a title or a description (RSS 2.0)");
    assert.ok(!Number.isNaN(Date.parse(item.pubDate)), `pubDate ${item.pubDate} is a date`);
    assert.match(String(item.guid?.["#text"] ?? item.guid), /^https?:\/\//);
  }
  return { channel, items };
}

function itemLinks(items: Json[]): string[] {
  return items.map((item) => String(item.link));
}

for (const kind of databaseKinds()) {
  describe(`public pages (${kind})`, () => {
    let instance: TestInstance;
    let f: PublicFixture;
    const remoteId = async () => {
      const found = await api(instance, "GET", "/api/v1/accounts/lookup?acct=friend@remote.example", { token: f.token });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      return found.body.id as string;
    };

    before(async () => {
      instance = await startInstance(kind, { username: "owner" });
      f = await seedPublicContent(instance);
    });
    after(async () => {
      await instance?.close();
    });

    test("a post's page shows it with its picture, counts and the links machines look for", async () => {
      const html = await page(instance, pathOf(f.picture.url));
      assert.deepEqual(shownIds(html), [f.picture.id]);
      assert.ok(html.includes("New beds in the"), "the content");
      const image = tagsOf(html, "img").find((img) => img.src?.includes("/system/media_attachments/"));
      assert.ok(image != null, "the picture");
      assert.equal(image.alt, "A green rectangle standing in for a garden");
      assert.ok(html.includes("0 replies") && html.includes("0 boosts") && html.includes("0 favourites"));
      assert.equal(link(html, "alternate", "application/activity+json")?.href, f.picture.uri);
      assert.equal(f.picture.uri, `${instance.origin}/users/owner/statuses/${f.picture.id}`);
      const oembed = link(html, "alternate", "application/json+oembed")?.href;
      assert.ok(oembed != null);
      assert.equal(new URL(unescape(oembed)).searchParams.get("url"), f.picture.url);
      assert.equal(link(html, "alternate", "application/rss+xml")?.href, `${instance.origin}/@owner.rss`);
      assert.equal(metaContent(html, "og:type"), "article");
      assert.equal(metaContent(html, "og:url"), f.picture.url);
      assert.match(metaContent(html, "og:title") ?? "", /Olive Owner/);
      assert.equal(metaContent(html, "og:description"), "New beds in the #Gardens today.");
      assert.match(metaContent(html, "og:image") ?? "", /\/system\/media_attachments\//);
      assert.equal(metaContent(html, "twitter:card"), "summary_large_image");
      assert.equal(metaContent(html, "robots"), undefined, "indexable: no noindex");
    });

    test("a poll shows its results, a content warning hides the post in <details>", async () => {
      const poll = await page(instance, pathOf(f.poll.url));
      assert.match(poll, /75%<\/span><span class="label">Tulips/);
      assert.match(poll, /25%<\/span><span class="label">Crocuses/);
      assert.match(poll, /0%<\/span><span class="label">Daffodils/);
      assert.match(poll, /4 people/);
      const cw = await page(instance, pathOf(f.cw.url));
      assert.match(cw, /<details class="cw"><summary><span class="spoiler">Book spoilers<\/span>[\s\S]*The ending of the novel[\s\S]*<\/details>/);
      assert.equal(metaContent(cw, "og:description"), "Content warning: Book spoilers", "the preview does not give the spoiler away");
    });

    test("a post's page shows the public thread around it, remote replies included", async () => {
      const root = await page(instance, pathOf(f.root.url));
      assert.deepEqual(shownIds(root), [f.root.id, f.remoteReplyId.toString(), f.ownReply.id]);
      assert.ok(root.includes("The morning ferry leaves at seven"));
      assert.ok(root.includes("@friend@remote.example"));
      const reply = await page(instance, pathOf(f.ownReply.url));
      assert.deepEqual(shownIds(reply), [f.root.id, f.remoteReplyId.toString(), f.ownReply.id]);
      assert.match(reply, /Earlier in the thread/);
      assert.match(reply, /class="status card focus" id="status-(\d+)"/);
      assert.equal(/class="status card focus" id="status-(\d+)"/.exec(reply)?.[1], f.ownReply.id);
    });

    test("replies by accounts the owner blocks are left out of the thread", async () => {
      const block = await api(instance, "POST", `/api/v1/accounts/${(await remoteId())}/block`, { token: f.token });
      assert.equal(block.status, 200, JSON.stringify(block.body));
      try {
        assert.deepEqual(shownIds(await page(instance, pathOf(f.root.url))), [f.root.id, f.ownReply.id]);
      } finally {
        assert.equal((await api(instance, "POST", `/api/v1/accounts/${(await remoteId())}/unblock`, { token: f.token })).status, 200);
      }
      assert.deepEqual(shownIds(await page(instance, pathOf(f.root.url))), [f.root.id, f.remoteReplyId.toString(), f.ownReply.id]);
    });

    test("another server's handle is not this profile", async () => {
      const local = await get(instance, `/@owner@${new URL(instance.origin).host}`);
      assert.equal(local.response.status, 301, "the full handle of this server leads to the profile");
      assert.equal(local.response.headers.get("location"), "/@owner");
      for (const path of ["/@owner@elsewhere.example", `/@owner@elsewhere.example/${f.picture.id}`, "/@owner@a@b"]) {
        const { response } = await get(instance, path);
        assert.equal(response.status, 404, path);
      }
    });

    test("followers-only and direct posts are 404, also embedded and through oEmbed; unlisted ones have a page", async () => {
      for (const status of [f.private, f.direct]) {
        for (const path of [pathOf(status.url), `${pathOf(status.url)}/embed`]) {
          const { response, text } = await get(instance, path);
          assert.equal(response.status, 404, path);
          assert.ok(!text.includes("secret") && !text.includes("a direct word"), "nothing of the post shows");
        }
        const oembed = await api(instance, "GET", `/api/oembed?url=${encodeURIComponent(status.url)}`);
        assert.equal(oembed.status, 404);
        assert.equal(oembed.body.error, "Record not found");
      }
      const unlisted = await page(instance, pathOf(f.unlisted.url));
      assert.ok(unlisted.includes("A quiet unlisted note"));
      assert.match(unlisted, /<li>Unlisted<\/li>/);
      assert.equal(metaContent(unlisted, "robots"), "noindex, noarchive");
      for (const path of ["/@owner/1", "/@nobody/" + f.picture.id, `/@owner/${f.remoteReplyId}`]) {
        const { response } = await get(instance, path);
        assert.equal(response.status, 404, path);
      }
    });

    test("the profile lists public posts only, pinned first, in three tabs", async () => {
      const posts = await page(instance, "/@owner");
      const ids = shownIds(posts);
      assert.equal(ids[0], f.pinned.id, "the pinned post comes first");
      assert.equal(ids.filter((id) => id === f.pinned.id).length, 1, "and is not repeated");
      assert.match(posts, /Pinned post/);
      for (const hidden of [f.unlisted, f.private, f.direct, f.ownReply]) assert.ok(!ids.includes(hidden.id), `${hidden.content} is not under Posts`);
      for (const shown of [f.picture, f.poll, f.cw, f.root, f.tagged]) assert.ok(ids.includes(shown.id), `${shown.content} is under Posts`);
      assert.ok(!ids.includes(f.remoteReplyId.toString()), "other accounts' posts are not on the profile");
      const sorted = ids.slice(1).map(BigInt);
      assert.deepEqual([...sorted].sort((a, b) => (a > b ? -1 : 1)), sorted, "newest first after the pinned post");
      const withReplies = shownIds(await page(instance, "/@owner/with_replies"));
      assert.ok(withReplies.includes(f.ownReply.id), "the reply is under Posts and replies");
      assert.ok(!withReplies.includes(f.unlisted.id) && !withReplies.includes(f.private.id));
      assert.deepEqual(shownIds(await page(instance, "/@owner/media")), [f.picture.id]);
      assert.match(posts, /<a href="[^"]*\/@owner" aria-current="page">Posts<\/a>/);
    });

    test("the profile shows fields with rel=\"me\" and the verified mark, featured hashtags and counts", async () => {
      const html = await page(instance, "/@owner");
      assert.match(html, /<div class="verified"><dt>Website<\/dt><dd><a href="https:\/\/olive\.example"[^>]*rel="[^"]*\bme\b[^"]*"/);
      assert.match(html, /✓<span class="visually-hidden"> verified link<\/span>/);
      assert.match(html, /<div><dt>Pronouns<\/dt><dd>she\/her<\/dd><\/div>/, "an unverified field has no mark");
      assert.match(html, /Featured hashtags[\s\S]*href="[^"]*\/tags\/gardens">#Gardens <small>3<\/small>/);
      assert.match(html, /<strong>0<\/strong> followers/);
      assert.match(html, /<strong>0<\/strong> following/);
      assert.equal(link(html, "alternate", "application/activity+json")?.href, `${instance.origin}/users/owner`);
      assert.equal(metaContent(html, "og:type"), "profile");
      assert.equal(metaContent(html, "og:title"), `Olive Owner (@owner@${new URL(instance.origin).host})`);
      assert.equal(metaContent(html, "og:description"), "Writing about #gardens and small islands.");
      assert.match(metaContent(html, "og:image") ?? "", /avatars\/original\/missing\.png$/);
    });

    test("a boost is listed on the profile with its original", async () => {
      const boost = await api(instance, "POST", `/api/v1/statuses/${f.root.id}/reblog`, { token: f.token });
      assert.equal(boost.status, 200, JSON.stringify(boost.body));
      const html = await page(instance, "/@owner");
      assert.match(html, /<p class="context">Olive Owner boosted<\/p>/);
      const undo = await api(instance, "POST", `/api/v1/statuses/${f.root.id}/unreblog`, { token: f.token });
      assert.equal(undo.status, 200);
      assert.doesNotMatch(await page(instance, "/@owner"), /boosted/);
    });

    test("hiding the network hides the follower and following counts", async () => {
      const hide = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token: f.token, body: { hide_collections: true } });
      assert.equal(hide.status, 200);
      try {
        const html = await page(instance, "/@owner");
        assert.doesNotMatch(html, /followers<\/li>/);
        assert.doesNotMatch(html, /following<\/li>/);
        assert.match(html, /<strong>\d+<\/strong> posts/);
      } finally {
        await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token: f.token, body: { hide_collections: false } });
      }
    });

    test("featured profiles show with avatar, name, handle and link, also with the network hidden; unfeaturing one removes it", async () => {
      assert.doesNotMatch(await page(instance, "/@owner"), /Featured profiles/, "no section while nothing is featured");
      const etagBefore = (await get(instance, "/@owner")).response.headers.get("etag");
      const heron = await featureRemoteAccount(instance, f.token, "heron", "Heron <b>&</b> Co");
      const wren = await featureRemoteAccount(instance, f.token, "wren", "Wren Writes");
      const html = await page(instance, "/@owner");
      const section = html.match(/<section class="featured-accounts"[\s\S]*?<\/section>/)?.[0];
      assert.ok(section != null, "a Featured profiles section");
      assert.match(section, /<h2 id="featured-accounts">Featured profiles<\/h2>/);
      const links = tagsOf(section, "a");
      assert.deepEqual(links.map((entry) => entry.href), ["https://remote.example/@wren", "https://remote.example/@heron"], "newest first");
      for (const entry of links) assert.equal(entry.rel, "nofollow noopener");
      assert.match(section, /<span class="name">Heron &lt;b&gt;&amp;&lt;\/b&gt; Co<\/span><span class="acct">@heron@remote\.example<\/span>/, "the name as escaped text");
      assert.match(section, /<span class="name">Wren Writes<\/span><span class="acct">@wren@remote\.example<\/span>/);
      const images = tagsOf(section, "img");
      assert.equal(images.length, 2);
      for (const image of images) assert.ok(image.src.startsWith(`${instance.origin}/`), `avatar ${image.src} is served here`);
      const etagWith = (await get(instance, "/@owner")).response.headers.get("etag");
      assert.notEqual(etagWith, etagBefore, "featuring changes the ETag");

      const hide = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token: f.token, body: { hide_collections: true } });
      assert.equal(hide.status, 200);
      try {
        assert.match(await page(instance, "/@owner"), /Featured profiles[\s\S]*@heron@remote\.example/, "shown with the network hidden, as on Mastodon");
      } finally {
        await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token: f.token, body: { hide_collections: false } });
      }

      const stale = await get(instance, "/@owner", { "If-None-Match": etagWith! });
      assert.equal(stale.response.status, 304);
      const undo = await api(instance, "POST", `/api/v1/accounts/${heron}/unendorse`, { token: f.token });
      assert.equal(undo.status, 200, JSON.stringify(undo.body));
      const afterUndo = await get(instance, "/@owner", { "If-None-Match": etagWith! });
      assert.equal(afterUndo.response.status, 200, "unfeaturing makes the old ETag stale");
      assert.notEqual(afterUndo.response.headers.get("etag"), etagWith);
      assert.doesNotMatch(afterUndo.text, /@heron@remote\.example/);
      assert.match(afterUndo.text, /Featured profiles[\s\S]*@wren@remote\.example/);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${wren}/unendorse`, { token: f.token })).status, 200);
      assert.doesNotMatch(await page(instance, "/@owner"), /Featured profiles/, "the section goes with the last one");
    });

    test("noindex when the owner is not indexable", async () => {
      const core = instance.islet.core;
      const ownerId = instance.owner!.account.id;
      await core.db.update(accounts).set({ indexable: false }).where(eq(accounts.id, ownerId));
      try {
        for (const path of ["/@owner", pathOf(f.picture.url), "/tags/gardens"]) {
          assert.equal(metaContent(await page(instance, path), "robots"), "noindex, noarchive", path);
        }
      } finally {
        await core.db.update(accounts).set({ indexable: true }).where(eq(accounts.id, ownerId));
      }
      assert.equal(metaContent(await page(instance, "/@owner"), "robots"), undefined);
    });

    test("the hashtag page lists the owner's public posts with the tag, in any case", async () => {
      const html = await page(instance, "/tags/gardens");
      const ids = shownIds(html);
      assert.deepEqual(ids, [f.tagged.id, f.picture.id]);
      assert.match(html, /<h1>#Gardens<\/h1>/);
      assert.equal(link(html, "alternate", "application/rss+xml")?.href, `${instance.origin}/tags/gardens.rss`);
      assert.deepEqual(shownIds(await page(instance, "/tags/GARDENS")), ids);
      const { response } = await get(instance, "/tags/nosuchtag");
      assert.equal(response.status, 404);
    });

    test("the profile pages a page at a time", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 22; i++) {
        const status = await api(instance, "POST", "/api/v1/statuses", { token: f.token, body: { status: `Filler ${i}` } });
        assert.equal(status.status, 200);
        ids.push(status.body.id);
      }
      const first = await page(instance, "/@owner/with_replies");
      const next = tagsOf(first, "a").find((a) => a.rel === "next")?.href;
      assert.ok(next != null, "an Older posts link");
      const second = await page(instance, pathOf(unescape(next)));
      const firstIds = shownIds(first);
      const secondIds = shownIds(second);
      assert.equal(firstIds.length, 21, "the pinned post and a page of 20");
      assert.ok(secondIds.length > 0);
      assert.equal(secondIds.filter((id) => firstIds.includes(id)).length, 0, "no post twice");
      assert.ok(!secondIds.includes(f.pinned.id), "pinned only on the first page");
      assert.ok(secondIds.includes(f.root.id));
      for (const id of ids) await api(instance, "DELETE", `/api/v1/statuses/${id}`, { token: f.token });
    });

    test("the owner's feed is RSS 2.0 with the public posts and their media as enclosures", async () => {
      const { response, text } = await get(instance, "/@owner.rss");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/rss\+xml/);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      const { channel, items } = parseRss(text);
      assert.equal(channel.title, "Olive Owner");
      assert.equal(channel.link, `${instance.origin}/@owner`);
      const links = itemLinks(items);
      for (const shown of [f.picture, f.poll, f.cw, f.root, f.tagged, f.pinned]) assert.ok(links.includes(shown.url), `${shown.content} in the feed`);
      for (const hidden of [f.unlisted, f.private, f.direct, f.ownReply]) assert.ok(!links.includes(hidden.url), `${hidden.content} not in the feed`);
      const pictured = items.find((item) => item.link === f.picture.url)!;
      assert.match(pictured.enclosure["@url"], /^http:\/\/localhost:\d+\/system\/media_attachments\/.+\.png$/);
      assert.equal(pictured.enclosure["@type"], "image/png");
      assert.ok(Number(pictured.enclosure["@length"]) > 0);
      assert.equal(pictured["media:content"][0]["media:description"]["#text"], "A green rectangle standing in for a garden");
      assert.match(pictured.description, /New beds in the <a href="[^"]+\/tags\/Gardens"/);
      assert.deepEqual(pictured.category, ["Gardens"]);
      const cw = items.find((item) => item.link === f.cw.url)!;
      assert.equal(cw.title, "Book spoilers");
    });

    test("the hashtag feed is RSS 2.0 with the tagged public posts", async () => {
      const { response, text } = await get(instance, "/tags/gardens.rss");
      assert.equal(response.status, 200);
      const { channel, items } = parseRss(text);
      assert.equal(channel.title, "#Gardens");
      assert.deepEqual(itemLinks(items), [f.tagged.url, f.picture.url]);
      assert.equal((await get(instance, "/tags/nosuchtag.rss")).response.status, 404);
      assert.equal((await get(instance, "/@nobody.rss")).response.status, 404);
    });

    test("oEmbed answers in Mastodon's shape", async () => {
      const response = await api(instance, "GET", `/api/oembed?url=${encodeURIComponent(f.picture.url)}`, { headers: { Origin: "https://elsewhere.example" } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      const body = response.body as Json;
      assert.equal(body.type, "rich");
      assert.equal(body.version, "1.0");
      assert.equal(body.author_name, "Olive Owner");
      assert.equal(body.author_url, `${instance.origin}/@owner`);
      assert.equal(body.provider_name, new URL(instance.origin).host);
      assert.equal(body.provider_url, `${instance.origin}/`);
      assert.equal(body.cache_age, 86400);
      assert.equal(body.width, 400);
      assert.equal(body.height, null);
      assert.match(body.html, new RegExp(`^<iframe src="${instance.origin}/@owner/${f.picture.id}/embed" class="mastodon-embed"[^>]* width="400"`));
      const narrow = await api(instance, "GET", `/api/oembed?url=${encodeURIComponent(f.picture.uri)}&maxwidth=300&maxheight=200`);
      assert.equal(narrow.body.width, 300);
      assert.equal(narrow.body.height, 200);
      const embed = await get(instance, `${pathOf(f.picture.url)}/embed`);
      assert.equal(embed.response.status, 200);
      assert.match(embed.response.headers.get("content-security-policy") ?? "", /frame-ancestors \*/);
      assert.equal(embed.response.headers.get("x-frame-options"), null, "older browsers may frame the embed page too");
      const page = await get(instance, pathOf(f.picture.url));
      assert.equal(page.response.headers.get("x-frame-options"), "DENY", "while the post page itself is not framed");
      assert.deepEqual(shownIds(embed.text), [f.picture.id]);
      assert.equal((await api(instance, "GET", "/api/oembed")).status, 400);
      assert.equal((await api(instance, "GET", `/api/oembed?url=${encodeURIComponent("https://elsewhere.example/@owner/1")}`)).status, 404);
      assert.equal((await api(instance, "GET", "/api/oembed?url=not%20a%20url")).status, 404);
    });

    test("pages and feeds answer conditional requests with 304", async () => {
      for (const path of ["/@owner", pathOf(f.picture.url), "/tags/gardens", "/@owner.rss", "/tags/gardens.rss"]) {
        const first = await get(instance, path);
        assert.equal(first.response.status, 200, path);
        const etag = first.response.headers.get("etag");
        const lastModified = first.response.headers.get("last-modified");
        assert.ok(etag != null && lastModified != null, `${path}: validators`);
        const byTag = await get(instance, path, { "If-None-Match": etag });
        assert.equal(byTag.response.status, 304, `${path}: If-None-Match`);
        assert.equal(byTag.text, "");
        assert.equal(byTag.response.headers.get("etag"), etag);
        const byDate = await get(instance, path, { "If-Modified-Since": lastModified });
        assert.equal(byDate.response.status, 304, `${path}: If-Modified-Since`);
        const stale = await get(instance, path, { "If-None-Match": '"something-else"' });
        assert.equal(stale.response.status, 200, `${path}: another ETag`);
        const older = await get(instance, path, { "If-Modified-Since": new Date(Date.parse(lastModified) - 60_000).toUTCString() });
        assert.equal(older.response.status, 200, `${path}: an older date`);
      }
      // A change to what the page shows makes a new ETag.
      const before = (await get(instance, pathOf(f.picture.url))).response.headers.get("etag")!;
      const favourite = await api(instance, "POST", `/api/v1/statuses/${f.picture.id}/favourite`, { token: f.token });
      assert.equal(favourite.status, 200);
      const after = await get(instance, pathOf(f.picture.url), { "If-None-Match": before });
      assert.equal(after.response.status, 200);
      assert.match(after.text, /1 favourite</);
      assert.notEqual(after.response.headers.get("etag"), before);
      await api(instance, "POST", `/api/v1/statuses/${f.picture.id}/unfavourite`, { token: f.token });
    });

    test("CORS on the well-known documents, NodeInfo, the API, oEmbed and the feeds", async () => {
      const origin = { Origin: "https://client.example" };
      const paths = [
        `/.well-known/webfinger?resource=${encodeURIComponent(`acct:owner@${new URL(instance.origin).host}`)}`,
        "/.well-known/host-meta",
        "/.well-known/nodeinfo",
        "/nodeinfo/2.1",
        "/api/v1/instance",
        `/api/oembed?url=${encodeURIComponent(f.picture.url)}`,
        "/@owner.rss",
        "/tags/gardens.rss",
      ];
      for (const path of paths) {
        const { response } = await get(instance, path, origin);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get("access-control-allow-origin"), "*", path);
        assert.equal(response.headers.get("access-control-allow-credentials"), null, `${path}: no credentials`);
      }
      for (const path of ["/.well-known/webfinger", "/nodeinfo/2.1"]) {
        const preflight = await fetch(`${instance.url}${path}`, {
          method: "OPTIONS",
          headers: { ...origin, "Access-Control-Request-Method": "GET" },
        });
        assert.equal(preflight.status, 204, path);
        assert.equal(preflight.headers.get("access-control-allow-origin"), "*", path);
        assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /GET/, path);
      }
    });

    test("robots.txt and the favicon", async () => {
      const robots = await get(instance, "/robots.txt");
      assert.equal(robots.response.status, 200);
      assert.match(robots.response.headers.get("content-type") ?? "", /^text\/plain/);
      assert.match(robots.text, /^User-agent: \*$/m);
      assert.match(robots.text, /^Disallow: \/media_proxy\/$/m);
      const favicon = await fetch(`${instance.url}/favicon.ico`, { redirect: "manual" });
      assert.equal(favicon.status, 200);
      assert.equal(favicon.headers.get("content-type"), "image/png");
      assert.deepEqual([...new Uint8Array(await favicon.arrayBuffer()).slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
      const core = instance.islet.core;
      const ownerId = instance.owner!.account.id;
      const avatar = `${instance.origin}/system/accounts/avatars/1/original.png`;
      await core.db.update(accounts).set({ avatarUrl: avatar }).where(eq(accounts.id, ownerId));
      try {
        const owned = await fetch(`${instance.url}/favicon.ico`, { redirect: "manual" });
        assert.equal(owned.status, 302);
        assert.equal(owned.headers.get("location"), avatar);
        await owned.body?.cancel();
      } finally {
        await core.db.update(accounts).set({ avatarUrl: null }).where(eq(accounts.id, ownerId));
      }
    });
  });
}
