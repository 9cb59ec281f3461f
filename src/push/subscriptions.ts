/**
 * Web Push subscriptions, as Mastodon keeps them: at most one per access
 * token (a new one replaces the old), holding where to push (the endpoint),
 * the user agent's keys (RFC 8291: a P-256 public key and a 16-byte auth
 * secret), which notification types to push (alerts) and from whom (policy).
 */
import { createECDH } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { CoreContext } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { newId } from "../core/ids.ts";
import { pushSubscriptions } from "../db/schema.ts";
import { forgetAccessToken, keepAccessToken } from "./access-tokens.ts";
import { endpointProblem } from "./endpoint.ts";

export type PushSubscription = typeof pushSubscriptions.$inferSelect;

/** The notification types a subscription can switch on (Mastodon 4.5's list). */
export const PUSH_ALERT_TYPES = [
  "mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
  "admin.sign_up", "admin.report", "quote", "quoted_update",
] as const;
export type PushAlertType = (typeof PUSH_ALERT_TYPES)[number];
export type PushAlerts = Record<PushAlertType, boolean>;

/**
 * Whose notifications are pushed: anyone's, those of accounts the owner
 * follows, those of the owner's followers, or nobody's.
 */
export const PUSH_POLICIES = ["all", "followed", "follower", "none"] as const;
export type PushPolicy = (typeof PUSH_POLICIES)[number];

/** The longest endpoint URL taken. */
export const MAX_ENDPOINT_LENGTH = 2048;

export interface PushSubscriptionInput {
  endpoint: string;
  /** The user agent's public key, base64 or base64url. */
  p256dh: string;
  /** The auth secret, base64 or base64url. */
  auth: string;
  /** RFC 8291 (aes128gcm) rather than the older aesgcm draft. */
  standard: boolean;
  /** Types switched on or off; the others are off. */
  alerts: Partial<PushAlerts>;
  policy: PushPolicy;
}

