/**
 * What a link to a public page looks like when it is shared: OpenGraph and
 * Twitter card `<meta>` tags (title, description, image), as Mastodon sends
 * them on its profile and post pages.
 */
import { htmlToPlainText } from "../core/filters.ts";
import { escapeHtml } from "../text/escape-html.ts";

export interface Preview {
  type: "profile" | "article" | "website";
  title: string;
  description: string;
  url: string;
  siteName: string;
  image: { url: string; alt?: string; width?: number | null; height?: number | null } | null;
  /** A large picture card (a post with an image) or the small one. */
  largeImage?: boolean;
  /** Extra `property` → `content` pairs (profile:username, article:published_time, ...). */
  extra?: Record<string, string>;
}

/** Plain text of stored HTML, on one line, cut to `max` characters. */
export function excerpt(html: string, max = 300): string {
  const text = htmlToPlainText(html).replace(/\s+/g, " ").trim();
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function meta(attribute: "property" | "name", key: string, value: string): string {
  return `<meta ${attribute}="${escapeHtml(key)}" content="${escapeHtml(value)}">`;
}

/** The `<meta>` lines of a preview. */
export function previewMeta(preview: Preview): string {
  const lines = [
    meta("name", "description", preview.description),
    meta("property", "og:site_name", preview.siteName),
    meta("property", "og:type", preview.type),
    meta("property", "og:title", preview.title),
    meta("property", "og:url", preview.url),
    meta("property", "og:description", preview.description),
  ];
  if (preview.image != null) {
    lines.push(meta("property", "og:image", preview.image.url));
    if (preview.image.width != null) lines.push(meta("property", "og:image:width", String(preview.image.width)));
    if (preview.image.height != null) lines.push(meta("property", "og:image:height", String(preview.image.height)));
    if (preview.image.alt != null && preview.image.alt !== "") lines.push(meta("property", "og:image:alt", preview.image.alt));
  }
  for (const [key, value] of Object.entries(preview.extra ?? {})) lines.push(meta("property", key, value));
  lines.push(meta("name", "twitter:card", preview.largeImage ? "summary_large_image" : "summary"));
  lines.push(meta("name", "twitter:title", preview.title));
  lines.push(meta("name", "twitter:description", preview.description));
  if (preview.image != null) lines.push(meta("name", "twitter:image", preview.image.url));
  return lines.join("\n");
}
