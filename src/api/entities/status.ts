/**
 * Status rows as Mastodon's Status entity, in batches: whatever the number
 * of statuses, a fixed number of queries fetch their accounts, media,
 * mentions, tags, polls, applications, the boosted originals and the
 * viewer's own marks (favourited, boosted, bookmarked, pinned, muted).
 * Also StatusEdit and StatusSource.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Account } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import { ownVotes, type PollRow } from "../../core/polls.ts";
import { mediaByIds, type StatusRow, type StatusVersion } from "../../core/statuses.ts";
import {
  accounts,
  bookmarks,
  conversationMutes,
  favourites,
  mediaAttachments,
  mentions,
  oauthApplications,
  polls,
  statusPins,
  statuses,
  statusTags,
  tags,
} from "../../db/schema.ts";
import { serializeAccounts, type MastodonAccount } from "./account.ts";
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
  /** The source text: only in the answer to a delete, for redrafting. */
  text?: string | null;
  favourited?: boolean;
  reblogged?: boolean;
  muted?: boolean;
  bookmarked?: boolean;
  pinned?: boolean;
  filtered?: unknown[];
}

export interface SerializeStatusOptions {
  /** Filter results per status id (FilterResult entities), from the filters code. */
  filtered?: Map<bigint, unknown[]>;
  /** Include the source `text` (the answer to DELETE, for delete-and-redraft). */
  source?: boolean;
}

