/**
 * Featured profiles (Mastodon's endorsements): accounts the owner follows
 * and shows on its profile. Ending the follow ends the endorsement
 * (src/core/follows.ts removeFollow).
 */
import { and, eq, inArray } from "drizzle-orm";
import { accountEndorsements, accounts } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import { CoreError, type CoreContext } from "./context.ts";
import { findFollow, idPaging, type IdPage } from "./follows.ts";
import { newId } from "./ids.ts";

/** Features `target` on the owner's profile; the owner must follow it. Doing it twice changes nothing. */
export async function endorse(ctx: CoreContext, ownerId: bigint, target: Account): Promise<void> {
  if (target.id === ownerId) throw new CoreError("invalid", "You cannot feature yourself");
  const follow = await findFollow(ctx, ownerId, target.id);
  if (follow == null || follow.state !== "accepted") throw new CoreError("invalid", "You must be following this account to feature it");
  await ctx.db.insert(accountEndorsements).values({ id: newId(), accountId: ownerId, targetAccountId: target.id }).onConflictDoNothing();
}

/** Stops featuring `targetId`; nothing happens when it was not. */
export async function unendorse(ctx: CoreContext, ownerId: bigint, targetId: bigint): Promise<void> {
  await ctx.db.delete(accountEndorsements).where(and(eq(accountEndorsements.accountId, ownerId), eq(accountEndorsements.targetAccountId, targetId)));
}

/** One page of the accounts `accountId` features, newest first, with the endorsement id as the cursor. */
export async function listEndorsements(ctx: CoreContext, accountId: bigint, page: IdPage): Promise<{ account: Account; endorsementId: bigint }[]> {
  const { conditions, order, forward } = idPaging(accountEndorsements.id, page);
  const rows = await ctx.db
    .select({ account: accounts, endorsementId: accountEndorsements.id })
    .from(accountEndorsements)
    .innerJoin(accounts, eq(accounts.id, accountEndorsements.targetAccountId))
    .where(and(eq(accountEndorsements.accountId, accountId), ...conditions))
    .orderBy(order)
    .limit(page.limit);
  return forward ? rows.reverse() : rows;
}

/** Which of these accounts the owner features. */
export async function endorsedAmong(ctx: CoreContext, ownerId: bigint, targetIds: readonly bigint[]): Promise<Set<bigint>> {
  if (targetIds.length === 0) return new Set();
  const rows = await ctx.db
    .select({ targetAccountId: accountEndorsements.targetAccountId })
    .from(accountEndorsements)
    .where(and(eq(accountEndorsements.accountId, ownerId), inArray(accountEndorsements.targetAccountId, [...targetIds])));
  return new Set(rows.map((row) => row.targetAccountId));
}
