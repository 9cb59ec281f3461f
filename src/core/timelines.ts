/**
 * Timelines: which statuses the owner sees where, newest first. Each
 * function returns status rows for one page; the API serialises them.
 *
 * - home: the owner's own statuses; statuses and boosts of accepted
 *   followees (not their boosts when `show_reblogs` is off, not replies to
 *   people the owner does not follow, not members of exclusive lists);
 *   public statuses with a followed hashtag; statuses mentioning the owner.
 * - public and hashtag timelines: public statuses, local and/or remote.
 * - list timelines: statuses of the list's members the owner may see.
 * - the (old) direct timeline: direct statuses by or mentioning the owner.
 * - bookmarks and favourites: the owner's, by when they were saved.
 *
 * Everywhere a viewer is known, accounts the viewer mutes (unexpired),
 * blocks, is blocked by, or whose domain the viewer blocks are hidden,
 * as are boosts of their statuses.
 *
 * The queries walk statuses in id order with a LIMIT (the primary key, or
 * `statuses_account_idx`) and test membership against small hashed sets
 * (followees, hidden accounts), so a page costs about the same on a large
 * database as on a small one.
 */
import { and, asc, desc, eq, gt, inArray, lt, sql, type SQL } from "drizzle-orm";
import { bookmarks, favourites, lists, statuses, tags } from "../db/schema.ts";
import type { Db } from "../db/db.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { applyFilters, type FilterContext, type FilterMatch } from "./filters.ts";

export type StatusRow = typeof statuses.$inferSelect;

/** Mastodon's page parameters (already clamped). */
export interface PageOptions {
  /** Older than this id. */
  maxId?: bigint;
  /** Newer than this id, newest first. */
  sinceId?: bigint;
  /** Newer than this id, the ones just after it (returned newest first). */
  minId?: bigint;
  limit: number;
}

/** At most this many tags are taken from each of `any`, `all` and `none`. */
export const MAX_EXTRA_TAGS = 4;

/** An id as an SQL parameter (bigints travel as text and are cast). */
function idParam(id: bigint): SQL {
  return sql`${id.toString()}::bigint`;
}

/**
 * Accounts whose statuses the viewer never sees in timelines: muted
 * (unexpired), blocked either way, or on a domain the viewer blocks
 * (subdomains included).
 */
function hiddenAccounts(viewer: SQL): SQL {
  return sql`(
    select m.target_account_id from mutes m
      where m.account_id = ${viewer} and (m.expires_at is null or m.expires_at > now())
    union all select b.target_account_id from blocks b where b.account_id = ${viewer}
    union all select b.account_id from blocks b where b.target_account_id = ${viewer}
    union all select a.id from user_domain_blocks d join accounts a
      on a.domain = d.domain or a.domain like '%.' || d.domain
      where d.account_id = ${viewer}
  )`;
}

function followees(viewer: SQL): SQL {
  return sql`(select f.target_account_id from follows f where f.account_id = ${viewer} and f.state = 'accepted')`;
}

function mentioning(viewer: SQL): SQL {
  return sql`(select m.status_id from mentions m where m.account_id = ${viewer})`;
}

/**
 * Not the boost of a hidden account's status. The boosted status's author
 * is looked up per boost (a primary-key probe), never by scanning statuses.
 */
function notBoostOfHidden(viewer: SQL): SQL {
  return sql`(${statuses.reblogOfId} is null or coalesce(
    (select r.account_id from statuses r where r.id = ${statuses.reblogOfId}), 0
  ) not in ${hiddenAccounts(viewer)})`;
}

/**
 * The query of one page of statuses matching `where`: by id, newest first,
 * or oldest first after `minId` (then reversed by {@link statusPage}).
 */
