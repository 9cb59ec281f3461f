/**
 * Web Push as a reaction to `notification.created`: each subscription of
 * the notified account whose alerts include the type and whose policy
 * admits the sender gets a job on the durable "push" queue. The worker
 * builds the message when it runs (so a subscription changed or removed
 * meanwhile is respected), encrypts it for the subscription (aes128gcm, or
 * aesgcm for the older draft), signs it with the VAPID key and posts it.
 *
 * The push service's answer decides what follows: 2xx is done; 404 and 410
 * mean the subscription is gone, so it is removed; 408, 429, 5xx and
 * network errors are retried by the queue with back-off, a bounded number
 * of times; any other answer drops the message with a log line. Requests
 * never wait on a push service: they only enqueue.
 */
import { and, eq, isNull } from "drizzle-orm";
import webPush from "web-push";
import { findAccountById, getOwner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import type { NotificationRow } from "../core/notifications.ts";
import type { Database } from "../db/connect.ts";
import { createJobQueue, type JobQueue, type JobQueueOptions } from "../db/job-queue.ts";
import type { DatabaseMessageQueue } from "../db/message-queue.ts";
import { follows, notifications, oauthTokens, pushSubscriptions, statuses } from "../db/schema.ts";
import { keptAccessToken } from "./access-tokens.ts";
import { ForbiddenEndpointError, postToPushService } from "./endpoint.ts";
import { profileImageUrl } from "../media/profile-images.ts";
import { buildPushPayload, serializePushPayload } from "./payload.ts";
import { alertsOf, removePushSubscription, unsubscribe, type PushAlertType, type PushSubscription } from "./subscriptions.ts";
import { vapidSubject } from "./vapid.ts";

/** The queue's name in `queue_messages`. */
export const PUSH_QUEUE = "push";
/**
 * Attempts before a message is given up: with the queue's back-off (2^n
 * seconds) the last comes a quarter of an hour or so after the first; a
 * notification much later than that is no longer news.
 */
export const PUSH_MAX_ATTEMPTS = 10;
/** How long a push service keeps a message for an offline device (Mastodon's 48 hours). */
export const PUSH_TTL_SECONDS = 48 * 60 * 60;
/** The longest one exchange with a push service may take. */
export const PUSH_TIMEOUT_MS = 30_000;

/** A queued push: which subscription, which notification (ids as strings). */
export interface PushJob {
  subscriptionId: string;
  notificationId: string;
}

/** What the push reactions need of a queue. */
export type PushQueue = JobQueue;

/** The "push" queue over the shared table. */
export function createPushQueue(database: Database, options: JobQueueOptions = {}): DatabaseMessageQueue {
  // The lease is twice the longest exchange with a push service.
  return createJobQueue(database, { name: PUSH_QUEUE, maxAttempts: PUSH_MAX_ATTEMPTS, visibilityTimeoutSeconds: (2 * PUSH_TIMEOUT_MS) / 1000, concurrency: 4 }, options);
}

/** The push service could not take the message now; the queue tries again later. */
export class PushRetryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PushRetryError";
  }
}

async function isFollowing(ctx: CoreContext, accountId: bigint, targetAccountId: bigint): Promise<boolean> {
  const rows = await ctx.db
    .select({ id: follows.id })
    .from(follows)
    .where(and(eq(follows.accountId, accountId), eq(follows.targetAccountId, targetAccountId), eq(follows.state, "accepted")))
    .limit(1);
  return rows.length > 0;
}

/**
 * The subscriptions that want `notification`: of live tokens of the
 * notified account, with its type switched on, whose policy admits the
 * sender. Filtered notifications are not pushed.
 */
