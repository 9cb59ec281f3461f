/**
 * Following: remote accounts following the owner, and the owner following
 * remote accounts. The inbox and the API both come through here.
 */
import { and, asc, count, desc, eq, gt, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/db.ts";
import { accountEndorsements, accounts, blocks, follows } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { isDomainBlocked } from "./domain-block-check.ts";
import { newId } from "./ids.ts";
import { removeFromAllLists } from "./lists.ts";

export type Follow = typeof follows.$inferSelect;

export async function findFollow(ctx: CoreContext, accountId: bigint, targetAccountId: bigint): Promise<Follow | null> {
  const rows = await ctx.db
    .select()
    .from(follows)
    .where(and(eq(follows.accountId, accountId), eq(follows.targetAccountId, targetAccountId)))
    .limit(1);
  return rows[0] ?? null;
}

export async function findFollowByUri(ctx: CoreContext, uri: string): Promise<Follow | null> {
  const rows = await ctx.db.select().from(follows).where(eq(follows.uri, uri)).limit(1);
  return rows[0] ?? null;
}

/**
 * A remote account asks to follow a local one. Accepted at once unless the
 * local account is locked; a repeated Follow updates the stored one. When
 * the local account blocks the follower (or hides its domain) the request
 * is answered with a Reject and not kept; the returned row is gone then.
 */
export async function receiveFollow(
  ctx: CoreContext,
  follower: Account,
  target: Account,
  activityUri: string | null,
): Promise<Follow> {
  if (target.domain != null) throw new CoreError("invalid", "only local accounts can be followed here");
  if (follower.id === target.id) throw new CoreError("invalid", "an account cannot follow itself");
  if (await refusesFollowsFrom(ctx, target.id, follower)) {
    // Blocked: store the request just long enough to answer it with a Reject.
    const id = newId();
    const rows = await ctx.db
      .insert(follows)
      .values({ id, accountId: follower.id, targetAccountId: target.id, uri: activityUri, state: "pending" })
      .onConflictDoUpdate({ target: [follows.accountId, follows.targetAccountId], set: { uri: activityUri, updatedAt: new Date() } })
      .returning();
    await removeFollow(ctx, rows[0], "rejected");
    return rows[0];
  }
  const existing = await findFollow(ctx, follower.id, target.id);
  const state = existing?.state === "accepted" || !target.locked ? "accepted" : "pending";
  const rows = await ctx.db
    .insert(follows)
    .values({ id: newId(), accountId: follower.id, targetAccountId: target.id, uri: activityUri, state })
    .onConflictDoUpdate({
      target: [follows.accountId, follows.targetAccountId],
      set: { uri: activityUri, state, updatedAt: new Date() },
    })
    .returning();
  const follow = rows[0];
  const ids = { followId: follow.id, accountId: follower.id, targetAccountId: target.id };
  await ctx.events.emit("follow.received", { ...ids, pending: state === "pending" });
  if (state === "accepted") await ctx.events.emit("follow.accepted", ids);
  return follow;
}

/** Accepts a pending follow request of a local account. */
export async function acceptFollowRequest(ctx: CoreContext, follow: Follow): Promise<Follow> {
  const rows = await ctx.db
    .update(follows)
    .set({ state: "accepted", updatedAt: new Date() })
    .where(eq(follows.id, follow.id))
    .returning();
  if (rows.length === 0) throw new CoreError("not_found", "no such follow request");
  await ctx.events.emit("follow.accepted", { followId: follow.id, accountId: follow.accountId, targetAccountId: follow.targetAccountId });
  return rows[0];
}

/** How the owner wants to see an account it follows. */
export interface FollowOptions {
  /** Show its boosts in the home timeline (default true). */
  showReblogs?: boolean;
  /** Notify of its new posts (default false). */
  notify?: boolean;
  /** Only posts in these languages (ISO 639-1); null for all. */
  languages?: string[] | null;
}

/**
 * The local account starts following a remote one; pending until its
 * Accept. Following again changes the options of the existing follow (or
 * request) and sends nothing.
 */
export async function follow(ctx: CoreContext, follower: Account, target: Account, options: FollowOptions = {}): Promise<Follow> {
  if (follower.id === target.id) throw new CoreError("invalid", "an account cannot follow itself");
  const existing = await findFollow(ctx, follower.id, target.id);
  const changes: Partial<typeof follows.$inferInsert> = {};
  if (options.showReblogs != null) changes.showReblogs = options.showReblogs;
  if (options.notify != null) changes.notify = options.notify;
  if (options.languages !== undefined) changes.languages = options.languages;
  if (existing != null) {
    if (Object.keys(changes).length === 0) return existing;
    const rows = await ctx.db
      .update(follows)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(follows.id, existing.id))
      .returning();
    return rows[0] ?? existing;
  }
  const id = newId();
  const rows = await ctx.db
    .insert(follows)
    .values({ id, accountId: follower.id, targetAccountId: target.id, uri: `${ctx.config.origin}/follows/${id}`, state: "pending", ...changes })
    .returning();
  await ctx.events.emit("follow.created", { followId: id, accountId: follower.id, targetAccountId: target.id });
  return rows[0];
}

