/**
 * Plain text as the owner types it, turned into the HTML Mastodon clients
 * expect: escaped, in paragraphs with line breaks, with links shortened for
 * display, mentions of known accounts linked as h-cards, and hashtags linked
 * to the tag page. Also counts a text's length the way Mastodon does (a link
 * counts as 23 characters, a remote mention as its local part).
 */
import { and, isNull, or, sql, type SQL } from "drizzle-orm";
import { accounts } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { escapeHtml } from "../text/escape-html.ts";

/** A link, mention or hashtag found in a text, by UTF-16 offsets. */
export type TextEntity =
  | { kind: "url"; start: number; end: number; url: string }
  | { kind: "mention"; start: number; end: number; username: string; domain: string | null }
  | { kind: "hashtag"; start: number; end: number; name: string };

/** How many characters a link counts for, whatever its length. */
export const URL_PLACEHOLDER_LENGTH = 23;

const URL_PATTERN = /https?:\/\/[^\s<>"\u3000]+/giu;
/** `@user` or `@user@domain` (a port is allowed, for development instances). */
const MENTION_PATTERN = /@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)(?:@((?:[\p{L}\p{N}_-]+\.)*[\p{L}\p{N}_-]*[\p{L}\p{N}_](?::\d{1,5})?))?/giu;
/** A hashtag has at least one character that is not a digit. */
const HASHTAG_PATTERN = /#([\p{L}\p{N}\p{M}_\u00b7\u200c]*[\p{L}\p{M}_][\p{L}\p{N}\p{M}_\u00b7\u200c]*)/gu;
/** What may not come right before a mention or hashtag for it to count. */
const WORDISH_BEFORE_MENTION = /[\p{L}\p{N}_=/]/u;
const WORDISH_BEFORE_HASHTAG = /[\p{L}\p{N}_/)&]/u;
const TRAILING_PUNCTUATION = /[.,:;!?'"\u2026\u3001\u3002]+$/u;

/** Drops trailing punctuation and closing brackets that are not balanced inside the link. */
function trimUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING_PUNCTUATION, "");
    for (const [open, close] of [["(", ")"], ["[", "]"]] as const) {
      while (url.endsWith(close) && count(url, close) > count(url, open)) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}

function validUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== "";
  } catch {
    return false;
  }
}

function overlaps(ranges: readonly { start: number; end: number }[], start: number, end: number): boolean {
  return ranges.some((range) => start < range.end && end > range.start);
}

/** The links, mentions and hashtags of a text, in order, never overlapping. */
export function extractEntities(text: string): TextEntity[] {
  const entities: TextEntity[] = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index;
    if (start > 0 && /[\p{L}\p{N}_]/u.test(text[start - 1])) continue;
    const url = trimUrl(match[0]);
    if (!validUrl(url) || /^https?:\/\/$/i.test(url)) continue;
    entities.push({ kind: "url", start, end: start + url.length, url });
  }
  const taken = [...entities];
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const start = match.index;
    if (start > 0 && WORDISH_BEFORE_MENTION.test(text[start - 1])) continue;
    let end = start + match[0].length;
    let domain: string | null = match[2] ?? null;
    // `@user@` followed by nothing that makes a domain: just `@user`.
    if (domain != null && !/[\p{L}\p{N}]/u.test(domain)) {
      domain = null;
      end = start + 1 + match[1].length;
    }
    // A mention that runs straight into more word characters is not one (`@a@b@c`).
    if (end < text.length && /[@\p{L}\p{N}_]/u.test(text[end])) continue;
    if (overlaps(taken, start, end)) continue;
    entities.push({ kind: "mention", start, end, username: match[1], domain: domain?.toLowerCase() ?? null });
  }
  for (const match of text.matchAll(HASHTAG_PATTERN)) {
    const start = match.index;
    if (start > 0 && WORDISH_BEFORE_HASHTAG.test(text[start - 1])) continue;
    const name = match[1].replace(/[\u00b7\u200c]+$/u, "");
    const end = start + 1 + name.length;
    if (name === "" || /^[\p{N}_\u00b7]+$/u.test(name)) continue;
    if (overlaps(taken, start, end) || overlaps(entities, start, end)) continue;
    entities.push({ kind: "hashtag", start, end, name });
  }
  return entities.sort((a, b) => a.start - b.start);
}

