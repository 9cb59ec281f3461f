/**
 * Posts from other servers: stored, edited and deleted as their authors
 * say. Federation reads the activity and resolves the accounts; this is
 * where the rows are written and the same events as for local posts are
 * emitted, so timelines, notifications and streaming treat both alike.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { mediaAttachments, mentions, polls, statusEdits, statusTags, statuses, tags } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";

type Status = typeof statuses.$inferSelect;
type Tx = Parameters<Parameters<CoreContext["db"]["transaction"]>[0]>[0];

export interface RemoteStatusInput {
  uri: string;
  url: string | null;
  /** Sanitised HTML. */
  content: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: Status["visibility"];
  language: string | null;
  inReplyToUri: string | null;
  tagNames: string[];
  attachments: { url: string; mediaType: string | null; description: string | null; width: number | null; height: number | null }[];
  poll: { options: string[]; votesCounts: number[]; multiple: boolean; expiresAt: Date | null; votersCount: number | null } | null;
  published: Date;
  updated: Date | null;
}

export async function findStatusByUri(ctx: CoreContext, uri: string): Promise<Status | null> {
  const rows = await ctx.db.select().from(statuses).where(eq(statuses.uri, uri)).limit(1);
  return rows[0] ?? null;
}

function mediaType(contentType: string | null): "image" | "gifv" | "video" | "audio" | "unknown" {
  if (contentType == null) return "unknown";
  if (contentType.startsWith("image/")) return "image";
  if (contentType.startsWith("video/")) return "video";
  if (contentType.startsWith("audio/")) return "audio";
  return "unknown";
}

async function attachTags(tx: Tx, statusId: bigint, names: readonly string[]): Promise<void> {
  const unique = [...new Map(names.map((name) => [name.toLowerCase(), name])).entries()];
  if (unique.length === 0) return;
  await tx
    .insert(tags)
    .values(unique.map(([name, displayName]) => ({ id: newId(), name, displayName })))
    .onConflictDoNothing({ target: tags.name });
  const rows = await tx.select({ id: tags.id }).from(tags).where(inArray(tags.name, unique.map(([name]) => name)));
  await tx.insert(statusTags).values(rows.map((row) => ({ statusId, tagId: row.id }))).onConflictDoNothing();
}

async function attachMedia(tx: Tx, author: Account, statusId: bigint, input: RemoteStatusInput): Promise<void> {
  if (input.attachments.length === 0) return;
  await tx.insert(mediaAttachments).values(input.attachments.slice(0, 16).map((attachment, position) => ({
    id: newId(),
    accountId: author.id,
    statusId,
    type: mediaType(attachment.mediaType),
    contentType: attachment.mediaType ?? "application/octet-stream",
    remoteUrl: attachment.url,
    description: attachment.description,
    meta: attachment.width != null && attachment.height != null
      ? { original: { width: attachment.width, height: attachment.height, size: `${attachment.width}x${attachment.height}`, aspect: attachment.width / attachment.height } }
      : {},
    position,
  })));
}

/**
 * Stores a post a remote author published. A post seen before is returned
 * as stored. `mentioned` are the accounts its Mention tags name.
 */
export async function receiveStatus(ctx: CoreContext, author: Account, input: RemoteStatusInput, mentioned: readonly Account[]): Promise<Status> {
  if (author.domain == null) throw new CoreError("invalid", "a remote post cannot be by a local account");
  const existing = await findStatusByUri(ctx, input.uri);
  if (existing != null) return existing;
  const parent = input.inReplyToUri == null ? null : await findStatusByUri(ctx, input.inReplyToUri);
  const id = newId(input.published.getTime() > Date.now() ? new Date() : input.published);
  const status = await ctx.db.transaction(async (tx) => {
    const rows = await tx.insert(statuses).values({
      id,
      accountId: author.id,
      uri: input.uri,
      url: input.url,
      content: input.content,
      spoilerText: input.spoilerText,
      sensitive: input.sensitive,
      visibility: input.visibility,
      language: input.language,
      inReplyToId: parent?.id ?? null,
      inReplyToAccountId: parent?.accountId ?? null,
      conversationId: parent?.conversationId ?? parent?.id ?? id,
      createdAt: input.published,
      editedAt: input.updated != null && input.updated.getTime() > input.published.getTime() ? input.updated : null,
    }).onConflictDoNothing({ target: statuses.uri }).returning();
    const row = rows[0];
    if (row == null) return null;
    if (mentioned.length > 0) {
      await tx.insert(mentions).values(mentioned.map((account) => ({ id: newId(), statusId: id, accountId: account.id }))).onConflictDoNothing();
    }
    await attachTags(tx, id, input.tagNames);
    await attachMedia(tx, author, id, input);
    if (input.poll != null) {
      await tx.insert(polls).values({
        id: newId(),
        statusId: id,
        expiresAt: input.poll.expiresAt,
        multiple: input.poll.multiple,
        options: input.poll.options,
        votesCounts: input.poll.votesCounts,
        votersCount: input.poll.votersCount,
      });
    }
    if (parent != null) {
      await tx.update(statuses).set({ repliesCount: sql`${statuses.repliesCount} + 1` }).where(eq(statuses.id, parent.id));
    }
    return row;
  });
  if (status == null) return (await findStatusByUri(ctx, input.uri))!;
  await ctx.events.emit("status.created", { statusId: status.id, accountId: author.id });
  return status;
}

