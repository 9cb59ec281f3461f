/**
 * Editing a post, and its edit history. As in Mastodon, every edit stores
 * the resulting version in status_edits, and the first edit stores the
 * original too, so the history lists every version, oldest first.
 */
import { and, asc, eq, inArray, notInArray } from "drizzle-orm";
import type { Db } from "../../db/connect.ts";
import { mediaAttachments, mentions, pollVotes, polls, statusEdits, statuses } from "../../db/schema.ts";
import type { Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";
import { CoreError } from "../context.ts";
import { newId } from "../ids.ts";
import { checkPollInput, cleanPollInput, type PollInput, type PollRow } from "../polls.ts";
import { setStatusTags } from "../tags.ts";
import { formatStatusText } from "../text.ts";
import { checkLength, normalizeLanguage, normalizeTexts } from "./create.ts";
import { attachMedia, checkMedia, MAX_MEDIA_DESCRIPTION, type MediaRow } from "./media.ts";
import { findQuoteOf, withQuoteInline } from "../quotes.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { findStatus, type StatusRow } from "./rows.ts";

export type StatusEditRow = typeof statusEdits.$inferSelect;

export interface MediaAttributesInput {
  id: bigint;
  description?: string | null;
  /** Focal point, each coordinate in -1..1. */
  focus?: { x: number; y: number } | null;
}

/**
 * A new version of a post. As Mastodon's PUT: text, content warning,
 * sensitivity, media and poll are replaced by what is given (absent media
 * means none, absent poll means none); an absent language keeps the old.
 */
export interface StatusEditInput {
  text?: string | null;
  spoilerText?: string | null;
  sensitive?: boolean | null;
  language?: string | null;
  mediaIds?: readonly bigint[] | null;
  mediaAttributes?: readonly MediaAttributesInput[] | null;
  poll?: PollInput | null;
}

/** Parses Mastodon's focus `"x,y"`; null when malformed or out of range. */
export function parseFocus(value: string): { x: number; y: number } | null {
  const parts = value.split(",").map((part) => Number(part.trim()));
  if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n) || n < -1 || n > 1)) return null;
  return { x: parts[0], y: parts[1] };
}

async function currentMedia(db: Db, statusId: bigint): Promise<MediaRow[]> {
  return await db
    .select()
    .from(mediaAttachments)
    .where(eq(mediaAttachments.statusId, statusId))
    .orderBy(asc(mediaAttachments.position), asc(mediaAttachments.id));
}