function byKey<T, K>(rows: readonly T[], key: (row: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    let list = map.get(k);
    if (list == null) map.set(k, (list = []));
    list.push(row);
  }
  return map;
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
  const all = new Map<bigint, StatusRow>(rows.map((row) => [row.id, row]));
  const missing = [...new Set(rows.filter((row) => row.reblogOfId != null && !all.has(row.reblogOfId)).map((row) => row.reblogOfId!))];
  if (missing.length > 0) {
    for (const original of await ctx.db.select().from(statuses).where(inArray(statuses.id, missing))) all.set(original.id, original);
  }
  const list = [...all.values()];
  const ids = list.map((row) => row.id);
  const accountIds = [...new Set(list.map((row) => row.accountId))];
  const applicationIds = [...new Set(list.map((row) => row.applicationId).filter((id) => id != null))];
  const conversationIds = [...new Set(list.map((row) => row.conversationId ?? row.id))];
  const viewer = viewerId;

  const [accountRows, mediaRows, mentionRows, tagRows, pollRows, applicationRows, favourited, reblogged, bookmarked, pinned, muted] = await Promise.all([
    ctx.db.select().from(accounts).where(inArray(accounts.id, accountIds)),
    ctx.db
      .select()
      .from(mediaAttachments)
      .where(inArray(mediaAttachments.statusId, ids))
      .orderBy(asc(mediaAttachments.position), asc(mediaAttachments.id)),
    ctx.db
      .select({ statusId: mentions.statusId, account: accounts })
      .from(mentions)
      .innerJoin(accounts, eq(accounts.id, mentions.accountId))
      .where(inArray(mentions.statusId, ids))
      .orderBy(asc(mentions.id)),
    ctx.db
      .select({ statusId: statusTags.statusId, tag: tags })
      .from(statusTags)
      .innerJoin(tags, eq(tags.id, statusTags.tagId))
      .where(inArray(statusTags.statusId, ids))
      .orderBy(asc(tags.name)),
    ctx.db.select().from(polls).where(inArray(polls.statusId, ids)),
    applicationIds.length === 0
      ? Promise.resolve([])
      : ctx.db
        .select({ id: oauthApplications.id, name: oauthApplications.name, website: oauthApplications.website })
        .from(oauthApplications)
        .where(inArray(oauthApplications.id, applicationIds)),
    viewer == null
      ? Promise.resolve([])
      : ctx.db.select({ id: favourites.statusId }).from(favourites).where(and(eq(favourites.accountId, viewer), inArray(favourites.statusId, ids))),
    viewer == null
      ? Promise.resolve([])
      : ctx.db.select({ id: statuses.reblogOfId }).from(statuses).where(and(eq(statuses.accountId, viewer), inArray(statuses.reblogOfId, ids))),
    viewer == null
      ? Promise.resolve([])
      : ctx.db.select({ id: bookmarks.statusId }).from(bookmarks).where(and(eq(bookmarks.accountId, viewer), inArray(bookmarks.statusId, ids))),
    viewer == null
      ? Promise.resolve([])
      : ctx.db.select({ id: statusPins.statusId }).from(statusPins).where(and(eq(statusPins.accountId, viewer), inArray(statusPins.statusId, ids))),
    viewer == null
      ? Promise.resolve([])
      : ctx.db
        .select({ id: conversationMutes.conversationId })
        .from(conversationMutes)
        .where(and(eq(conversationMutes.accountId, viewer), inArray(conversationMutes.conversationId, conversationIds))),
  ]);
  const votes = viewer == null ? new Map<bigint, number[]>() : await ownVotes(ctx, pollRows.map((poll) => poll.id), viewer);

  const accountById = new Map(accountRows.map((row) => [row.id, row]));
  const accountJson = await serializeAccounts(ctx, accountRows);
  const serializedAccounts = new Map<bigint, MastodonAccount>(accountRows.map((row, i) => [row.id, accountJson[i]]));
  const mediaByStatus = byKey(mediaRows, (row) => row.statusId!);
  const mentionsByStatus = byKey(mentionRows, (row) => row.statusId);
  const tagsByStatus = byKey(tagRows, (row) => row.statusId);
  const pollByStatus = new Map<bigint, PollRow>(pollRows.map((poll) => [poll.statusId, poll]));
  const applicationById = new Map(applicationRows.map((row) => [row.id, row]));
  const marks = {
    favourited: new Set(favourited.map((row) => row.id)),
    reblogged: new Set(reblogged.map((row) => row.id)),
    bookmarked: new Set(bookmarked.map((row) => row.id)),
    pinned: new Set(pinned.map((row) => row.id)),
    muted: new Set(muted.map((row) => row.id)),
  };
  const origin = ctx.config.origin;
  const now = new Date();

  const one = (row: StatusRow, nested: boolean): MastodonStatus => {
    const author = accountById.get(row.accountId);
    const application = row.applicationId == null || author?.domain != null ? undefined : applicationById.get(row.applicationId);
    const poll = pollByStatus.get(row.id);
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
      media_attachments: (mediaByStatus.get(row.id) ?? []).map((media) => serializeMediaAttachment(origin, media)),
      ...(application == null ? {} : { application: { name: application.name, website: application.website } }),
      mentions: (mentionsByStatus.get(row.id) ?? []).map(({ account }) => ({
        id: account.id.toString(),
        username: account.username,
        url: account.url ?? account.uri,
        acct: acctOf(account),
      })),
      tags: (tagsByStatus.get(row.id) ?? []).map(({ tag }) => serializeStatusTag(origin, tag)),
      emojis: [],
      reblogs_count: row.reblogsCount,
      favourites_count: row.favouritesCount,
      replies_count: row.repliesCount,
      quotes_count: 0,
      in_reply_to_id: row.inReplyToId?.toString() ?? null,
      in_reply_to_account_id: row.inReplyToAccountId?.toString() ?? null,
      reblog: original == null || nested ? null : one(original, true),
      poll: poll == null
        ? null
        : serializePoll(poll, { isAuthor: viewer != null && viewer === row.accountId, ownVotes: viewer == null ? null : (votes.get(poll.id) ?? []) }, now),
      card: null,
      language: row.language,
    };
    if (options.source && !nested) status.text = row.text ?? null;
    if (viewer != null) {
      status.favourited = marks.favourited.has(row.id);
      status.reblogged = marks.reblogged.has(row.id);
      status.muted = marks.muted.has(row.conversationId ?? row.id);
      status.bookmarked = marks.bookmarked.has(row.id);
      if (row.accountId === viewer && row.reblogOfId == null && row.visibility !== "direct") status.pinned = marks.pinned.has(row.id);
      status.filtered = options.filtered?.get(row.id) ?? [];
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
  const accountIds = [...new Set(versions.map((version) => version.accountId))];
  const accountRows = accountIds.length === 0 ? [] : await ctx.db.select().from(accounts).where(inArray(accounts.id, accountIds));
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
