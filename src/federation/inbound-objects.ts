/**
 * Remote posts (Note, Article, Page, Question) read into plain data that
 * core can store: the HTML as sent (core sanitises it when it stores it),
 * visibility from the addressing, mentions, hashtags, attachments and poll.
 */
import { Article, Document, Hashtag, Image, Link, Mention, Note, Page, PUBLIC_COLLECTION, Question, Video, Audio, type Object as APObject } from "@fedify/vocab";
import type { Context } from "@fedify/fedify";
import { escapeHtml } from "../text/escape-html.ts";

export type PostObject = Note | Article | Page | Question;

export function isPostObject(object: unknown): object is PostObject {
  return object instanceof Note || object instanceof Article || object instanceof Page || object instanceof Question;
}

export interface RemoteAttachment {
  url: string;
  mediaType: string | null;
  description: string | null;
  width: number | null;
  height: number | null;
  /** Mastodon's `toot:blurhash`, when given and well-formed. */
  blurhash: string | null;
  /** Mastodon's `toot:focalPoint` ([x, y], each from -1 to 1). */
  focus: { x: number; y: number } | null;
}

export interface RemotePoll {
  options: string[];
  votesCounts: number[];
  multiple: boolean;
  expiresAt: Date | null;
  votersCount: number | null;
}

/** The post a received post quotes, in whichever form it says so. */
export interface RemoteQuote {
  quotedUri: string;
  /** FEP-044f's `quoteAuthorization`. */
  authorizationUri: string | null;
  /** FEP-044f `quote`; or an older form: quoteUrl, _misskey_quote, quoteUri, a FEP-e232 link tag. */
  form: "fep-044f" | "legacy";
}

/** Media types a FEP-e232 link to an ActivityPub object carries. */
function isActivityPubMediaType(value: string | null | undefined): boolean {
  if (value == null) return false;
  const type = value.toLowerCase().replace(/\s+/g, "");
  return type === "application/activity+json" ||
    (type.startsWith("application/ld+json") && type.includes('profile="https://www.w3.org/ns/activitystreams"'));
}

export interface RemotePost {
  uri: string;
  url: string | null;
  authorUri: string;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: "public" | "unlisted" | "private" | "direct";
  language: string | null;
  inReplyToUri: string | null;
  mentionUris: string[];
  tagNames: string[];
  attachments: RemoteAttachment[];
  poll: RemotePoll | null;
  published: Date;
  updated: Date | null;
  quote: RemoteQuote | null;
  /** Who may quote it, from `interactionPolicy.canQuote`; null when unstated. */
  quotePolicy: "public" | "followers" | "nobody" | null;
}

function instantToDate(value: { epochMilliseconds: number } | null | undefined): Date | null {
  return value == null ? null : new Date(value.epochMilliseconds);
}

/** Mastodon's reading of the addressing: who may see the post. */
export function visibilityOf(object: APObject, followersUri: string | null): RemotePost["visibility"] {
  const to = object.toIds.map((u) => u.href);
  const cc = object.ccIds.map((u) => u.href);
  const isPublic = (list: string[]) => list.some((u) => u === PUBLIC_COLLECTION.href || u === "as:Public" || u === "Public");
  if (isPublic(to)) return "public";
  if (isPublic(cc)) return "unlisted";
  if (followersUri != null && [...to, ...cc].includes(followersUri)) return "private";
  // Addressed to followers under another name (some servers), or to people only.
  if ([...to, ...cc].some((u) => /\/followers$/.test(u))) return "private";
  return "direct";
}

function linkHref(value: URL | Link | null | undefined): string | null {
  if (value == null) return null;
  if (value instanceof URL) return value.href;
  return value.href?.href ?? null;
}

