/**
 * HTML from other servers (post content, bios, profile field values) cut
 * down to the subset Mastodon keeps, so that clients can show it as it is,
 * trusting Islet as they trust Mastodon. A leaf module: core stores remote
 * text through it, and the one-time cleanup of older rows uses it too.
 *
 * What survives: paragraphs, line breaks, inline emphasis, lists, quotes,
 * code, ruby, spans and links. Links keep only the schemes Mastodon links
 * (a link to anything else, `javascript:` and `data:` among them, or a
 * relative one, becomes its text in a plain span) and always carry `rel="nofollow noopener"`
 * and `target="_blank"`. Class names survive only when they are
 * microformats or Mastodon's own; no `style`, no event handler, no other
 * attribute. Scripts, styles, frames, SVG, MathML, objects, forms and their
 * contents are dropped whole.
 */
import sanitizeHtml from "sanitize-html";

/** Schemes a link may have, as Mastodon allows them. */
export const LINK_SCHEMES: readonly string[] = ["http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"];

/** Microformats, and the classes Mastodon's own markup uses. */
const ALLOWED_CLASS = /^(?:h|p|u|dt|e)-|^(?:mention|hashtag|ellipsis|invisible|quote-inline)$/;

const HEADINGS = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);

/** The lower-case scheme of an absolute URL, or null for a relative or broken one. */
function schemeOf(href: string): string | null {
  try {
    // The URL parser drops the tabs, newlines and leading controls that
    // browsers ignore too, so `java\tscript:` is read as a browser would.
    return new URL(href).protocol.slice(0, -1).toLowerCase();
  } catch {
    return null;
  }
}

function transform(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const kept: sanitizeHtml.Attributes = { ...attribs };
  // Only translate="no" means something; anything else goes.
  if ("translate" in kept && kept.translate !== "no") delete kept.translate;
  if (HEADINGS.has(tagName)) return { tagName: "strong", attribs: {} };
  if (tagName === "a") {
    const scheme = kept.href == null ? null : schemeOf(kept.href);
    // Renamed to a tag that is not allowed, sanitize-html would close its
    // parent with that name; a bare span keeps the markup well formed.
    if (scheme == null || !LINK_SCHEMES.includes(scheme)) return { tagName: "span", attribs: {} };
    return { tagName, attribs: { ...kept, rel: "nofollow noopener", target: "_blank" } };
  }
  return { tagName, attribs: kept };
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li", "ruby", "rt", "rp"],
  allowedAttributes: {
    "*": ["lang"],
    a: ["href", "rel", "class", "translate", "target"],
    span: ["class", "translate"],
    p: ["class"],
    ol: ["start", "reversed"],
    li: ["value"],
  },
  allowedClasses: { a: [ALLOWED_CLASS], span: [ALLOWED_CLASS], p: [ALLOWED_CLASS] },
  allowedSchemes: [...LINK_SCHEMES],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ["href"],
  allowProtocolRelative: false,
  allowedIframeHostnames: [],
  parseStyleAttributes: false,
  transformTags: { "*": transform },
  // Dropped with everything inside them, not just their tags.
  nonTextTags: [
    "script", "style", "textarea", "option", "select", "noscript", "noembed", "noframes", "template", "title",
    "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "xmp", "plaintext", "head",
  ],
  disallowedTagsMode: "discard",
};

/** Remote HTML reduced to what Mastodon keeps; the same input always gives the same output. */
export function sanitizeRemoteHtml(html: string): string {
  if (html === "") return "";
  return sanitizeHtml(html, OPTIONS);
}

/**
 * A web address from a remote document that clients offer as a link (an
 * account's or a post's `url`): kept when it is http or https, else null,
 * so that a `javascript:` or `data:` URL never reaches a client.
 */
export function remoteWebUrl(url: string | null | undefined): string | null {
  if (url == null) return null;
  const scheme = schemeOf(url);
  return scheme === "http" || scheme === "https" ? url : null;
}
