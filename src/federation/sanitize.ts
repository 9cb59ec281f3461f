/**
 * Remote HTML cut down to the subset Mastodon keeps, so that what another
 * server sends can be shown by clients as it is.
 */
import sanitizeHtml from "sanitize-html";

const CLASS_PATTERN = /^(h|p|u|dt|e)-|^(mention|hashtag|ellipsis|invisible)$/;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li", "ruby", "rt", "rp"],
  allowedAttributes: {
    a: ["href", "rel", "class", "translate", "target"],
    span: ["class", "translate"],
    ol: ["start", "reversed"],
    li: ["value"],
  },
  allowedSchemes: ["http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"],
  allowProtocolRelative: false,
  // Headings and other block elements become paragraphs, as Mastodon does.
  transformTags: {
    h1: "strong", h2: "strong", h3: "strong", h4: "strong", h5: "strong", h6: "strong",
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: "nofollow noopener", target: "_blank" },
    }),
  },
  nonTextTags: ["style", "script", "textarea", "option", "noscript", "template"],
};

/** Sanitised HTML; class attributes keep only microformats and Mastodon's own. */
export function sanitizeRemoteHtml(html: string): string {
  const cleaned = sanitizeHtml(html, OPTIONS);
  // Drop class names outside the allowed set.
  return cleaned.replace(/ class="([^"]*)"/g, (_match, classes: string) => {
    const kept = classes.split(/\s+/).filter((name) => CLASS_PATTERN.test(name));
    return kept.length === 0 ? "" : ` class="${kept.join(" ")}"`;
  });
}

/** Plain text of an HTML fragment (for search and filters). */
export function htmlToText(html: string): string {
  return sanitizeHtml(html.replace(/<br\s*\/?>/gi, "\n").replace(/<\/p>\s*<p>/gi, "\n\n"), { allowedTags: [], allowedAttributes: {} })
    .replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}