/** Reads a remote post. `followersUri` is its author's followers collection. */
export async function readRemotePost(ctx: Context<void>, object: PostObject, followersUri: string | null): Promise<RemotePost> {
  if (object.id == null) throw new Error("the object has no id");
  const authorUri = object.attributionId?.href;
  if (authorUri == null) throw new Error("the object has no attributedTo");
  const options = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader, suppressError: true };

  const mentionUris: string[] = [];
  const tagNames: string[] = [];
  let linkedQuote: string | null = null;
  for await (const tag of object.getTags(options)) {
    if (tag instanceof Mention && tag.href != null) mentionUris.push(tag.href.href);
    else if (tag instanceof Link && !(tag instanceof Hashtag) && tag.href != null && linkedQuote == null && isActivityPubMediaType(tag.mediaType)) {
      linkedQuote = tag.href.href;
    }
    else if (tag instanceof Hashtag && tag.name != null) {
      const name = String(tag.name).replace(/^#/, "");
      if (/^[\p{L}\p{N}_]+$/u.test(name)) tagNames.push(name);
    }
  }

  const attachments: RemoteAttachment[] = [];
  for await (const attachment of object.getAttachments(options)) {
    if (attachment instanceof Document || attachment instanceof Image || attachment instanceof Video || attachment instanceof Audio) {
      const url = linkHref(attachment.url as URL | Link | null);
      if (url == null) continue;
      attachments.push({
        url,
        mediaType: attachment.mediaType ?? null,
        description: attachment.name == null ? null : String(attachment.name),
        width: (attachment as Document).width ?? null,
        height: (attachment as Document).height ?? null,
        blurhash: null,
        focus: null,
      });
    }
  }
  if (attachments.length > 0) await readMastodonMediaExtensions(object, attachments);

  let poll: RemotePoll | null = null;
  if (object instanceof Question) {
    const multiple = object.inclusiveOptionIds.length > 0 || (await countAsync(object.getInclusiveOptions(options))) > 0;
    const choices = multiple ? object.getInclusiveOptions(options) : object.getExclusiveOptions(options);
    const titles: string[] = [];
    const counts: number[] = [];
    for await (const choice of choices) {
      if (!(choice instanceof Note) || choice.name == null) continue;
      titles.push(String(choice.name));
      const replies = await choice.getReplies(options).catch(() => null);
      counts.push(replies?.totalItems ?? 0);
    }
    if (titles.length > 0) {
      poll = {
        options: titles,
        votesCounts: counts,
        multiple,
        expiresAt: instantToDate(object.endTime) ?? (object.closed instanceof Object && "epochMilliseconds" in object.closed ? instantToDate(object.closed) : null),
        votersCount: object.voters ?? null,
      };
    }
  }

  const contents = object.contents;
  const languaged = contents.find((c) => typeof c === "object" && c != null && "locale" in c) as { locale: { baseName: string } } | undefined;
  const rawContent = object.content == null ? "" : String(object.content);
  const summary = object.summary == null ? "" : String(object.summary);
  return {
    uri: object.id.href,
    url: linkHref(object.url as URL | Link | null) ?? object.id.href,
    authorUri,
    // An Article or Page (a blog post, a Lemmy post) keeps its title on top.
    content: (object instanceof Article || object instanceof Page) && object.name != null
      ? `<p><strong>${escapeHtml(String(object.name))}</strong></p>${rawContent}`
      : rawContent,
    spoilerText: summary,
    sensitive: object.sensitive ?? summary !== "",
    visibility: visibilityOf(object, followersUri),
    language: languaged?.locale.baseName.split("-")[0] ?? null,
    inReplyToUri: object.replyTargetId?.href ?? null,
    mentionUris,
    tagNames,
    attachments,
    poll,
    published: instantToDate(object.published) ?? new Date(),
    updated: instantToDate(object.updated),
    quote: quoteOf(object, linkedQuote),
    quotePolicy: quotePolicyOf(object, followersUri),
  };
}

/**
 * `interactionPolicy.canQuote` as a quote policy: the public collection
 * approved automatically means anyone, the followers collection means
 * followers, a rule approving neither means nobody else. Manual approval
 * and an absent rule are left unknown (a request may still be sent).
 */
