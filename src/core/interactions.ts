/**
 * What an account does with a status: favourite, boost, bookmark, pin, mute
 * its conversation; and who favourited or boosted one. Favourites and boosts
 * work for the owner and for remote accounts (the inbox calls the same
 * functions); bookmarks, pins and conversation mutes are the owner's alone.
 * Acting on a boost acts on the boosted post.
 */
import { and, asc, count, desc, eq, gt, lt, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { accounts, bookmarks, conversationMutes, favourites, statusPins, statuses } from "../db/schema.ts";
import { countStatusAdded, countStatusesRemoved } from "./account-counters.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import { findStatus, localReblogUris, resolveReblog, type StatusRow, type Visibility } from "./statuses/rows.ts";
import { canView } from "./visibility.ts";

/** Pinned posts a local account may have. */
export const MAX_PINNED_STATUSES = 5;

export type Favourite = typeof favourites.$inferSelect;

async function visibleTarget(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await resolveReblog(ctx, status);
  if (!(await canView(ctx, target, account.id))) throw new CoreError("not_found", "Record not found");
  return target;
}

async function reload(ctx: CoreContext, status: StatusRow): Promise<StatusRow> {
  return (await findStatus(ctx, status.id)) ?? status;
}

/**
 * The account favourites the status (once; again is a no-op). Returns the
 * favourited status. Emits `favourite.created` when new.
 */
export async function favouriteStatus(
  ctx: CoreContext,
  account: Account,
  status: StatusRow,
  options: { uri?: string | null } = {},
): Promise<StatusRow> {
  const target = await visibleTarget(ctx, account, status);
  const created = await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .insert(favourites)
      .values({ id: newId(), accountId: account.id, statusId: target.id, uri: options.uri ?? null })
      .onConflictDoNothing()
      .returning();
    if (rows.length === 0) return null;
    await tx.update(statuses).set({ favouritesCount: sql`${statuses.favouritesCount} + 1` }).where(eq(statuses.id, target.id));
    return rows[0];
  });
  if (created != null) {
    await ctx.events.emit("favourite.created", { favouriteId: created.id, accountId: account.id, statusId: target.id });
  }
  return await reload(ctx, target);
}

/** Takes a favourite back (a no-op when there is none). Emits `favourite.removed`. */
export async function unfavouriteStatus(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await resolveReblog(ctx, status);
  const removed = await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .delete(favourites)
      .where(and(eq(favourites.accountId, account.id), eq(favourites.statusId, target.id)))
      .returning();
    if (rows.length === 0) return null;
    await tx
      .update(statuses)
      .set({ favouritesCount: sql`greatest(${statuses.favouritesCount} - 1, 0)` })
      .where(eq(statuses.id, target.id));
    return rows[0];
  });
  if (removed != null) {
    await ctx.events.emit("favourite.removed", { favouriteId: removed.id, accountId: account.id, statusId: target.id, uri: removed.uri });
  }
  return await reload(ctx, target);
}

export interface ReblogOptions {
  /** public (default), unlisted or private; a private post's own boost stays private. */
  visibility?: "public" | "unlisted" | "private" | null;
  /** For a remote boost: the Announce's IRI. Local boosts get one. */
  uri?: string | null;
  url?: string | null;
  createdAt?: Date;
}

/**
 * The account boosts the status: a status row pointing at the original.
 * Direct posts cannot be boosted, private ones only by their author.
 * Boosting again returns the existing boost. Emits `status.created`.
 */
