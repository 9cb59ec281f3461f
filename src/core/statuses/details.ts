/**
 * Everything a batch of statuses is shown with, in a fixed number of
 * queries whatever their number: the boosted originals, authors, media,
 * mentions, tags, polls (and the viewer's votes), applications, and the
 * viewer's own marks (favourited, boosted, bookmarked, pinned, muted).
 * The Mastodon API's Status entity is rendered from this.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
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
import type { Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";
import { ownVotes, type PollRow } from "../polls.ts";
import type { Tag } from "../tags.ts";
import type { StatusRow } from "./rows.ts";

type MediaAttachmentRow = typeof mediaAttachments.$inferSelect;

/** The viewer's marks on the statuses, by status id (muted: by conversation id). */
export interface StatusMarks {
  favourited: Set<bigint>;
  reblogged: Set<bigint>;
  bookmarked: Set<bigint>;
  pinned: Set<bigint>;
  muted: Set<bigint>;
}

export interface StatusDetails {
  /** The statuses given and the originals of boosts among them, by id. */
  statuses: Map<bigint, StatusRow>;
  /** Their authors, by id, in no particular order. */
  accounts: Account[];
  /** Media by status id, in position order. */
  media: Map<bigint, MediaAttachmentRow[]>;
  /** Mentioned accounts by status id, in mention order. */
  mentions: Map<bigint, Account[]>;
  /** Tags by status id, by name. */
  tags: Map<bigint, Tag[]>;
  polls: Map<bigint, PollRow>;
  /** The applications statuses were posted with, by application id. */
  applications: Map<bigint, { name: string; website: string | null }>;
  /** The viewer's choices in each poll, by poll id (empty without a viewer). */
  votes: Map<bigint, number[]>;
  /** Null without a viewer. */
  marks: StatusMarks | null;
}

function byKey<T, K, V>(rows: readonly T[], key: (row: T) => K, value: (row: T) => V): Map<K, V[]> {
  const map = new Map<K, V[]>();
  for (const row of rows) {
    const k = key(row);
    let list = map.get(k);
    if (list == null) map.set(k, (list = []));
    list.push(value(row));
  }
  return map;
}

/** Loads what `rows` are shown with to `viewerId` (an account id, or null for anyone). */
export async function loadStatusDetails(ctx: CoreContext, rows: readonly StatusRow[], viewerId: bigint | null): Promise<StatusDetails> {
  const all = new Map<bigint, StatusRow>(rows.map((row) => [row.id, row]));
  const missing = [...new Set(rows.filter((row) => row.reblogOfId != null && !all.has(row.reblogOfId)).map((row) => row.reblogOfId!))];
  if (missing.length > 0) {
    for (const original of await ctx.db.select().from(statuses).where(inArray(statuses.id, missing))) all.set(original.id, original);
  }
  const list = [...all.values()];
  const ids = list.map((row) => row.id);
  if (ids.length === 0) {
    return { statuses: all, accounts: [], media: new Map(), mentions: new Map(), tags: new Map(), polls: new Map(), applications: new Map(), votes: new Map(), marks: null };
  }
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

  return {
    statuses: all,
    accounts: accountRows,
    media: byKey(mediaRows, (row) => row.statusId!, (row) => row),
    mentions: byKey(mentionRows, (row) => row.statusId, (row) => row.account),
    tags: byKey(tagRows, (row) => row.statusId, (row) => row.tag),
    polls: new Map(pollRows.map((poll) => [poll.statusId, poll])),
    applications: new Map(applicationRows.map((row) => [row.id, { name: row.name, website: row.website }])),
    votes,
    marks: viewer == null
      ? null
      : {
        favourited: new Set(favourited.map((row) => row.id)),
        reblogged: new Set(reblogged.flatMap((row) => (row.id == null ? [] : [row.id]))),
        bookmarked: new Set(bookmarked.map((row) => row.id)),
        pinned: new Set(pinned.map((row) => row.id)),
        muted: new Set(muted.map((row) => row.id)),
      },
  };
}
