/** A hashtag's page, `/tags/:tag`: the owner's public posts with it, newest first. */
import type { PublicStatusPage } from "../../core/public-statuses.ts";
import type { Tag } from "../../core/tags.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { previewMeta } from "../previews.ts";
import { publicPage } from "../public-layout.ts";
import { statusListHtml } from "../status-html.ts";

export interface TagPageOptions {
  origin: string;
  localDomain: string;
  ownerName: string;
  /** The owner's profile page. */
  ownerUrl: string;
  icon: string;
  page: PublicStatusPage;
  later: boolean;
  noindex: boolean;
}

export function tagPage(tag: Tag, options: TagPageOptions): string {
  const { origin } = options;
  const path = `/tags/${encodeURIComponent(tag.name)}`;
  const feed = `${origin}${path}.rss`;
  const next = options.page.nextMaxId == null
    ? ""
    : `<p class="pager"><a href="${escapeHtml(`${origin}${path}?max_id=${options.page.nextMaxId}`)}" rel="next">Older posts</a></p>`;
  const head = [
    `<link rel="alternate" type="application/rss+xml" title="${escapeHtml(`#${tag.displayName}`)}" href="${escapeHtml(feed)}">`,
    `<link rel="canonical" href="${escapeHtml(`${origin}${path}`)}">`,
    previewMeta({
      type: "website",
      title: `#${tag.displayName}`,
      description: `Public posts by ${options.ownerName} tagged #${tag.displayName}`,
      url: `${origin}${path}`,
      siteName: options.localDomain,
      image: null,
    }),
  ].join("\n");
  const body = `<header class="page-head card">
<h1>#${escapeHtml(tag.displayName)}</h1>
<p>Public posts by <a href="${escapeHtml(options.ownerUrl)}">${escapeHtml(options.ownerName)}</a> · <a href="${escapeHtml(feed)}">RSS feed</a></p>
</header>
<h2 class="visually-hidden">Posts</h2>
${statusListHtml(options.page.statuses, options.localDomain, "No public posts with this hashtag.")}
${next}`;
  return publicPage({ title: `#${tag.displayName}`, head, body, icon: options.icon, noindex: options.noindex || options.later });
}