export async function reblogStatus(ctx: CoreContext, account: Account, status: StatusRow, options: ReblogOptions = {}): Promise<StatusRow> {
  const target = await visibleTarget(ctx, account, status);
  if (target.visibility === "direct" || (target.visibility === "private" && target.accountId !== account.id)) {
    throw new CoreError("forbidden", "This action is not allowed");
  }
  const existing = await findReblog(ctx, account.id, target.id);
  if (existing != null) return existing;
  const visibility: Visibility = target.visibility === "private" ? "private" : (options.visibility ?? "public");
  const createdAt = options.createdAt ?? new Date();
  const id = newId(createdAt);
  let uri = options.uri ?? null;
  let url = options.url ?? null;
  if (uri == null) {
    if (account.domain != null) throw new CoreError("invalid", "a remote boost needs its activity IRI");
    ({ uri, url } = localReblogUris(ctx.config.origin, account.username, id));
  }
  const row = await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .insert(statuses)
      .values({
        id,
        accountId: account.id,
        uri,
        url,
        content: "",
        visibility,
        reblogOfId: target.id,
        conversationId: target.conversationId,
        createdAt,
        updatedAt: createdAt,
      })
      .returning();
    await tx.update(statuses).set({ reblogsCount: sql`${statuses.reblogsCount} + 1` }).where(eq(statuses.id, target.id));
    if (account.domain == null) await countStatusAdded(tx, account.id, createdAt);
    return rows[0];
  });
  await ctx.events.emit("status.created", { statusId: row.id, accountId: account.id });
  return row;
}

/** The account's boost of the status, if any. */
export async function findReblog(ctx: CoreContext, accountId: bigint, statusId: bigint): Promise<StatusRow | null> {
  const rows = await ctx.db
    .select()
    .from(statuses)
    .where(and(eq(statuses.accountId, accountId), eq(statuses.reblogOfId, statusId)))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * Takes a boost back (a no-op when there is none); returns the original.
 * Emits `status.deleted` for the boost.
 */
export async function unreblogStatus(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await resolveReblog(ctx, status);
  const reblog = await findReblog(ctx, account.id, target.id);
  if (reblog != null) {
    const deleted = await ctx.db.transaction(async (tx) => {
      const rows = await tx.delete(statuses).where(eq(statuses.id, reblog.id)).returning({ id: statuses.id });
      if (rows.length === 0) return false;
      await tx
        .update(statuses)
        .set({ reblogsCount: sql`greatest(${statuses.reblogsCount} - 1, 0)` })
        .where(eq(statuses.id, target.id));
      if (account.domain == null) await countStatusesRemoved(tx, [account.id]);
      return true;
    });
    if (deleted) {
      await ctx.events.emit("status.deleted", {
        statusId: reblog.id,
        accountId: account.id,
        uri: reblog.uri,
        visibility: reblog.visibility,
        reblogOfId: target.id,
        mentionedAccountIds: [],
      });
    }
  }
  return await reload(ctx, target);
}

/** Bookmarks the status (again is a no-op); returns it. */
export async function bookmarkStatus(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await visibleTarget(ctx, account, status);
  await ctx.db.insert(bookmarks).values({ id: newId(), accountId: account.id, statusId: target.id }).onConflictDoNothing();
  return target;
}

export async function unbookmarkStatus(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await resolveReblog(ctx, status);
  await ctx.db.delete(bookmarks).where(and(eq(bookmarks.accountId, account.id), eq(bookmarks.statusId, target.id)));
  return target;
}

/**
 * Pins one of the account's own posts to its profile (not a boost, not a
 * direct post; at most five). Pinning again is a no-op.
 */
export async function pinStatus(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  if (!(await canView(ctx, status, account.id))) throw new CoreError("not_found", "Record not found");
  if (status.reblogOfId != null) throw new CoreError("invalid", "A boost cannot be pinned");
  if (status.accountId !== account.id) throw new CoreError("invalid", "Someone else's post cannot be pinned");
  if (status.visibility === "direct") throw new CoreError("invalid", "Posts that are only visible to mentioned users cannot be pinned");
  await ctx.db.transaction(async (tx) => {
    // Serialises concurrent pins of the account, so the limit holds.
    await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, account.id)).for("update");
    const already = await tx
      .select({ id: statusPins.id })
      .from(statusPins)
      .where(and(eq(statusPins.accountId, account.id), eq(statusPins.statusId, status.id)));
    if (already.length > 0) return;
    const pinned = await tx.select({ n: count() }).from(statusPins).where(eq(statusPins.accountId, account.id));
    if (Number(pinned[0]?.n ?? 0) >= MAX_PINNED_STATUSES) {
      throw new CoreError("invalid", "You have already pinned the maximum number of posts");
    }
    await tx.insert(statusPins).values({ id: newId(), accountId: account.id, statusId: status.id }).onConflictDoNothing();
  });
  return status;
}

