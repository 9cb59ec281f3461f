/**
 * Mastodon API: notifications, one by one (v1) and grouped (v2), with the
 * unread counts that the notifications marker defines.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import {
  clearNotifications,
  countUnreadNotificationGroups,
  countUnreadNotifications,
  dismissNotification,
  dismissNotificationGroup,
  getNotification,
  getNotificationGroup,
  getNotificationGroupAccounts,
  listNotificationGroups,
  listNotifications,
  type NotificationFilter,
} from "../core/notifications.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccounts } from "./entities/account.ts";
import {
  serializeNotificationGroups,
  serializeNotifications,
  type MastodonGroupedNotificationsResults,
} from "./entities/notification.ts";
import { notFound } from "./errors.ts";
import { readPage, setLinkHeader } from "./pagination.ts";
import { bodyParams, pathId, queryParams, read } from "./params.ts";

/** The filter parameters shared by the lists and the counts. */
function readFilter(c: Context): NotificationFilter {
  const params = queryParams(c);
  return {
    types: read.strings(params, "types", { max: 50 }),
    excludeTypes: read.strings(params, "exclude_types", { max: 50 }),
    fromAccountId: read.id(params, "account_id"),
  };
}

/** The unread count's cap: `limit`, 100 by default, at most 1000. */
function readCountLimit(c: Context): number {
  const limit = read.integer(queryParams(c), "limit") ?? 100;
  return Math.min(Math.max(limit, 1), 1000);
}

function groupedJson(c: Context, results: MastodonGroupedNotificationsResults): Response {
  return c.json(results);
}

