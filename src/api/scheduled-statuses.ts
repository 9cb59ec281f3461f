/**
 * Mastodon API: scheduled statuses (made by POST /api/v1/statuses with
 * `scheduled_at`): list, view, move to another time, cancel. Also the
 * ScheduledStatus entity.
 */
import { Hono } from "hono";
import type { CoreContext } from "../core/context.ts";
import {
  cancelScheduledStatus,
  findScheduledStatus,
  listScheduledStatuses,
  rescheduleStatus,
  scheduledParams,
  type ScheduledStatusRow,
} from "../core/scheduled-statuses.ts";
import { mediaByIds } from "../core/statuses.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeMediaAttachment, type MastodonMediaAttachment, type MediaAttachmentRow } from "./entities/media-attachment.ts";
import { notFound, unprocessable } from "./errors.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { bodyParams, pathId, read } from "./params.ts";

export interface MastodonScheduledStatus {
  id: string;
  scheduled_at: string;
  params: Record<string, unknown>;
  media_attachments: MastodonMediaAttachment[];
}


export async function serializeScheduledStatuses(ctx: CoreContext, rows: readonly ScheduledStatusRow[]): Promise<MastodonScheduledStatus[]> {
  const media = await mediaByIds(ctx, rows.flatMap((row) => row.mediaAttachmentIds.map((id) => BigInt(id))));
  return rows.map((row) => {
    const params = scheduledParams(row);
    return {
      id: row.id.toString(),
      scheduled_at: row.scheduledAt.toISOString(),
      params: {
        text: params.text,
        poll: params.poll,
        media_ids: params.media_ids,
        sensitive: params.sensitive,
        spoiler_text: params.spoiler_text,
        visibility: params.visibility,
        language: params.language,
        scheduled_at: null,
        idempotency: params.idempotency,
        // Mastodon writes these two as JSON numbers, which JavaScript
        // clients read wrong past 2^53; like every other id, they are strings here.
        in_reply_to_id: params.in_reply_to_id ?? null,
        application_id: params.application_id ?? null,
        with_rate_limit: params.with_rate_limit,
        // Present only when given, as Mastodon's params.
        ...(params.quoted_status_id == null ? {} : { quoted_status_id: params.quoted_status_id }),
        ...(params.quote_approval_policy == null ? {} : { quote_approval_policy: params.quote_approval_policy }),
      },
      media_attachments: row.mediaAttachmentIds
        .map((id) => media.get(BigInt(id)))
        .filter((item): item is MediaAttachmentRow => item != null)
        .map((item) => serializeMediaAttachment(ctx.config.origin, item)),
    };
  });
}

export async function serializeScheduledStatus(ctx: CoreContext, row: ScheduledStatusRow): Promise<MastodonScheduledStatus> {
  return (await serializeScheduledStatuses(ctx, [row]))[0];
}

export function scheduledStatusesRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/scheduled_statuses", async (c) => {
    const viewerId = requireUser(c, "read:statuses");
    const page = readPage(c, 20, 40);
    const rows = await listScheduledStatuses(core, viewerId, page);
    setLinkHeader(c, core.config.origin, rows.map((row) => row.id));
    return c.json(await serializeScheduledStatuses(core, rows));
  });

  app.get("/api/v1/scheduled_statuses/:id", async (c) => {
    const viewerId = requireUser(c, "read:statuses");
    const row = await findScheduledStatus(core, viewerId, pathId(c));
    if (row == null) throw notFound();
    return c.json(await serializeScheduledStatus(core, row));
  });

  app.put("/api/v1/scheduled_statuses/:id", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    const id = pathId(c);
    const existing = await findScheduledStatus(core, viewerId, id);
    if (existing == null) throw notFound();
    const params = await bodyParams(c);
    const value = read.string(params, "scheduled_at");
    // Nothing to change: the scheduled status as it is, as Mastodon answers.
    if (value == null || value === "") return c.json(await serializeScheduledStatus(core, existing));
    const scheduledAt = new Date(value);
    if (Number.isNaN(scheduledAt.getTime())) throw unprocessable("scheduled_at is not a valid date");
    return c.json(await serializeScheduledStatus(core, await rescheduleStatus(core, viewerId, id, scheduledAt)));
  });

  app.delete("/api/v1/scheduled_statuses/:id", async (c) => {
    const viewerId = requireUser(c, "write:statuses");
    await cancelScheduledStatus(core, viewerId, pathId(c));
    return c.json({});
  });

  return app;
}
