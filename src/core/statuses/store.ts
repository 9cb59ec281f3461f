/**
 * Writing a status with everything that hangs off it (mentions, tags,
 * media, poll, the parent's reply count) in one transaction. Local posts
 * (createStatus) and received ones (the inbox, through storeStatus) share it.
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/connect.ts";
import { mentions, polls, statuses } from "../../db/schema.ts";
import { countStatusAdded } from "../account-counters.ts";
import type { Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";
import { newId } from "../ids.ts";
import { requestQuoteApproval, writeQuote, type QuotePolicy, type QuoteState } from "../quotes.ts";
import { setStatusTags } from "../tags.ts";
import { attachMedia, type MediaRow } from "./media.ts";
import type { StatusRow, Visibility } from "./rows.ts";

/** A poll as stored with a new status. */
export interface NewPoll {
  options: string[];
  expiresAt: Date | null;
  multiple: boolean;
  hideTotals: boolean;
  /** Remote polls arrive with counts; local ones start at zero. */
  votesCounts?: number[];
  votersCount?: number | null;
}

/** Everything a status row and its attachments are made of. */
export interface StatusData {
  id: bigint;
  uri: string;
  url: string | null;
  /** Rendered (local) or sanitised (remote) HTML. */
  content: string;
  /** The source text of a local post; null for remote ones. */
  text: string | null;
  spoilerText: string;
  sensitive: boolean;
  visibility: Visibility;
  language: string | null;
  inReplyTo: StatusRow | null;
  /** For a reply whose parent is not stored: its id stays unknown, the account may be known. */
  inReplyToAccountId?: bigint | null;
  applicationId: bigint | null;
  createdAt?: Date;
  /** Mentioned accounts, in order, once each. */
  mentionedAccountIds: bigint[];
  /** Hashtags as written. */
  tagNames: string[];
  /** The author's media, in order; checked already. */
  media: MediaRow[];
  poll: NewPoll | null;
  /** Who may quote it (null: not stated, as for many remote posts). */
  quotePolicy?: QuotePolicy | null;
  /** The post it quotes. */
  quote?: { quotedStatusId: bigint | null; quotedUri: string; state: QuoteState; requestUri?: string | null } | null;
}

/**
 * Who a reply is addressed to: the parent's author, except along a chain of
 * self-replies, where it stays whoever the chain answered.
 */
export function replyTargetAccountId(author: Pick<Account, "id">, parent: StatusRow): bigint {
  if (parent.accountId === author.id && parent.inReplyToAccountId != null) return parent.inReplyToAccountId;
  return parent.accountId;
}

/** Writes the status and what hangs off it; call inside a transaction. */
export async function writeStatus(db: Db, author: Account, data: StatusData): Promise<StatusRow> {
  const parent = data.inReplyTo;
  const inserted = await db
    .insert(statuses)
    .values({
      id: data.id,
      accountId: author.id,
      uri: data.uri,
      url: data.url,
      content: data.content,
      text: data.text,
      spoilerText: data.spoilerText,
      sensitive: data.sensitive,
      visibility: data.visibility,
      language: data.language,
      inReplyToId: parent?.id ?? null,
      inReplyToAccountId: parent != null ? replyTargetAccountId(author, parent) : (data.inReplyToAccountId ?? null),
      conversationId: parent != null ? (parent.conversationId ?? parent.id) : data.id,
      applicationId: data.applicationId,
      quotePolicy: data.quotePolicy ?? null,
      ...(data.createdAt == null ? {} : { createdAt: data.createdAt, updatedAt: data.createdAt }),
    })
    .returning();
  const row = inserted[0];
  if (author.domain == null) await countStatusAdded(db, author.id, row.createdAt);
  if (parent != null) {
    await db.update(statuses).set({ repliesCount: sql`${statuses.repliesCount} + 1` }).where(eq(statuses.id, parent.id));
  }
  const mentioned = [...new Set(data.mentionedAccountIds)];
  if (mentioned.length > 0) {
    await db.insert(mentions).values(mentioned.map((accountId) => ({ id: newId(), statusId: row.id, accountId }))).onConflictDoNothing();
  }
  await setStatusTags(db, row.id, data.tagNames);
  await attachMedia(db, row.id, data.media);
  if (data.quote != null) await writeQuote(db, row.id, data.quote);
  if (data.poll != null) {
    await db.insert(polls).values({
      id: newId(),
      statusId: row.id,
      expiresAt: data.poll.expiresAt,
      multiple: data.poll.multiple,
      hideTotals: data.poll.hideTotals,
      options: data.poll.options,
      votesCounts: data.poll.votesCounts ?? data.poll.options.map(() => 0),
      votersCount: data.poll.votersCount === undefined ? 0 : data.poll.votersCount,
    });
  }
  return row;
}

/**
 * Stores a status in one transaction and emits `status.created`. For local
 * posts use createStatus, which checks and renders the input first.
 */
export async function storeStatus(ctx: CoreContext, author: Account, data: StatusData): Promise<StatusRow> {
  const row = await ctx.db.transaction((tx) => writeStatus(tx, author, data));
  await ctx.events.emit("status.created", { statusId: row.id, accountId: author.id });
  if (data.quote?.state === "pending") await requestQuoteApproval(ctx, row.id);
  return row;
}