function statusQuery(ctx: CoreContext, where: SQL[], page: PageOptions) {
  const conditions = [...where];
  if (page.maxId != null) conditions.push(lt(statuses.id, page.maxId));
  if (page.minId != null) conditions.push(gt(statuses.id, page.minId));
  else if (page.sinceId != null) conditions.push(gt(statuses.id, page.sinceId));
  return ctx.db
    .select()
    .from(statuses)
    .where(and(...conditions))
    .orderBy(page.minId != null ? asc(statuses.id) : desc(statuses.id))
    .limit(page.limit);
}

/** Statuses matching `where`, one page of them, newest first. */
async function statusPage(ctx: CoreContext, where: SQL[], page: PageOptions): Promise<StatusRow[]> {
  const rows = await statusQuery(ctx, where, page);
  return page.minId != null ? rows.reverse() : rows;
}

/** The conditions of the owner's home timeline; `owner` is the owner's id as SQL. */
function homeConditions(owner: SQL): SQL {
  const hidden = hiddenAccounts(owner);
  const followed = followees(owner);
  return sql`(
    ${statuses.accountId} = ${owner}
    or (
      ${statuses.id} in ${mentioning(owner)}
      and ${statuses.accountId} not in ${hidden}
    )
    or (
      ${statuses.accountId} in ${followed}
      and ${statuses.visibility} <> 'direct'
      and ${statuses.accountId} not in ${hidden}
      and ${statuses.accountId} not in (
        select la.account_id from list_accounts la join lists l on l.id = la.list_id
        where l.account_id = ${owner} and l.exclusive
      )
      and (${statuses.reblogOfId} is null or ${statuses.accountId} not in (
        select f.target_account_id from follows f
        where f.account_id = ${owner} and f.state = 'accepted' and not f.show_reblogs
      ))
      and (
        ${statuses.inReplyToAccountId} is null
        or ${statuses.inReplyToAccountId} = ${statuses.accountId}
        or ${statuses.inReplyToAccountId} = ${owner}
        or ${statuses.inReplyToAccountId} in ${followed}
      )
      and ${notBoostOfHidden(owner)}
    )
    or (
      ${statuses.visibility} = 'public'
      and ${statuses.reblogOfId} is null
      and ${statuses.id} in (
        select st.status_id from status_tags st join tag_follows tf on tf.tag_id = st.tag_id
        where tf.account_id = ${owner}
      )
      and ${statuses.accountId} not in ${hidden}
    )
  )`;
}

/** A bigint placeholder of a prepared query. */
function idPlaceholder(name: string): SQL {
  return sql`${sql.placeholder(name)}::bigint`;
}

/**
 * The home timeline's query for pages of one shape (which of max_id,
 * min_id and since_id it has), prepared once per database and shape: the
 * query is large, and building it took about as much CPU as PostgreSQL
 * spends running it.
 */
function prepareHome(db: Db, page: PageOptions) {
  const conditions: SQL[] = [homeConditions(idPlaceholder("owner"))];
  if (page.maxId != null) conditions.push(sql`${statuses.id} < ${idPlaceholder("maxId")}`);
  if (page.minId != null) conditions.push(sql`${statuses.id} > ${idPlaceholder("minId")}`);
  else if (page.sinceId != null) conditions.push(sql`${statuses.id} > ${idPlaceholder("sinceId")}`);
  return db
    .select()
    .from(statuses)
    .where(and(...conditions))
    .orderBy(page.minId != null ? asc(statuses.id) : desc(statuses.id))
    .limit(sql.placeholder("limit"))
    .prepare(`islet_home_${pageShape(page)}`);
}

function pageShape(page: PageOptions): string {
  return `${page.maxId != null ? "max" : ""}${page.minId != null ? "min" : page.sinceId != null ? "since" : ""}` || "first";
}

const preparedHome = new WeakMap<Db, Map<string, ReturnType<typeof prepareHome>>>();

