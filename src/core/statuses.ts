/**
 * Statuses: posting, editing, deleting, threads. The work is split over
 * ./statuses/*.ts; this module is the one to import from.
 */
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { scheduleStatus, type ScheduledStatusRow } from "./scheduled-statuses.ts";
import { createStatus, type NewStatusInput } from "./statuses/create.ts";
import type { StatusRow } from "./statuses/rows.ts";

export {
  buildStatusData,
  createStatus,
  MAX_STATUS_CHARACTERS,
  normalizeLanguage,
  prepareStatus,
  type NewStatusInput,
  type PreparedStatus,
} from "./statuses/create.ts";
export { deleteStatus } from "./statuses/delete.ts";
export { loadStatusDetails, type StatusDetails, type StatusMarks } from "./statuses/details.ts";
export {
  editStatus,
  mediaByIds,
  parseFocus,
  statusHistory,
  type MediaAttributesInput,
  type StatusEditInput,
  type StatusEditRow,
  type StatusVersion,
} from "./statuses/edit.ts";
export { checkMedia, MAX_MEDIA_ATTACHMENTS, MAX_MEDIA_DESCRIPTION, type MediaRow } from "./statuses/media.ts";
export {
  findStatus,
  findStatusByUri,
  findStatuses,
  findStatusWithAuthor,
  localReblogUris,
  localStatusUris,
  resolveReblog,
  VISIBILITIES,
  type StatusRow,
  type Visibility,
} from "./statuses/rows.ts";
export { replyTargetAccountId, storeStatus, writeStatus, type NewPoll, type StatusData } from "./statuses/store.ts";
export { CONTEXT_LIMITS, statusContext, type StatusContext } from "./statuses/thread.ts";

/** What posting gave: a status, or a scheduled status when `scheduledAt` was set. */
export type PostResult = { status: StatusRow; scheduled?: undefined } | { scheduled: ScheduledStatusRow; status?: undefined };

/**
 * Posts now, or schedules the post when `scheduledAt` lies ahead (at least
 * five minutes; a time already past posts now, as Mastodon does).
 */
export async function postStatus(
  ctx: CoreContext,
  author: Account,
  input: NewStatusInput & { scheduledAt?: Date | null },
): Promise<PostResult> {
  const { scheduledAt, ...rest } = input;
  if (scheduledAt != null && scheduledAt.getTime() > Date.now()) {
    return { scheduled: await scheduleStatus(ctx, author, { ...rest, scheduledAt }) };
  }
  return { status: await createStatus(ctx, author, rest) };
}