/** An edit from the author of a remote post; earlier versions are kept. */
export async function receiveStatusUpdate(ctx: CoreContext, author: Account, input: RemoteStatusInput, mentioned: readonly Account[]): Promise<Status | null> {
  const existing = await findStatusByUri(ctx, input.uri);
  if (existing == null || existing.accountId !== author.id) return null;
  const editedAt = input.updated ?? new Date();
  if (existing.editedAt != null && existing.editedAt.getTime() >= editedAt.getTime()) return existing;
  await ctx.db.transaction(async (tx) => {
    const previous = await tx.select({ n: sql<number>`count(*)` }).from(statusEdits).where(eq(statusEdits.statusId, existing.id));
    if (Number(previous[0]?.n ?? 0) === 0) {
      await tx.insert(statusEdits).values({
        id: newId(existing.createdAt),
        statusId: existing.id,
        accountId: author.id,
        content: existing.content,
        spoilerText: existing.spoilerText,
        sensitive: existing.sensitive,
      });
    }
    await tx.insert(statusEdits).values({
      id: newId(editedAt),
      statusId: existing.id,
      accountId: author.id,
      content: input.content,
      spoilerText: input.spoilerText,
      sensitive: input.sensitive,
      pollOptions: input.poll?.options ?? null,
    });
    await tx.update(statuses).set({
      content: input.content,
      spoilerText: input.spoilerText,
      sensitive: input.sensitive,
      language: input.language,
      editedAt,
      updatedAt: new Date(),
    }).where(eq(statuses.id, existing.id));
    await tx.delete(mentions).where(eq(mentions.statusId, existing.id));
    if (mentioned.length > 0) {
      await tx.insert(mentions).values(mentioned.map((account) => ({ id: newId(), statusId: existing.id, accountId: account.id }))).onConflictDoNothing();
    }
    await tx.delete(statusTags).where(eq(statusTags.statusId, existing.id));
    await attachTags(tx, existing.id, input.tagNames);
    await tx.delete(mediaAttachments).where(eq(mediaAttachments.statusId, existing.id));
    await attachMedia(tx, author, existing.id, input);
    if (input.poll != null) {
      await tx.update(polls).set({
        votesCounts: input.poll.votesCounts,
        votersCount: input.poll.votersCount,
        expiresAt: input.poll.expiresAt,
        updatedAt: new Date(),
      }).where(eq(polls.statusId, existing.id));
    }
  });
  await ctx.events.emit("status.updated", { statusId: existing.id, accountId: author.id });
  return (await findStatusByUri(ctx, input.uri))!;
}

/** The author deleted a post (or a boost); gone here too. */
export async function receiveStatusDelete(ctx: CoreContext, author: Account, uri: string): Promise<boolean> {
  const existing = await findStatusByUri(ctx, uri);
  if (existing == null || existing.accountId !== author.id) return false;
  const mentionedRows = await ctx.db.select({ accountId: mentions.accountId }).from(mentions).where(eq(mentions.statusId, existing.id));
  await ctx.db.transaction(async (tx) => {
    // Boosts of a deleted post go with it.
    await tx.delete(statuses).where(and(eq(statuses.reblogOfId, existing.id)));
    await tx.delete(statuses).where(eq(statuses.id, existing.id));
    if (existing.inReplyToId != null) {
      await tx.update(statuses)
        .set({ repliesCount: sql`greatest(${statuses.repliesCount} - 1, 0)` })
        .where(eq(statuses.id, existing.inReplyToId));
    }
    if (existing.reblogOfId != null) {
      await tx.update(statuses)
        .set({ reblogsCount: sql`greatest(${statuses.reblogsCount} - 1, 0)` })
        .where(eq(statuses.id, existing.reblogOfId));
    }
  });
  await ctx.events.emit("status.deleted", {
    statusId: existing.id,
    accountId: author.id,
    uri: existing.uri,
    visibility: existing.visibility,
    reblogOfId: existing.reblogOfId,
    mentionedAccountIds: mentionedRows.map((row) => row.accountId),
  });
  return true;
}

/** A remote account boosted a post Islet has. */
export async function receiveReblog(ctx: CoreContext, booster: Account, original: Status, announceUri: string, published: Date): Promise<Status> {
  const existing = await findStatusByUri(ctx, announceUri);
  if (existing != null) return existing;
  const id = newId(published.getTime() > Date.now() ? new Date() : published);
  const row = await ctx.db.transaction(async (tx) => {
    const rows = await tx.insert(statuses).values({
      id,
      accountId: booster.id,
      uri: announceUri,
      url: null,
      reblogOfId: original.id,
      visibility: "public",
      conversationId: original.conversationId ?? original.id,
      createdAt: published,
    }).onConflictDoNothing({ target: statuses.uri }).returning();
    if (rows[0] != null) {
      await tx.update(statuses).set({ reblogsCount: sql`${statuses.reblogsCount} + 1` }).where(eq(statuses.id, original.id));
    }
    return rows[0] ?? null;
  });
  if (row == null) return (await findStatusByUri(ctx, announceUri))!;
  await ctx.events.emit("status.created", { statusId: row.id, accountId: booster.id });
  return row;
}
