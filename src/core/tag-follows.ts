/**
 * Hashtags as the owner meets them outside a post: checking a name,
 * following and unfollowing a tag, and the tags followed. Storage and
 * normalisation of tags are src/core/tags.ts's.
 */
import { and, asc, desc, eq, gt, lt, type SQL } from "drizzle-orm";
import { tagFollows, tags } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import type { PageQuery } from "./lists.ts";
import { findTagByName, upsertTags, type Tag } from "./tags.ts";

export type { Tag };
export type TagFollow = typeof tagFollows.$inferSelect;

export const MAX_TAG_LENGTH = 150;

// Mastodon's hashtag grammar: word characters (letters, marks, digits,
// connector punctuation), with at least one letter, or a middle dot or
// ZWNJ between word characters.
const WORD = String.raw`[\p{L}\p{M}\p{Nd}\p{Pc}]`;
const INNER = String.raw`[\p{L}\p{M}\p{Nd}\p{Pc}\u00b7\u200c]`;
const ALPHA = String.raw`[\p{L}\p{M}]`;
const TAG_NAME = new RegExp(String.raw`^(?:${WORD}${INNER}*[\p{L}\p{M}_\u00b7\u200c]${INNER}*${WORD}|${WORD}*${ALPHA}${WORD}*)$`, "u");

/** The name with a leading `#` removed, if it is a valid hashtag; null otherwise. */
export function cleanTagName(name: string): string | null {
  const bare = name.trim().replace(/^#/, "").normalize("NFKC");
  if (bare === "" || [...bare].length > MAX_TAG_LENGTH || !TAG_NAME.test(bare)) return null;
  return bare;
}

/** The tag of this name, created when missing. An invalid name is an `invalid` CoreError. */
export async function findOrCreateTag(ctx: CoreContext, name: string): Promise<Tag> {
  const clean = cleanTagName(name);
  if (clean == null) throw new CoreError("invalid", "Tag is invalid");
  const [tag] = await upsertTags(ctx.db, [clean]);
  if (tag == null) throw new Error(`the tag ${clean} could not be stored`);
  return tag;
}

/** The owner follows a tag (idempotent). */
export async function followTag(ctx: CoreContext, accountId: bigint, name: string): Promise<Tag> {
  const tag = await findOrCreateTag(ctx, name);
  await ctx.db.insert(tagFollows).values({ id: newId(), accountId, tagId: tag.id }).onConflictDoNothing();
  return tag;
}

/** The owner stops following a tag (idempotent). Null when no such tag exists. */
export async function unfollowTag(ctx: CoreContext, accountId: bigint, name: string): Promise<Tag | null> {
  if (cleanTagName(name) == null) throw new CoreError("invalid", "Tag is invalid");
  const tag = await findTagByName(ctx, name);
  if (tag == null) return null;
  await ctx.db.delete(tagFollows).where(and(eq(tagFollows.accountId, accountId), eq(tagFollows.tagId, tag.id)));
  return tag;
}

/** Every tag the account follows (for the home timeline). */
export async function followedTagIds(ctx: CoreContext, accountId: bigint): Promise<bigint[]> {
  const rows = await ctx.db.select({ id: tagFollows.tagId }).from(tagFollows).where(eq(tagFollows.accountId, accountId));
  return rows.map((row) => row.id);
}

/**
 * One page of followed tags, most recently followed first, with the
 * tag_follows id as the cursor (as Mastodon pages them).
 */
export async function getFollowedTags(ctx: CoreContext, accountId: bigint, page: PageQuery): Promise<{ tag: Tag; followId: bigint }[]> {
  const conditions: SQL[] = [eq(tagFollows.accountId, accountId)];
  if (page.maxId != null) conditions.push(lt(tagFollows.id, page.maxId));
  if (page.minId != null) conditions.push(gt(tagFollows.id, page.minId));
  else if (page.sinceId != null) conditions.push(gt(tagFollows.id, page.sinceId));
  const query = ctx.db
    .select({ tag: tags, followId: tagFollows.id })
    .from(tagFollows)
    .innerJoin(tags, eq(tags.id, tagFollows.tagId))
    .where(and(...conditions))
    .orderBy(page.minId != null ? asc(tagFollows.id) : desc(tagFollows.id));
  const rows = page.limit == null ? await query : await query.limit(page.limit);
  return page.minId != null ? rows.reverse() : rows;
}
