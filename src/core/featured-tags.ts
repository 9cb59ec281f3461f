/**
 * Hashtags the owner features on the profile, with how often the owner
 * used each. Featuring changes the actor's profile, so `account.updated`
 * is emitted for federation to send an Update.
 */
import { and, asc, count, desc, eq, inArray, isNull, max, notInArray, sql } from "drizzle-orm";
import { featuredTags, statusTags, statuses, tags } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import { findOrCreateTag, type Tag } from "./tag-follows.ts";
import { findTagByName } from "./tags.ts";

/** As many as Mastodon allows (the instance reports it as `max_featured_tags`). */
export const MAX_FEATURED_TAGS = 10;

export interface FeaturedTagInfo {
  id: bigint;
  accountId: bigint;
  tag: Tag;
  /** The account's public and unlisted posts with the tag. */
  statusesCount: number;
  lastStatusAt: Date | null;
  createdAt: Date;
}

const PROFILE_VISIBILITIES = ["public", "unlisted"] as const;

/** How many of the account's public and unlisted posts carry each tag, and the latest. */
async function usage(ctx: CoreContext, accountId: bigint, tagIds: bigint[]): Promise<Map<bigint, { n: number; last: Date | null }>> {
  const result = new Map<bigint, { n: number; last: Date | null }>();
  if (tagIds.length === 0) return result;
  const rows = await ctx.db
    .select({ tagId: statusTags.tagId, n: count(), last: max(statuses.createdAt) })
    .from(statusTags)
    .innerJoin(statuses, eq(statuses.id, statusTags.statusId))
    .where(and(
      inArray(statusTags.tagId, tagIds),
      eq(statuses.accountId, accountId),
      inArray(statuses.visibility, [...PROFILE_VISIBILITIES]),
      isNull(statuses.reblogOfId),
    ))
    .groupBy(statusTags.tagId);
  for (const row of rows) result.set(row.tagId, { n: Number(row.n), last: row.last == null ? null : new Date(row.last) });
  return result;
}

/** The account's featured tags, in the order they were featured. */
export async function getFeaturedTags(ctx: CoreContext, accountId: bigint): Promise<FeaturedTagInfo[]> {
  const rows = await ctx.db
    .select({ featured: featuredTags, tag: tags })
    .from(featuredTags)
    .innerJoin(tags, eq(tags.id, featuredTags.tagId))
    .where(eq(featuredTags.accountId, accountId))
    .orderBy(asc(featuredTags.id));
  const stats = await usage(ctx, accountId, rows.map((row) => row.tag.id));
  return rows.map((row) => ({
    id: row.featured.id,
    accountId: row.featured.accountId,
    tag: row.tag,
    statusesCount: stats.get(row.tag.id)?.n ?? 0,
    lastStatusAt: stats.get(row.tag.id)?.last ?? null,
    createdAt: row.featured.createdAt,
  }));
}

/**
 * Features a tag (created when missing). Featuring one already featured
 * returns it unchanged; beyond {@link MAX_FEATURED_TAGS} is `invalid`.
 */
export async function featureTag(ctx: CoreContext, accountId: bigint, name: string): Promise<FeaturedTagInfo> {
  const tag = await findOrCreateTag(ctx, name);
  const find = async () => (await getFeaturedTags(ctx, accountId)).find((item) => item.tag.id === tag.id);
  const existing = await find();
  if (existing != null) return existing;
  const n = await ctx.db.select({ n: count() }).from(featuredTags).where(eq(featuredTags.accountId, accountId));
  if (Number(n[0]?.n ?? 0) >= MAX_FEATURED_TAGS) {
    throw new CoreError("invalid", `You can only feature up to ${MAX_FEATURED_TAGS} hashtags`);
  }
  await ctx.db.insert(featuredTags).values({ id: newId(), accountId, tagId: tag.id }).onConflictDoNothing();
  const created = await find();
  if (created == null) throw new Error(`featuring ${tag.name} did not stick`);
  await ctx.events.emit("account.updated", { accountId });
  return created;
}

/** Stops featuring by the featured tag's id; not_found when it is not the account's. */
export async function unfeatureTag(ctx: CoreContext, accountId: bigint, featuredTagId: bigint): Promise<void> {
  const rows = await ctx.db
    .delete(featuredTags)
    .where(and(eq(featuredTags.id, featuredTagId), eq(featuredTags.accountId, accountId)))
    .returning();
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  await ctx.events.emit("account.updated", { accountId });
}

/** Stops featuring a tag by name (idempotent). Null when no such tag exists. */
export async function unfeatureTagByName(ctx: CoreContext, accountId: bigint, name: string): Promise<Tag | null> {
  const tag = await findTagByName(ctx, name);
  if (tag == null) return null;
  const rows = await ctx.db
    .delete(featuredTags)
    .where(and(eq(featuredTags.tagId, tag.id), eq(featuredTags.accountId, accountId)))
    .returning();
  if (rows.length > 0) await ctx.events.emit("account.updated", { accountId });
  return tag;
}

/** The account's most used tags that it does not feature yet, most used first. */
export async function suggestFeaturedTags(ctx: CoreContext, accountId: bigint, limit = 10): Promise<Tag[]> {
  const featured = ctx.db.select({ id: featuredTags.tagId }).from(featuredTags).where(eq(featuredTags.accountId, accountId));
  const uses = sql<number>`count(*)`;
  const rows = await ctx.db
    .select({ tag: tags, uses })
    .from(statusTags)
    .innerJoin(statuses, eq(statuses.id, statusTags.statusId))
    .innerJoin(tags, eq(tags.id, statusTags.tagId))
    .where(and(eq(statuses.accountId, accountId), isNull(statuses.reblogOfId), notInArray(statusTags.tagId, featured)))
    .groupBy(tags.id)
    .orderBy(desc(uses), asc(tags.name))
    .limit(limit);
  return rows.map((row) => row.tag);
}
