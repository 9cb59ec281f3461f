/** A status's thread: the posts it answers, and the replies below it. */
import { sql } from "drizzle-orm";
import type { CoreContext } from "../context.ts";
import { filterVisible, hiddenAuthorIds } from "../visibility.ts";
import { findStatuses, type StatusRow } from "./rows.ts";

/** Mastodon's limits: generous for a signed-in viewer, tighter for anyone. */
export const CONTEXT_LIMITS = {
  user: { ancestors: 4096, descendants: 4096, depth: 4096 },
  anonymous: { ancestors: 40, descendants: 60, depth: 20 },
} as const;

export interface StatusContext {
  /** Oldest first: the thread's root down to the parent. */
  ancestors: StatusRow[];
  /** Depth first, each post's replies in the order they were made. */
  descendants: StatusRow[];
}

/**
 * The thread around a status as the viewer may see it: posts it cannot see
 * are left out, and so are posts by accounts it blocks or mutes.
 */
export async function statusContext(ctx: CoreContext, status: StatusRow, viewerId: bigint | null): Promise<StatusContext> {
  const limits = viewerId == null ? CONTEXT_LIMITS.anonymous : CONTEXT_LIMITS.user;
  const ancestorIds = status.inReplyToId == null ? [] : await ctx.database.query<{ id: string }>(sql`
    WITH RECURSIVE up(id, in_reply_to_id, depth) AS (
      SELECT id, in_reply_to_id, 1 FROM statuses WHERE id = ${status.inReplyToId}
      UNION ALL
      SELECT s.id, s.in_reply_to_id, up.depth + 1
      FROM statuses s JOIN up ON s.id = up.in_reply_to_id
      WHERE up.depth < ${limits.ancestors}
    )
    SELECT id::text AS id FROM up ORDER BY depth DESC
  `);
  const descendantIds = await ctx.database.query<{ id: string }>(sql`
    WITH RECURSIVE down(id, path) AS (
      SELECT id, ARRAY[id] FROM statuses WHERE in_reply_to_id = ${status.id}
      UNION ALL
      SELECT s.id, down.path || s.id
      FROM statuses s JOIN down ON s.in_reply_to_id = down.id
      WHERE cardinality(down.path) < ${limits.depth} AND NOT s.id = ANY(down.path)
    )
    SELECT id::text AS id FROM down ORDER BY path LIMIT ${limits.descendants}
  `);
  const [ancestors, descendants] = await Promise.all([
    findStatuses(ctx, ancestorIds.map((row) => BigInt(row.id))),
    findStatuses(ctx, descendantIds.map((row) => BigInt(row.id))),
  ]);
  const hidden = await hiddenAuthorIds(ctx, viewerId);
  const shown = (row: StatusRow) => row.accountId === viewerId || !hidden.has(row.accountId);
  return {
    ancestors: (await filterVisible(ctx, ancestors, viewerId)).filter(shown),
    descendants: (await filterVisible(ctx, descendants, viewerId)).filter(shown),
  };
}
