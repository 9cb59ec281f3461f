/**
 * Direct-message conversations as the owner sees them (Mastodon's
 * AccountConversation): one row per thread the owner takes part in with
 * direct statuses, naming the other participants, the latest direct status
 * and whether it is unread.
 *
 * The rows follow the statuses: {@link registerConversations} subscribes to
 * `status.created` and `status.deleted`, so that whoever stores a status
 * (the API, the inbox) needs to know nothing of conversations.
 */
import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { accountConversations, accounts, blocks, mentions, statuses } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import type { PageOptions } from "./timelines.ts";

export type AccountConversation = typeof accountConversations.$inferSelect;

type StatusRow = typeof statuses.$inferSelect;

function sortIds(ids: Iterable<bigint>): bigint[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The thread a status belongs to: its conversation, or itself when it starts one. */
function threadOf(status: StatusRow): bigint {
  return status.conversationId ?? status.id;
}

async function mentionedIds(ctx: CoreContext, statusId: bigint): Promise<bigint[]> {
  const rows = await ctx.db.select({ accountId: mentions.accountId }).from(mentions).where(eq(mentions.statusId, statusId));
  return rows.map((row) => row.accountId);
}

/**
 * Records a stored direct status in the conversations of the local
 * accounts it involves (its author, the local accounts it mentions): the
 * row is created or updated, unread unless the account wrote the status.
 * Other statuses are ignored. Returns the rows written.
 */
export async function recordDirectStatus(ctx: CoreContext, statusId: bigint): Promise<AccountConversation[]> {
  const found = await ctx.db.select().from(statuses).where(eq(statuses.id, statusId)).limit(1);
  const status = found[0];
  if (status == null || status.visibility !== "direct" || status.reblogOfId != null) return [];
  const participants = sortIds([status.accountId, ...(await mentionedIds(ctx, status.id))]);
  const locals = await ctx.db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(inArray(accounts.id, participants), isNull(accounts.domain)));
  const written: AccountConversation[] = [];
  for (const { id: recipient } of locals) {
    if (recipient !== status.accountId) {
      const blocked = await ctx.db
        .select({ id: blocks.id })
        .from(blocks)
        .where(and(eq(blocks.accountId, recipient), eq(blocks.targetAccountId, status.accountId)))
        .limit(1);
      if (blocked.length > 0) continue;
    }
    const others = participants.filter((id) => id !== recipient).map(String);
    const unread = status.accountId !== recipient;
    const rows = await ctx.db
      .insert(accountConversations)
      .values({
        id: newId(),
        accountId: recipient,
        conversationId: threadOf(status),
        participantIds: others,
        lastStatusId: status.id,
        unread,
      })
      .onConflictDoUpdate({
        target: [accountConversations.accountId, accountConversations.conversationId],
        set: {
          // Everyone who ever took part, each once, in id order.
          participantIds: sql`(
            select coalesce(jsonb_agg(p order by p::numeric), '[]'::jsonb)
            from (select distinct jsonb_array_elements_text(${accountConversations.participantIds} || excluded.participant_ids) as p) as ids
          )`,
          lastStatusId: sql`greatest(coalesce(${accountConversations.lastStatusId}, 0), excluded.last_status_id)`,
          unread: unread ? sql`true` : sql`case when excluded.last_status_id >= coalesce(${accountConversations.lastStatusId}, 0) then false else ${accountConversations.unread} end`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    written.push(...rows);
  }
  return written;
}

/**
 * A status was deleted: conversations whose latest status it was point at
 * the latest direct status left in their thread, or go away with the last.
 */
export async function forgetDirectStatus(ctx: CoreContext, statusId: bigint): Promise<void> {
  const affected = await ctx.db.select().from(accountConversations).where(eq(accountConversations.lastStatusId, statusId));
  for (const row of affected) {
    const remaining = await ctx.db
      .select({ id: statuses.id })
      .from(statuses)
      .where(and(
        eq(statuses.visibility, "direct"),
        or(eq(statuses.conversationId, row.conversationId), and(isNull(statuses.conversationId), eq(statuses.id, row.conversationId))),
        or(
          eq(statuses.accountId, row.accountId),
          sql`${statuses.id} in (select m.status_id from mentions m where m.account_id = ${row.accountId.toString()}::bigint)`,
        ),
      ))
      .orderBy(desc(statuses.id))
      .limit(1);
    if (remaining.length === 0) {
      await ctx.db.delete(accountConversations).where(eq(accountConversations.id, row.id));
    } else {
      await ctx.db.update(accountConversations).set({ lastStatusId: remaining[0].id, updatedAt: new Date() }).where(eq(accountConversations.id, row.id));
    }
  }
}

/**
 * Keeps conversations in step with statuses as they are stored and deleted.
 * Returns a function that unsubscribes.
 */
export function registerConversations(ctx: CoreContext): () => void {
  const offCreated = ctx.events.on("status.created", async ({ statusId }) => {
    const written = await recordDirectStatus(ctx, statusId);
    // Streaming sends the owner's `direct` stream a `conversation` event.
    for (const row of written) {
      await ctx.events.emit("conversation.updated", { conversationId: row.id, accountId: row.accountId });
    }
  });
  const offDeleted = ctx.events.on("status.deleted", async ({ statusId, visibility }) => {
    if (visibility !== "direct") return;
    await forgetDirectStatus(ctx, statusId);
  });
  return () => {
    offCreated();
    offDeleted();
  };
}

/**
 * One page of the owner's conversations, most recent activity first: paged
 * by the id of their latest status, as Mastodon does.
 */
export async function listConversations(ctx: CoreContext, ownerId: bigint, page: PageOptions): Promise<AccountConversation[]> {
  const conditions: SQL[] = [eq(accountConversations.accountId, ownerId), isNotNull(accountConversations.lastStatusId)];
  if (page.maxId != null) conditions.push(lt(accountConversations.lastStatusId, page.maxId));
  if (page.minId != null) conditions.push(gt(accountConversations.lastStatusId, page.minId));
  else if (page.sinceId != null) conditions.push(gt(accountConversations.lastStatusId, page.sinceId));
  const ascending = page.minId != null;
  const rows = await ctx.db
    .select()
    .from(accountConversations)
    .where(and(...conditions))
    .orderBy(ascending ? asc(accountConversations.lastStatusId) : desc(accountConversations.lastStatusId))
    .limit(page.limit);
  return ascending ? rows.reverse() : rows;
}

export async function getConversation(ctx: CoreContext, ownerId: bigint, id: bigint): Promise<AccountConversation> {
  const rows = await ctx.db
    .select()
    .from(accountConversations)
    .where(and(eq(accountConversations.id, id), eq(accountConversations.accountId, ownerId)))
    .limit(1);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  return rows[0];
}

export async function markConversationRead(ctx: CoreContext, ownerId: bigint, id: bigint): Promise<AccountConversation> {
  const rows = await ctx.db
    .update(accountConversations)
    .set({ unread: false })
    .where(and(eq(accountConversations.id, id), eq(accountConversations.accountId, ownerId)))
    .returning();
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  return rows[0];
}

/** Removes a conversation from the owner's list; its statuses stay. */
export async function deleteConversation(ctx: CoreContext, ownerId: bigint, id: bigint): Promise<void> {
  const rows = await ctx.db
    .delete(accountConversations)
    .where(and(eq(accountConversations.id, id), eq(accountConversations.accountId, ownerId)))
    .returning({ id: accountConversations.id });
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
}
