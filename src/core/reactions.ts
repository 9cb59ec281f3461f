/**
 * Emoji reactions to statuses, as Misskey, Pleroma and Akkoma send them
 * (EmojiReact, or a Like carrying an emoji). Stored per account, status and
 * emoji; undone by the same activity's Undo.
 */
import { and, eq, or } from "drizzle-orm";
import { statusReactions } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import type { StatusRow } from "./statuses/rows.ts";

export type StatusReaction = typeof statusReactions.$inferSelect;

/** Longest reaction name kept: one emoji sequence, or a `:shortcode:`. */
const MAX_NAME_LENGTH = 100;

/** A reaction's name as stored: trimmed; a custom emoji as `:shortcode:`. */
export function normalizeReactionName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === "" || trimmed.length > MAX_NAME_LENGTH || /\s/.test(trimmed)) return null;
  return trimmed;
}

/**
 * Stores `account`'s reaction to `status`; a repeated one (same emoji, or
 * same activity IRI) is returned as stored.
 */
export async function addReaction(
  ctx: CoreContext,
  account: Account,
  status: StatusRow,
  input: { name: string; emojiUrl?: string | null; uri?: string | null },
): Promise<StatusReaction> {
  const name = normalizeReactionName(input.name);
  if (name == null) throw new CoreError("invalid", "not an emoji reaction");
  const inserted = await ctx.db
    .insert(statusReactions)
    .values({ id: newId(), statusId: status.id, accountId: account.id, name, emojiUrl: input.emojiUrl ?? null, uri: input.uri ?? null })
    .onConflictDoNothing()
    .returning();
  if (inserted[0] != null) return inserted[0];
  const existing = await ctx.db
    .select()
    .from(statusReactions)
    .where(or(
      and(eq(statusReactions.statusId, status.id), eq(statusReactions.accountId, account.id), eq(statusReactions.name, name)),
      input.uri == null ? undefined : eq(statusReactions.uri, input.uri),
    ))
    .limit(1);
  if (existing[0] == null) throw new CoreError("invalid", "the reaction could not be stored");
  return existing[0];
}

/**
 * Removes a reaction by its activity IRI, or by account, status and name;
 * returns how many went.
 */
export async function removeReaction(
  ctx: CoreContext,
  account: Account,
  which: { uri?: string | null; status?: StatusRow; name?: string | null },
): Promise<number> {
  if (which.uri != null) {
    const byUri = await ctx.db
      .delete(statusReactions)
      .where(and(eq(statusReactions.uri, which.uri), eq(statusReactions.accountId, account.id)))
      .returning({ id: statusReactions.id });
    if (byUri.length > 0 || which.status == null) return byUri.length;
  }
  if (which.status == null) return 0;
  const name = which.name == null ? null : normalizeReactionName(which.name);
  const conditions = [eq(statusReactions.statusId, which.status.id), eq(statusReactions.accountId, account.id)];
  if (name != null) conditions.push(eq(statusReactions.name, name));
  const rows = await ctx.db.delete(statusReactions).where(and(...conditions)).returning({ id: statusReactions.id });
  return rows.length;
}

/** The reactions to a status, oldest first. */
export async function listReactions(ctx: CoreContext, statusId: bigint): Promise<StatusReaction[]> {
  return await ctx.db.select().from(statusReactions).where(eq(statusReactions.statusId, statusId)).orderBy(statusReactions.id);
}
