/**
 * RSS 2.0 feeds of the owner's public posts, at Mastodon's addresses:
 * `/@owner.rss` (posts without replies to others and without boosts) and
 * `/tags/:tag.rss`. Each item carries its content as HTML, the content
 * warning, the hashtags as categories, and the media: the first file as the
 * RSS `<enclosure>`, every file as a Media RSS `<media:content>` with its
 * description.
 */
import type { PublicStatus } from "../core/public-statuses.ts";
import { escapeHtml } from "../text/escape-html.ts";
import { excerpt } from "./previews.ts";
import { pageUrlOf } from "./status-html.ts";

export interface FeedChannel {
  title: string;
  description: string;
  /** The page the feed is of. */
  link: string;
  /** The feed's own address. */
  self: string;
  image: string | null;
}

/** How many posts a feed carries, as on Mastodon. */
export const FEED_LIMIT = 20;

/** Text for XML content and attributes. */
function xml(text: string): string {
  // Characters XML 1.0 does not allow at all are dropped.
  return escapeHtml(text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, ""));
}

function medium(type: PublicStatus["media"][number]["type"]): string {
  return type === "image" ? "image" : type === "audio" ? "audio" : type === "video" || type === "gifv" ? "video" : "document";
}

function itemXml(view: PublicStatus): string {
  const { status } = view;
  const url = pageUrlOf(view);
  const warning = status.spoilerText === "" ? "" : `<p><strong>Content warning: ${escapeHtml(status.spoilerText)}</strong></p>`;
  const lines = [
    `<guid isPermaLink="true">${xml(url)}</guid>`,
    `<link>${xml(url)}</link>`,
    `<pubDate>${status.createdAt.toUTCString()}</pubDate>`,
  ];
  if (status.spoilerText !== "") lines.push(`<title>${xml(status.spoilerText)}</title>`);
  lines.push(`<description>${xml(`${warning}${status.content}`)}</description>`);
  const files = view.media.filter((media) => media.url != null);
  const first = files[0];
  if (first != null) {
    lines.push(`<enclosure url="${xml(first.url!)}" length="${first.fileSize ?? 0}" type="${xml(first.contentType)}"/>`);
  }
  for (const media of files) {
    const size = media.fileSize == null ? "" : ` fileSize="${media.fileSize}"`;
    const description = media.description == null || media.description === ""
      ? ""
      : `<media:description type="plain">${xml(media.description)}</media:description>`;
    const rating = `<media:rating scheme="urn:simple">${status.sensitive ? "adult" : "nonadult"}</media:rating>`;
    lines.push(`<media:content url="${xml(media.url!)}" type="${xml(media.contentType)}"${size} medium="${medium(media.type)}">${rating}${description}</media:content>`);
  }
  for (const tag of view.tags) lines.push(`<category>${xml(tag.displayName)}</category>`);
  return `<item>\n${lines.join("\n")}\n</item>`;
}

/** An RSS 2.0 document of these posts. */
export function rssFeed(channel: FeedChannel, views: readonly PublicStatus[]): string {
  const built = views.reduce<Date | null>((latest, view) => {
    const at = view.status.editedAt ?? view.status.createdAt;
    return latest == null || at > latest ? at : latest;
  }, null);
  const head = [
    `<title>${xml(channel.title)}</title>`,
    `<description>${xml(channel.description)}</description>`,
    `<link>${xml(channel.link)}</link>`,
    `<atom:link href="${xml(channel.self)}" rel="self" type="application/rss+xml"/>`,
    `<generator>Islet</generator>`,
    `<docs>https://www.rssboard.org/rss-specification</docs>`,
  ];
  if (built != null) head.push(`<lastBuildDate>${built.toUTCString()}</lastBuildDate>`);
  if (channel.image != null) {
    head.push(`<image><url>${xml(channel.image)}</url><title>${xml(channel.title)}</title><link>${xml(channel.link)}</link></image>`);
    head.push(`<webfeeds:icon>${xml(channel.image)}</webfeeds:icon>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xmlns:webfeeds="http://webfeeds.org/rss/1.0">
<channel>
${head.join("\n")}
${views.map(itemXml).join("\n")}
</channel>
</rss>
`;
}

/** The short text of a post for titles elsewhere (oEmbed). */
export function statusTitle(view: PublicStatus): string {
  return view.status.spoilerText !== "" ? view.status.spoilerText : excerpt(view.status.content, 80);
}
