/**
 * How the owner stands with other accounts: blocks, mutes, private notes,
 * and the Relationship Mastodon clients read (following, requested,
 * blocking, muting, ...). Blocking ends follows both ways.
 */
import { and, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import { accountNotes, accounts, blocks, follows, mutes, notifications, userDomainBlocks } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { follow, findFollow, idPaging, removeFollow, type Follow, type FollowOptions, type IdPage } from "./follows.ts";
import { endorsedAmong } from "./endorsements.ts";
import { newId } from "./ids.ts";
import { removeFromAllLists } from "./lists.ts";

export type Block = typeof blocks.$inferSelect;
export type Mute = typeof mutes.$inferSelect;

/** Mastodon's cap on a private note about an account. */
export const MAX_NOTE_LENGTH = 2000;

/**
 * The owner follows `target` (or changes how it follows it), as Mastodon
 * allows it: not itself (not found), not an account it blocks or that
 * blocks it, nor one on a domain it hides (forbidden).
 */
export async function followAccount(ctx: CoreContext, owner: Account, target: Account, options: FollowOptions = {}): Promise<Follow> {
  if (owner.id === target.id) throw new CoreError("not_found", "Record not found");
  const [relationship] = await getRelationships(ctx, owner.id, [target]);
  if (relationship.blocking || relationship.blockedBy || relationship.domainBlocking) {
    throw new CoreError("forbidden", "This action is not allowed");
  }
  if (options.languages != null) {
    const languages = [...new Set(options.languages.map((language) => language.trim().toLowerCase()).filter((language) => language !== ""))];
    if (!languages.every((language) => /^[a-z]{2,3}$/.test(language))) throw new CoreError("invalid", "Languages contains an invalid language code");
    options = { ...options, languages: languages.length === 0 ? null : languages };
  }
  return await follow(ctx, owner, target, options);
}

/** A mute that has not expired. */
const liveMute = () => or(isNull(mutes.expiresAt), gt(mutes.expiresAt, sql`now()`));

/**
 * The owner blocks `target`: follows in both directions end (the owner's
 * with an Undo, the target's with a Reject), the target leaves the owner's
 * lists and its notifications go; then `account.blocked`. Blocking again
 * changes nothing.
 */
export async function block(ctx: CoreContext, owner: Account, target: Account): Promise<Block> {
  if (owner.id === target.id) throw new CoreError("invalid", "an account cannot block itself");
  const existing = await findBlock(ctx, owner.id, target.id);
  const outgoing = await findFollow(ctx, owner.id, target.id);
  if (outgoing != null) await removeFollow(ctx, outgoing, "unfollowed");
  const incoming = await findFollow(ctx, target.id, owner.id);
  if (incoming != null) await removeFollow(ctx, incoming, "rejected");
  await removeFromAllLists(ctx, owner.id, [target.id]);
  await ctx.db.delete(notifications).where(and(eq(notifications.accountId, owner.id), eq(notifications.fromAccountId, target.id)));
  if (existing != null) return existing;
  const id = newId();
  const rows = await ctx.db
    .insert(blocks)
    .values({ id, accountId: owner.id, targetAccountId: target.id, uri: `${ctx.config.origin}/blocks/${id}` })
    .onConflictDoNothing()
    .returning();
  const row = rows[0] ?? (await findBlock(ctx, owner.id, target.id));
  if (row == null) throw new CoreError("conflict", "the block could not be stored");
  if (rows.length > 0) await ctx.events.emit("account.blocked", { blockId: row.id, accountId: owner.id, targetAccountId: target.id });
  return row;
}

/** The owner unblocks `target`; nothing happens when it did not block it. */
export async function unblock(ctx: CoreContext, ownerId: bigint, targetId: bigint): Promise<void> {
  const rows = await ctx.db
    .delete(blocks)
    .where(and(eq(blocks.accountId, ownerId), eq(blocks.targetAccountId, targetId)))
    .returning();
  for (const row of rows) {
    await ctx.events.emit("account.unblocked", { blockId: row.id, accountId: ownerId, targetAccountId: targetId, uri: row.uri });
  }
}

export async function findBlock(ctx: CoreContext, accountId: bigint, targetAccountId: bigint): Promise<Block | null> {
  const rows = await ctx.db
    .select()
    .from(blocks)
    .where(and(eq(blocks.accountId, accountId), eq(blocks.targetAccountId, targetAccountId)))
    .limit(1);
  return rows[0] ?? null;
}

export interface MuteOptions {
  /** Hide the account's notifications too (default true). */
  notifications?: boolean;
  /** Seconds until the mute lifts; 0 or absent: never. */
  duration?: number;
}

/** The owner mutes `target` (or changes the mute); emits `account.muted`. */
export async function mute(ctx: CoreContext, owner: Account, target: Account, options: MuteOptions = {}): Promise<Mute> {
  if (owner.id === target.id) throw new CoreError("invalid", "an account cannot mute itself");
  const duration = options.duration ?? 0;
  if (!Number.isInteger(duration) || duration < 0) throw new CoreError("invalid", "duration must be a whole number of seconds");
  const hideNotifications = options.notifications ?? true;
  const expiresAt = duration > 0 ? new Date(Date.now() + duration * 1000) : null;
  const rows = await ctx.db
    .insert(mutes)
    .values({ id: newId(), accountId: owner.id, targetAccountId: target.id, hideNotifications, expiresAt })
    .onConflictDoUpdate({ target: [mutes.accountId, mutes.targetAccountId], set: { hideNotifications, expiresAt } })
    .returning();
  await ctx.events.emit("account.muted", { accountId: owner.id, targetAccountId: target.id });
  return rows[0];
}

/** The owner unmutes `target`; nothing happens when it was not muted. */
export async function unmute(ctx: CoreContext, ownerId: bigint, targetId: bigint): Promise<void> {
  await ctx.db.delete(mutes).where(and(eq(mutes.accountId, ownerId), eq(mutes.targetAccountId, targetId)));
}

/** Sets the owner's private note about `targetId`; an empty comment removes it. */
export async function setAccountNote(ctx: CoreContext, ownerId: bigint, targetId: bigint, comment: string): Promise<void> {
  if ([...comment].length > MAX_NOTE_LENGTH) throw new CoreError("invalid", `Comment is too long (maximum is ${MAX_NOTE_LENGTH} characters)`);
  if (comment.trim() === "") {
    await ctx.db.delete(accountNotes).where(and(eq(accountNotes.accountId, ownerId), eq(accountNotes.targetAccountId, targetId)));
    return;
  }
  await ctx.db
    .insert(accountNotes)
    .values({ accountId: ownerId, targetAccountId: targetId, comment })
    .onConflictDoUpdate({ target: [accountNotes.accountId, accountNotes.targetAccountId], set: { comment, updatedAt: new Date() } });
}

/** One page of the accounts the owner blocks, newest block first, with the block id as the cursor. */
export async function listBlocks(ctx: CoreContext, ownerId: bigint, page: IdPage): Promise<{ account: Account; blockId: bigint }[]> {
  const { conditions, order, forward } = idPaging(blocks.id, page);
  const rows = await ctx.db
    .select({ account: accounts, blockId: blocks.id })
    .from(blocks)
    .innerJoin(accounts, eq(accounts.id, blocks.targetAccountId))
    .where(and(eq(blocks.accountId, ownerId), ...conditions))
    .orderBy(order)
    .limit(page.limit);
  return forward ? rows.reverse() : rows;
}

/** One page of the accounts the owner mutes (unexpired), newest mute first, with the mute id as the cursor. */
export async function listMutes(ctx: CoreContext, ownerId: bigint, page: IdPage): Promise<{ account: Account; mute: Mute }[]> {
  const { conditions, order, forward } = idPaging(mutes.id, page);
  const rows = await ctx.db
    .select({ account: accounts, mute: mutes })
    .from(mutes)
    .innerJoin(accounts, eq(accounts.id, mutes.targetAccountId))
    .where(and(eq(mutes.accountId, ownerId), liveMute(), ...conditions))
    .orderBy(order)
    .limit(page.limit);
  return forward ? rows.reverse() : rows;
}

/** Everything a Relationship says about one account, seen from the owner. */
export interface Relationship {
  accountId: bigint;
  following: boolean;
  showingReblogs: boolean;
  notifying: boolean;
  languages: string[] | null;
  followedBy: boolean;
  blocking: boolean;
  blockedBy: boolean;
  muting: boolean;
  mutingNotifications: boolean;
  mutingExpiresAt: Date | null;
  requested: boolean;
  requestedBy: boolean;
  domainBlocking: boolean;
  endorsed: boolean;
  note: string;
}

/** The owner's relationships with these accounts, in the order given (unknown ids included, all false). */
export async function getRelationships(ctx: CoreContext, ownerId: bigint, targets: readonly Account[]): Promise<Relationship[]> {
  if (targets.length === 0) return [];
  const ids = [...new Set(targets.map((target) => target.id))];
  const domains = [...new Set(targets.flatMap((target) => (target.domain == null ? [] : [target.domain.toLowerCase()])))];
  const [followRows, blockRows, muteRows, noteRows, domainRows, endorsed] = await Promise.all([
    ctx.db
      .select()
      .from(follows)
      .where(or(
        and(eq(follows.accountId, ownerId), inArray(follows.targetAccountId, ids)),
        and(eq(follows.targetAccountId, ownerId), inArray(follows.accountId, ids)),
      )),
    ctx.db
      .select()
      .from(blocks)
      .where(or(
        and(eq(blocks.accountId, ownerId), inArray(blocks.targetAccountId, ids)),
        and(eq(blocks.targetAccountId, ownerId), inArray(blocks.accountId, ids)),
      )),
    ctx.db.select().from(mutes).where(and(eq(mutes.accountId, ownerId), inArray(mutes.targetAccountId, ids), liveMute())),
    ctx.db.select().from(accountNotes).where(and(eq(accountNotes.accountId, ownerId), inArray(accountNotes.targetAccountId, ids))),
    domains.length === 0
      ? Promise.resolve([] as { domain: string }[])
      : ctx.db.select({ domain: userDomainBlocks.domain }).from(userDomainBlocks).where(eq(userDomainBlocks.accountId, ownerId)),
    endorsedAmong(ctx, ownerId, ids),
  ]);
  const blockedDomains = new Set(domainRows.map((row) => row.domain.toLowerCase()));
  const domainBlocked = (domain: string | null) => {
    if (domain == null) return false;
    const labels = domain.toLowerCase().split(".");
    return labels.some((_, i) => blockedDomains.has(labels.slice(i).join(".")));
  };
  return targets.map((target) => {
    const outgoing = followRows.find((row) => row.accountId === ownerId && row.targetAccountId === target.id);
    const incoming = followRows.find((row) => row.accountId === target.id && row.targetAccountId === ownerId);
    const muteRow = muteRows.find((row) => row.targetAccountId === target.id);
    const self = target.id === ownerId;
    return {
      accountId: target.id,
      following: !self && outgoing?.state === "accepted",
      showingReblogs: !self && outgoing != null && outgoing.showReblogs,
      notifying: !self && outgoing != null && outgoing.notify,
      languages: outgoing?.languages ?? null,
      followedBy: !self && incoming?.state === "accepted",
      blocking: blockRows.some((row) => row.accountId === ownerId && row.targetAccountId === target.id),
      blockedBy: blockRows.some((row) => row.accountId === target.id && row.targetAccountId === ownerId),
      muting: muteRow != null,
      mutingNotifications: muteRow?.hideNotifications ?? false,
      mutingExpiresAt: muteRow?.expiresAt ?? null,
      requested: !self && outgoing?.state === "pending",
      requestedBy: !self && incoming?.state === "pending",
      domainBlocking: domainBlocked(target.domain),
      endorsed: endorsed.has(target.id),
      note: noteRows.find((row) => row.targetAccountId === target.id)?.comment ?? "",
    };
  });
}

/**
 * Whether notifications from `from` are to be dropped for the owner: it is
 * blocked, muted with its notifications, or on a domain the owner hides.
 */
export async function hidesNotificationsFrom(ctx: CoreContext, ownerId: bigint, from: Account): Promise<boolean> {
  const [relationship] = await getRelationships(ctx, ownerId, [from]);
  return relationship.blocking || relationship.mutingNotifications || relationship.domainBlocking;
}