/** One page of the owner's home timeline. */
export async function homeTimeline(ctx: CoreContext, ownerId: bigint, page: PageOptions): Promise<StatusRow[]> {
  let byShape = preparedHome.get(ctx.db);
  if (byShape == null) preparedHome.set(ctx.db, (byShape = new Map()));
  const shape = pageShape(page);
  let query = byShape.get(shape);
  if (query == null) byShape.set(shape, (query = prepareHome(ctx.db, page)));
  const rows = await query.execute({
    owner: ownerId.toString(),
    maxId: page.maxId?.toString(),
    minId: page.minId?.toString(),
    sinceId: page.sinceId?.toString(),
    limit: page.limit,
  });
  return page.minId != null ? rows.reverse() : rows;
}

/** The home timeline's query, unexecuted: for EXPLAIN in tests and benchmarks. */
export function homeTimelineQuery(ctx: CoreContext, ownerId: bigint, page: PageOptions): SQL {
  return statusQuery(ctx, [homeConditions(idParam(ownerId))], page).getSQL();
}

export interface PublicOptions {
  /** Only statuses of local accounts. */
  local?: boolean;
  /** Only statuses of remote accounts. */
  remote?: boolean;
  /** Only statuses with media attached. */
  onlyMedia?: boolean;
}

/** `local` and `remote` together mean both, as in Mastodon. */
function originConditions(options: PublicOptions): SQL[] {
  const conditions: SQL[] = [];
  if (options.local && !options.remote) conditions.push(sql`${statuses.accountId} in (select a.id from accounts a where a.domain is null)`);
  if (options.remote && !options.local) conditions.push(sql`${statuses.accountId} in (select a.id from accounts a where a.domain is not null)`);
  if (options.onlyMedia) conditions.push(sql`exists (select 1 from media_attachments ma where ma.status_id = ${statuses.id})`);
  return conditions;
}

/**
 * One page of the public timeline: public statuses, without boosts and
 * without replies to other accounts (as Mastodon's federated timeline).
 */
export async function publicTimeline(ctx: CoreContext, viewerId: bigint | null, options: PublicOptions, page: PageOptions): Promise<StatusRow[]> {
  const conditions: SQL[] = [
    sql`${statuses.visibility} = 'public'`,
    sql`${statuses.reblogOfId} is null`,
    sql`(${statuses.inReplyToId} is null or ${statuses.inReplyToAccountId} = ${statuses.accountId})`,
    ...originConditions(options),
  ];
  if (viewerId != null) conditions.push(sql`${statuses.accountId} not in ${hiddenAccounts(idParam(viewerId))}`);
  return await statusPage(ctx, conditions, page);
}

export interface TagOptions extends PublicOptions {
  /** Statuses with any of these tags, or the main one. */
  any?: readonly string[];
  /** Statuses that also have every one of these tags. */
  all?: readonly string[];
  /** Statuses that have none of these tags. */
  none?: readonly string[];
}

