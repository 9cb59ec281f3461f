/** Status rows: their type, lookups, and the IRIs of local posts. */
import { eq, inArray } from "drizzle-orm";
import { accounts, statuses } from "../../db/schema.ts";
import type { Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";

export type StatusRow = typeof statuses.$inferSelect;
export type Visibility = StatusRow["visibility"];

export const VISIBILITIES = ["public", "unlisted", "private", "direct"] as const satisfies readonly Visibility[];

/** A post's IRI and web page on this server. */
export function localStatusUris(origin: string, username: string, id: bigint): { uri: string; url: string } {
  return { uri: `${origin}/users/${username}/statuses/${id}`, url: `${origin}/@${username}/${id}` };
}

/** The IRI of a local boost (the Announce activity) and its page. */
export function localReblogUris(origin: string, username: string, id: bigint): { uri: string; url: string } {
  return { uri: `${origin}/users/${username}/statuses/${id}/activity`, url: `${origin}/@${username}/${id}` };
}

export async function findStatus(ctx: CoreContext, id: bigint): Promise<StatusRow | null> {
  const rows = await ctx.db.select().from(statuses).where(eq(statuses.id, id)).limit(1);
  return rows[0] ?? null;
}

/** A status and its author, or null when it is gone. */
export async function findStatusWithAuthor(ctx: CoreContext, id: bigint): Promise<{ status: StatusRow; author: Account } | null> {
  const rows = await ctx.db
    .select({ status: statuses, author: accounts })
    .from(statuses)
    .innerJoin(accounts, eq(accounts.id, statuses.accountId))
    .where(eq(statuses.id, id))
    .limit(1);
  return rows[0] ?? null;
}

export async function findStatusByUri(ctx: CoreContext, uri: string): Promise<StatusRow | null> {
  const rows = await ctx.db.select().from(statuses).where(eq(statuses.uri, uri)).limit(1);
  return rows[0] ?? null;
}

/** The statuses with these ids that exist, in the order of `ids`. */
export async function findStatuses(ctx: CoreContext, ids: readonly bigint[]): Promise<StatusRow[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.db.select().from(statuses).where(inArray(statuses.id, [...new Set(ids)]));
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id)).filter((row) => row != null);
}

/** The boosted status when `status` is a boost, else `status` itself. */
export async function resolveReblog(ctx: CoreContext, status: StatusRow): Promise<StatusRow> {
  if (status.reblogOfId == null) return status;
  return (await findStatus(ctx, status.reblogOfId)) ?? status;
}
