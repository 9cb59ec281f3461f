/**
 * Everything a batch of statuses is shown with, in a fixed number of
 * queries whatever their number: the boosted originals, authors, media,
 * mentions, tags, polls (and the viewer's votes), applications, and the
 * viewer's own marks (favourited, boosted, bookmarked, pinned, muted).
 * The Mastodon API's Status entity is rendered from this.
 */
import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "../../db/db.ts";
import {
  accounts,
  bookmarks,
  conversationMutes,
  favourites,
  mediaAttachments,
  mentions,
  oauthApplications,
  polls,
  pollVotes,
  statusPins,
  statuses,
  statusTags,
  tags,
} from "../../db/schema.ts";
import type { Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";
import type { PollRow } from "../polls.ts";
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

/** An id list as one bigint[] parameter: the statement's text is the same for any number of ids. */
function anyOf(column: AnyPgColumn, name: string): SQL {
  return sql`${column} = any(${sql.placeholder(name)}::bigint[])`;
}

/** A single id parameter. */
function idIs(column: AnyPgColumn, name: string): SQL {
  return sql`${column} = ${sql.placeholder(name)}::bigint`;
}

/**
 * The queries of {@link loadStatusDetails}, prepared once per database:
 * building a Drizzle query costs about as much CPU as PostgreSQL spends
 * running it, and a page of statuses takes a dozen of them.
 */
function prepareQueries(db: Db) {
  return {
    statuses: db.select().from(statuses).where(anyOf(statuses.id, "ids")).prepare("islet_details_statuses"),
    accounts: db.select().from(accounts).where(anyOf(accounts.id, "ids")).prepare("islet_details_accounts"),
    media: db
      .select()
      .from(mediaAttachments)
      .where(anyOf(mediaAttachments.statusId, "ids"))
      .orderBy(asc(mediaAttachments.position), asc(mediaAttachments.id))
      .prepare("islet_details_media"),
    mentions: db
      .select({ statusId: mentions.statusId, account: accounts })
      .from(mentions)
      .innerJoin(accounts, eq(accounts.id, mentions.accountId))
      .where(anyOf(mentions.statusId, "ids"))
      .orderBy(asc(mentions.id))
      .prepare("islet_details_mentions"),
    tags: db
      .select({ statusId: statusTags.statusId, tag: tags })
      .from(statusTags)
      .innerJoin(tags, eq(tags.id, statusTags.tagId))
      .where(anyOf(statusTags.statusId, "ids"))
      .orderBy(asc(tags.name))
      .prepare("islet_details_tags"),
    polls: db.select().from(polls).where(anyOf(polls.statusId, "ids")).prepare("islet_details_polls"),
    applications: db
      .select({ id: oauthApplications.id, name: oauthApplications.name, website: oauthApplications.website })
      .from(oauthApplications)
      .where(anyOf(oauthApplications.id, "ids"))
      .prepare("islet_details_applications"),
    favourited: db
      .select({ id: favourites.statusId })
      .from(favourites)
      .where(and(idIs(favourites.accountId, "viewer"), anyOf(favourites.statusId, "ids")))
      .prepare("islet_details_favourited"),
    reblogged: db
      .select({ id: statuses.reblogOfId })
      .from(statuses)
      .where(and(idIs(statuses.accountId, "viewer"), anyOf(statuses.reblogOfId, "ids")))
      .prepare("islet_details_reblogged"),
    bookmarked: db
      .select({ id: bookmarks.statusId })
      .from(bookmarks)
      .where(and(idIs(bookmarks.accountId, "viewer"), anyOf(bookmarks.statusId, "ids")))
      .prepare("islet_details_bookmarked"),
    pinned: db
      .select({ id: statusPins.statusId })
      .from(statusPins)
      .where(and(idIs(statusPins.accountId, "viewer"), anyOf(statusPins.statusId, "ids")))
      .prepare("islet_details_pinned"),
    muted: db
      .select({ id: conversationMutes.conversationId })
      .from(conversationMutes)
      .where(and(idIs(conversationMutes.accountId, "viewer"), anyOf(conversationMutes.conversationId, "ids")))
      .prepare("islet_details_muted"),
    votes: db
      .select({ pollId: pollVotes.pollId, choice: pollVotes.choice })
      .from(pollVotes)
      .where(and(idIs(pollVotes.accountId, "viewer"), anyOf(pollVotes.pollId, "ids")))
      .orderBy(asc(pollVotes.id))
      .prepare("islet_details_votes"),
  };
}

const preparedFor = new WeakMap<Db, ReturnType<typeof prepareQueries>>();

function queriesFor(db: Db): ReturnType<typeof prepareQueries> {
  let prepared = preparedFor.get(db);
  if (prepared == null) {
    prepared = prepareQueries(db);
    preparedFor.set(db, prepared);
  }
  return prepared;
}

/** Ids as the bigint[] parameter. */
const idList = (ids: Iterable<bigint>): string[] => [...ids].map((id) => id.toString());

/** Loads what `rows` are shown with to `viewerId` (an account id, or null for anyone). */
export async function loadStatusDetails(ctx: CoreContext, rows: readonly StatusRow[], viewerId: bigint | null): Promise<StatusDetails> {
  const q = queriesFor(ctx.db);
  const all = new Map<bigint, StatusRow>(rows.map((row) => [row.id, row]));
  const missing = new Set(rows.filter((row) => row.reblogOfId != null && !all.has(row.reblogOfId)).map((row) => row.reblogOfId!));
  if (missing.size > 0) {
    for (const original of await q.statuses.execute({ ids: idList(missing) })) all.set(original.id, original);
  }
  const list = [...all.values()];
  if (list.length === 0) {
    return { statuses: all, accounts: [], media: new Map(), mentions: new Map(), tags: new Map(), polls: new Map(), applications: new Map(), votes: new Map(), marks: null };
  }
  const ids = idList(list.map((row) => row.id));
  const accountIds = idList(new Set(list.map((row) => row.accountId)));
  const applicationIds = idList(new Set(list.flatMap((row) => (row.applicationId == null ? [] : [row.applicationId]))));
  const conversationIds = idList(new Set(list.map((row) => row.conversationId ?? row.id)));
  const viewer = viewerId?.toString();
  const none = Promise.resolve([]);

  const [accountRows, mediaRows, mentionRows, tagRows, pollRows, applicationRows, favourited, reblogged, bookmarked, pinned, muted] = await Promise.all([
    q.accounts.execute({ ids: accountIds }),
    q.media.execute({ ids }),
    q.mentions.execute({ ids }),
    q.tags.execute({ ids }),
    q.polls.execute({ ids }),
    applicationIds.length === 0 ? none : q.applications.execute({ ids: applicationIds }),
    viewer == null ? none : q.favourited.execute({ viewer, ids }),
    viewer == null ? none : q.reblogged.execute({ viewer, ids }),
    viewer == null ? none : q.bookmarked.execute({ viewer, ids }),
    viewer == null ? none : q.pinned.execute({ viewer, ids }),
    viewer == null ? none : q.muted.execute({ viewer, ids: conversationIds }),
  ]);
  const votes = new Map<bigint, number[]>();
  if (viewer != null && pollRows.length > 0) {
    for (const row of await q.votes.execute({ viewer, ids: idList(pollRows.map((poll) => poll.id)) })) {
      let choices = votes.get(row.pollId);
      if (choices == null) votes.set(row.pollId, (choices = []));
      choices.push(row.choice);
    }
  }

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
