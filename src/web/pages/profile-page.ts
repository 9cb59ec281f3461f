/**
 * The owner's profile page, `/@owner` (and its tabs `/@owner/with_replies`
 * and `/@owner/media`): header picture, avatar, name, bio, fields with
 * their verified marks, counts (without followers and following when the
 * owner hides their network), featured hashtags, featured profiles (the
 * accounts the owner endorses, shown even when the network is hidden, as
 * Mastodon does), then the public posts,
 * pinned first, a page at a time.
 */
import type { ProfileTab, PublicProfile, PublicStatusPage } from "../../core/public-statuses.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { excerpt, previewMeta } from "../previews.ts";
import { publicPage } from "../public-layout.ts";
import { formatCount, formatDate, nameOf, statusListHtml } from "../status-html.ts";

const TABS: { tab: ProfileTab; path: string; label: string }[] = [
  { tab: "posts", path: "", label: "Posts" },
  { tab: "replies", path: "/with_replies", label: "Posts and replies" },
  { tab: "media", path: "/media", label: "Media" },
];

/** The path of a tab of the profile. */
export function profileTabPath(username: string, tab: ProfileTab): string {
  return `/@${username}${TABS.find((entry) => entry.tab === tab)!.path}`;
}

/** The `<link>` of the owner's feed. */
export function profileFeedLink(origin: string, username: string, name: string): string {
  return `<link rel="alternate" type="application/rss+xml" title="${escapeHtml(`${name}: posts`)}" href="${escapeHtml(`${origin}/@${username}.rss`)}">`;
}

function fieldsHtml(profile: PublicProfile): string {
  const fields = profile.account.fields;
  if (fields.length === 0) return "";
  const rows = fields.map((field) => {
    const verified = field.verifiedAt != null && field.verifiedAt !== "";
    const mark = verified
      ? ` <span class="check" title="${escapeHtml(`Ownership of this link was checked on ${formatDate(new Date(field.verifiedAt!))}`)}">✓<span class="visually-hidden"> verified link</span></span>`
      : "";
    return `<div${verified ? ` class="verified"` : ""}><dt>${escapeHtml(field.name)}</dt><dd>${field.value}${mark}</dd></div>`;
  }).join("");
  return `<dl class="fields">${rows}</dl>`;
}

function countsHtml(profile: PublicProfile): string {
  const items = [`<li><strong>${formatCount(profile.statusesCount)}</strong> ${profile.statusesCount === 1 ? "post" : "posts"}</li>`];
  if (profile.followingCount != null) items.push(`<li><strong>${formatCount(profile.followingCount)}</strong> following</li>`);
  if (profile.followersCount != null) {
    items.push(`<li><strong>${formatCount(profile.followersCount)}</strong> ${profile.followersCount === 1 ? "follower" : "followers"}</li>`);
  }
  return `<ul class="counts">${items.join("")}</ul>`;
}

function featuredHtml(profile: PublicProfile, origin: string): string {
  if (profile.featuredTags.length === 0) return "";
  const tags = profile.featuredTags.map((tag) =>
    `<li><a href="${escapeHtml(`${origin}/tags/${encodeURIComponent(tag.name)}`)}">#${escapeHtml(tag.displayName)} <small>${formatCount(tag.statusesCount)}</small></a></li>`
  ).join("");
  return `<section class="featured" aria-labelledby="featured-tags"><h2 id="featured-tags">Featured hashtags</h2><ul>${tags}</ul></section>`;
}

