/**
 * The core events streaming reacts to, and how they reach every process
 * that serves streaming clients.
 *
 * With PGlite there is one process: streaming listens to the event bus.
 * With PostgreSQL, events may be raised in any process (a worker storing an
 * incoming reply, a web process handling a post), so every process relays
 * them with NOTIFY and streaming listens with LISTEN only, its own process's
 * events included: each event then arrives exactly once, however the
 * processes are split. A notification carries ids, never entities (NOTIFY
 * payloads are limited to 8000 bytes); bigints travel as strings.
 */
import type { CoreContext } from "../core/context.ts";
import type { IsletEvents } from "../core/events.ts";

/** The NOTIFY channel of streaming events. */
export const STREAMING_CHANNEL = "islet_streaming";

type Visibility = IsletEvents["status.deleted"]["visibility"];

export type StreamingEvent =
  | { type: "status.created" | "status.updated"; statusId: bigint; accountId: bigint }
  | { type: "status.deleted"; statusId: bigint; accountId: bigint; visibility: Visibility; reblogOfId: bigint | null; mentionedAccountIds: bigint[] }
  | { type: "notification.created"; notificationId: bigint; accountId: bigint }
  | { type: "filters.changed"; accountId: bigint }
  | { type: "conversation.updated"; conversationId: bigint; accountId: bigint }
  | { type: "tokens.revoked"; tokenIds: bigint[] };

/** Mentions carried with a deletion, at most: enough to route it, well within the NOTIFY limit. */
const MAX_MENTIONS = 200;

/** Subscribes `forward` to the bus events streaming needs; returns the unsubscriber. */
function onBusEvents(ctx: CoreContext, forward: (event: StreamingEvent) => void | Promise<void>): () => void {
  const offs = [
    ctx.events.on("status.created", ({ statusId, accountId }) => forward({ type: "status.created", statusId, accountId })),
    ctx.events.on("status.updated", ({ statusId, accountId }) => forward({ type: "status.updated", statusId, accountId })),
    ctx.events.on("status.deleted", ({ statusId, accountId, visibility, reblogOfId, mentionedAccountIds }) =>
      forward({ type: "status.deleted", statusId, accountId, visibility, reblogOfId, mentionedAccountIds: mentionedAccountIds.slice(0, MAX_MENTIONS) })),
    ctx.events.on("notification.created", ({ notificationId, accountId }) => forward({ type: "notification.created", notificationId, accountId })),
    ctx.events.on("filters.changed", ({ accountId }) => forward({ type: "filters.changed", accountId })),
    ctx.events.on("conversation.updated", ({ conversationId, accountId }) => forward({ type: "conversation.updated", conversationId, accountId })),
    ctx.events.on("oauth.tokens_revoked", async ({ tokenIds }) => {
      // In slices that stay well within the NOTIFY payload limit.
      for (let i = 0; i < tokenIds.length; i += MAX_MENTIONS) {
        await forward({ type: "tokens.revoked", tokenIds: tokenIds.slice(i, i + MAX_MENTIONS) });
      }
    }),
  ];
  return () => offs.forEach((off) => off());
}

/** The event as NOTIFY payload text. */
export function encodeStreamingEvent(event: StreamingEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

function big(value: unknown): bigint {
  if (typeof value !== "string" || !/^\d+$/.test(value)) throw new Error(`not an id: ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** Reads a NOTIFY payload back; null when it is not a streaming event. */
export function decodeStreamingEvent(text: string): StreamingEvent | null {
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    switch (raw.type) {
      case "status.created":
      case "status.updated":
        return { type: raw.type, statusId: big(raw.statusId), accountId: big(raw.accountId) };
      case "status.deleted":
        return {
          type: "status.deleted",
          statusId: big(raw.statusId),
          accountId: big(raw.accountId),
          visibility: raw.visibility as Visibility,
          reblogOfId: raw.reblogOfId == null ? null : big(raw.reblogOfId),
          mentionedAccountIds: Array.isArray(raw.mentionedAccountIds) ? raw.mentionedAccountIds.map(big) : [],
        };
      case "notification.created":
        return { type: "notification.created", notificationId: big(raw.notificationId), accountId: big(raw.accountId) };
      case "filters.changed":
        return { type: "filters.changed", accountId: big(raw.accountId) };
      case "conversation.updated":
        return { type: "conversation.updated", conversationId: big(raw.conversationId), accountId: big(raw.accountId) };
      case "tokens.revoked":
        return { type: "tokens.revoked", tokenIds: Array.isArray(raw.tokenIds) ? raw.tokenIds.map(big) : [] };
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/**
 * On PostgreSQL, sends the events streaming needs to every process with
 * NOTIFY, as they are raised in this one. Registered in every process;
 * nothing to do on PGlite. Returns a function that unsubscribes.
 */
export function registerStreamingRelay(ctx: CoreContext): () => void {
  if (ctx.database.kind !== "postgres") return () => {};
  return onBusEvents(ctx, async (event) => {
    try {
      await ctx.database.notify(STREAMING_CHANNEL, encodeStreamingEvent(event));
    } catch (error) {
      ctx.log.warn(`streaming: could not relay ${event.type}`, error);
    }
  });
}

/**
 * Calls `onEvent` with every streaming event of the instance, once each:
 * from the bus on PGlite, from LISTEN on PostgreSQL (where
 * {@link registerStreamingRelay} sends them). Resolves to the unsubscriber.
 */
export async function subscribeStreamingEvents(
  ctx: CoreContext,
  onEvent: (event: StreamingEvent) => void,
): Promise<() => Promise<void>> {
  if (ctx.database.kind !== "postgres") {
    const off = onBusEvents(ctx, onEvent);
    return async () => off();
  }
  const unlisten = await ctx.database.listen(STREAMING_CHANNEL, (payload) => {
    const event = decodeStreamingEvent(payload);
    if (event == null) ctx.log.warn("streaming: ignored a malformed notification", payload.slice(0, 200));
    else onEvent(event);
  });
  return unlisten;
}