/** Number of user-perceived characters (grapheme clusters). */
export function graphemeLength(text: string): number {
  let n = 0;
  for (const _ of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) n++;
  return n;
}

/**
 * A status text's length as Mastodon counts it against the character limit:
 * each link as 23 characters, `@user@domain` as `@user`.
 */
export function countableLength(text: string): number {
  let countable = "";
  let last = 0;
  for (const entity of extractEntities(text)) {
    if (entity.kind === "hashtag") continue;
    countable += text.slice(last, entity.start);
    countable += entity.kind === "url" ? "x".repeat(URL_PLACEHOLDER_LENGTH) : `@${entity.username}`;
    last = entity.end;
  }
  countable += text.slice(last);
  return graphemeLength(countable);
}

/** An account a mention links to. */
export interface MentionTarget {
  id: bigint;
  username: string;
  /** Null for a local account. */
  domain: string | null;
  /** The profile page (or the actor IRI when there is none). */
  url: string;
}

export interface RenderOptions {
  /** Where hashtag links point: `${origin}/tags/name`. */
  origin: string;
  /** Finds the account a mention names; null leaves the mention as plain text. */
  resolveMention(username: string, domain: string | null): MentionTarget | null;
}

export interface RenderedText {
  html: string;
  /** The accounts mentioned, once each, in order of appearance. */
  mentions: MentionTarget[];
  /** The hashtags used, once each (case-insensitively), as first typed. */
  tags: string[];
}

/** The `<a>` of a link, its text shortened for display as Mastodon does. */
export function renderLink(url: string): string {
  const prefix = /^https?:\/\/(www\.)?/i.exec(url)?.[0] ?? "";
  const rest = url.slice(prefix.length);
  const display = rest.slice(0, 30);
  const suffix = rest.slice(30);
  const cut = rest.length > 30;
  return `<a href="${escapeHtml(url)}" rel="nofollow noopener" target="_blank">` +
    `<span class="invisible">${escapeHtml(prefix)}</span>` +
    `<span class="${cut ? "ellipsis" : ""}">${escapeHtml(display)}</span>` +
    `<span class="invisible">${escapeHtml(suffix)}</span></a>`;
}

export function renderMention(target: MentionTarget, display: string): string {
  return `<span class="h-card" translate="no"><a href="${escapeHtml(target.url)}" class="u-url mention">` +
    `@<span>${escapeHtml(display)}</span></a></span>`;
}

export function renderHashtag(origin: string, name: string): string {
  return `<a href="${escapeHtml(`${origin}/tags/${encodeURIComponent(name)}`)}" class="mention hashtag" rel="tag">` +
    `#<span>${escapeHtml(name)}</span></a>`;
}

/** Escaped text with its line breaks as `<br />`. */
function renderRun(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, "<br />");
}

/**
 * Renders plain text as status HTML: paragraphs split at blank lines, line
 * breaks within them, links, mentions and hashtags. Empty text is "".
 */