function featuredAccountsHtml(profile: PublicProfile, localDomain: string): string {
  if (profile.featuredAccounts.length === 0) return "";
  const items = profile.featuredAccounts.map(({ account, avatarUrl }) => {
    const url = account.url ?? account.uri;
    const handle = `@${account.username}@${account.domain ?? localDomain}`;
    return `<li><a href="${escapeHtml(url)}" rel="nofollow noopener">`
      + `<img src="${escapeHtml(avatarUrl)}" alt="" width="40" height="40" loading="lazy">`
      + `<span><span class="name">${escapeHtml(nameOf(account))}</span><span class="acct">${escapeHtml(handle)}</span></span></a></li>`;
  }).join("");
  return `<section class="featured-accounts" aria-labelledby="featured-accounts"><h2 id="featured-accounts">Featured profiles</h2><ul>${items}</ul></section>`;
}

export interface ProfilePageOptions {
  origin: string;
  localDomain: string;
  tab: ProfileTab;
  page: PublicStatusPage;
  /** Whether this is a later page (`max_id` given). */
  later: boolean;
}

export function profilePage(profile: PublicProfile, options: ProfilePageOptions): string {
  const { account } = profile;
  const { origin } = options;
  const handle = `@${account.username}@${options.localDomain}`;
  const name = nameOf(account);
  const profileUrl = account.url ?? `${origin}/@${account.username}`;
  const banner = profile.hasHeader
    ? `<img class="banner" src="${escapeHtml(profile.headerUrl)}" alt="">`
    : `<div class="banner empty"></div>`;
  const tabs = TABS.map((entry) => {
    const current = entry.tab === options.tab ? ` aria-current="page"` : "";
    return `<a href="${escapeHtml(`${origin}/@${account.username}${entry.path}`)}"${current}>${entry.label}</a>`;
  }).join("");
  const next = options.page.nextMaxId == null
    ? ""
    : `<p class="pager"><a href="${escapeHtml(`${origin}${profileTabPath(account.username, options.tab)}?max_id=${options.page.nextMaxId}`)}" rel="next">Older posts</a></p>`;
  const empty = options.tab === "media" ? "No public posts with media yet." : "No public posts yet.";
  const description = excerpt(account.note) || `Posts by ${name} (${handle})`;
  const head = [
    `<link rel="alternate" type="application/activity+json" href="${escapeHtml(account.uri)}">`,
    profileFeedLink(origin, account.username, name),
    `<link rel="canonical" href="${escapeHtml(profileUrl)}">`,
    previewMeta({
      type: "profile",
      title: `${name} (${handle})`,
      description,
      url: profileUrl,
      siteName: options.localDomain,
      image: { url: profile.avatarUrl, alt: name },
      extra: { "profile:username": `${account.username}@${options.localDomain}` },
    }),
  ].join("\n");
  const tabName = TABS.find((entry) => entry.tab === options.tab)!.label;
  const body = `<section class="profile card" aria-labelledby="profile-name">
${banner}
<div class="who">
<img class="avatar" src="${escapeHtml(profile.avatarUrl)}" alt="${escapeHtml(`${name}'s avatar`)}" width="96" height="96">
<h1 id="profile-name">${escapeHtml(name)}</h1>
<p class="handle">${escapeHtml(handle)}${account.bot ? " · Automated" : ""}${account.locked ? " · Approves followers" : ""}</p>
<div class="note">${account.note}</div>
${fieldsHtml(profile)}
${countsHtml(profile)}
${featuredHtml(profile, origin)}
${featuredAccountsHtml(profile, options.localDomain)}
<p class="handle"><a href="${escapeHtml(`${origin}/@${account.username}.rss`)}">RSS feed</a> · Joined ${escapeHtml(formatDate(account.createdAt).replace(/, \d+:\d+ [AP]M UTC$/, ""))}</p>
</div>
</section>
<nav class="tabs" aria-label="Posts">${tabs}</nav>
<h2 class="visually-hidden">${escapeHtml(tabName)}</h2>
${statusListHtml(options.page.statuses, options.localDomain, empty)}
${next}`;
  const title = options.tab === "posts" ? `${name} (${handle})` : `${tabName} of ${name} (${handle})`;
  return publicPage({ title, head, body, icon: profile.avatarUrl, noindex: !account.indexable || options.later });
}