function quotePolicyOf(object: PostObject, followersUri: string | null): RemotePost["quotePolicy"] {
  const rule = object.interactionPolicy?.canQuote;
  if (rule == null) return null;
  const automatic = rule.automaticApprovals.map((url) => url.href);
  if (automatic.some((url) => url === PUBLIC_COLLECTION.href || url === "as:Public" || url === "Public")) return "public";
  if (followersUri != null && automatic.includes(followersUri)) return "followers";
  if (rule.manualApprovals.length > 0) return null;
  return "nobody";
}

/** FEP-044f's `quote` first, then quoteUrl / _misskey_quote / quoteUri, then a link tag. */
function quoteOf(object: PostObject, linkedQuote: string | null): RemoteQuote | null {
  const quoting = object as PostObject & { quoteId?: URL | null; quoteUrl?: URL | null; quoteAuthorizationId?: URL | null };
  if (quoting.quoteId != null) {
    return { quotedUri: quoting.quoteId.href, authorizationUri: quoting.quoteAuthorizationId?.href ?? null, form: "fep-044f" };
  }
  const legacy = quoting.quoteUrl?.href ?? linkedQuote;
  if (legacy == null || legacy === object.id?.href) return null;
  return { quotedUri: legacy, authorizationUri: null, form: "legacy" };
}

// ---------------------------------------------------------------- Mastodon's media extensions

const TOOT = "http://joinmastodon.org/ns#";
/** BlurHash's alphabet (base 83); a 1x1 hash has 6 characters. */
const BLURHASH = /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,200}$/;

/** A property of a compacted document, under its usual term or its IRI. */
function extension(entry: Record<string, unknown>, name: string): unknown {
  return entry[name] ?? entry[`toot:${name}`] ?? entry[`${TOOT}${name}`];
}

/** One value of a JSON-LD property: unwraps `[x]`, `{"@value": x}` and `{"@list": [...]}`. */
function plain(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "object") return plain(value[0]);
  if (value != null && typeof value === "object" && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    if ("@value" in object) return object["@value"];
    if ("@list" in object) return (object["@list"] as unknown[]).map(plain);
  }
  return value;
}

function firstUrl(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const url = firstUrl(item);
      if (url != null) return url;
    }
    return null;
  }
  if (value != null && typeof value === "object") {
    const object = value as Record<string, unknown>;
    return firstUrl(object.href ?? object["@id"] ?? null);
  }
  return null;
}

/**
 * Mastodon's `blurhash` and `focalPoint` on attachments. The vocabulary has
 * no accessors for them, but an object parsed from a fetched document
 * keeps that document, and gives it back from toJsonLd(); an object
 * embedded in an activity does not, and then they are simply not known.
 */
async function readMastodonMediaExtensions(object: PostObject, attachments: RemoteAttachment[]): Promise<void> {
  let document: unknown;
  try {
    document = await object.toJsonLd();
  } catch {
    return;
  }
  if (document == null || typeof document !== "object") return;
  const raw = (document as Record<string, unknown>).attachment;
  const entries = (Array.isArray(raw) ? raw : raw == null ? [] : [raw]).filter(
    (entry): entry is Record<string, unknown> => entry != null && typeof entry === "object" && !Array.isArray(entry),
  );
  const byUrl = new Map<string, Record<string, unknown>>();
  for (const entry of entries) {
    const url = firstUrl(entry.url);
    if (url != null && !byUrl.has(url)) byUrl.set(url, entry);
  }
  for (const attachment of attachments) {
    const entry = byUrl.get(attachment.url);
    if (entry == null) continue;
    const blurhash = plain(extension(entry, "blurhash"));
    if (typeof blurhash === "string" && BLURHASH.test(blurhash)) attachment.blurhash = blurhash;
    const focal = plain(extension(entry, "focalPoint"));
    if (Array.isArray(focal) && focal.length === 2) {
      const [x, y] = focal.map(plain);
      if (typeof x === "number" && typeof y === "number" && [x, y].every((n) => Number.isFinite(n) && n >= -1 && n <= 1)) {
        attachment.focus = { x, y };
      }
    }
  }
}

async function countAsync(iterable: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of iterable) n++;
  return n;
}