export async function unpinStatus(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  if (!(await canView(ctx, status, account.id))) throw new CoreError("not_found", "Record not found");
  await ctx.db.delete(statusPins).where(and(eq(statusPins.accountId, account.id), eq(statusPins.statusId, status.id)));
  return status;
}

/** Stops notifications from the status's conversation (again is a no-op). */
export async function muteConversation(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await visibleTarget(ctx, account, status);
  const conversationId = target.conversationId ?? target.id;
  await ctx.db.insert(conversationMutes).values({ accountId: account.id, conversationId }).onConflictDoNothing();
  return target;
}

export async function unmuteConversation(ctx: CoreContext, account: Account, status: StatusRow): Promise<StatusRow> {
  const target = await visibleTarget(ctx, account, status);
  const conversationId = target.conversationId ?? target.id;
  await ctx.db
    .delete(conversationMutes)
    .where(and(eq(conversationMutes.accountId, account.id), eq(conversationMutes.conversationId, conversationId)));
  return target;
}

/** Whether the account muted this conversation. */
export async function isConversationMuted(ctx: CoreContext, accountId: bigint, conversationId: bigint): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: conversationMutes.conversationId })
    .from(conversationMutes)
    .where(and(eq(conversationMutes.accountId, accountId), eq(conversationMutes.conversationId, conversationId)))
    .limit(1);
  return rows.length > 0;
}

/** A page by cursor ids, as the API's pagination parameters give it. */
export interface IdPage {
  maxId?: bigint;
  sinceId?: bigint;
  minId?: bigint;
  limit: number;
}

/** An account that acted on a status, with the id that pages through them. */
export interface ActorEntry {
  account: Account;
  /** The favourite's or the boost's id. */
  cursorId: bigint;
}

function pageConditions(column: AnyPgColumn, page: IdPage): { where: SQL[]; ascending: boolean } {
  const where: SQL[] = [];
  if (page.maxId != null) where.push(lt(column, page.maxId));
  if (page.sinceId != null) where.push(gt(column, page.sinceId));
  if (page.minId != null) where.push(gt(column, page.minId));
  return { where, ascending: page.minId != null && page.sinceId == null };
}

/** Accounts that favourited the status, newest favourite first. */
export async function listFavouritedBy(ctx: CoreContext, status: StatusRow, page: IdPage): Promise<ActorEntry[]> {
  const { where, ascending } = pageConditions(favourites.id, page);
  const rows = await ctx.db
    .select({ account: accounts, cursorId: favourites.id })
    .from(favourites)
    .innerJoin(accounts, eq(accounts.id, favourites.accountId))
    .where(and(eq(favourites.statusId, status.id), ...where))
    .orderBy(ascending ? asc(favourites.id) : desc(favourites.id))
    .limit(page.limit);
  return ascending ? rows.reverse() : rows;
}

/** Accounts that boosted the status, newest boost first. */
export async function listRebloggedBy(ctx: CoreContext, status: StatusRow, page: IdPage): Promise<ActorEntry[]> {
  const { where, ascending } = pageConditions(statuses.id, page);
  const rows = await ctx.db
    .select({ account: accounts, cursorId: statuses.id })
    .from(statuses)
    .innerJoin(accounts, eq(accounts.id, statuses.accountId))
    .where(and(eq(statuses.reblogOfId, status.id), ...where))
    .orderBy(ascending ? asc(statuses.id) : desc(statuses.id))
    .limit(page.limit);
  return ascending ? rows.reverse() : rows;
}
