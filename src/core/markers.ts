/**
 * Read positions in the home timeline and the notifications, shared between
 * the owner's clients. Each save of a new position bumps the version.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { markers } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";

export const MARKER_TIMELINES = ["home", "notifications"] as const;
export type MarkerTimeline = (typeof MARKER_TIMELINES)[number];
export type Marker = typeof markers.$inferSelect;

/** The account's markers for these timelines (those never set are absent). */
export async function getMarkers(ctx: CoreContext, accountId: bigint, timelines: readonly string[]): Promise<Marker[]> {
  const wanted = MARKER_TIMELINES.filter((timeline) => timelines.includes(timeline));
  if (wanted.length === 0) return [];
  return await ctx.db
    .select()
    .from(markers)
    .where(and(eq(markers.accountId, accountId), inArray(markers.timeline, wanted)));
}

/**
 * Saves read positions. A new marker starts at version 0; each change of
 * its position adds one. Returns the saved markers.
 */
export async function saveMarkers(
  ctx: CoreContext,
  accountId: bigint,
  positions: Partial<Record<MarkerTimeline, string>>,
): Promise<Marker[]> {
  const saved: Marker[] = [];
  for (const timeline of MARKER_TIMELINES) {
    const lastReadId = positions[timeline];
    if (lastReadId == null) continue;
    if (!/^\d{1,19}$/.test(lastReadId)) throw new CoreError("invalid", `${timeline}[last_read_id] is not an id`);
    const rows = await ctx.db
      .insert(markers)
      .values({ accountId, timeline, lastReadId, version: 0 })
      .onConflictDoUpdate({
        target: [markers.accountId, markers.timeline],
        set: {
          lastReadId,
          version: sql`case when ${markers.lastReadId} = ${lastReadId} then ${markers.version} else ${markers.version} + 1 end`,
          updatedAt: sql`case when ${markers.lastReadId} = ${lastReadId} then ${markers.updatedAt} else now() end`,
        },
      })
      .returning();
    saved.push(rows[0]);
  }
  return saved;
}