export function notificationsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const origin = core.config.origin;
  const app = new Hono<ApiEnv>();

  // API v1.

  app.get("/api/v1/notifications", async (c) => {
    const ownerId = requireUser(c, "read:notifications");
    const page = await listNotifications(core, ownerId, readFilter(c), readPage(c, 40, 80));
    setLinkHeader(c, origin, page.cursorIds);
    return c.json(await serializeNotifications(core, page, ownerId));
  });

  app.get("/api/v1/notifications/unread_count", async (c) => {
    const ownerId = requireUser(c, "read:notifications");
    return c.json({ count: await countUnreadNotifications(core, ownerId, readFilter(c), readCountLimit(c)) });
  });

  app.post("/api/v1/notifications/clear", async (c) => {
    const ownerId = requireUser(c, "write:notifications");
    await clearNotifications(core, ownerId);
    return c.json({});
  });

  app.get("/api/v1/notifications/:id{[0-9]+}", async (c) => {
    const ownerId = requireUser(c, "read:notifications");
    const page = await getNotification(core, ownerId, pathId(c));
    const [notification] = await serializeNotifications(core, page, ownerId);
    if (notification == null) throw notFound();
    return c.json(notification);
  });

  app.post("/api/v1/notifications/:id{[0-9]+}/dismiss", async (c) => {
    const ownerId = requireUser(c, "write:notifications");
    await dismissNotification(core, ownerId, pathId(c));
    return c.json({});
  });

  // The pre-3.1 form of dismiss, which some clients still send.
  app.post("/api/v1/notifications/dismiss", async (c) => {
    const ownerId = requireUser(c, "write:notifications");
    const id = read.id(await bodyParams(c), "id");
    if (id == null) throw notFound();
    await dismissNotification(core, ownerId, id);
    return c.json({});
  });

  // Notification requests and the policy: Islet filters no notifications
  // by who sends them, so there are never requests, and the policy says
  // "accept" for everyone (a change asked for is answered with it as it is).

  const policyV2 = () => ({
    for_not_following: "accept",
    for_not_followers: "accept",
    for_new_accounts: "accept",
    for_private_mentions: "accept",
    for_limited_accounts: "accept",
    summary: { pending_requests_count: 0, pending_notifications_count: 0 },
  });
  app.get("/api/v2/notifications/policy", (c) => {
    requireUser(c, "read:notifications");
    return c.json(policyV2());
  });
  app.patch("/api/v2/notifications/policy", (c) => {
    requireUser(c, "write:notifications");
    return c.json(policyV2());
  });
  const policyV1 = () => ({
    filter_not_following: false,
    filter_not_followers: false,
    filter_new_accounts: false,
    filter_private_mentions: false,
    summary: { pending_requests_count: 0, pending_notifications_count: 0 },
  });
  app.get("/api/v1/notifications/policy", (c) => {
    requireUser(c, "read:notifications");
    return c.json(policyV1());
  });
  app.put("/api/v1/notifications/policy", (c) => {
    requireUser(c, "write:notifications");
    return c.json(policyV1());
  });
  app.get("/api/v1/notifications/requests", (c) => {
    requireUser(c, "read:notifications");
    return c.json([]);
  });
  app.get("/api/v1/notifications/requests/merged", (c) => {
    requireUser(c, "read:notifications");
    return c.json({ merged: true });
  });
  // Accepting or dismissing many at once: like Mastodon, ids that name no
  // request of the owner's are passed over (here, all of them).
  for (const action of ["accept", "dismiss"] as const) {
    app.post(`/api/v1/notifications/requests/${action}`, async (c) => {
      requireUser(c, "write:notifications");
      read.ids({ ...queryParams(c), ...(await bodyParams(c)) }, "id", { max: 100 });
      return c.json({});
    });
  }
  // One request: there is none to show, accept or dismiss.
  app.get("/api/v1/notifications/requests/:id{[0-9]+}", (c) => {
    requireUser(c, "read:notifications");
    throw notFound();
  });
  for (const action of ["accept", "dismiss"] as const) {
    app.post(`/api/v1/notifications/requests/:id{[0-9]+}/${action}`, (c) => {
      requireUser(c, "write:notifications");
      throw notFound();
    });
  }

  // API v2: grouped.

  app.get("/api/v2/notifications", async (c) => {
    const ownerId = requireUser(c, "read:notifications");
    const params = queryParams(c);
    const expand = read.oneOf(params, "expand_accounts", ["full", "partial_avatars"] as const) ?? "full";
    const filter = { ...readFilter(c), groupedTypes: read.strings(params, "grouped_types", { max: 50 }) };
    const page = await listNotificationGroups(core, ownerId, filter, readPage(c, 40, 80));
    setLinkHeader(c, origin, page.cursorIds);
    return groupedJson(c, await serializeNotificationGroups(core, page, ownerId, { expandAccounts: expand }));
  });

  app.get("/api/v2/notifications/unread_count", async (c) => {
    const ownerId = requireUser(c, "read:notifications");
    const params = queryParams(c);
    const filter = { ...readFilter(c), groupedTypes: read.strings(params, "grouped_types", { max: 50 }) };
    return c.json({ count: await countUnreadNotificationGroups(core, ownerId, filter, readCountLimit(c)) });
  });

  app.get("/api/v2/notifications/:group_key", async (c) => {
    const ownerId = requireUser(c, "read:notifications");
    const page = await getNotificationGroup(core, ownerId, c.req.param("group_key"));
    const results = await serializeNotificationGroups(core, page, ownerId);
    if (results.notification_groups.length === 0) throw notFound();
    return groupedJson(c, results);
  });

  app.get("/api/v2/notifications/:group_key/accounts", async (c) => {
    // Mastodon asks for read:notifications; its documentation says write:notifications.
    const ownerId = requireUser(c, "read:notifications", "write:notifications");
    const accounts = await getNotificationGroupAccounts(core, ownerId, c.req.param("group_key"));
    return c.json(await serializeAccounts(core, accounts));
  });

  app.post("/api/v2/notifications/:group_key/dismiss", async (c) => {
    const ownerId = requireUser(c, "write:notifications");
    await dismissNotificationGroup(core, ownerId, c.req.param("group_key"));
    return c.json({});
  });

  return app;
}
