/** Which uploads a post may carry, and attaching them in order. */
import { and, eq, inArray, isNull, ne, notInArray, or, sql } from "drizzle-orm";
import type { Db } from "../../db/connect.ts";
import { mediaAttachments, scheduledStatuses } from "../../db/schema.ts";
import type { CoreContext } from "../context.ts";
import { CoreError } from "../context.ts";

export type MediaRow = typeof mediaAttachments.$inferSelect;

export const MAX_MEDIA_ATTACHMENTS = 4;
export const MAX_MEDIA_DESCRIPTION = 1500;

export interface MediaCheckOptions {
  /** The status being edited: its own media count as available. */
  statusId?: bigint;
  /** The scheduled status being published: its reservation does not count. */
  scheduledStatusId?: bigint;
}

/**
 * The author's media rows for `ids`, in that order, after checking that
 * each exists, belongs to the author, is not attached to another post nor
 * held by a scheduled one, and that the mix is allowed (at most four; a
 * video or audio file only alone).
 */
export async function checkMedia(ctx: CoreContext, authorId: bigint, ids: readonly bigint[], options: MediaCheckOptions = {}): Promise<MediaRow[]> {
  if (ids.length === 0) return [];
  if (ids.length > MAX_MEDIA_ATTACHMENTS) throw new CoreError("invalid", `Cannot attach more than ${MAX_MEDIA_ATTACHMENTS} files`);
  if (new Set(ids).size !== ids.length) throw new CoreError("invalid", "The same file cannot be attached twice");
  const rows = await ctx.db.select().from(mediaAttachments).where(inArray(mediaAttachments.id, [...ids]));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const ordered: MediaRow[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (row == null || row.accountId !== authorId) throw new CoreError("invalid", `Media attachment ${id} not found`);
    if (row.statusId != null && row.statusId !== options.statusId) {
      throw new CoreError("invalid", `Media attachment ${id} is attached to another post already`);
    }
    // Still being converted (src/core/media-processing.ts): no file to show yet, as Mastodon refuses it.
    if (row.fileKey == null && row.remoteUrl == null) {
      throw new CoreError("invalid", "Cannot attach files that have not finished processing. Try again in a moment!");
    }
    ordered.push(row);
  }
  const reservedBy = await ctx.db
    .select({ id: scheduledStatuses.id, mediaIds: scheduledStatuses.mediaAttachmentIds })
    .from(scheduledStatuses)
    .where(and(
      eq(scheduledStatuses.accountId, authorId),
      or(...ids.map((id) => sql`${scheduledStatuses.mediaAttachmentIds} @> ${JSON.stringify([id.toString()])}::jsonb`)),
      options.scheduledStatusId == null ? undefined : ne(scheduledStatuses.id, options.scheduledStatusId),
    ))
    .limit(1);
  if (reservedBy.length > 0) throw new CoreError("invalid", "A media attachment is held by a scheduled post already");
  if (ordered.length > 1 && ordered.some((row) => row.type === "video" || row.type === "gifv" || row.type === "audio")) {
    throw new CoreError("invalid", "Cannot attach a video or audio file to a post that contains other files");
  }
  return ordered;
}

/**
 * Attaches the rows to the status in this order (positions 0, 1, …) and
 * detaches whatever else was attached to it before. Run it in the
 * transaction that writes the status.
 */
export async function attachMedia(db: Db, statusId: bigint, media: readonly MediaRow[]): Promise<void> {
  const keep = media.map((row) => row.id);
  await db
    .update(mediaAttachments)
    .set({ statusId: null, updatedAt: new Date() })
    .where(and(eq(mediaAttachments.statusId, statusId), notInArray(mediaAttachments.id, keep)));
  for (const [position, row] of media.entries()) {
    const attached = await db
      .update(mediaAttachments)
      .set({ statusId, position, updatedAt: new Date() })
      .where(and(eq(mediaAttachments.id, row.id), or(isNull(mediaAttachments.statusId), eq(mediaAttachments.statusId, statusId))))
      .returning({ id: mediaAttachments.id });
    // Attached elsewhere in the meantime: the whole post is refused.
    if (attached.length === 0) throw new CoreError("invalid", `Media attachment ${row.id} is attached to another post already`);
  }
}