export async function pushableSubscriptions(
  ctx: CoreContext,
  notification: Pick<NotificationRow, "accountId" | "fromAccountId" | "type" | "filtered">,
): Promise<PushSubscription[]> {
  if (notification.filtered) return [];
  const rows = await ctx.db
    .select({ subscription: pushSubscriptions })
    .from(pushSubscriptions)
    .innerJoin(oauthTokens, eq(oauthTokens.id, pushSubscriptions.accessTokenId))
    .where(and(eq(oauthTokens.accountId, notification.accountId), isNull(oauthTokens.revokedAt)));
  const wanted = rows
    .map((row) => row.subscription)
    .filter((subscription) => alertsOf(subscription)[notification.type as PushAlertType] === true);
  let followed: Promise<boolean> | undefined;
  let follower: Promise<boolean> | undefined;
  const admitted: PushSubscription[] = [];
  for (const subscription of wanted) {
    switch (subscription.policy) {
      case "all":
        admitted.push(subscription);
        break;
      case "followed":
        followed ??= isFollowing(ctx, notification.accountId, notification.fromAccountId);
        if (await followed) admitted.push(subscription);
        break;
      case "follower":
        follower ??= isFollowing(ctx, notification.fromAccountId, notification.accountId);
        if (await follower) admitted.push(subscription);
        break;
      default:
        break;
    }
  }
  return admitted;
}

/** Queues a push of the notification to each subscription that wants it. */
export async function enqueuePushes(ctx: CoreContext, queue: Pick<PushQueue, "enqueue">, notificationId: bigint): Promise<number> {
  const rows = await ctx.db.select().from(notifications).where(eq(notifications.id, notificationId)).limit(1);
  const notification = rows[0];
  if (notification == null) return 0;
  const subscriptions = await pushableSubscriptions(ctx, notification);
  for (const subscription of subscriptions) {
    const job: PushJob = { subscriptionId: subscription.id.toString(), notificationId: notification.id.toString() };
    await queue.enqueue(job);
  }
  return subscriptions.length;
}

const registered = new WeakSet<CoreContext>();

/**
 * Subscribes the push reaction on `ctx.events`, once per core. Returns a
 * function that unsubscribes it.
 */
export function registerWebPush(ctx: CoreContext, queue: Pick<PushQueue, "enqueue">): () => void {
  if (registered.has(ctx)) return () => {};
  registered.add(ctx);
  const off = ctx.events.on("notification.created", async ({ notificationId }) => {
    await enqueuePushes(ctx, queue, notificationId);
  });
  // A revoked token's subscription goes with it.
  const offRevoked = ctx.events.on("oauth.tokens_revoked", async ({ tokenIds }) => {
    for (const tokenId of tokenIds) await unsubscribe(ctx, tokenId);
  });
  return () => {
    off();
    offRevoked();
    registered.delete(ctx);
  };
}

function isPushJob(value: unknown): value is PushJob {
  const job = value as PushJob | null;
  return job != null && typeof job.subscriptionId === "string" && /^\d{1,19}$/.test(job.subscriptionId) &&
    typeof job.notificationId === "string" && /^\d{1,19}$/.test(job.notificationId);
}

function headerValues(headers: Record<string, unknown>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value != null && name.toLowerCase() !== "content-length") result[name] = String(value);
  }
  return result;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code == null ? error.message : `${error.message} (${code})`;
  }
  return String(error);
}

export interface DeliverOptions {
  timeoutMs?: number;
}

/**
 * Sends one queued push. Resolves when it is done with (sent, or dropped
 * for good); throws {@link PushRetryError} when it should be tried again.
 */
