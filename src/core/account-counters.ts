/**
 * The owner's statuses as stored counters on the account row: how many
 * (boosts included, as on Mastodon) and the time of the newest. Every
 * write that stores or deletes a local account's statuses calls one of
 * these inside its own transaction, so that a serialised account reads
 * them instead of counting the owner's statuses on every render. Remote
 * accounts keep what their server reports; these leave them alone
 * (`domain IS NULL`).
 *
 * Single status writes adjust the counters; bulk writers (imports, the
 * Mastodon takeover) recount, which costs an index scan at write time only.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/connect.ts";
import { accounts } from "../db/schema.ts";

/** A status of `accountId` was stored (posted or boosted) at `createdAt`. */
export async function countStatusAdded(db: Db, accountId: bigint, createdAt: Date): Promise<void> {
  await db
    .update(accounts)
    .set({
      statusesCount: sql`${accounts.statusesCount} + 1`,
      lastStatusAt: sql`greatest(${accounts.lastStatusAt}, ${createdAt.toISOString()}::timestamptz)`,
    })
    .where(and(eq(accounts.id, accountId), isNull(accounts.domain)));
}

/**
 * These statuses were deleted (their authors' ids, once per status): the
 * local authors' counts go down and their newest status is read again.
 */
export async function countStatusesRemoved(db: Db, authorIds: readonly bigint[]): Promise<void> {
  if (authorIds.length === 0) return;
  const removed = new Map<bigint, number>();
  for (const id of authorIds) removed.set(id, (removed.get(id) ?? 0) + 1);
  const local = await db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(inArray(accounts.id, [...removed.keys()]), isNull(accounts.domain)));
  for (const { id: accountId } of local) {
    const n = removed.get(accountId)!;
    await db
      .update(accounts)
      .set({
        statusesCount: sql`greatest(${accounts.statusesCount} - ${n}, 0)`,
        lastStatusAt: newestStatusAt(accountId),
      })
      .where(and(eq(accounts.id, accountId), isNull(accounts.domain)));
  }
}

/** The creation time of the account's newest status, by the primary key's order (ids follow time). */
function newestStatusAt(accountId: bigint) {
  return sql`(select s.created_at from statuses s where s.account_id = ${accountId.toString()}::bigint order by s.id desc limit 1)`;
}

/** Counts the local accounts' statuses again (after bulk writes); null: every local account. */
export async function recountStatuses(db: Db, accountIds: readonly bigint[] | null = null): Promise<void> {
  await db
    .update(accounts)
    .set({
      statusesCount: sql`(select count(*)::int from statuses s where s.account_id = ${accounts.id})`,
      lastStatusAt: sql`(select s.created_at from statuses s where s.account_id = ${accounts.id} order by s.id desc limit 1)`,
    })
    .where(accountIds == null ? isNull(accounts.domain) : and(isNull(accounts.domain), inArray(accounts.id, [...accountIds])));
}