/** The target accepted a follow the owner asked for; emits `follow.accepted` (its recent posts are fetched then). */
export async function followAccepted(ctx: CoreContext, followed: Follow): Promise<Follow> {
  if (followed.state === "accepted") return followed;
  const rows = await ctx.db
    .update(follows)
    .set({ state: "accepted", updatedAt: new Date() })
    .where(eq(follows.id, followed.id))
    .returning();
  if (rows[0] == null) return followed;
  await ctx.events.emit("follow.accepted", { followId: followed.id, accountId: followed.accountId, targetAccountId: followed.targetAccountId });
  return rows[0];
}

/**
 * Ends a follow, whoever ends it: an Undo from the follower, a Reject from
 * the target, or an unfollow by the owner.
 */
export async function removeFollow(ctx: CoreContext, ended: Follow, reason: "undone" | "rejected" | "unfollowed"): Promise<void> {
  const rows = await ctx.db.delete(follows).where(eq(follows.id, ended.id)).returning();
  if (rows.length === 0) return;
  // A featured profile is one the owner follows.
  await ctx.db.delete(accountEndorsements).where(and(eq(accountEndorsements.accountId, ended.accountId), eq(accountEndorsements.targetAccountId, ended.targetAccountId)));
  await ctx.events.emit("follow.removed", {
    followId: ended.id,
    accountId: ended.accountId,
    targetAccountId: ended.targetAccountId,
    uri: ended.uri,
    reason,
  });
}

/** The two counts, prepared once per database: the owner's are read each time the owner is shown. */
function prepareCounts(db: Db) {
  const counting = (column: typeof follows.accountId) =>
    db
      .select({ n: count() })
      .from(follows)
      .where(and(sql`${column} = ${sql.placeholder("account")}::bigint`, eq(follows.state, "accepted")))
      .prepare(`islet_count_${column.name}`);
  return { followers: counting(follows.targetAccountId), following: counting(follows.accountId) };
}

const preparedCounts = new WeakMap<Db, ReturnType<typeof prepareCounts>>();

/** How many accepted followers (or followees) an account has. */
export async function countFollows(ctx: CoreContext, accountId: bigint, direction: "followers" | "following"): Promise<number> {
  let queries = preparedCounts.get(ctx.db);
  if (queries == null) preparedCounts.set(ctx.db, (queries = prepareCounts(ctx.db)));
  const rows = await queries[direction].execute({ account: accountId.toString() });
  return Number(rows[0]?.n ?? 0);
}

/**
 * One page of accepted followers (or followees), newest first, as
 * accounts with the follow's id as the cursor.
 */
export async function listFollows(
  ctx: CoreContext,
  accountId: bigint,
  direction: "followers" | "following",
  options: { before?: bigint; limit: number },
): Promise<{ account: Account; followId: bigint }[]> {
  const own = direction === "followers" ? follows.targetAccountId : follows.accountId;
  const other = direction === "followers" ? follows.accountId : follows.targetAccountId;
  const conditions = [eq(own, accountId), eq(follows.state, "accepted")];
  if (options.before != null) conditions.push(lt(follows.id, options.before));
  return await ctx.db
    .select({ account: accounts, followId: follows.id })
    .from(follows)
    .innerJoin(accounts, eq(accounts.id, other))
    .where(and(...conditions))
    .orderBy(desc(follows.id))
    .limit(options.limit);
}

/**
 * A remote account blocks a local one (an incoming Block): follows end both
 * ways (the local account's with an Undo sent, the remote's quietly) and
 * the block is kept, so relationships show `blocked_by`. A repeated Block
 * changes nothing.
 */
export async function receiveBlock(ctx: CoreContext, blocker: Account, target: Account, uri: string | null): Promise<void> {
  if (blocker.domain == null || target.domain != null) throw new CoreError("invalid", "only a remote account blocks a local one here");
  const outgoing = await findFollow(ctx, target.id, blocker.id);
  if (outgoing != null) await removeFollow(ctx, outgoing, "unfollowed");
  const incoming = await findFollow(ctx, blocker.id, target.id);
  if (incoming != null) await removeFollow(ctx, incoming, "undone");
  await ctx.db
    .insert(blocks)
    .values({ id: newId(), accountId: blocker.id, targetAccountId: target.id, uri })
    .onConflictDoNothing();
}

/** A remote account lifts its block (an Undo of the Block); nothing when there was none. */
export async function receiveUnblock(ctx: CoreContext, blocker: Account, target: Account | null, uri: string | null): Promise<boolean> {
  const byUri = uri == null ? [] : await ctx.db.delete(blocks).where(and(eq(blocks.accountId, blocker.id), eq(blocks.uri, uri))).returning();
  if (byUri.length > 0 || target == null) return byUri.length > 0;
  const rows = await ctx.db.delete(blocks).where(and(eq(blocks.accountId, blocker.id), eq(blocks.targetAccountId, target.id))).returning();
  return rows.length > 0;
}