async function currentPoll(db: Db, statusId: bigint): Promise<PollRow | null> {
  const rows = await db.select().from(polls).where(eq(polls.statusId, statusId)).limit(1);
  return rows[0] ?? null;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * Edits a local post by its author. Returns the status unchanged when
 * nothing significant changed; otherwise stores the version, sets
 * `editedAt` and emits `status.updated`.
 */
export async function editStatus(ctx: CoreContext, author: Account, status: StatusRow, input: StatusEditInput): Promise<StatusRow> {
  if (status.accountId !== author.id || status.reblogOfId != null) throw new CoreError("not_found", "Record not found");
  if (author.domain != null) throw new CoreError("invalid", "only local posts are edited through this function");
  const { text, spoilerText } = normalizeTexts(input.text, input.spoilerText);
  checkLength(text, spoilerText);
  const mediaIds = input.mediaIds ?? [];
  if (mediaIds.length > 0 && input.poll != null) throw new CoreError("invalid", "A post cannot have both media attachments and a poll");
  const newPoll = input.poll == null ? null : cleanPollInput(input.poll);
  if (newPoll != null) checkPollInput(newPoll);
  const media = await checkMedia(ctx, author.id, mediaIds, { statusId: status.id });
  if (text === "" && media.length === 0) throw new CoreError("invalid", "Text can't be blank");
  let language = status.language;
  if (input.language !== undefined) {
    const normalized = normalizeLanguage(input.language);
    if (normalized === undefined) throw new CoreError("invalid", `${JSON.stringify(input.language)} is not a language code`);
    if (normalized != null) language = normalized;
  }
  const attributes = new Map<bigint, MediaAttributesInput>();
  for (const item of input.mediaAttributes ?? []) {
    if (item.description != null && [...item.description].length > MAX_MEDIA_DESCRIPTION) {
      throw new CoreError("invalid", `Description is too long (maximum is ${MAX_MEDIA_DESCRIPTION} characters)`);
    }
    if (item.focus != null && [item.focus.x, item.focus.y].some((n) => !Number.isFinite(n) || n < -1 || n > 1)) {
      throw new CoreError("invalid", "Focus must be two numbers between -1 and 1");
    }
    // As Mastodon: attributes of media not in the post are ignored.
    const description = item.description == null ? item.description : item.description.replace(/\0/g, "");
    if (media.some((row) => row.id === item.id)) attributes.set(item.id, { ...item, description });
  }
  const sensitive = (input.sensitive ?? false) || spoilerText !== "";
  const formatted = await formatStatusText(ctx, text);
  // A quote keeps its RE: link for servers that know no quotes.
  const quote = await findQuoteOf(ctx, status.id);
  const quoted = quote?.quotedStatusId == null ? null : await findStatus(ctx, quote.quotedStatusId);
  if (quoted != null) formatted.html = withQuoteInline(formatted.html, quoted, escapeHtml);
  const now = new Date();

  const result = await ctx.db.transaction(async (tx) => {
    const locked = await tx.select().from(statuses).where(eq(statuses.id, status.id)).for("update");
    const before = locked[0];
    if (before == null) throw new CoreError("not_found", "Record not found");
    const oldMedia = await currentMedia(tx, before.id);
    const oldPoll = await currentPoll(tx, before.id);

    const mediaChanged = !sameList(oldMedia.map((row) => row.id), media.map((row) => row.id));
    let attributesChanged = false;
    for (const row of media) {
      const change = attributes.get(row.id);
      if (change == null) continue;
      const set: Partial<MediaRow> = {};
      if (change.description !== undefined && (change.description ?? null) !== row.description) set.description = change.description ?? null;
      if (change.focus !== undefined) {
        const x = change.focus?.x ?? null;
        const y = change.focus?.y ?? null;
        if (x !== row.focusX || y !== row.focusY) Object.assign(set, { focusX: x, focusY: y });
      }
      if (Object.keys(set).length === 0) continue;
      attributesChanged = true;
      await tx.update(mediaAttachments).set({ ...set, updatedAt: now }).where(eq(mediaAttachments.id, row.id));
    }

    let pollChanged = false;
    if (newPoll != null) {
      const poll = newPoll;
      const multiple = poll.multiple ?? false;
      const expiresAt = new Date(now.getTime() + poll.expiresIn * 1000);
      if (oldPoll == null) {
        await tx.insert(polls).values({
          id: newId(now),
          statusId: before.id,
          expiresAt,
          multiple,
          hideTotals: poll.hideTotals ?? false,
          options: poll.options,
          votesCounts: poll.options.map(() => 0),
          votersCount: 0,
        });
        pollChanged = true;
      } else {
        // Other options, or single/multiple choice switched: the votes no longer mean anything.
        const reset = !sameList(oldPoll.options, poll.options) || oldPoll.multiple !== multiple;
        if (reset) await tx.delete(pollVotes).where(eq(pollVotes.pollId, oldPoll.id));
        await tx
          .update(polls)
          .set({
            options: poll.options,
            multiple,
            hideTotals: poll.hideTotals ?? false,
            expiresAt,
            ...(reset ? { votesCounts: poll.options.map(() => 0), votersCount: 0 } : {}),
            updatedAt: now,
          })
          .where(eq(polls.id, oldPoll.id));
        pollChanged = reset || oldPoll.expiresAt?.getTime() !== expiresAt.getTime() || oldPoll.hideTotals !== (poll.hideTotals ?? false);
      }
    } else if (oldPoll != null) {
      await tx.delete(polls).where(eq(polls.id, oldPoll.id));
      pollChanged = true;
    }

    const changed = mediaChanged || attributesChanged || pollChanged ||
      before.text !== text || before.content !== formatted.html || before.spoilerText !== spoilerText ||
      before.sensitive !== sensitive || before.language !== language;
    if (!changed) return null;

    // The first edit keeps the original as the history's first version.
    const earlier = await tx.select({ id: statusEdits.id }).from(statusEdits).where(eq(statusEdits.statusId, before.id)).limit(1);
    if (earlier.length === 0) {
      await tx.insert(statusEdits).values({
        id: newId(before.createdAt),
        statusId: before.id,
        accountId: before.accountId,
        content: before.content,
        spoilerText: before.spoilerText,
        sensitive: before.sensitive,
        mediaAttachmentIds: oldMedia.map((row) => row.id.toString()),
        mediaDescriptions: oldMedia.map((row) => row.description),
        pollOptions: oldPoll?.options ?? null,
        createdAt: before.createdAt,
      });
    }
    await attachMedia(tx, before.id, media);
    await replaceMentions(tx, before.id, formatted.mentions.map((account) => account.id));
    await setStatusTags(tx, before.id, formatted.tags);
    const updated = await tx
      .update(statuses)
      .set({ text, content: formatted.html, spoilerText, sensitive, language, editedAt: now, updatedAt: now })
      .where(eq(statuses.id, before.id))
      .returning();
    await tx.insert(statusEdits).values({
      id: newId(now),
      statusId: before.id,
      accountId: author.id,
      content: formatted.html,
      spoilerText,
      sensitive,
      mediaAttachmentIds: media.map((row) => row.id.toString()),
      mediaDescriptions: media.map((row) => {
        const change = attributes.get(row.id);
        return change?.description !== undefined ? (change.description ?? null) : row.description;
      }),
      pollOptions: newPoll?.options ?? null,
      createdAt: now,
    });
    return updated[0];
  });
  if (result == null) return status;
  await ctx.events.emit("status.updated", { statusId: result.id, accountId: result.accountId });
  return result;
}

/** Makes the status's mentions exactly these accounts. */
export async function replaceMentions(db: Db, statusId: bigint, accountIds: readonly bigint[]): Promise<void> {
  const wanted = [...new Set(accountIds)];
  await db.delete(mentions).where(and(eq(mentions.statusId, statusId), notInArray(mentions.accountId, wanted)));
  if (wanted.length > 0) {
    await db.insert(mentions).values(wanted.map((accountId) => ({ id: newId(), statusId, accountId }))).onConflictDoNothing();
  }
}

/** One version of a post, as the history lists it. */
export interface StatusVersion {
  accountId: bigint;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  mediaAttachmentIds: string[];
  /** Descriptions as they were then, by position; null: use the current ones. */
  mediaDescriptions: (string | null)[] | null;
  pollOptions: string[] | null;
  createdAt: Date;
}

/** Every version of the status, oldest first, the current one last. */
export async function statusHistory(ctx: CoreContext, status: StatusRow): Promise<StatusVersion[]> {
  const edits = await ctx.db
    .select()
    .from(statusEdits)
    .where(eq(statusEdits.statusId, status.id))
    .orderBy(asc(statusEdits.createdAt), asc(statusEdits.id));
  if (edits.length > 0) return edits;
  const [media, poll] = await Promise.all([currentMedia(ctx.db, status.id), currentPoll(ctx.db, status.id)]);
  return [{
    accountId: status.accountId,
    content: status.content,
    spoilerText: status.spoilerText,
    sensitive: status.sensitive,
    mediaAttachmentIds: media.map((row) => row.id.toString()),
    mediaDescriptions: media.map((row) => row.description),
    pollOptions: poll?.options ?? null,
    createdAt: status.createdAt,
  }];
}

/** Media rows by id (for versions whose media has since been detached). */
export async function mediaByIds(ctx: CoreContext, ids: readonly bigint[]): Promise<Map<bigint, MediaRow>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db.select().from(mediaAttachments).where(inArray(mediaAttachments.id, [...new Set(ids)]));
  return new Map(rows.map((row) => [row.id, row]));
}
