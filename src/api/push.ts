/**
 * Mastodon API: the Web Push subscription of the calling access token.
 *
 * - `POST /api/v1/push/subscription` subscribes (replacing the token's old subscription)
 * - `GET /api/v1/push/subscription` shows it
 * - `PUT /api/v1/push/subscription` changes its alerts and policy
 * - `DELETE /api/v1/push/subscription` removes it
 *
 * All need the `push` scope. `policy` is read from `data[policy]` and, as
 * the PUT documentation and some clients have it, from the top level too.
 */
import { Hono, type Context } from "hono";
import { vapidPublicKey } from "../push/vapid.ts";
import {
  alertsOf,
  findPushSubscription,
  PUSH_ALERT_TYPES,
  PUSH_POLICIES,
  subscribe,
  unsubscribe,
  updatePushSubscription,
  type PushAlerts,
  type PushPolicy,
  type PushSubscription,
} from "../push/subscriptions.ts";
import { bearerToken, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, notFound, unprocessable } from "./errors.ts";
import { bodyParams, type Params } from "./params.ts";

/** Mastodon's WebPushSubscription entity. */
export interface MastodonWebPushSubscription {
  id: string;
  endpoint: string;
  standard: boolean;
  alerts: PushAlerts;
  policy: PushPolicy;
  server_key: string;
}

export function serializeWebPushSubscription(subscription: PushSubscription, serverKey: string): MastodonWebPushSubscription {
  return {
    id: subscription.id.toString(),
    endpoint: subscription.endpoint,
    standard: subscription.standard,
    alerts: alertsOf(subscription),
    policy: subscription.policy,
    server_key: serverKey,
  };
}

function isBlank(value: unknown): boolean {
  return value == null || value === "";
}

/** A boolean as forms and JSON send it; undefined when absent. */
function toBoolean(value: unknown, name: string): boolean | undefined {
  if (isBlank(value)) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
  if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (["true", "1", "on", "t", "yes"].includes(text)) return true;
    if (["false", "0", "off", "f", "no"].includes(text)) return false;
  }
  throw unprocessable(`${name} must be true or false`);
}

function objectAt(value: unknown, name: string): Params | undefined {
  if (isBlank(value)) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw unprocessable(`${name} must be an object`);
  return value as Params;
}

function stringAt(value: unknown, name: string): string {
  if (isBlank(value)) throw unprocessable(`${name} can't be blank`);
  if (typeof value !== "string") throw unprocessable(`${name} must be a string`);
  return value;
}

/** `data[alerts]`: undefined when absent; unknown types are ignored, as Mastodon does. */
function readAlerts(data: Params | undefined): Partial<PushAlerts> | undefined {
  const raw = objectAt(data?.alerts, "data[alerts]");
  if (raw == null) return undefined;
  const alerts: Partial<PushAlerts> = {};
  for (const type of PUSH_ALERT_TYPES) {
    const value = toBoolean(raw[type], `data[alerts][${type}]`);
    if (value !== undefined) alerts[type] = value;
  }
  return alerts;
}

/** `data[policy]`, or a top-level `policy`; undefined when neither is given. */
function readPolicy(params: Params, data: Params | undefined): PushPolicy | undefined {
  const raw = isBlank(data?.policy) ? params.policy : data?.policy;
  if (isBlank(raw)) return undefined;
  if (typeof raw !== "string" || !PUSH_POLICIES.includes(raw as PushPolicy)) {
    throw unprocessable(`policy must be one of ${PUSH_POLICIES.join(", ")}`);
  }
  return raw as PushPolicy;
}

/** The calling token's id, once the `push` scope and a user are checked. */
function pushToken(c: Context<ApiEnv>): bigint {
  requireUser(c, "push");
  return c.get("token")!.tokenId;
}

export function pushRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();
  const serverKey = vapidPublicKey(core.config);
  const path = "/api/v1/push/subscription";

  app.post(path, async (c) => {
    const tokenId = pushToken(c);
    const token = bearerToken(c);
    if (token == null) throw new ApiError(401, "The access token is invalid");
    const params = await bodyParams(c);
    const subscription = objectAt(params.subscription, "subscription");
    if (subscription == null) throw unprocessable("subscription is missing");
    const keys = objectAt(subscription.keys, "subscription[keys]");
    if (keys == null) throw unprocessable("subscription[keys] is missing");
    const data = objectAt(params.data, "data");
    const created = await subscribe(core, { id: tokenId, value: token }, {
      endpoint: stringAt(subscription.endpoint, "subscription[endpoint]"),
      p256dh: stringAt(keys.p256dh, "subscription[keys][p256dh]"),
      auth: stringAt(keys.auth, "subscription[keys][auth]"),
      standard: toBoolean(subscription.standard, "subscription[standard]") ?? false,
      alerts: readAlerts(data) ?? {},
      policy: readPolicy(params, data) ?? "all",
    });
    return c.json(serializeWebPushSubscription(created, serverKey));
  });

  app.get(path, async (c) => {
    const found = await findPushSubscription(core, pushToken(c));
    if (found == null) throw notFound();
    return c.json(serializeWebPushSubscription(found, serverKey));
  });

  app.put(path, async (c) => {
    const tokenId = pushToken(c);
    const params = await bodyParams(c);
    const data = objectAt(params.data, "data");
    const updated = await updatePushSubscription(core, tokenId, { alerts: readAlerts(data), policy: readPolicy(params, data) });
    if (updated == null) throw notFound();
    return c.json(serializeWebPushSubscription(updated, serverKey));
  });

  app.delete(path, async (c) => {
    await unsubscribe(core, pushToken(c));
    return c.json({});
  });

  return app;
}