/** A hashtag as tags are stored: without `#`, NFKC, lower-cased. */
function normalizeTagName(name: string): string {
  return name.trim().replace(/^#/, "").normalize("NFKC").toLowerCase();
}

/** The ids of the tags of these names that exist (names normalised, `#` dropped). */
async function tagIds(ctx: CoreContext, names: readonly string[]): Promise<Map<string, bigint>> {
  const normalized = [...new Set(names.map(normalizeTagName).filter((name) => name !== ""))];
  if (normalized.length === 0) return new Map();
  const rows = await ctx.db.select({ id: tags.id, name: tags.name }).from(tags).where(inArray(tags.name, normalized));
  return new Map(rows.map((row) => [row.name, row.id]));
}

function tagList(ids: readonly bigint[]): SQL {
  return sql.join(ids.map((id) => idParam(id)), sql`, `);
}

/**
 * One page of a hashtag's timeline: public statuses with the tag (or any
 * of `any`), all of `all` and none of `none`. An unknown tag has an empty
 * timeline.
 */
export async function tagTimeline(
  ctx: CoreContext,
  viewerId: bigint | null,
  hashtag: string,
  options: TagOptions,
  page: PageOptions,
): Promise<StatusRow[]> {
  const any = (options.any ?? []).slice(0, MAX_EXTRA_TAGS);
  const all = (options.all ?? []).slice(0, MAX_EXTRA_TAGS);
  const none = (options.none ?? []).slice(0, MAX_EXTRA_TAGS);
  const known = await tagIds(ctx, [hashtag, ...any, ...all, ...none]);
  const idOf = (name: string) => known.get(normalizeTagName(name));
  const main = idOf(hashtag);
  const anyIds = [main, ...any.map(idOf)].filter((id): id is bigint => id != null);
  const allIds = all.map(idOf);
  if (main == null || allIds.some((id) => id == null)) return [];
  const noneIds = none.map(idOf).filter((id): id is bigint => id != null);

  const conditions: SQL[] = [
    sql`${statuses.visibility} = 'public'`,
    sql`${statuses.reblogOfId} is null`,
    sql`${statuses.id} in (select st.status_id from status_tags st where st.tag_id in (${tagList([...new Set(anyIds)])}))`,
    ...originConditions(options),
  ];
  for (const id of allIds as bigint[]) {
    conditions.push(sql`exists (select 1 from status_tags st where st.status_id = ${statuses.id} and st.tag_id = ${idParam(id)})`);
  }
  if (noneIds.length > 0) {
    conditions.push(sql`not exists (select 1 from status_tags st where st.status_id = ${statuses.id} and st.tag_id in (${tagList(noneIds)}))`);
  }
  if (viewerId != null) conditions.push(sql`${statuses.accountId} not in ${hiddenAccounts(idParam(viewerId))}`);
  return await statusPage(ctx, conditions, page);
}

/**
 * One page of a list's timeline: statuses and boosts of its members that
 * the owner may see (private ones of followees, direct ones mentioning the
 * owner), replies as the list's `replies_policy` says. not_found when the
 * list is not the owner's.
 */
export async function listTimeline(ctx: CoreContext, ownerId: bigint, listId: bigint, page: PageOptions): Promise<StatusRow[]> {
  const found = await ctx.db.select().from(lists).where(and(eq(lists.id, listId), eq(lists.accountId, ownerId))).limit(1);
  const list = found[0];
  if (list == null) throw new CoreError("not_found", "Record not found");
  const owner = idParam(ownerId);
  const members = sql`(select la.account_id from list_accounts la where la.list_id = ${idParam(list.id)})`;
  const followed = followees(owner);
  const replyTargets: SQL[] = [
    sql`${statuses.inReplyToAccountId} is null`,
    sql`${statuses.inReplyToAccountId} = ${statuses.accountId}`,
    sql`${statuses.inReplyToAccountId} = ${owner}`,
  ];
  if (list.repliesPolicy === "followed") replyTargets.push(sql`${statuses.inReplyToAccountId} in ${followed}`);
  if (list.repliesPolicy === "list") replyTargets.push(sql`${statuses.inReplyToAccountId} in ${members}`);
  const conditions: SQL[] = [
    sql`${statuses.accountId} in ${members}`,
    sql`${statuses.accountId} not in ${hiddenAccounts(owner)}`,
    sql`(
      ${statuses.visibility} in ('public', 'unlisted')
      or (${statuses.visibility} = 'private' and ${statuses.accountId} in ${followed})
      or ${statuses.id} in ${mentioning(owner)}
    )`,
    sql`(${statuses.reblogOfId} is null or ${statuses.accountId} not in (
      select f.target_account_id from follows f
      where f.account_id = ${owner} and f.state = 'accepted' and not f.show_reblogs
    ))`,
    notBoostOfHidden(owner),
    sql`(${sql.join(replyTargets, sql` or `)})`,
  ];
  return await statusPage(ctx, conditions, page);
}

/** One page of direct statuses written by the owner or mentioning the owner. */
export async function directTimeline(ctx: CoreContext, ownerId: bigint, page: PageOptions): Promise<StatusRow[]> {
  const owner = idParam(ownerId);
  return await statusPage(ctx, [
    sql`${statuses.visibility} = 'direct'`,
    sql`(${statuses.accountId} = ${owner} or (${statuses.id} in ${mentioning(owner)} and ${statuses.accountId} not in ${hiddenAccounts(owner)}))`,
  ], page);
}

/** A page of statuses after the viewer's filters, with the results to show. */
export interface FilteredPage {
  rows: StatusRow[];
  filtered: Map<bigint, FilterMatch[]>;
}

/** How many more pages are read to make up for statuses a `hide` filter took out. */
const REFILL_ROUNDS = 3;

/**
 * Reads a page with `load` and applies the viewer's filters for `context`
 * (none when either is null). Statuses a `hide` filter matched are dropped,
 * and further rows are read (a few rounds at most) so that the page stays
 * full while there is more to read.
 */
export async function loadFilteredPage(
  ctx: CoreContext,
  viewerId: bigint | null,
  context: FilterContext | null,
  page: PageOptions,
  load: (page: PageOptions) => Promise<StatusRow[]>,
): Promise<FilteredPage> {
  const first = await load(page);
  if (viewerId == null || context == null) return { rows: first, filtered: new Map() };
  const forward = page.minId != null;
  let batch = first;
  let cursor = page;
  const rows: StatusRow[] = [];
  const filtered = new Map<bigint, FilterMatch[]>();
  for (let round = 0; ; round++) {
    const result = await applyFilters(ctx, viewerId, context, batch);
    rows.push(...result.visible);
    for (const [id, matches] of result.filtered) filtered.set(id, matches);
    if (rows.length >= page.limit || batch.length < cursor.limit || round >= REFILL_ROUNDS) break;
    // Continue past the rows read: older ones, or newer ones when paging forward.
    cursor = forward ? { ...cursor, minId: batch[0].id } : { ...cursor, maxId: batch[batch.length - 1].id };
    batch = await load(cursor);
  }
  rows.sort((a, b) => (a.id > b.id ? -1 : a.id < b.id ? 1 : 0));
  const kept = forward ? rows.slice(Math.max(0, rows.length - page.limit)) : rows.slice(0, page.limit);
  return { rows: kept, filtered };
}

/** A saved status with the id of the bookmark or favourite (the page cursor). */
export interface SavedStatus {
  cursor: bigint;
  status: StatusRow;
}

/**
 * One page of the owner's bookmarks or favourites, most recently saved
 * first, paged by the id of the bookmark or favourite.
 */
export async function savedStatuses(
  ctx: CoreContext,
  ownerId: bigint,
  kind: "bookmarks" | "favourites",
  page: PageOptions,
): Promise<SavedStatus[]> {
  const table = kind === "bookmarks" ? bookmarks : favourites;
  const conditions: SQL[] = [eq(table.accountId, ownerId)];
  if (page.maxId != null) conditions.push(lt(table.id, page.maxId));
  if (page.minId != null) conditions.push(gt(table.id, page.minId));
  else if (page.sinceId != null) conditions.push(gt(table.id, page.sinceId));
  const ascending = page.minId != null;
  const rows = await ctx.db
    .select({ cursor: table.id, status: statuses })
    .from(table)
    .innerJoin(statuses, eq(statuses.id, table.statusId))
    .where(and(...conditions))
    .orderBy(ascending ? asc(table.id) : desc(table.id))
    .limit(page.limit);
  return ascending ? rows.reverse() : rows;
}

/** Status rows by id, in the order of `ids` (unknown ids skipped). */
export async function statusesByIds(ctx: CoreContext, ids: readonly bigint[]): Promise<StatusRow[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.db.select().from(statuses).where(inArray(statuses.id, [...new Set(ids)]));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row == null ? [] : [row];
  });
}
