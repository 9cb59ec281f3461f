/**
 * What one stream of one viewer receives for one event, rendered as
 * Mastodon sends it, or null when the event is not for that stream.
 *
 * Whether a status belongs to a stream is decided by the timeline queries
 * themselves (src/core/timelines.ts), run on a window holding that status
 * alone: mutes, blocks, domain blocks, follows, `show_reblogs`, lists,
 * hashtags and the local/remote and media switches are the timelines'
 * rules, not a copy of them. The viewer's filters then apply as on the REST
 * timelines: a `hide` match is not sent, other matches are sent with
 * `filtered`. Payloads are the entities the REST API renders.
 */
import { inArray } from "drizzle-orm";
import { serializeConversations } from "../api/conversations.ts";
import { serializeNotificationById } from "../api/entities/notification.ts";
import { serializeStatuses } from "../api/entities/status.ts";
import type { CoreContext } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { applyFilters, type FilterContext } from "../core/filters.ts";
import {
  homeTimeline,
  listTimeline,
  publicTimeline,
  tagTimeline,
  type PageOptions,
  type StatusRow,
} from "../core/timelines.ts";
import { accountConversations, accounts } from "../db/schema.ts";
import type { StreamingEvent } from "./events.ts";
import { userStreamHasNotifications, type Stream, type StreamViewer } from "./streams.ts";

/** One message for a stream: Mastodon's event name and payload text (none for filters_changed). */
export interface StreamMessage {
  event: string;
  payload?: string;
}

/** The page of a timeline that can hold only this status. */
function windowOf(statusId: bigint): PageOptions {
  return { maxId: statusId + 1n, sinceId: statusId - 1n, limit: 1 };
}

function publicScope(name: Stream["name"]): { local: boolean; remote: boolean; onlyMedia: boolean } {
  return {
    local: name.startsWith("public:local") || name === "hashtag:local",
    remote: name.startsWith("public:remote"),
    onlyMedia: name.endsWith(":media"),
  };
}

/** The status, if it is in the viewer's timeline behind `stream`, with the filter context it is shown in. */
async function timelineRow(ctx: CoreContext, viewerId: bigint, stream: Stream, statusId: bigint): Promise<{ rows: StatusRow[]; context: FilterContext } | null> {
  const window = windowOf(statusId);
  switch (stream.name) {
    case "user":
      return { rows: await homeTimeline(ctx, viewerId, window), context: "home" };
    case "list":
      try {
        return { rows: await listTimeline(ctx, viewerId, stream.listId!, window), context: "home" };
      } catch (error) {
        // The list was deleted since the subscription.
        if (error instanceof CoreError && error.code === "not_found") return null;
        throw error;
      }
    case "public":
    case "public:media":
    case "public:local":
    case "public:local:media":
    case "public:remote":
    case "public:remote:media":
      return { rows: await publicTimeline(ctx, viewerId, publicScope(stream.name), window), context: "public" };
    case "hashtag":
    case "hashtag:local":
      return { rows: await tagTimeline(ctx, viewerId, stream.tag!, publicScope(stream.name), window), context: "public" };
    default:
      return null;
  }
}

async function renderStatus(ctx: CoreContext, viewerId: bigint, stream: Stream, statusId: bigint, event: string): Promise<StreamMessage | null> {
  const found = await timelineRow(ctx, viewerId, stream, statusId);
  if (found == null || found.rows.length === 0) return null;
  // Direct statuses stream to `user` (and as conversations to `direct`), not to lists.
  if (stream.name === "list" && found.rows[0].visibility === "direct") return null;
  const { visible, filtered } = await applyFilters(ctx, viewerId, found.context, found.rows);
  if (visible.length === 0) return null;
  const [status] = await serializeStatuses(ctx, visible, viewerId, { filtered });
  return { event, payload: JSON.stringify(status) };
}