export async function deliverPush(ctx: CoreContext, job: unknown, options: DeliverOptions = {}): Promise<void> {
  const { log, config } = ctx;
  if (!isPushJob(job)) {
    log.error("push: dropped a queued message that is not a push", job);
    return;
  }
  const rows = await ctx.db
    .select({ subscription: pushSubscriptions, revokedAt: oauthTokens.revokedAt })
    .from(pushSubscriptions)
    .innerJoin(oauthTokens, eq(oauthTokens.id, pushSubscriptions.accessTokenId))
    .where(eq(pushSubscriptions.id, BigInt(job.subscriptionId)))
    .limit(1);
  const found = rows[0];
  // Unsubscribed or replaced since: nothing to send.
  if (found == null) return;
  const subscription = found.subscription;
  if (found.revokedAt != null) {
    await removePushSubscription(ctx, subscription);
    return;
  }
  const notification = (await ctx.db.select().from(notifications).where(eq(notifications.id, BigInt(job.notificationId))).limit(1))[0];
  if (notification == null) return;
  const [from, status, owner, accessToken] = await Promise.all([
    findAccountById(ctx, notification.fromAccountId),
    notification.statusId == null
      ? Promise.resolve(null)
      : ctx.db.select().from(statuses).where(eq(statuses.id, notification.statusId)).limit(1).then((rows) => rows[0] ?? null),
    getOwner(ctx),
    keptAccessToken(ctx, subscription.accessTokenId),
  ]);
  if (from == null) return;
  const user = owner?.account.id === notification.accountId ? owner.user : null;
  const payload = serializePushPayload(buildPushPayload({
    notification,
    // The icon is loaded by the device: from this server, never the account's own.
    from: { ...from, avatarUrl: profileImageUrl(config.origin, from, "avatar", "static") },
    status,
    accessToken,
    locale: user?.locale ?? "en",
    origin: config.origin,
  }));

  const endpoint = new URL(subscription.endpoint);
  const where = endpoint.origin;
  let request: ReturnType<typeof webPush.generateRequestDetails>;
  try {
    request = webPush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      payload,
      {
        vapidDetails: {
          subject: vapidSubject(config, user?.email ?? null),
          publicKey: config.vapid.publicKey,
          privateKey: config.vapid.privateKey,
        },
        TTL: PUSH_TTL_SECONDS,
        urgency: "normal",
        contentEncoding: subscription.standard ? "aes128gcm" : "aesgcm",
      },
    );
  } catch (error) {
    // Keys were checked when subscribing; encrypting cannot mend itself.
    log.error(`push: cannot encrypt notification ${notification.id} for ${where}; dropped`, error);
    return;
  }

  let response;
  try {
    response = await postToPushService(subscription.endpoint, headerValues(request.headers), request.body ?? null, {
      allowPrivateAddress: config.allowPrivateAddress,
      timeoutMs: options.timeoutMs ?? PUSH_TIMEOUT_MS,
    });
  } catch (error) {
    if (error instanceof ForbiddenEndpointError) {
      log.warn(`push: dropped notification ${notification.id} for ${where}: ${error.message}`);
      return;
    }
    log.warn(`push: could not reach ${where}: ${describeNetworkError(error)}; trying again later`);
    throw new PushRetryError(`could not reach ${where}: ${describeNetworkError(error)}`, { cause: error });
  }

  const { status: code } = response;
  if (code >= 200 && code < 300) {
    log.debug(`push: sent notification ${notification.id} (${notification.type}) to ${where}`);
    return;
  }
  if (code === 404 || code === 410) {
    await removePushSubscription(ctx, subscription);
    log.info(`push: ${where} answered ${code}: the subscription is gone; removed it`);
    return;
  }
  if (code === 408 || code === 429 || code >= 500) {
    log.warn(`push: ${where} answered ${code}; trying again later`);
    throw new PushRetryError(`${where} answered ${code}`);
  }
  log.warn(`push: ${where} answered ${code} to notification ${notification.id}; dropped it${response.body.trim() === "" ? "" : `: ${response.body.trim().slice(0, 200)}`}`);
}

/** Sends queued pushes until `signal` aborts; resolves once stopped. */
export async function startPushWorker(ctx: CoreContext, queue: PushQueue, signal: AbortSignal, options: DeliverOptions = {}): Promise<void> {
  await queue.listen((job) => deliverPush(ctx, job, options), { signal });
}
