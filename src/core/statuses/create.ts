/**
 * Posting as the owner: the rules a new post must meet (length, media,
 * poll, reply target), rendering its text, and storing it.
 */
import type { Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";
import { CoreError } from "../context.ts";
import { newId } from "../ids.ts";
import { checkPollInput, cleanPollInput, type PollInput } from "../polls.ts";
import { checkQuotable, initialQuoteState, QUOTE_POLICIES, quotingVisibility, withQuoteInline, type QuotePolicy } from "../quotes.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { countableLength, formatStatusText, graphemeLength } from "../text.ts";
import { canView } from "../visibility.ts";
import { recallIdempotent, rememberIdempotent } from "./idempotency.ts";
import { checkMedia, type MediaCheckOptions, type MediaRow } from "./media.ts";
import { findStatus, localStatusUris, resolveReblog, type StatusRow, type Visibility } from "./rows.ts";
import { storeStatus, type StatusData } from "./store.ts";

/** Characters a post may have (text and content warning together). */
export const MAX_STATUS_CHARACTERS = 5000;

export interface NewStatusInput {
  text?: string | null;
  mediaIds?: readonly bigint[] | null;
  poll?: PollInput | null;
  inReplyToId?: bigint | null;
  sensitive?: boolean | null;
  spoilerText?: string | null;
  /** Default: public. */
  visibility?: Visibility | null;
  /** An ISO 639 code; null or absent for none. */
  language?: string | null;
  /** The OAuth application posting. */
  applicationId?: bigint | null;
  /** The Idempotency-Key header: a retry within an hour returns the first post. */
  idempotencyKey?: string | null;
  /** The post this one quotes. */
  quotedStatusId?: bigint | null;
  /** Who may quote this post; default: anyone. */
  quotePolicy?: QuotePolicy | null;
}

/** A new post's input after its checks, ready to render and store. */
export interface PreparedStatus {
  text: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: Visibility;
  language: string | null;
  inReplyTo: StatusRow | null;
  media: MediaRow[];
  poll: PollInput | null;
  applicationId: bigint | null;
  quoted: StatusRow | null;
  quotePolicy: QuotePolicy;
}

/**
 * A language tag reduced to its ISO 639 code (`en-GB` → `en`); undefined
 * when it is not a language tag at all.
 */
export function normalizeLanguage(value: string | null | undefined): string | null | undefined {
  if (value == null || value.trim() === "") return null;
  const match = /^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$/i.exec(value.trim());
  return match == null ? undefined : match[1].toLowerCase();
}

/** Checks text and content warning together against the character limit. */
export function checkLength(text: string, spoilerText: string): void {
  // Far beyond any acceptable post (links count 23 each): refuse before parsing it.
  const tooLong = text.length + spoilerText.length > MAX_STATUS_CHARACTERS * 40;
  if (tooLong || countableLength(text) + graphemeLength(spoilerText) > MAX_STATUS_CHARACTERS) {
    throw new CoreError("invalid", `Text character limit of ${MAX_STATUS_CHARACTERS} exceeded`);
  }
}

/** Text and content warning as Mastodon keeps them: trimmed; a lone warning becomes the text. */
export function normalizeTexts(text: string | null | undefined, spoilerText: string | null | undefined): { text: string; spoilerText: string } {
  // NUL cannot be stored in PostgreSQL text; it never means anything in a post.
  let body = (text ?? "").replace(/\0/g, "").trim();
  let spoiler = (spoilerText ?? "").replace(/\0/g, "").trim();
  if (body === "" && spoiler !== "") {
    body = spoiler;
    spoiler = "";
  }
  return { text: body, spoilerText: spoiler };
}

/**
 * Checks a local post's input: length, media (the author's own, unattached,
 * at most four), poll (not with media), reply target (must exist and be
 * visible to the author), language. Throws CoreError.
 */
export async function prepareStatus(
  ctx: CoreContext,
  author: Account,
  input: NewStatusInput,
  options: MediaCheckOptions = {},
): Promise<PreparedStatus> {
  if (author.domain != null) throw new CoreError("invalid", "only local accounts post through this function");
  const { text, spoilerText } = normalizeTexts(input.text, input.spoilerText);
  checkLength(text, spoilerText);
  const mediaIds = input.mediaIds ?? [];
  if (mediaIds.length > 0 && input.poll != null) throw new CoreError("invalid", "A post cannot have both media attachments and a poll");
  const poll = input.poll == null ? null : cleanPollInput(input.poll);
  if (poll != null) checkPollInput(poll);
  const media = await checkMedia(ctx, author.id, mediaIds, options);
  if (text === "" && media.length === 0) throw new CoreError("invalid", "Text can't be blank");
  const language = normalizeLanguage(input.language);
  if (language === undefined) throw new CoreError("invalid", `${JSON.stringify(input.language)} is not a language code`);
  let inReplyTo: StatusRow | null = null;
  if (input.inReplyToId != null) {
    const parent = await findStatus(ctx, input.inReplyToId);
    if (parent == null || !(await canView(ctx, parent, author.id))) {
      throw new CoreError("not_found", "The post you are trying to reply to does not appear to exist");
    }
    inReplyTo = await resolveReblog(ctx, parent);
  }
  let visibility = input.visibility ?? "public";
  if (input.quotePolicy != null && !QUOTE_POLICIES.includes(input.quotePolicy)) {
    throw new CoreError("invalid", `quote_approval_policy must be one of ${QUOTE_POLICIES.join(", ")}`);
  }
  const quoted = input.quotedStatusId == null ? null : await checkQuotable(ctx, author, input.quotedStatusId);
  if (quoted != null) visibility = quotingVisibility(quoted, visibility);
  return {
    text,
    spoilerText,
    sensitive: (input.sensitive ?? false) || spoilerText !== "",
    visibility,
    language,
    inReplyTo,
    media,
    poll,
    applicationId: input.applicationId ?? null,
    quoted,
    // As Mastodon: followers-only and direct posts are quoted by nobody else.
    quotePolicy: visibility === "private" || visibility === "direct" ? "nobody" : (input.quotePolicy ?? "public"),
  };
}

/** Renders a prepared local post into what {@link storeStatus} writes. */
export async function buildStatusData(ctx: CoreContext, author: Account, prepared: PreparedStatus, now = new Date()): Promise<StatusData> {
  const formatted = await formatStatusText(ctx, prepared.text);
  const quoted = prepared.quoted;
  // A direct quote must reach the quoted author: they have to be mentioned.
  if (quoted != null && prepared.visibility === "direct" && quoted.accountId !== author.id && !formatted.mentions.some((account) => account.id === quoted.accountId)) {
    throw new CoreError("invalid", "A direct post quoting someone must mention them");
  }
  const id = newId(now);
  const { uri, url } = localStatusUris(ctx.config.origin, author.username, id);
  return {
    id,
    uri,
    url,
    content: quoted == null ? formatted.html : withQuoteInline(formatted.html, quoted, escapeHtml),
    text: prepared.text,
    spoilerText: prepared.spoilerText,
    sensitive: prepared.sensitive,
    visibility: prepared.visibility,
    language: prepared.language,
    inReplyTo: prepared.inReplyTo,
    applicationId: prepared.applicationId,
    createdAt: now,
    mentionedAccountIds: formatted.mentions.map((account) => account.id),
    tagNames: formatted.tags,
    media: prepared.media,
    quotePolicy: prepared.quotePolicy,
    quote: prepared.quoted == null
      ? null
      : {
        quotedStatusId: prepared.quoted.id,
        quotedUri: prepared.quoted.uri,
        state: initialQuoteState(author, prepared.quoted),
        requestUri: initialQuoteState(author, prepared.quoted) === "pending" ? `${uri}#quote-request` : null,
      },
    poll: prepared.poll == null
      ? null
      : {
        options: prepared.poll.options,
        expiresAt: new Date(now.getTime() + prepared.poll.expiresIn * 1000),
        multiple: prepared.poll.multiple ?? false,
        hideTotals: prepared.poll.hideTotals ?? false,
      },
  };
}

/**
 * Publishes a post by a local author now. With an idempotency key seen in
 * the last hour, returns the post made then instead. Emits `status.created`.
 */
export async function createStatus(ctx: CoreContext, author: Account, input: NewStatusInput): Promise<StatusRow> {
  const remembered = await recallIdempotent(ctx, author.id, input.idempotencyKey);
  if (remembered?.kind === "status") {
    const existing = await findStatus(ctx, BigInt(remembered.id));
    if (existing != null) return existing;
  }
  const prepared = await prepareStatus(ctx, author, input);
  const data = await buildStatusData(ctx, author, prepared);
  const row = await storeStatus(ctx, author, data);
  await rememberIdempotent(ctx, author.id, input.idempotencyKey, { kind: "status", id: row.id.toString() });
  return row;
}
