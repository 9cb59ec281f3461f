/**
 * Who may see a status. Public and unlisted posts: anyone. Private
 * (followers-only) posts: the author, accepted followers and mentioned
 * accounts. Direct posts: the author and mentioned accounts. A boost is
 * visible when the boost itself and the boosted post both are.
 */
import { and, eq, gt, inArray, isNull, or } from "drizzle-orm";
import { blocks, follows, mentions, mutes, statuses } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";

type StatusRow = typeof statuses.$inferSelect;

/** The fields the rule looks at. */
export type VisibilitySubject = Pick<StatusRow, "id" | "accountId" | "visibility" | "reblogOfId">;

/** Whether the viewer (an account id, or null for anyone) may see this status. */
export async function canView(ctx: CoreContext, status: VisibilitySubject, viewerId: bigint | null): Promise<boolean> {
  const visible = await visibleIds(ctx, [status], viewerId);
  return visible.has(status.id);
}

/** The statuses of `rows` the viewer may see, in their order. */
export async function filterVisible<T extends VisibilitySubject>(ctx: CoreContext, rows: readonly T[], viewerId: bigint | null): Promise<T[]> {
  const visible = await visibleIds(ctx, rows, viewerId);
  return rows.filter((row) => visible.has(row.id));
}

/** The ids among `rows` the viewer may see; a few queries whatever their number. */
export async function visibleIds(ctx: CoreContext, rows: readonly VisibilitySubject[], viewerId: bigint | null): Promise<Set<bigint>> {
  // Boosts are checked against their originals too.
  const originalIds = [...new Set(rows.filter((row) => row.reblogOfId != null).map((row) => row.reblogOfId!))];
  const known = new Map<bigint, VisibilitySubject>(rows.map((row) => [row.id, row]));
  const missing = originalIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    const originals = await ctx.db
      .select({ id: statuses.id, accountId: statuses.accountId, visibility: statuses.visibility, reblogOfId: statuses.reblogOfId })
      .from(statuses)
      .where(inArray(statuses.id, missing));
    for (const original of originals) known.set(original.id, original);
  }
  const all = [...known.values()];
  const restricted = all.filter((row) => (row.visibility === "private" || row.visibility === "direct") && row.accountId !== viewerId);
  const mentioned = new Set<bigint>();
  const followed = new Set<bigint>();
  if (viewerId != null && restricted.length > 0) {
    const [mentionRows, followRows] = await Promise.all([
      ctx.db
        .select({ statusId: mentions.statusId })
        .from(mentions)
        .where(and(eq(mentions.accountId, viewerId), inArray(mentions.statusId, restricted.map((row) => row.id)))),
      ctx.db
        .select({ targetAccountId: follows.targetAccountId })
        .from(follows)
        .where(and(
          eq(follows.accountId, viewerId),
          eq(follows.state, "accepted"),
          inArray(follows.targetAccountId, [...new Set(restricted.filter((row) => row.visibility === "private").map((row) => row.accountId))]),
        )),
    ]);
    for (const row of mentionRows) mentioned.add(row.statusId);
    for (const row of followRows) followed.add(row.targetAccountId);
  }
  const own = (row: VisibilitySubject): boolean => {
    switch (row.visibility) {
      case "public":
      case "unlisted":
        return true;
      case "private":
        return viewerId != null && (row.accountId === viewerId || followed.has(row.accountId) || mentioned.has(row.id));
      case "direct":
        return viewerId != null && (row.accountId === viewerId || mentioned.has(row.id));
    }
  };
  const result = new Set<bigint>();
  for (const row of rows) {
    if (!own(row)) continue;
    if (row.reblogOfId != null) {
      const original = known.get(row.reblogOfId);
      if (original == null || !own(original)) continue;
    }
    result.add(row.id);
  }
  return result;
}

/**
 * Accounts whose posts the viewer does not want in threads: those it blocks,
 * and those it mutes (until the mute expires).
 */
export async function hiddenAuthorIds(ctx: CoreContext, viewerId: bigint | null): Promise<Set<bigint>> {
  if (viewerId == null) return new Set();
  const [blocked, muted] = await Promise.all([
    ctx.db.select({ id: blocks.targetAccountId }).from(blocks).where(eq(blocks.accountId, viewerId)),
    ctx.db
      .select({ id: mutes.targetAccountId })
      .from(mutes)
      .where(and(eq(mutes.accountId, viewerId), or(isNull(mutes.expiresAt), gt(mutes.expiresAt, new Date())))),
  ]);
  return new Set([...blocked, ...muted].map((row) => row.id));
}
