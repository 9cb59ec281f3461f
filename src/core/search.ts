/**
 * Searching what this server knows: accounts by handle or name, statuses by
 * their text (among those the viewer may see; src/core/status-search.ts),
 * hashtags by name. Remote
 * look-ups (resolve=true) are federation's job; the API asks it and then
 * searches here.
 */
import { and, asc, desc, eq, exists, ilike, inArray, isNull, not, or, sql, type SQL } from "drizzle-orm";
import { accounts, blocks, follows, mentions, statuses, tags } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";

type Status = typeof statuses.$inferSelect;
type Tag = typeof tags.$inferSelect;

/** An id as an SQL parameter in raw SQL (bigints travel as text and are cast). */
function idParam(id: bigint): SQL {
  return sql`${id.toString()}::bigint`;
}

/**
 * The SQL condition for "`viewerId` may see this status": public and
 * unlisted ones for anyone (null viewer); for the owner also its own,
 * private ones of accounts it follows, and those that mention it.
 */
export function statusVisibleTo(viewerId: bigint | null): SQL {
  const open = inArray(statuses.visibility, ["public", "unlisted"]);
  if (viewerId == null) return open;
  const viewer = idParam(viewerId);
  return or(
    open,
    eq(statuses.accountId, viewerId),
    and(
      eq(statuses.visibility, "private"),
      sql`exists (select 1 from ${follows} where ${follows.accountId} = ${viewer} and ${follows.targetAccountId} = ${statuses.accountId} and ${follows.state} = 'accepted')`,
    ),
    sql`exists (select 1 from ${mentions} where ${mentions.statusId} = ${statuses.id} and ${mentions.accountId} = ${viewer})`,
  )!;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** A search query for an account: its username part, and its domain part if any. */
export interface AccountQuery {
  username: string;
  domain: string | null;
  /** The query as typed, trimmed and without a leading `@`, for name search. */
  text: string;
}

/** Splits `@user@host`, `user@host` or `user` (or a name) into its parts. */
export function parseAccountQuery(q: string): AccountQuery {
  const text = q.trim().replace(/^@/, "");
  const at = text.indexOf("@");
  if (at > 0 && !/\s/.test(text)) {
    return { username: text.slice(0, at), domain: text.slice(at + 1).toLowerCase() || null, text };
  }
  return { username: text, domain: null, text };
}

/** Whether the query names a remote account by handle (worth resolving through WebFinger). */
export function isRemoteHandle(q: string, localDomain: string): boolean {
  const { username, domain } = parseAccountQuery(q);
  return domain != null && domain !== localDomain.toLowerCase() && /^[\w.-]+$/.test(username) && /^[\w.-]+(:\d+)?$/.test(domain);
}

export interface AccountSearch {
  q: string;
  limit: number;
  offset?: number;
  /** Only accounts the viewer follows. */
  following?: boolean;
  viewerId: bigint | null;
}

/**
 * Accounts whose handle starts with the query, or whose display name
 * contains it. Exact handles first, then accounts the viewer follows, then
 * by name. Accounts the viewer blocks are left out.
 */
export async function searchAccounts(ctx: CoreContext, search: AccountSearch): Promise<Account[]> {
  const query = parseAccountQuery(search.q);
  if (query.text === "") return [];
  const localDomain = ctx.config.localDomain.toLowerCase();
  const conditions: (SQL | undefined)[] = [];
  const username = escapeLike(query.username);
  if (query.domain != null) {
    const domainCondition = query.domain === localDomain
      ? isNull(accounts.domain)
      : ilike(accounts.domain, `${escapeLike(query.domain)}%`);
    conditions.push(and(ilike(accounts.username, `${username}%`), domainCondition));
  } else {
    conditions.push(or(
      ilike(accounts.username, `${username}%`),
      ilike(accounts.displayName, `%${escapeLike(query.text)}%`),
    ));
  }
  const viewerId = search.viewerId;
  if (viewerId != null) {
    conditions.push(not(exists(ctx.db.select({ one: sql`1` }).from(blocks).where(and(
      eq(blocks.accountId, viewerId),
      eq(blocks.targetAccountId, accounts.id),
    )))));
  }
  const followed = viewerId == null
    ? null
    : sql`exists (select 1 from ${follows} where ${follows.accountId} = ${idParam(viewerId)} and ${follows.targetAccountId} = ${accounts.id} and ${follows.state} = 'accepted')`;
  if (search.following) {
    if (followed == null) return [];
    conditions.push(followed);
  }
  const exactDomain = query.domain == null
    ? sql`true`
    : query.domain === localDomain ? sql`${accounts.domain} is null` : sql`lower(${accounts.domain}) = ${query.domain}`;
  const exact = sql`(lower(${accounts.username}) = lower(${query.username}) and ${exactDomain})`;
  return await ctx.db
    .select()
    .from(accounts)
    .where(and(...conditions))
    .orderBy(...[
      desc(exact),
      ...(followed == null ? [] : [desc(followed)]),
      asc(sql`${accounts.domain} is not null`),
      asc(sql`lower(${accounts.username})`),
      asc(accounts.id),
    ])
    .limit(search.limit)
    .offset(search.offset ?? 0);
}

/** The account a handle names exactly (`user`, `user@localdomain`, `user@host`), if known. */
export async function findAccountByHandle(ctx: CoreContext, handle: string): Promise<Account | null> {
  const query = parseAccountQuery(handle);
  if (query.username === "") return null;
  const local = query.domain == null || query.domain === ctx.config.localDomain.toLowerCase() ||
    query.domain === ctx.config.webDomain.toLowerCase();
  const rows = await ctx.db
    .select()
    .from(accounts)
    .where(and(
      sql`lower(${accounts.username}) = lower(${query.username})`,
      local ? isNull(accounts.domain) : sql`lower(${accounts.domain}) = ${query.domain}`,
    ))
    .limit(1);
  return rows[0] ?? null;
}

/** A stored status with this IRI or URL, if the viewer may see it. */
export async function findStatusByUrl(ctx: CoreContext, url: string, viewerId: bigint): Promise<Status | null> {
  const rows = await ctx.db
    .select()
    .from(statuses)
    .where(and(or(eq(statuses.uri, url), eq(statuses.url, url)), statusVisibleTo(viewerId), isNull(statuses.reblogOfId)))
    .limit(1);
  return rows[0] ?? null;
}

/** The account with this actor IRI or profile URL, if known. */
export async function findAccountByUrl(ctx: CoreContext, url: string): Promise<Account | null> {
  const rows = await ctx.db.select().from(accounts).where(or(eq(accounts.uri, url), eq(accounts.url, url))).limit(1);
  return rows[0] ?? null;
}

export interface TagSearch {
  q: string;
  limit: number;
  offset?: number;
}

/** Hashtags whose name starts with the query (a leading `#` ignored), the exact one first, then the shortest. */
export async function searchTags(ctx: CoreContext, search: TagSearch): Promise<Tag[]> {
  const name = search.q.trim().replace(/^#/, "").normalize("NFKC").toLowerCase();
  if (name === "" || /\s/.test(name)) return [];
  return await ctx.db
    .select()
    .from(tags)
    .where(sql`${tags.name} like ${`${escapeLike(name)}%`}`)
    .orderBy(desc(sql`${tags.name} = ${name}`), asc(sql`length(${tags.name})`), asc(tags.name))
    .limit(search.limit)
    .offset(search.offset ?? 0);
}
