/**
 * Everything a batch of statuses is shown with, in a fixed number of
 * queries whatever their number: the boosted originals, authors, media,
 * mentions, tags, polls (and the viewer's votes), applications, and the
 * viewer's own marks (favourited, boosted, bookmarked, pinned, muted).
 * The Mastodon API's Status entity is rendered from this.
 */
import { asc, eq, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "../../db/db.ts";
import {
  accounts,
  mediaAttachments,
  mentions,
  oauthApplications,
  polls,
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

/** A row of {@link viewerMarks}: what kind of mark, on which id; a vote's choice and order. */
interface MarkRow {
  kind: "favourited" | "reblogged" | "bookmarked" | "pinned" | "muted" | "vote";
  id: string;
  choice: number | null;
  seq: string | null;
}

/**
 * The viewer's marks on the statuses and votes in their polls, in one
 * query: each is a probe of a unique (account, status) index, and one
 * round trip instead of six.
 */
async function viewerMarks(ctx: CoreContext, viewer: string, ids: string[], conversationIds: string[]): Promise<MarkRow[]> {
  const account = sql`${viewer}::bigint`;
  const statusIds = sql`${sql.param(ids)}::bigint[]`;
  return await ctx.database.query<MarkRow>(sql`
    SELECT 'favourited' AS kind, status_id::text AS id, NULL::int AS choice, NULL::text AS seq
      FROM favourites WHERE account_id = ${account} AND status_id = ANY(${statusIds})
    UNION ALL SELECT 'reblogged', reblog_of_id::text, NULL, NULL
      FROM statuses WHERE account_id = ${account} AND reblog_of_id = ANY(${statusIds})
    UNION ALL SELECT 'bookmarked', status_id::text, NULL, NULL
      FROM bookmarks WHERE account_id = ${account} AND status_id = ANY(${statusIds})
    UNION ALL SELECT 'pinned', status_id::text, NULL, NULL
      FROM status_pins WHERE account_id = ${account} AND status_id = ANY(${statusIds})
    UNION ALL SELECT 'muted', conversation_id::text, NULL, NULL
      FROM conversation_mutes WHERE account_id = ${account} AND conversation_id = ANY(${sql.param(conversationIds)}::bigint[])
    UNION ALL SELECT 'vote', v.poll_id::text, v.choice, v.id::text
      FROM poll_votes v JOIN polls p ON p.id = v.poll_id
      WHERE v.account_id = ${account} AND p.status_id = ANY(${statusIds})`);
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

  const [accountRows, mediaRows, mentionRows, tagRows, pollRows, applicationRows, marked] = await Promise.all([
    q.accounts.execute({ ids: accountIds }),
    q.media.execute({ ids }),
    q.mentions.execute({ ids }),
    q.tags.execute({ ids }),
    q.polls.execute({ ids }),
    applicationIds.length === 0 ? none : q.applications.execute({ ids: applicationIds }),
    viewer == null ? Promise.resolve([] as MarkRow[]) : viewerMarks(ctx, viewer, ids, conversationIds),
  ]);
  const marks: StatusMarks = { favourited: new Set(), reblogged: new Set(), bookmarked: new Set(), pinned: new Set(), muted: new Set() };
  const voteRows: MarkRow[] = [];
  for (const row of marked) {
    if (row.kind === "vote") voteRows.push(row);
    else marks[row.kind].add(BigInt(row.id));
  }
  // A poll's choices in the order they were stored (ids follow time).
  voteRows.sort((a, b) => (BigInt(a.seq!) < BigInt(b.seq!) ? -1 : 1));
  const votes = new Map<bigint, number[]>();
  for (const row of voteRows) {
    const pollId = BigInt(row.id);
    let choices = votes.get(pollId);
    if (choices == null) votes.set(pollId, (choices = []));
    choices.push(row.choice!);
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
    marks: viewer == null ? null : marks,
  };
}
