/**
 * One post as the public pages render it, for what the page tests' posts
 * do not have: video, audio and animated pictures, sensitive media without
 * a warning, a poll whose totals are hidden until it ends, an edited post,
 * a boost, and text that must be escaped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { PollRow } from "../../src/core/polls.ts";
import type { PublicMedia, PublicStatus } from "../../src/core/public-statuses.ts";
import type { StatusRow } from "../../src/core/statuses.ts";
import { statusHtml } from "../../src/web/status-html.ts";

const ORIGIN = "https://social.example";
const DOMAIN = "example.com";
const CREATED = new Date("2026-12-01T10:00:00.000Z");

function account(overrides: Partial<Account> = {}): Account {
  return {
    id: 1n,
    username: "owner",
    domain: null,
    uri: `${ORIGIN}/users/owner`,
    url: `${ORIGIN}/@owner`,
    displayName: "Olive <Owner>",
    ...overrides,
  } as Account;
}

function status(overrides: Partial<StatusRow> = {}): StatusRow {
  return {
    id: 10n,
    accountId: 1n,
    uri: `${ORIGIN}/users/owner/statuses/10`,
    url: `${ORIGIN}/@owner/10`,
    content: "<p>Hello</p>",
    spoilerText: "",
    sensitive: false,
    visibility: "public",
    language: "en",
    repliesCount: 2,
    reblogsCount: 1,
    favouritesCount: 5,
    createdAt: CREATED,
    editedAt: null,
    reblogOfId: null,
    ...overrides,
  } as StatusRow;
}

function media(overrides: Partial<PublicMedia>): PublicMedia {
  return {
    id: 1n,
    type: "image",
    contentType: "image/png",
    url: `${ORIGIN}/system/a/original.png`,
    previewUrl: `${ORIGIN}/system/a/small.png`,
    description: null,
    width: 640,
    height: 480,
    fileSize: 1000,
    ...overrides,
  };
}

function view(overrides: Partial<PublicStatus> = {}): PublicStatus {
  return {
    status: status(),
    author: account(),
    avatarUrl: `${ORIGIN}/avatars/original/missing.png`,
    media: [],
    mentions: [],
    tags: [],
    poll: null,
    reblog: null,
    pinned: false,
    ...overrides,
  };
}

const render = (v: PublicStatus, focus = false) => statusHtml(v, { localDomain: DOMAIN, focus, now: new Date("2026-12-02T00:00:00.000Z") });

test("video, audio and animated pictures get players with their descriptions", () => {
  const html = render(view({
    media: [
      media({ id: 1n, type: "video", contentType: "video/mp4", url: `${ORIGIN}/system/v.mp4`, previewUrl: `${ORIGIN}/system/v.png`, description: "A ferry leaving" }),
      media({ id: 2n, type: "audio", contentType: "audio/mpeg", url: `${ORIGIN}/system/a.mp3`, previewUrl: null, description: "Gulls" }),
      media({ id: 3n, type: "gifv", contentType: "video/mp4", url: `${ORIGIN}/system/g.mp4`, description: "A waving hand" }),
    ],
  }));
  assert.match(html, /<video src="https:\/\/social\.example\/system\/v\.mp4" controls preload="none" poster="https:\/\/social\.example\/system\/v\.png"[^>]* aria-label="A ferry leaving"><\/video>/);
  assert.match(html, /<audio src="https:\/\/social\.example\/system\/a\.mp3" controls preload="none" aria-label="Gulls"><\/audio>/);
  assert.match(html, /<video src="https:\/\/social\.example\/system\/g\.mp4" autoplay loop muted playsinline[^>]* aria-label="A waving hand"><\/video>/);
  assert.match(html, /class="media n3"/);
});

test("sensitive media without a warning hides behind its own disclosure", () => {
  const html = render(view({ status: status({ sensitive: true }), media: [media({ description: "Needle" })] }));
  assert.match(html, /<details class="sensitive"><summary>Sensitive content: show media<\/summary><div class="media n1">/);
  assert.match(html, /<p>Hello<\/p><\/div><details class="sensitive">/, "the text stays visible");
});

test("a poll with hidden totals shows its options without results until it ends", () => {
  const poll = {
    id: 1n,
    statusId: 10n,
    options: ["Yes", "No"],
    votesCounts: [7, 3],
    votersCount: null,
    multiple: true,
    hideTotals: true,
    expiresAt: new Date("2026-12-03T00:00:00.000Z"),
  } as PollRow;
  const open = render(view({ poll }));
  assert.doesNotMatch(open, /%/);
  assert.match(open, /Results are shown when the poll ends · Ends/);
  assert.match(open, /aria-label="Poll, several choices"/);
  const closed = render(view({ poll: { ...poll, expiresAt: new Date("2026-12-01T12:00:00.000Z") } }));
  assert.match(closed, /70%<\/span><span class="label">Yes/);
  assert.match(closed, /10 people · Closed/);
});

test("an edited post says when; counts, language and the author are shown and escaped", () => {
  const html = render(view({ status: status({ editedAt: new Date("2026-12-01T11:30:00.000Z") }) }), true);
  assert.match(html, /<li>Edited <time datetime="2026-12-01T11:30:00\.000Z">Dec 1, 2026, 11:30 AM UTC<\/time><\/li>/);
  assert.match(html, /<li>2 replies<\/li><li>1 boost<\/li><li>5 favourites<\/li>/);
  assert.match(html, /<div class="content" lang="en">/);
  assert.match(html, /Olive &lt;Owner&gt;/);
  assert.doesNotMatch(html, /Olive <Owner>/);
  assert.match(html, /@owner@example\.com/);
  assert.match(html, /<a class="permalink" href="https:\/\/social\.example\/@owner\/10"><time datetime="2026-12-01T10:00:00\.000Z"[^>]*>Dec 1, 2026, 10:00 AM UTC<\/time><\/a>/);
});

test("a boost shows the original and who boosted it; a remote author's links are nofollow", () => {
  const remote = account({ id: 2n, username: "friend", domain: "remote.example", uri: "https://remote.example/users/friend", url: "https://remote.example/@friend", displayName: "Friend" });
  const original = view({ author: remote, status: status({ id: 20n, accountId: 2n, uri: "https://remote.example/notes/1", url: "https://remote.example/@friend/1", content: "<p>Original words</p>" }) });
  const html = render(view({ status: status({ id: 30n, content: "", reblogOfId: 20n }), reblog: original }));
  assert.match(html, /<p class="context">Olive &lt;Owner&gt; boosted<\/p>/);
  assert.match(html, /Original words/);
  assert.match(html, /<a class="author" href="https:\/\/remote\.example\/@friend" rel="nofollow noopener">/);
  assert.match(html, /@friend@remote\.example/);
  assert.match(html, /id="status-20"/);
});

test("a content warning is escaped and wraps content, media and poll", () => {
  const html = render(view({ status: status({ spoilerText: "<b>spoilers</b>" }), media: [media({ description: "x" })] }));
  assert.match(html, /<details class="cw"><summary><span class="spoiler">&lt;b&gt;spoilers&lt;\/b&gt;<\/span>/);
  assert.match(html, /<\/summary><div class="content" lang="en"><p>Hello<\/p><\/div><div class="media n1">[\s\S]*<\/details>/);
});
