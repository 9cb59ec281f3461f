/**
 * Posts scheduled for later: stored with their parameters in Mastodon's
 * shape, checked when scheduled, and published by
 * {@link publishDueScheduledStatuses}, which a timer calls.
 */
import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lt, lte, ne, type SQL } from "drizzle-orm";
import { mediaAttachments, scheduledStatuses } from "../db/schema.ts";
import { findAccountById, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import type { IdPage } from "./interactions.ts";
import type { PollInput } from "./polls.ts";
import { requestQuoteApproval, type QuotePolicy } from "./quotes.ts";
import { buildStatusData, prepareStatus, type NewStatusInput } from "./statuses/create.ts";
import { recallIdempotent, rememberIdempotent } from "./statuses/idempotency.ts";
import { findStatus, type StatusRow, type Visibility } from "./statuses/rows.ts";
import { writeStatus } from "./statuses/store.ts";

export type ScheduledStatusRow = typeof scheduledStatuses.$inferSelect;

/** How far ahead a post must be scheduled, and how many may wait. */
export const SCHEDULE_LIMITS = {
  minLeadMs: 5 * 60 * 1000,
  total: 300,
  perDay: 25,
} as const;

/** The stored parameters, as Mastodon's ScheduledStatus `params` shows them. Ids are strings here. */
export interface ScheduledParams {
  text: string;
  poll: { options: string[]; expires_in: number; multiple: boolean; hide_totals: boolean } | null;
  media_ids: string[] | null;
  sensitive: boolean | null;
  spoiler_text: string | null;
  visibility: Visibility;
  language: string | null;
  scheduled_at: null;
  idempotency: string | null;
  in_reply_to_id: string | null;
  application_id: string | null;
  with_rate_limit: boolean;
  quoted_status_id?: string | null;
  quote_approval_policy?: QuotePolicy | null;
}

/** Why a post cannot be scheduled at this time, or null. */
export function scheduledAtProblem(scheduledAt: Date, now = new Date()): string | null {
  if (Number.isNaN(scheduledAt.getTime())) return "Scheduled at is not a valid date";
  if (scheduledAt.getTime() - now.getTime() < SCHEDULE_LIMITS.minLeadMs) {
    return "Scheduled at must be at least 5 minutes in the future";
  }
  return null;
}

async function checkLimits(ctx: CoreContext, accountId: bigint, scheduledAt: Date, except?: bigint): Promise<void> {
  const dayStart = new Date(scheduledAt);
  dayStart.setUTCHours(0, 0, 0, 0);
  const dayEnd = new Date(dayStart.getTime() + 86_400_000);
  const others = except == null ? undefined : ne(scheduledStatuses.id, except);
  const [total, daily] = await Promise.all([
    ctx.db.select({ n: count() }).from(scheduledStatuses).where(and(eq(scheduledStatuses.accountId, accountId), others)),
    ctx.db
      .select({ n: count() })
      .from(scheduledStatuses)
      .where(and(
        eq(scheduledStatuses.accountId, accountId),
        gte(scheduledStatuses.scheduledAt, dayStart),
        lt(scheduledStatuses.scheduledAt, dayEnd),
        others,
      )),
  ]);
  if (Number(total[0]?.n ?? 0) >= SCHEDULE_LIMITS.total) {
    throw new CoreError("invalid", `You have already scheduled the maximum of ${SCHEDULE_LIMITS.total} posts`);
  }
  if (Number(daily[0]?.n ?? 0) >= SCHEDULE_LIMITS.perDay) {
    throw new CoreError("invalid", `You have already scheduled the maximum of ${SCHEDULE_LIMITS.perDay} posts for that day`);
  }
}

/**
 * Schedules a post by a local author. The input is checked as for posting
 * now (media, poll, reply target); the media stay unattached but held until
 * the post is published. Honours the idempotency key.
 */
export async function scheduleStatus(
  ctx: CoreContext,
  author: Account,
  input: NewStatusInput & { scheduledAt: Date },
): Promise<ScheduledStatusRow> {
  const remembered = await recallIdempotent(ctx, author.id, input.idempotencyKey);
  if (remembered?.kind === "scheduled") {
    const existing = await findScheduledStatus(ctx, author.id, BigInt(remembered.id));
    if (existing != null) return existing;
  }
  const problem = scheduledAtProblem(input.scheduledAt);
  if (problem != null) throw new CoreError("invalid", problem);
  const prepared = await prepareStatus(ctx, author, input);
  await checkLimits(ctx, author.id, input.scheduledAt);
  // NUL cannot be stored in jsonb; the rest is kept as given, as Mastodon shows it.
  const clean = (value: string | null | undefined) => (value == null ? null : value.replace(/\0/g, ""));
  const params: ScheduledParams = {
    text: clean(input.text) ?? "",
    poll: prepared.poll == null
      ? null
      : {
        options: prepared.poll.options,
        expires_in: prepared.poll.expiresIn,
        multiple: prepared.poll.multiple ?? false,
        hide_totals: prepared.poll.hideTotals ?? false,
      },
    media_ids: prepared.media.length === 0 ? null : prepared.media.map((row) => row.id.toString()),
    sensitive: input.sensitive ?? null,
    spoiler_text: clean(input.spoilerText),
    visibility: prepared.visibility,
    language: prepared.language,
    scheduled_at: null,
    idempotency: input.idempotencyKey ?? null,
    in_reply_to_id: prepared.inReplyTo?.id.toString() ?? null,
    application_id: input.applicationId?.toString() ?? null,
    with_rate_limit: false,
    quoted_status_id: prepared.quoted?.id.toString() ?? null,
    quote_approval_policy: input.quotePolicy ?? null,
  };
  const rows = await ctx.db
    .insert(scheduledStatuses)
    .values({
      id: newId(),
      accountId: author.id,
      scheduledAt: input.scheduledAt,
      params: params as unknown as Record<string, unknown>,
      mediaAttachmentIds: prepared.media.map((row) => row.id.toString()),
    })
    .returning();
  await rememberIdempotent(ctx, author.id, input.idempotencyKey, { kind: "scheduled", id: rows[0].id.toString() });
  return rows[0];
}

export function scheduledParams(row: ScheduledStatusRow): ScheduledParams {
  return row.params as unknown as ScheduledParams;
}

export async function findScheduledStatus(ctx: CoreContext, accountId: bigint, id: bigint): Promise<ScheduledStatusRow | null> {
  const rows = await ctx.db
    .select()
    .from(scheduledStatuses)
    .where(and(eq(scheduledStatuses.id, id), eq(scheduledStatuses.accountId, accountId)))
    .limit(1);
  return rows[0] ?? null;
}

/** The account's scheduled posts by id, newest first (oldest first after `minId`, reversed). */
export async function listScheduledStatuses(ctx: CoreContext, accountId: bigint, page: IdPage): Promise<ScheduledStatusRow[]> {
  const conditions: SQL[] = [eq(scheduledStatuses.accountId, accountId)];
  if (page.maxId != null) conditions.push(lt(scheduledStatuses.id, page.maxId));
  if (page.sinceId != null) conditions.push(gt(scheduledStatuses.id, page.sinceId));
  if (page.minId != null) conditions.push(gt(scheduledStatuses.id, page.minId));
  const ascending = page.minId != null && page.sinceId == null;
  const rows = await ctx.db
    .select()
    .from(scheduledStatuses)
    .where(and(...conditions))
    .orderBy(ascending ? asc(scheduledStatuses.id) : desc(scheduledStatuses.id))
    .limit(page.limit);
  return ascending ? rows.reverse() : rows;
}

/** Moves a scheduled post to another time (at least five minutes ahead). */
export async function rescheduleStatus(ctx: CoreContext, accountId: bigint, id: bigint, scheduledAt: Date): Promise<ScheduledStatusRow> {
  const existing = await findScheduledStatus(ctx, accountId, id);
  if (existing == null) throw new CoreError("not_found", "Record not found");
  const problem = scheduledAtProblem(scheduledAt);
  if (problem != null) throw new CoreError("invalid", problem);
  await checkLimits(ctx, accountId, scheduledAt, id);
  const rows = await ctx.db
    .update(scheduledStatuses)
    .set({ scheduledAt })
    .where(and(eq(scheduledStatuses.id, id), eq(scheduledStatuses.accountId, accountId)))
    .returning();
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  return rows[0];
}

/** Cancels a scheduled post; its media become free again. */
export async function cancelScheduledStatus(ctx: CoreContext, accountId: bigint, id: bigint): Promise<void> {
  const rows = await ctx.db
    .delete(scheduledStatuses)
    .where(and(eq(scheduledStatuses.id, id), eq(scheduledStatuses.accountId, accountId)))
    .returning({ id: scheduledStatuses.id });
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
}

/** The input a scheduled post is published with, as things stand now. */
async function publishInput(ctx: CoreContext, author: Account, row: ScheduledStatusRow): Promise<NewStatusInput> {
  const params = scheduledParams(row);
  // Media deleted or used elsewhere since are left out; a vanished parent makes it a plain post.
  let mediaIds = (params.media_ids ?? []).map((id) => BigInt(id));
  if (mediaIds.length > 0) {
    const usable = await ctx.db
      .select({ id: mediaAttachments.id })
      .from(mediaAttachments)
      .where(and(inArray(mediaAttachments.id, mediaIds), eq(mediaAttachments.accountId, author.id), isNull(mediaAttachments.statusId)));
    const ids = new Set(usable.map((m) => m.id));
    mediaIds = mediaIds.filter((id) => ids.has(id));
  }
  let inReplyToId = params.in_reply_to_id == null ? null : BigInt(params.in_reply_to_id);
  if (inReplyToId != null && (await findStatus(ctx, inReplyToId)) == null) inReplyToId = null;
  const poll: PollInput | null = params.poll == null
    ? null
    : { options: params.poll.options, expiresIn: params.poll.expires_in, multiple: params.poll.multiple, hideTotals: params.poll.hide_totals };
  // A quoted post gone since makes it a plain post.
  let quotedStatusId = params.quoted_status_id == null ? null : BigInt(params.quoted_status_id);
  if (quotedStatusId != null && (await findStatus(ctx, quotedStatusId)) == null) quotedStatusId = null;
  return {
    quotedStatusId,
    quotePolicy: params.quote_approval_policy ?? null,
    text: params.text,
    mediaIds,
    poll,
    inReplyToId,
    sensitive: params.sensitive,
    spoilerText: params.spoiler_text,
    visibility: params.visibility,
    language: params.language,
    applicationId: params.application_id == null ? null : BigInt(params.application_id),
  };
}

/**
 * Publishes every scheduled post that is due, oldest first: each in one
 * transaction with the removal of its schedule, so that two workers never
 * publish one twice. A post that can no longer be made (its text empty
 * once its media are gone, say) is dropped with a warning. Returns the
 * statuses published. Emits `status.created` for each.
 */
export async function publishDueScheduledStatuses(ctx: CoreContext, now = new Date()): Promise<StatusRow[]> {
  const due = await ctx.db
    .select()
    .from(scheduledStatuses)
    .where(lte(scheduledStatuses.scheduledAt, now))
    .orderBy(asc(scheduledStatuses.scheduledAt), asc(scheduledStatuses.id))
    .limit(100);
  const published: StatusRow[] = [];
  for (const row of due) {
    try {
      const author = await findAccountById(ctx, row.accountId);
      if (author == null) continue;
      const input = await publishInput(ctx, author, row);
      const prepared = await prepareStatus(ctx, author, input, { scheduledStatusId: row.id });
      const data = await buildStatusData(ctx, author, prepared);
      const status = await ctx.db.transaction(async (tx) => {
        const claimed = await tx.delete(scheduledStatuses).where(eq(scheduledStatuses.id, row.id)).returning({ id: scheduledStatuses.id });
        if (claimed.length === 0) return null;
        return await writeStatus(tx, author, data);
      });
      if (status == null) continue;
      await ctx.events.emit("status.created", { statusId: status.id, accountId: author.id });
      await requestQuoteApproval(ctx, status.id);
      published.push(status);
    } catch (error) {
      ctx.log.warn(`scheduled post ${row.id} could not be published and is dropped`, error);
      await ctx.db.delete(scheduledStatuses).where(eq(scheduledStatuses.id, row.id));
    }
  }
  return published;
}