/** Bytes of base64 or base64url text (padding optional), or null. */
function decodeKey(text: string): Buffer | null {
  const bare = text.trim().replace(/=+$/, "");
  if (bare === "" || !/^[A-Za-z0-9+/_-]+$/.test(bare) || bare.length % 4 === 1) return null;
  return Buffer.from(bare.replace(/\+/g, "-").replace(/\//g, "_"), "base64url");
}

/** Checks `p256dh`: an uncompressed point on P-256. Returns it as base64url. */
export function checkP256dh(value: string): string {
  const bytes = decodeKey(value);
  if (bytes == null || bytes.length !== 65 || bytes[0] !== 4) {
    throw new CoreError("invalid", "subscription[keys][p256dh] must be an uncompressed P-256 public key (65 bytes, base64url)");
  }
  try {
    // Refuses a point that is not on the curve.
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    ecdh.computeSecret(bytes);
  } catch {
    throw new CoreError("invalid", "subscription[keys][p256dh] is not a point on the P-256 curve");
  }
  return bytes.toString("base64url");
}

/** Checks `auth`: 16 bytes. Returns it as base64url. */
export function checkAuthSecret(value: string): string {
  const bytes = decodeKey(value);
  if (bytes == null || bytes.length !== 16) {
    throw new CoreError("invalid", "subscription[keys][auth] must be 16 bytes in base64url");
  }
  return bytes.toString("base64url");
}

/** Checks the endpoint: an https URL (http too with ALLOW_PRIVATE_ADDRESS), not a private address. */
export function checkEndpoint(ctx: Pick<CoreContext, "config">, endpoint: string): string {
  const value = endpoint.trim();
  if (value === "") throw new CoreError("invalid", "subscription[endpoint] can't be blank");
  if (value.length > MAX_ENDPOINT_LENGTH) {
    throw new CoreError("invalid", `subscription[endpoint] is too long (maximum is ${MAX_ENDPOINT_LENGTH} characters)`);
  }
  const problem = endpointProblem(value, ctx.config.allowPrivateAddress);
  if (problem != null) throw new CoreError("invalid", `subscription[endpoint] ${problem.replace(/^endpoint /, "")}`);
  return value;
}

/** Every type, switched on where `changes` says so (missing types are off). */
export function completeAlerts(changes: Partial<Record<string, unknown>>): PushAlerts {
  const alerts = {} as PushAlerts;
  for (const type of PUSH_ALERT_TYPES) alerts[type] = changes[type] === true;
  return alerts;
}

/** The stored alerts of a subscription, every type present. */
export function alertsOf(subscription: Pick<PushSubscription, "alerts">): PushAlerts {
  return completeAlerts(subscription.alerts ?? {});
}

/**
 * Subscribes the access token `token` (its id and its value, which push
 * messages carry), replacing any subscription it had.
 */
export async function subscribe(
  ctx: CoreContext,
  token: { id: bigint; value: string },
  input: PushSubscriptionInput,
): Promise<PushSubscription> {
  const endpoint = checkEndpoint(ctx, input.endpoint);
  const p256dh = checkP256dh(input.p256dh);
  const auth = checkAuthSecret(input.auth);
  if (!PUSH_POLICIES.includes(input.policy)) throw new CoreError("invalid", `policy must be one of ${PUSH_POLICIES.join(", ")}`);
  const now = new Date();
  const values = {
    endpoint,
    p256dh,
    auth,
    standard: input.standard,
    alerts: completeAlerts(input.alerts),
    policy: input.policy,
    createdAt: now,
    updatedAt: now,
  };
  await keepAccessToken(ctx, token.id, token.value);
  // A new subscription, with a new id, in place of the token's old one.
  const rows = await ctx.db
    .insert(pushSubscriptions)
    .values({ id: newId(now), accessTokenId: token.id, ...values })
    .onConflictDoUpdate({ target: pushSubscriptions.accessTokenId, set: { id: sql`excluded.id`, ...values } })
    .returning();
  return rows[0];
}

/** The subscription of an access token, or null. */
export async function findPushSubscription(ctx: CoreContext, accessTokenId: bigint): Promise<PushSubscription | null> {
  const rows = await ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.accessTokenId, accessTokenId)).limit(1);
  return rows[0] ?? null;
}

export interface PushSubscriptionChanges {
  /** When given, replaces the alerts (types not named are off). */
  alerts?: Partial<PushAlerts>;
  policy?: PushPolicy;
}

/** Changes the alerts and policy of the token's subscription; null when it has none. */
export async function updatePushSubscription(
  ctx: CoreContext,
  accessTokenId: bigint,
  changes: PushSubscriptionChanges,
): Promise<PushSubscription | null> {
  if (changes.policy != null && !PUSH_POLICIES.includes(changes.policy)) {
    throw new CoreError("invalid", `policy must be one of ${PUSH_POLICIES.join(", ")}`);
  }
  const set: Partial<typeof pushSubscriptions.$inferInsert> = { updatedAt: new Date() };
  if (changes.alerts != null) set.alerts = completeAlerts(changes.alerts);
  if (changes.policy != null) set.policy = changes.policy;
  const rows = await ctx.db
    .update(pushSubscriptions)
    .set(set)
    .where(eq(pushSubscriptions.accessTokenId, accessTokenId))
    .returning();
  return rows[0] ?? null;
}

/** Removes the token's subscription, if any. */
export async function unsubscribe(ctx: CoreContext, accessTokenId: bigint): Promise<void> {
  await ctx.db.delete(pushSubscriptions).where(eq(pushSubscriptions.accessTokenId, accessTokenId));
  await forgetAccessToken(ctx, accessTokenId);
}

/** Removes a subscription by its id (the push service said it is gone). */
export async function removePushSubscription(ctx: CoreContext, subscription: Pick<PushSubscription, "id" | "accessTokenId">): Promise<void> {
  const removed = await ctx.db
    .delete(pushSubscriptions)
    .where(eq(pushSubscriptions.id, subscription.id))
    .returning({ id: pushSubscriptions.id });
  if (removed.length > 0) await forgetAccessToken(ctx, subscription.accessTokenId);
}
