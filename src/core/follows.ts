/**
 * Following: remote accounts following the owner, and the owner following
 * remote accounts. The inbox and the API both come through here.
 */
import { and, count, desc, eq, lt } from "drizzle-orm";
import { accounts, follows } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";

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
 * local account is locked; a repeated Follow updates the stored one.
 */
export async function receiveFollow(
  ctx: CoreContext,
  follower: Account,
  target: Account,
  activityUri: string | null,
): Promise<Follow> {
  if (target.domain != null) throw new CoreError("invalid", "only local accounts can be followed here");
  if (follower.id === target.id) throw new CoreError("invalid", "an account cannot follow itself");
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

/** The local account starts following a remote one; pending until its Accept. */
export async function follow(ctx: CoreContext, follower: Account, target: Account): Promise<Follow> {
  if (follower.id === target.id) throw new CoreError("invalid", "an account cannot follow itself");
  const existing = await findFollow(ctx, follower.id, target.id);
  if (existing != null) return existing;
  const id = newId();
  const rows = await ctx.db
    .insert(follows)
    .values({ id, accountId: follower.id, targetAccountId: target.id, uri: `${ctx.config.origin}/follows/${id}`, state: "pending" })
    .returning();
  await ctx.events.emit("follow.created", { followId: id, accountId: follower.id, targetAccountId: target.id });
  return rows[0];
}

/** The target accepted a follow the owner asked for. */
export async function followAccepted(ctx: CoreContext, followed: Follow): Promise<Follow> {
  if (followed.state === "accepted") return followed;
  const rows = await ctx.db
    .update(follows)
    .set({ state: "accepted", updatedAt: new Date() })
    .where(eq(follows.id, followed.id))
    .returning();
  return rows[0] ?? followed;
}

/**
 * Ends a follow, whoever ends it: an Undo from the follower, a Reject from
 * the target, or an unfollow by the owner.
 */
export async function removeFollow(ctx: CoreContext, ended: Follow, reason: "undone" | "rejected" | "unfollowed"): Promise<void> {
  const rows = await ctx.db.delete(follows).where(eq(follows.id, ended.id)).returning();
  if (rows.length === 0) return;
  await ctx.events.emit("follow.removed", {
    followId: ended.id,
    accountId: ended.accountId,
    targetAccountId: ended.targetAccountId,
    uri: ended.uri,
    reason,
  });
}

/** How many accepted followers (or followees) an account has. */
export async function countFollows(ctx: CoreContext, accountId: bigint, direction: "followers" | "following"): Promise<number> {
  const column = direction === "followers" ? follows.targetAccountId : follows.accountId;
  const rows = await ctx.db
    .select({ n: count() })
    .from(follows)
    .where(and(eq(column, accountId), eq(follows.state, "accepted")));
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
