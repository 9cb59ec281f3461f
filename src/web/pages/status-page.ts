/**
 * A post's page, `/@owner/:id`: the post, the public thread above it and
 * the public replies below it (remote ones included), with the links that
 * let machines find its ActivityPub document, its oEmbed and the feed.
 * Also the embeddable version, `/@owner/:id/embed`, which other sites may
 * frame.
 */
import type { PublicThread } from "../../core/public-statuses.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { excerpt, previewMeta } from "../previews.ts";
import { publicPage } from "../public-layout.ts";
import { handleOf, nameOf, pageUrlOf, statusHtml, statusListHtml } from "../status-html.ts";
import { profileFeedLink } from "./profile-page.ts";

export interface StatusPageOptions {
  origin: string;
  localDomain: string;
  /** The owner's avatar, for the tab icon. */
  icon: string;
}

function titleOf(thread: PublicThread, localDomain: string): string {
  const { status, author } = thread.status;
  const words = status.spoilerText !== "" ? status.spoilerText : excerpt(status.content, 80);
  const who = `${nameOf(author)} (${handleOf(author, localDomain)})`;
  return words === "" ? `Post by ${who}` : `${who}: “${words}”`;
}

export function statusPage(thread: PublicThread, options: StatusPageOptions): string {
  const view = thread.status;
  const { status, author } = view;
  const url = pageUrlOf(view);
  const name = nameOf(author);
  const handle = handleOf(author, options.localDomain);
  const picture = view.media.find((media) => media.type === "image" && media.url != null) ?? null;
  const description = status.spoilerText !== ""
    ? `Content warning: ${status.spoilerText}`
    : excerpt(status.content) || (view.media.length > 0 ? `${view.media.length} attachment(s)` : "");
  const head = [
    `<link rel="alternate" type="application/activity+json" href="${escapeHtml(status.uri)}">`,
    `<link rel="alternate" type="application/json+oembed" href="${escapeHtml(`${options.origin}/api/oembed?url=${encodeURIComponent(url)}`)}">`,
    profileFeedLink(options.origin, author.username, name),
    `<link rel="canonical" href="${escapeHtml(url)}">`,
    previewMeta({
      type: "article",
      title: `${name} (${handle})`,
      description,
      url,
      siteName: options.localDomain,
      image: picture != null && !status.sensitive
        ? { url: picture.previewUrl ?? picture.url!, alt: picture.description ?? "", width: picture.width, height: picture.height }
        : { url: view.avatarUrl, alt: name },
      largeImage: picture != null && !status.sensitive,
      extra: {
        "article:published_time": status.createdAt.toISOString(),
        ...(status.editedAt == null ? {} : { "article:modified_time": status.editedAt.toISOString() }),
      },
    }),
  ].join("\n");
  const ancestors = thread.ancestors.length === 0
    ? ""
    : `<section class="thread" aria-labelledby="earlier"><h2 id="earlier">Earlier in the thread</h2>${statusListHtml(thread.ancestors, options.localDomain, "")}</section>`;
  const replies = thread.descendants.length === 0
    ? ""
    : `<section class="thread" aria-labelledby="replies"><h2 id="replies">Replies</h2>${statusListHtml(thread.descendants, options.localDomain, "")}</section>`;
  const body = `<h1 class="visually-hidden">Post by ${escapeHtml(name)}</h1>
<nav class="pager" aria-label="Profile"><a href="${escapeHtml(author.url ?? `${options.origin}/@${author.username}`)}">More posts by ${escapeHtml(name)}</a></nav>
${ancestors}
<ol class="statuses"><li>${statusHtml(view, { focus: true, localDomain: options.localDomain })}</li></ol>
${replies}`;
  return publicPage({
    title: titleOf(thread, options.localDomain),
    head,
    body,
    lang: "en",
    icon: options.icon,
    noindex: !author.indexable || status.visibility !== "public",
  });
}

/** The post alone, for an `<iframe>` on another site. */
export function embedPage(thread: PublicThread, options: StatusPageOptions): string {
  const body = `<h1 class="visually-hidden">Post by ${escapeHtml(nameOf(thread.status.author))}</h1>
<ol class="statuses"><li>${statusHtml(thread.status, { focus: true, localDomain: options.localDomain })}</li></ol>`;
  return publicPage({ title: titleOf(thread, options.localDomain), body, icon: options.icon, noindex: true });
}