/** The streams a deleted status may have been shown in; the row is gone, so this goes by what the event kept. */
async function deletionReaches(
  ctx: CoreContext,
  viewerId: bigint,
  stream: Stream,
  event: Extract<StreamingEvent, { type: "status.deleted" }>,
  authorIsLocal: () => Promise<boolean>,
): Promise<boolean> {
  const involved = event.accountId === viewerId || event.mentionedAccountIds.includes(viewerId);
  switch (stream.name) {
    case "user":
      return event.visibility !== "direct" || involved;
    case "list":
      return event.visibility !== "direct";
    case "direct":
      return event.visibility === "direct" && involved;
    case "hashtag":
    case "hashtag:local":
    case "public":
    case "public:media":
    case "public:local":
    case "public:local:media":
    case "public:remote":
    case "public:remote:media": {
      if (event.visibility !== "public" || event.reblogOfId != null) return false;
      const scope = publicScope(stream.name);
      if (scope.local) return await authorIsLocal();
      if (scope.remote) return !(await authorIsLocal());
      return true;
    }
    default:
      return false;
  }
}

/**
 * Renders events for streams. One renderer serves one event: what it
 * computes is kept for the other subscriptions to the same stream of the
 * same viewer, so a thousand clients of one stream cost one rendering.
 */
export class EventRenderer {
  readonly #ctx: CoreContext;
  readonly #event: StreamingEvent;
  readonly #cache = new Map<string, Promise<StreamMessage | null>>();
  #authorIsLocal: Promise<boolean> | null = null;

  constructor(ctx: CoreContext, event: StreamingEvent) {
    this.#ctx = ctx;
    this.#event = event;
  }

  /** The message for this stream of this viewer, or null. */
  render(viewer: StreamViewer, stream: Stream): Promise<StreamMessage | null> {
    const key = `${viewer.accountId}|${stream.key}|${stream.name === "user" && userStreamHasNotifications(viewer) ? "n" : ""}`;
    let message = this.#cache.get(key);
    if (message == null) {
      // One stream failing to render does not keep the event from the others.
      message = this.#render(viewer, stream).catch((error) => {
        this.#ctx.log.error(`streaming: could not render ${this.#event.type} for ${stream.name}`, error);
        return null;
      });
      this.#cache.set(key, message);
    }
    return message;
  }

  #isAuthorLocal(accountId: bigint): Promise<boolean> {
    this.#authorIsLocal ??= this.#ctx.db
      .select({ domain: accounts.domain })
      .from(accounts)
      .where(inArray(accounts.id, [accountId]))
      .then((rows) => rows.length > 0 && rows[0].domain == null);
    return this.#authorIsLocal;
  }

  async #render(viewer: StreamViewer, stream: Stream): Promise<StreamMessage | null> {
    const ctx = this.#ctx;
    const event = this.#event;
    const viewerId = viewer.accountId;
    switch (event.type) {
      case "status.created":
        return await renderStatus(ctx, viewerId, stream, event.statusId, "update");
      case "status.updated":
        return await renderStatus(ctx, viewerId, stream, event.statusId, "status.update");
      case "status.deleted": {
        const reaches = await deletionReaches(ctx, viewerId, stream, event, () => this.#isAuthorLocal(event.accountId));
        return reaches ? { event: "delete", payload: event.statusId.toString() } : null;
      }
      case "notification.created": {
        if (event.accountId !== viewerId) return null;
        const wanted = stream.name === "user:notification" || (stream.name === "user" && userStreamHasNotifications(viewer));
        if (!wanted) return null;
        const notification = await serializeNotificationById(ctx, viewerId, event.notificationId);
        return notification == null ? null : { event: "notification", payload: JSON.stringify(notification) };
      }
      case "filters.changed":
        return event.accountId === viewerId && stream.name === "user" ? { event: "filters_changed" } : null;
      case "conversation.updated": {
        if (event.accountId !== viewerId || stream.name !== "direct") return null;
        const rows = await ctx.db.select().from(accountConversations).where(inArray(accountConversations.id, [event.conversationId]));
        if (rows.length === 0 || rows[0].accountId !== viewerId) return null;
        const [conversation] = await serializeConversations(ctx, rows, viewerId);
        return { event: "conversation", payload: JSON.stringify(conversation) };
      }
      case "tokens.revoked":
        return null;
    }
  }
}
