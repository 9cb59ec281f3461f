/** Deleting a status (the owner's, or a remote one on its author's Delete). */
import { eq, inArray, sql } from "drizzle-orm";
import { mediaAttachments, mentions, statuses } from "../../db/schema.ts";
import { countStatusesRemoved } from "../account-counters.ts";
import type { CoreContext } from "../context.ts";
import type { IsletEvents } from "../events.ts";
import type { StatusRow } from "./rows.ts";

/**
 * Deletes the status with its boosts. Its media stay (detached, for a
 * redraft); the parent's reply count, or for a boost the original's boost
 * count, goes down. Emits `status.deleted` for each boost and the status.
 */
export async function deleteStatus(ctx: CoreContext, status: StatusRow): Promise<void> {
  const events = await ctx.db.transaction(async (tx) => {
    const gone: IsletEvents["status.deleted"][] = [];
    const targets = await tx.select().from(statuses).where(eq(statuses.reblogOfId, status.id));
    const all = [...targets, status];
    const mentionRows = await tx
      .select({ statusId: mentions.statusId, accountId: mentions.accountId })
      .from(mentions)
      .where(inArray(mentions.statusId, all.map((row) => row.id)));
    const deleted = await tx.delete(statuses).where(inArray(statuses.id, all.map((row) => row.id))).returning({ id: statuses.id });
    const deletedIds = new Set(deleted.map((row) => row.id));
    await countStatusesRemoved(tx, all.filter((row) => deletedIds.has(row.id)).map((row) => row.accountId));
    if (!deletedIds.has(status.id)) return gone;
    await tx.update(mediaAttachments).set({ statusId: null, updatedAt: new Date() }).where(eq(mediaAttachments.statusId, status.id));
    if (status.inReplyToId != null) {
      await tx
        .update(statuses)
        .set({ repliesCount: sql`greatest(${statuses.repliesCount} - 1, 0)` })
        .where(eq(statuses.id, status.inReplyToId));
    }
    if (status.reblogOfId != null) {
      await tx
        .update(statuses)
        .set({ reblogsCount: sql`greatest(${statuses.reblogsCount} - 1, 0)` })
        .where(eq(statuses.id, status.reblogOfId));
    }
    for (const row of all) {
      if (!deletedIds.has(row.id)) continue;
      gone.push({
        statusId: row.id,
        accountId: row.accountId,
        uri: row.uri,
        visibility: row.visibility,
        reblogOfId: row.reblogOfId,
        mentionedAccountIds: mentionRows.filter((m) => m.statusId === row.id).map((m) => m.accountId),
      });
    }
    return gone;
  });
  for (const payload of events) await ctx.events.emit("status.deleted", payload);
}
