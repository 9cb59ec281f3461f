/**
 * Status rows as Mastodon's Status entity, in batches: the core loads what
 * they are shown with in a fixed number of queries whatever their number
 * (src/core/statuses/details.ts). Also StatusEdit and StatusSource.
 */
import type { Account } from "../../core/accounts.ts";
import { accountsByIds } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import type { FilterMatch } from "../../core/filters.ts";
import { quoteApprovals, quoteCounts, quotesOf, shownQuoteState, type QuoteApproval, type QuoteState } from "../../core/quotes.ts";
import { findStatuses, loadStatusDetails, mediaByIds, type StatusRow, type StatusVersion } from "../../core/statuses.ts";
import { filterVisible } from "../../core/visibility.ts";
import { serializeAccounts, type MastodonAccount } from "./account.ts";
import { serializeFilterResult, type MastodonFilterResult } from "./filter.ts";
import { serializeMediaAttachment, type MastodonMediaAttachment, type MediaAttachmentRow } from "./media-attachment.ts";
import { serializePoll, type MastodonPoll } from "./poll.ts";
import { serializeStatusTag, type MastodonStatusTag } from "./tag.ts";

export type { StatusRow } from "../../core/statuses.ts";

export interface MastodonMention {
  id: string;
  username: string;
  url: string;
  acct: string;
}

/** Mastodon's Quote: the quoted post in full (when accepted and visible). */
export interface MastodonQuote {
  state: QuoteState;
  quoted_status: MastodonStatus | null;
}

/** Mastodon's ShallowQuote: the quoted post by id (inside a quoted post). */
export interface MastodonShallowQuote {
  state: QuoteState;
  quoted_status_id: string | null;
}

/** Mastodon's QuoteApproval. */
export interface MastodonQuoteApproval {
  automatic: string[];
  manual: string[];
  current_user: QuoteApproval;
}

export interface MastodonStatus {
  id: string;
  uri: string;
  url: string | null;
  created_at: string;
  edited_at: string | null;
  account: MastodonAccount;
  content: string;
  visibility: StatusRow["visibility"];
  sensitive: boolean;
  spoiler_text: string;
  media_attachments: MastodonMediaAttachment[];
  application?: { name: string; website: string | null };
  mentions: MastodonMention[];
  tags: MastodonStatusTag[];
  emojis: unknown[];
  reblogs_count: number;
  favourites_count: number;
  replies_count: number;
  quotes_count: number;
  in_reply_to_id: string | null;
  in_reply_to_account_id: string | null;
  reblog: MastodonStatus | null;
  poll: MastodonPoll | null;
  card: null;
  language: string | null;
  quote: MastodonQuote | MastodonShallowQuote | null;
  quote_approval: MastodonQuoteApproval;
  /** The source text: only in the answer to a delete, for redrafting. */
  text?: string | null;
  favourited?: boolean;
  reblogged?: boolean;
  muted?: boolean;
  bookmarked?: boolean;
  pinned?: boolean;
  filtered?: MastodonFilterResult[];
}

export interface SerializeStatusOptions {
  /** Why each status (by id) matched the viewer's filters, from the filters code. */
  filtered?: Map<bigint, readonly FilterMatch[]>;
  /** Include the source `text` (the answer to DELETE, for delete-and-redraft). */
  source?: boolean;
  /** Quotes as ShallowQuote (inside a quoted post, as Mastodon does). */
  shallowQuotes?: boolean;
}

function acctOf(account: Pick<Account, "username" | "domain">): string {
  return account.domain == null ? account.username : `${account.username}@${account.domain}`;
}

/**
 * Serialises statuses for a viewer (an account id, or null for anyone).
 * A boost carries its original under `reblog`. The viewer's marks
 * (favourited, reblogged, muted, bookmarked, pinned, filtered) appear only
 * when there is a viewer. Rows come back in the order given.
 */