export function renderPlainText(text: string, options: RenderOptions): RenderedText {
  const normalized = text.replace(/\r\n?/g, "\n").trim();
  if (normalized === "") return { html: "", mentions: [], tags: [] };
  const entities = extractEntities(normalized);
  const mentions = new Map<bigint, MentionTarget>();
  const tags = new Map<string, string>();

  // Show `user@domain` when two mentioned accounts share a username.
  const resolved = new Map<TextEntity, MentionTarget>();
  const usernames = new Map<string, Set<string>>();
  for (const entity of entities) {
    if (entity.kind !== "mention") continue;
    const target = options.resolveMention(entity.username, entity.domain);
    if (target == null) continue;
    resolved.set(entity, target);
    const key = target.username.toLowerCase();
    if (!usernames.has(key)) usernames.set(key, new Set());
    usernames.get(key)!.add(target.domain ?? "");
  }

  const renderEntity = (entity: TextEntity): string => {
    const raw = normalized.slice(entity.start, entity.end);
    switch (entity.kind) {
      case "url":
        return renderLink(entity.url);
      case "hashtag": {
        const key = entity.name.toLowerCase();
        if (!tags.has(key)) tags.set(key, entity.name);
        return renderHashtag(options.origin, entity.name);
      }
      case "mention": {
        const target = resolved.get(entity);
        if (target == null) return escapeHtml(raw);
        if (!mentions.has(target.id)) mentions.set(target.id, target);
        const ambiguous = (usernames.get(target.username.toLowerCase())?.size ?? 0) > 1;
        const display = ambiguous && target.domain != null ? `${target.username}@${target.domain}` : target.username;
        return renderMention(target, display);
      }
    }
  };

  // Entities never contain whitespace, so none spans a paragraph break.
  const paragraphs: string[] = [];
  const breaks = /\n[^\S\n]*\n\s*/g;
  let paragraphStart = 0;
  const bounds: [number, number][] = [];
  for (const match of normalized.matchAll(breaks)) {
    bounds.push([paragraphStart, match.index]);
    paragraphStart = match.index + match[0].length;
  }
  bounds.push([paragraphStart, normalized.length]);
  let next = 0;
  for (const [start, end] of bounds) {
    let html = "";
    let position = start;
    while (next < entities.length && entities[next].start < end) {
      const entity = entities[next++];
      html += renderRun(normalized.slice(position, entity.start));
      html += renderEntity(entity);
      position = entity.end;
    }
    html += renderRun(normalized.slice(position, end));
    paragraphs.push(`<p>${html}</p>`);
  }
  return { html: paragraphs.join(""), mentions: [...mentions.values()], tags: [...tags.values()] };
}

/** Whether a mention's domain names this server. */
export function isLocalDomain(ctx: CoreContext, domain: string | null): boolean {
  if (domain == null) return true;
  const d = domain.toLowerCase();
  return d === ctx.config.localDomain.toLowerCase() || d === ctx.config.webDomain.toLowerCase();
}

export interface FormattedStatusText {
  html: string;
  /** Mentioned accounts that Islet knows, in order of appearance. */
  mentions: Account[];
  /** Hashtags as first typed, once each. */
  tags: string[];
}

/**
 * Renders a local post's text, resolving mentions against the accounts table:
 * the owner (`@name` or `@name@this.domain`) and remote accounts already
 * known (`@name@their.domain`). Unknown handles stay plain text.
 */
export async function formatStatusText(ctx: CoreContext, text: string): Promise<FormattedStatusText> {
  const handles = new Map<string, { username: string; domain: string | null }>();
  for (const entity of extractEntities(text.replace(/\r\n?/g, "\n").trim())) {
    if (entity.kind !== "mention") continue;
    const domain = isLocalDomain(ctx, entity.domain) ? null : entity.domain;
    handles.set(`${entity.username.toLowerCase()}@${domain ?? ""}`, { username: entity.username, domain });
  }
  const found = new Map<string, Account>();
  if (handles.size > 0) {
    const conditions: SQL[] = [...handles.values()].map(({ username, domain }) =>
      and(
        sql`lower(${accounts.username}) = ${username.toLowerCase()}`,
        domain == null ? isNull(accounts.domain) : sql`lower(${accounts.domain}) = ${domain}`,
      )!
    );
    const rows = await ctx.db.select().from(accounts).where(or(...conditions));
    for (const row of rows) found.set(`${row.username.toLowerCase()}@${row.domain?.toLowerCase() ?? ""}`, row);
  }
  const rendered = renderPlainText(text, {
    origin: ctx.config.origin,
    resolveMention(username, domain) {
      const local = isLocalDomain(ctx, domain);
      const account = found.get(`${username.toLowerCase()}@${local ? "" : domain}`);
      if (account == null) return null;
      return { id: account.id, username: account.username, domain: account.domain, url: account.url ?? account.uri };
    },
  });
  const byId = new Map([...found.values()].map((account) => [account.id, account]));
  return {
    html: rendered.html,
    mentions: rendered.mentions.map((target) => byId.get(target.id)!),
    tags: rendered.tags,
  };
}
