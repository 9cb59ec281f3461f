/**
 * Posts from other servers: stored, edited and deleted as their authors
 * say. Federation reads the activity and resolves the accounts; this is
 * where the rows are written and the same events as for local posts are
 * emitted, so timelines, notifications and streaming treat both alike.
 */
import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/connect.ts";
import { mediaAttachments, mentions, polls, statusEdits, statuses } from "../db/schema.ts";
import { deleteMediaFiles } from "../media/storage.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import { reblogStatus } from "./interactions.ts";
import { deleteStatus, findStatusByUri, writeStatus, type StatusRow } from "./statuses.ts";
import { setStatusTags } from "./tags.ts";
import { remoteWebUrl, sanitizeRemoteHtml } from "../text/sanitize-html.ts";

export { findStatusByUri };

type Status = StatusRow;

export interface RemoteStatusInput {
  uri: string;
  /** A web page for people; kept only when it is http(s). */
  url: string | null;
  /** HTML as the remote server sent it: sanitised here, when stored. */
  content: string;
  /** Plain text, as Mastodon keeps it (clients escape it). */
  spoilerText: string;
  sensitive: boolean;
  visibility: Status["visibility"];
  language: string | null;
  inReplyToUri: string | null;
  tagNames: string[];
  attachments: RemoteAttachmentInput[];
  /** Option titles are plain text, as in Mastodon. */
  poll: { options: string[]; votesCounts: number[]; multiple: boolean; expiresAt: Date | null; votersCount: number | null } | null;
  published: Date;
  updated: Date | null;
  /** Who may quote it, as its server says (null: not stated). */
  quotePolicy?: "public" | "followers" | "nobody" | null;
}

/** An attachment as the remote post describes it. */
export interface RemoteAttachmentInput {
  url: string;
  mediaType: string | null;
  description: string | null;
  width: number | null;
  height: number | null;
  /** Mastodon's `blurhash`, when the post carries one. */
  blurhash?: string | null;
  /** Mastodon's `focalPoint`, each coordinate from -1 to 1. */
  focus?: { x: number; y: number } | null;
}

function mediaType(contentType: string | null): "image" | "gifv" | "video" | "audio" | "unknown" {
  if (contentType == null) return "unknown";
  if (contentType.startsWith("image/")) return "image";
  if (contentType.startsWith("video/")) return "video";
  if (contentType.startsWith("audio/")) return "audio";
  return "unknown";
}

/** The most attachments kept of a remote post. */
const MAX_REMOTE_ATTACHMENTS = 16;

/** What the remote post says of an attachment, as column values (the file itself is cached later). */
function describedMedia(attachment: RemoteAttachmentInput) {
  return {
    description: attachment.description,
    blurhash: attachment.blurhash ?? null,
    focusX: attachment.focus?.x ?? null,
    focusY: attachment.focus?.y ?? null,
  };
}

/**
 * Rows for a remote post's attachments, at first uncached (remote_url
 * only); src/media/remote-cache.ts downloads the files.
 */
async function insertRemoteMedia(db: Db, author: Account, attachments: readonly { attachment: RemoteAttachmentInput; position: number }[]) {
  if (attachments.length === 0) return [];
  return await db.insert(mediaAttachments).values(attachments.map(({ attachment, position }) => ({
    id: newId(),
    accountId: author.id,
    type: mediaType(attachment.mediaType),
    contentType: attachment.mediaType ?? "application/octet-stream",
    remoteUrl: attachment.url,
    ...describedMedia(attachment),
    meta: attachment.width != null && attachment.height != null && attachment.width > 0 && attachment.height > 0
      ? { original: { width: attachment.width, height: attachment.height, size: `${attachment.width}x${attachment.height}`, aspect: attachment.width / attachment.height } }
      : {},
    position,
  }))).returning();
}

/**
 * What is stored of a remote post's text: its HTML through the one
 * sanitiser, its link only when it is a web address. Every door that
 * stores or edits a remote post comes through here.
 */
function cleaned(input: RemoteStatusInput): RemoteStatusInput {
  return { ...input, content: sanitizeRemoteHtml(input.content), url: remoteWebUrl(input.url) };
}

function keptAttachments(input: RemoteStatusInput) {
  return input.attachments.slice(0, MAX_REMOTE_ATTACHMENTS).map((attachment, position) => ({ attachment, position }));
}

/**
 * Stores a post a remote author published. A post seen before is returned
 * as stored. `mentioned` are the accounts its Mention tags name.
 */
