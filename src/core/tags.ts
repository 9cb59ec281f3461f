/**
 * Hashtags: stored once by lower-cased name (the first spelling seen is kept
 * for display), linked to statuses through status_tags.
 */
import { and, eq, gte, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/connect.ts";
import { featuredTags, statuses, statusTags, tagFollows, tags } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { newId } from "./ids.ts";

export type Tag = typeof tags.$inferSelect;

/** The name a tag is stored and looked up by. */
export function normalizeTagName(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

/** Stores the tags that are new; returns every one, in the order given. */
export async function upsertTags(db: Db, names: readonly string[]): Promise<Tag[]> {
  const wanted = new Map<string, string>();
  for (const name of names) {
    const key = normalizeTagName(name);
    if (key !== "" && !wanted.has(key)) wanted.set(key, name);
  }
  if (wanted.size === 0) return [];
  await db
    .insert(tags)
    .values([...wanted].map(([name, displayName]) => ({ id: newId(), name, displayName })))
    .onConflictDoNothing({ target: tags.name });
  const rows = await db.select().from(tags).where(inArray(tags.name, [...wanted.keys()]));
  const byName = new Map(rows.map((row) => [row.name, row]));
  return [...wanted.keys()].map((name) => byName.get(name)!).filter((row) => row != null);
}

/** Makes the status's tags exactly these (on posting and on every edit). */
export async function setStatusTags(db: Db, statusId: bigint, names: readonly string[]): Promise<Tag[]> {
  const rows = await upsertTags(db, names);
  await db.delete(statusTags).where(eq(statusTags.statusId, statusId));
  if (rows.length > 0) {
    await db.insert(statusTags).values(rows.map((tag) => ({ statusId, tagId: tag.id }))).onConflictDoNothing();
  }
  return rows;
}

export async function findTagByName(ctx: CoreContext, name: string): Promise<Tag | null> {
  const rows = await ctx.db.select().from(tags).where(eq(tags.name, normalizeTagName(name))).limit(1);
  return rows[0] ?? null;
}

/** One day of a tag's use, as Mastodon's TagHistory reports it. */
export interface TagDay {
  /** UNIX time of the day's start (UTC), as a string. */
  day: string;
  uses: string;
  accounts: string;
}

/**
 * How often each tag was used on each of the last `days` days (today
 * first): statuses, and distinct accounts.
 */
export async function tagHistory(ctx: CoreContext, tagIds: readonly bigint[], days = 7): Promise<Map<bigint, TagDay[]>> {
  const result = new Map<bigint, TagDay[]>();
  if (tagIds.length === 0) return result;
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const since = new Date(today.getTime() - (days - 1) * 86_400_000);
  const day = sql<string>`floor(extract(epoch from date_trunc('day', ${statuses.createdAt} at time zone 'UTC')))::bigint::text`;
  const rows = await ctx.db
    .select({
      tagId: statusTags.tagId,
      day,
      uses: sql<string>`count(*)::text`,
      accounts: sql<string>`count(distinct ${statuses.accountId})::text`,
    })
    .from(statusTags)
    .innerJoin(statuses, eq(statuses.id, statusTags.statusId))
    .where(and(inArray(statusTags.tagId, [...tagIds]), gte(statuses.createdAt, since)))
    .groupBy(statusTags.tagId, day);
  const counts = new Map<string, { uses: string; accounts: string }>();
  for (const row of rows) counts.set(`${row.tagId}:${row.day}`, { uses: row.uses, accounts: row.accounts });
  for (const tagId of tagIds) {
    const history: TagDay[] = [];
    for (let i = 0; i < days; i++) {
      const start = String(Math.floor((today.getTime() - i * 86_400_000) / 1000));
      const found = counts.get(`${tagId}:${start}`);
      history.push({ day: start, uses: found?.uses ?? "0", accounts: found?.accounts ?? "0" });
    }
    result.set(tagId, history);
  }
  return result;
}

/** Which of the tags an account follows and features (on its profile). */
export async function tagMarks(
  ctx: CoreContext,
  tagIds: readonly bigint[],
  accountId: bigint,
): Promise<{ following: Set<bigint>; featuring: Set<bigint> }> {
  if (tagIds.length === 0) return { following: new Set(), featuring: new Set() };
  const [followed, featured] = await Promise.all([
    ctx.db.select({ id: tagFollows.tagId }).from(tagFollows).where(and(eq(tagFollows.accountId, accountId), inArray(tagFollows.tagId, [...tagIds]))),
    ctx.db.select({ id: featuredTags.tagId }).from(featuredTags).where(and(eq(featuredTags.accountId, accountId), inArray(featuredTags.tagId, [...tagIds]))),
  ]);
  return { following: new Set(followed.map((row) => row.id)), featuring: new Set(featured.map((row) => row.id)) };
}
