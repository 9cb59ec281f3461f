/**
 * Searching statuses by their text and by the operators Mastodon's search
 * understands (src/core/search-query.ts), among those the viewer may see.
 */
import { and, asc, desc, eq, exists, gt, isNotNull, lt, not, or, sql, type SQL } from "drizzle-orm";
import { blocks, bookmarks, favourites, mediaAttachments, mentions, polls, statuses, statusTags, tags } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { escapeLike, findAccountByHandle, statusVisibleTo } from "./search.ts";
import { parseStatusQuery, type SearchOperator, type SearchTerm } from "./search-query.ts";

type Status = typeof statuses.$inferSelect;

export interface StatusSearch {
  q: string;
  viewerId: bigint;
  /** Only statuses by this account. */
  accountId?: bigint;
  maxId?: bigint;
  minId?: bigint;
  limit: number;
  offset?: number;
}

const DAY = 24 * 3_600_000;

/**
 * The text a status is searched in: its HTML with block ends as spaces and
 * other tags removed (so that a hashtag link reads `#tag`, not `# tag`),
 * the common entities decoded, and its content warning.
 */
const searchableText = sql`(
  replace(replace(replace(replace(replace(
    regexp_replace(regexp_replace(${statuses.content}, '</?(p|br|div|li|ul|ol|blockquote|pre|h[1-6])\\M[^>]*>', ' ', 'gi'), '<[^>]*>', '', 'g'),
  '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&amp;', '&')
  || ' ' || ${statuses.spoilerText})`;

function termCondition(term: SearchTerm): SQL {
  const matches = sql`${searchableText} ilike ${`%${escapeLike(term.text)}%`}`;
  const tag = /^#([\p{L}\p{N}_]+)$/u.exec(term.text);
  if (term.phrase || tag == null) return matches;
  // A hashtag also matches a status tagged with it, however its HTML is shaped.
  return or(matches, sql`exists (select 1 from ${statusTags} join ${tags} on ${tags.id} = ${statusTags.tagId}
    where ${statusTags.statusId} = ${statuses.id} and lower(${tags.name}) = lower(${tag[1]}))`)!;
}

/** Statuses the viewer has to do with: its own, and those it favourited, bookmarked, boosted or was mentioned in. */
function inLibrary(viewerId: bigint): SQL {
  const viewer = sql`${viewerId.toString()}::bigint`;
  return or(
    eq(statuses.accountId, viewerId),
    sql`exists (select 1 from ${favourites} where ${favourites.statusId} = ${statuses.id} and ${favourites.accountId} = ${viewer})`,
    sql`exists (select 1 from ${bookmarks} where ${bookmarks.statusId} = ${statuses.id} and ${bookmarks.accountId} = ${viewer})`,
    sql`exists (select 1 from ${mentions} where ${mentions.statusId} = ${statuses.id} and ${mentions.accountId} = ${viewer})`,
    sql`exists (select 1 from ${statuses} as boosts where boosts.reblog_of_id = ${statuses.id} and boosts.account_id = ${viewer})`,
  )!;
}

/** The condition of one operator; null when it cannot match anything (an unknown account). */
async function operatorCondition(ctx: CoreContext, operator: SearchOperator, viewerId: bigint): Promise<SQL | null> {
  switch (operator.kind) {
    case "from": {
      if (operator.account === "me") return eq(statuses.accountId, viewerId);
      const { username, domain } = operator.account;
      const account = await findAccountByHandle(ctx, domain == null ? username : `${username}@${domain}`);
      return account == null ? null : eq(statuses.accountId, account.id);
    }
    case "has": {
      const media = (type?: string) => sql`exists (select 1 from ${mediaAttachments} where ${mediaAttachments.statusId} = ${statuses.id}${type == null ? sql`` : sql` and ${mediaAttachments.type} = ${type}`})`;
      switch (operator.what) {
        case "media": return media();
        case "image": return media("image");
        case "video": return or(media("video"), media("gifv"))!;
        case "audio": return media("audio");
        case "poll": return sql`exists (select 1 from ${polls} where ${polls.statusId} = ${statuses.id})`;
        case "link":
        case "embed":
          // A link that is neither a mention nor a hashtag.
          return sql`${statuses.content} ~* ${String.raw`<a\s(?![^>]*class="[^"]*\m(mention|hashtag)\M)[^>]*href="https?://`}`;
      }
      break;
    }
    case "is":
      return operator.what === "reply" ? isNotNull(statuses.inReplyToId) : eq(statuses.sensitive, true);
    case "language":
      return or(sql`lower(${statuses.language}) = ${operator.code}`, sql`lower(${statuses.language}) like ${`${escapeLike(operator.code)}-%`}`)!;
    case "before":
      return lt(statuses.createdAt, operator.day);
    case "after":
      return sql`${statuses.createdAt} >= ${new Date(operator.day.getTime() + DAY).toISOString()}`;
    case "during":
      return and(sql`${statuses.createdAt} >= ${operator.day.toISOString()}`, lt(statuses.createdAt, new Date(operator.day.getTime() + DAY)))!;
    case "in":
      return operator.scope === "library" ? inLibrary(viewerId) : sql`true`;
  }
  return null;
}

/**
 * Statuses matching every term and operator of the query (and none of the
 * excluded ones), among those the viewer may see; boosts are not searched,
 * statuses of blocked accounts are left out. Newest first.
 */
export async function searchStatuses(ctx: CoreContext, search: StatusSearch): Promise<Status[]> {
  const query = parseStatusQuery(search.q);
  if (query.terms.every((term) => term.exclude) && query.operators.length === 0) return [];
  const conditions: (SQL | undefined)[] = [
    sql`${statuses.reblogOfId} is null`,
    statusVisibleTo(search.viewerId),
    not(exists(ctx.db.select({ one: sql`1` }).from(blocks).where(and(
      eq(blocks.accountId, search.viewerId),
      eq(blocks.targetAccountId, statuses.accountId),
    )))),
  ];
  for (const term of query.terms) {
    const condition = termCondition(term);
    conditions.push(term.exclude ? not(condition) : condition);
  }
  for (const operator of query.operators) {
    const condition = await operatorCondition(ctx, operator, search.viewerId);
    if (condition == null) {
      // Nobody by that name: nothing is from them.
      if (operator.exclude) continue;
      return [];
    }
    conditions.push(operator.exclude ? not(condition) : condition);
  }
  if (search.accountId != null) conditions.push(eq(statuses.accountId, search.accountId));
  if (search.maxId != null) conditions.push(lt(statuses.id, search.maxId));
  if (search.minId != null) conditions.push(gt(statuses.id, search.minId));
  const forward = search.minId != null;
  const rows = await ctx.db
    .select()
    .from(statuses)
    .where(and(...conditions))
    .orderBy(forward ? asc(statuses.id) : desc(statuses.id))
    .limit(search.limit)
    .offset(search.offset ?? 0);
  return forward ? rows.reverse() : rows;
}