/** Whether a local account refuses follows from `follower`: it blocks the follower or hides its domain. */
async function refusesFollowsFrom(ctx: CoreContext, targetId: bigint, follower: Account): Promise<boolean> {
  const blocked = await ctx.db
    .select({ id: blocks.id })
    .from(blocks)
    .where(and(eq(blocks.accountId, targetId), eq(blocks.targetAccountId, follower.id)))
    .limit(1);
  if (blocked.length > 0) return true;
  if (follower.domain == null) return false;
  return await isDomainBlocked(ctx, targetId, follower.domain);
}

/** A page by id: older than `maxId`, newer than `sinceId`, or just after `minId` (paging forward). */
export interface IdPage {
  maxId?: bigint;
  sinceId?: bigint;
  minId?: bigint;
  limit: number;
}

/** Conditions and order for paging on an id column; `forward` results must be reversed. */
export function idPaging(column: Parameters<typeof lt>[0], page: IdPage): { conditions: SQL[]; order: SQL; forward: boolean } {
  const conditions: SQL[] = [];
  if (page.maxId != null) conditions.push(lt(column, page.maxId));
  if (page.minId != null) conditions.push(gt(column, page.minId));
  else if (page.sinceId != null) conditions.push(gt(column, page.sinceId));
  const forward = page.minId != null;
  return { conditions, order: forward ? asc(column) : desc(column), forward };
}

/**
 * One page of followers (or followees) in either direction, accepted
 * follows only, with the follow's id as the cursor; newest first.
 */
export async function listFollowPage(
  ctx: CoreContext,
  accountId: bigint,
  direction: "followers" | "following",
  page: IdPage,
): Promise<{ account: Account; followId: bigint }[]> {
  const own = direction === "followers" ? follows.targetAccountId : follows.accountId;
  const other = direction === "followers" ? follows.accountId : follows.targetAccountId;
  const { conditions, order, forward } = idPaging(follows.id, page);
  const rows = await ctx.db
    .select({ account: accounts, followId: follows.id })
    .from(follows)
    .innerJoin(accounts, eq(accounts.id, other))
    .where(and(eq(own, accountId), eq(follows.state, "accepted"), ...conditions))
    .orderBy(order)
    .limit(page.limit);
  return forward ? rows.reverse() : rows;
}

/** One page of pending requests to follow a local account, newest first, by follow id. */
export async function listFollowRequests(ctx: CoreContext, accountId: bigint, page: IdPage): Promise<{ account: Account; followId: bigint }[]> {
  const { conditions, order, forward } = idPaging(follows.id, page);
  const rows = await ctx.db
    .select({ account: accounts, followId: follows.id })
    .from(follows)
    .innerJoin(accounts, eq(accounts.id, follows.accountId))
    .where(and(eq(follows.targetAccountId, accountId), eq(follows.state, "pending"), ...conditions))
    .orderBy(order)
    .limit(page.limit);
  return forward ? rows.reverse() : rows;
}

/** How many follow requests await a local account's answer. */
export async function countFollowRequests(ctx: CoreContext, accountId: bigint): Promise<number> {
  const rows = await ctx.db
    .select({ n: count() })
    .from(follows)
    .where(and(eq(follows.targetAccountId, accountId), eq(follows.state, "pending")));
  return Number(rows[0]?.n ?? 0);
}

/** The owner authorizes the pending request of `requesterId`; not found when there is none. */
export async function authorizeFollowRequest(ctx: CoreContext, ownerId: bigint, requesterId: bigint): Promise<Follow> {
  const request = await findFollow(ctx, requesterId, ownerId);
  if (request == null || request.state !== "pending") throw new CoreError("not_found", "Record not found");
  return await acceptFollowRequest(ctx, request);
}

/** The owner rejects the pending request of `requesterId` (a Reject is sent); not found when there is none. */
export async function rejectFollowRequest(ctx: CoreContext, ownerId: bigint, requesterId: bigint): Promise<void> {
  const request = await findFollow(ctx, requesterId, ownerId);
  if (request == null || request.state !== "pending") throw new CoreError("not_found", "Record not found");
  await removeFollow(ctx, request, "rejected");
}

/**
 * The owner stops following (or withdraws its request to follow)
 * `targetId`, which leaves the owner's lists; nothing when it did not follow.
 */
export async function unfollow(ctx: CoreContext, ownerId: bigint, targetId: bigint): Promise<void> {
  const existing = await findFollow(ctx, ownerId, targetId);
  if (existing != null) await removeFollow(ctx, existing, "unfollowed");
  await removeFromAllLists(ctx, ownerId, [targetId]);
}

/** The owner removes `followerId` from its followers (a Reject is sent); nothing when it did not follow. */
export async function removeFromFollowers(ctx: CoreContext, ownerId: bigint, followerId: bigint): Promise<void> {
  const existing = await findFollow(ctx, followerId, ownerId);
  if (existing != null) await removeFollow(ctx, existing, "rejected");
}