export async function serializeStatuses(
  ctx: CoreContext,
  rows: StatusRow[],
  viewerId: bigint | null,
  options: SerializeStatusOptions = {},
): Promise<MastodonStatus[]> {
  if (rows.length === 0) return [];
  const details = await loadStatusDetails(ctx, rows, viewerId);
  const all = details.statuses;
  const viewer = viewerId;
  const votes = details.votes;
  const accountById = new Map(details.accounts.map((row) => [row.id, row]));
  const accountJson = await serializeAccounts(ctx, details.accounts);
  const serializedAccounts = new Map<bigint, MastodonAccount>(details.accounts.map((row, i) => [row.id, accountJson[i]]));
  const marks = details.marks;
  const origin = ctx.config.origin;
  const now = new Date();
  const allIds = [...all.keys()];
  const [quotes, quotesCounts, approvals] = await Promise.all([
    quotesOf(ctx, allIds),
    quoteCounts(ctx, allIds),
    quoteApprovals(ctx, [...all.values()], viewer),
  ]);
  // Quoted posts in full, one level deep; their own quotes are shallow.
  const quotedJson = new Map<bigint, MastodonStatus>();
  if (!options.shallowQuotes) {
    const quotedIds = [...quotes.values()].filter((quote) => quote.state === "accepted" && quote.quotedStatusId != null).map((quote) => quote.quotedStatusId!);
    const visible = await filterVisible(ctx, await findStatuses(ctx, quotedIds), viewer);
    const serialized = await serializeStatuses(ctx, visible, viewer, { shallowQuotes: true, filtered: options.filtered });
    visible.forEach((row, i) => quotedJson.set(row.id, serialized[i]));
  }
  const quoteOf = (row: StatusRow): MastodonQuote | MastodonShallowQuote | null => {
    const quote = quotes.get(row.id);
    if (quote == null) return null;
    const state = shownQuoteState(quote);
    if (options.shallowQuotes) return { state, quoted_status_id: state === "accepted" ? (quote.quotedStatusId?.toString() ?? null) : null };
    return { state, quoted_status: state === "accepted" && quote.quotedStatusId != null ? (quotedJson.get(quote.quotedStatusId) ?? null) : null };
  };
  const approvalOf = (row: StatusRow): MastodonQuoteApproval => {
    const policy = row.reblogOfId != null || row.visibility === "private" || row.visibility === "direct"
      ? "nobody"
      : (row.quotePolicy ?? (row.uri.startsWith(`${origin}/`) ? "nobody" : null));
    return {
      automatic: policy == null || policy === "nobody" ? [] : [policy],
      manual: [],
      current_user: approvals.get(row.id) ?? "unknown",
    };
  };

  const one = (row: StatusRow, nested: boolean): MastodonStatus => {
    const author = accountById.get(row.accountId);
    const application = row.applicationId == null || author?.domain != null ? undefined : details.applications.get(row.applicationId);
    const poll = details.polls.get(row.id);
    const original = row.reblogOfId == null ? null : all.get(row.reblogOfId);
    const status: MastodonStatus = {
      id: row.id.toString(),
      uri: row.uri,
      url: row.url,
      created_at: row.createdAt.toISOString(),
      edited_at: row.editedAt?.toISOString() ?? null,
      account: serializedAccounts.get(row.accountId)!,
      content: row.content,
      visibility: row.visibility,
      sensitive: row.sensitive,
      spoiler_text: row.spoilerText,
      media_attachments: (details.media.get(row.id) ?? []).map((media) => serializeMediaAttachment(origin, media)),
      ...(application == null ? {} : { application: { name: application.name, website: application.website } }),
      mentions: (details.mentions.get(row.id) ?? []).map((account) => ({
        id: account.id.toString(),
        username: account.username,
        url: account.url ?? account.uri,
        acct: acctOf(account),
      })),
      tags: (details.tags.get(row.id) ?? []).map((tag) => serializeStatusTag(origin, tag)),
      emojis: [],
      reblogs_count: row.reblogsCount,
      favourites_count: row.favouritesCount,
      replies_count: row.repliesCount,
      quotes_count: quotesCounts.get(row.id) ?? 0,
      in_reply_to_id: row.inReplyToId?.toString() ?? null,
      in_reply_to_account_id: row.inReplyToAccountId?.toString() ?? null,
      reblog: original == null || nested ? null : one(original, true),
      poll: poll == null
        ? null
        : serializePoll(poll, { isAuthor: viewer != null && viewer === row.accountId, ownVotes: viewer == null ? null : (votes.get(poll.id) ?? []) }, now),
      card: null,
      language: row.language,
      quote: quoteOf(row),
      quote_approval: approvalOf(row),
    };
    if (options.source && !nested) status.text = row.text ?? null;
    if (viewer != null && marks != null) {
      status.favourited = marks.favourited.has(row.id);
      status.reblogged = marks.reblogged.has(row.id);
      status.muted = marks.muted.has(row.conversationId ?? row.id);
      status.bookmarked = marks.bookmarked.has(row.id);
      if (row.accountId === viewer && row.reblogOfId == null && row.visibility !== "direct") status.pinned = marks.pinned.has(row.id);
      status.filtered = (options.filtered?.get(row.id) ?? []).map(serializeFilterResult);
    }
    return status;
  };
  return rows.map((row) => one(row, false));
}

/** Serialises one status; see {@link serializeStatuses}. */
export async function serializeStatus(
  ctx: CoreContext,
  row: StatusRow,
  viewerId: bigint | null,
  options: SerializeStatusOptions = {},
): Promise<MastodonStatus> {
  return (await serializeStatuses(ctx, [row], viewerId, options))[0];
}

export interface MastodonStatusEdit {
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  created_at: string;
  account: MastodonAccount;
  poll: { options: { title: string }[] } | null;
  media_attachments: MastodonMediaAttachment[];
  emojis: unknown[];
}

/** Serialises a status's versions (from statusHistory) as StatusEdit entities. */
export async function serializeStatusEdits(ctx: CoreContext, versions: readonly StatusVersion[]): Promise<MastodonStatusEdit[]> {
  const accountRows = [...(await accountsByIds(ctx, versions.map((version) => version.accountId))).values()];
  const accountJson = await serializeAccounts(ctx, accountRows);
  const serializedAccounts = new Map<bigint, MastodonAccount>(accountRows.map((row, i) => [row.id, accountJson[i]]));
  const media = await mediaByIds(ctx, versions.flatMap((version) => version.mediaAttachmentIds.map((id) => BigInt(id))));
  return versions.map((version) => ({
    content: version.content,
    spoiler_text: version.spoilerText,
    sensitive: version.sensitive,
    created_at: version.createdAt.toISOString(),
    account: serializedAccounts.get(version.accountId)!,
    poll: version.pollOptions == null ? null : { options: version.pollOptions.map((title) => ({ title })) },
    media_attachments: version.mediaAttachmentIds
      .map((id, position) => {
        const row = media.get(BigInt(id));
        if (row == null) return null;
        // The description this version had, not today's.
        const description = version.mediaDescriptions?.[position];
        return description === undefined ? row : { ...row, description };
      })
      .filter((row): row is MediaAttachmentRow => row != null)
      .map((row) => serializeMediaAttachment(ctx.config.origin, row)),
    emojis: [],
  }));
}

export interface MastodonStatusSource {
  id: string;
  text: string;
  spoiler_text: string;
}

export function serializeStatusSource(row: StatusRow): MastodonStatusSource {
  return { id: row.id.toString(), text: row.text ?? "", spoiler_text: row.spoilerText };
}