export async function receiveStatus(ctx: CoreContext, author: Account, received: RemoteStatusInput, mentioned: readonly Account[]): Promise<Status> {
  if (author.domain == null) throw new CoreError("invalid", "a remote post cannot be by a local account");
  const input = cleaned(received);
  const existing = await findStatusByUri(ctx, input.uri);
  if (existing != null) return existing;
  const parent = input.inReplyToUri == null ? null : await findStatusByUri(ctx, input.inReplyToUri);
  const createdAt = input.published.getTime() > Date.now() ? new Date() : input.published;
  let row: Status;
  try {
    row = await ctx.db.transaction(async (tx) => {
      const media = await insertRemoteMedia(tx, author, keptAttachments(input));
      const written = await writeStatus(tx, author, {
        id: newId(createdAt),
        uri: input.uri,
        url: input.url,
        content: input.content,
        text: null,
        spoilerText: input.spoilerText,
        sensitive: input.sensitive,
        visibility: input.visibility,
        language: input.language,
        inReplyTo: parent,
        applicationId: null,
        createdAt,
        mentionedAccountIds: mentioned.map((account) => account.id),
        tagNames: input.tagNames,
        media,
        poll: input.poll == null ? null : { ...input.poll, hideTotals: false },
        quotePolicy: input.quotePolicy ?? null,
      });
      if (input.updated != null && input.updated.getTime() > input.published.getTime()) {
        await tx.update(statuses).set({ editedAt: input.updated }).where(eq(statuses.id, written.id));
      }
      return written;
    });
  } catch (error) {
    // Delivered twice at once: the other delivery stored it.
    const stored = await findStatusByUri(ctx, input.uri);
    if (stored != null) return stored;
    throw error;
  }
  await ctx.events.emit("status.created", { statusId: row.id, accountId: author.id });
  return row;
}

/** An edit from the author of a remote post; earlier versions are kept. */
export async function receiveStatusUpdate(ctx: CoreContext, author: Account, received: RemoteStatusInput, mentioned: readonly Account[]): Promise<Status | null> {
  const input = cleaned(received);
  const existing = await findStatusByUri(ctx, input.uri);
  if (existing == null || existing.accountId !== author.id) return null;
  const editedAt = input.updated ?? new Date();
  if (existing.editedAt != null && existing.editedAt.getTime() >= editedAt.getTime()) return existing;
  const staleFiles: (string | null)[] = [];
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
      ...(input.quotePolicy === undefined ? {} : { quotePolicy: input.quotePolicy }),
      editedAt,
      updatedAt: new Date(),
    }).where(eq(statuses.id, existing.id));
    await tx.delete(mentions).where(eq(mentions.statusId, existing.id));
    if (mentioned.length > 0) {
      await tx.insert(mentions).values(mentioned.map((account) => ({ id: newId(), statusId: existing.id, accountId: account.id }))).onConflictDoNothing();
    }
    await setStatusTags(tx, existing.id, input.tagNames);
    // Attachments still there (by URL) keep their rows and cached files;
    // removed ones go, with their files once committed; new ones are added.
    const current = await tx.select().from(mediaAttachments).where(eq(mediaAttachments.statusId, existing.id));
    const byUrl = new Map(current.filter((row) => row.remoteUrl != null).map((row) => [row.remoteUrl!, row]));
    const added: { attachment: RemoteAttachmentInput; position: number }[] = [];
    const keptIds = new Set<bigint>();
    for (const { attachment, position } of keptAttachments(input)) {
      const row = byUrl.get(attachment.url);
      if (row == null || keptIds.has(row.id)) {
        added.push({ attachment, position });
        continue;
      }
      keptIds.add(row.id);
      const described = describedMedia(attachment);
      await tx.update(mediaAttachments).set({
        ...described,
        // What the edit does not tell (often: an embedded object's
        // extensions cannot be read) stays as it was.
        blurhash: described.blurhash ?? row.blurhash,
        focusX: attachment.focus == null ? row.focusX : described.focusX,
        focusY: attachment.focus == null ? row.focusY : described.focusY,
        position,
        updatedAt: new Date(),
      }).where(eq(mediaAttachments.id, row.id));
    }
    const removed = current.filter((row) => !keptIds.has(row.id));
    if (removed.length > 0) {
      await tx.delete(mediaAttachments).where(inArray(mediaAttachments.id, removed.map((row) => row.id)));
      staleFiles.push(...removed.flatMap((row) => [row.fileKey, row.previewKey]));
    }
    const media = await insertRemoteMedia(tx, author, added);
    for (const row of media) {
      await tx.update(mediaAttachments).set({ statusId: existing.id }).where(eq(mediaAttachments.id, row.id));
    }
    if (input.poll != null) {
      await tx.update(polls).set({
        votesCounts: input.poll.votesCounts,
        votersCount: input.poll.votersCount,
        expiresAt: input.poll.expiresAt,
        updatedAt: new Date(),
      }).where(eq(polls.statusId, existing.id));
    }
  });
  if (staleFiles.some((key) => key != null)) {
    await deleteMediaFiles(ctx.config, staleFiles).catch((error) => ctx.log.warn("could not delete the cached files of removed attachments", error));
  }
  await ctx.events.emit("status.updated", { statusId: existing.id, accountId: author.id });
  return (await findStatusByUri(ctx, input.uri))!;
}

/** The author deleted a post (or a boost); gone here too. */
export async function receiveStatusDelete(ctx: CoreContext, author: Account, uri: string): Promise<boolean> {
  const existing = await findStatusByUri(ctx, uri);
  if (existing == null || existing.accountId !== author.id) return false;
  await deleteStatus(ctx, existing);
  return true;
}

/** A remote account boosted a post Islet has. */
export async function receiveReblog(ctx: CoreContext, booster: Account, original: Status, announceUri: string, published: Date): Promise<Status> {
  const existing = await findStatusByUri(ctx, announceUri);
  if (existing != null) return existing;
  return await reblogStatus(ctx, booster, original, {
    uri: announceUri,
    createdAt: published.getTime() > Date.now() ? new Date() : published,
  });
}
