/**
 * Notifications as Mastodon's Notification entity (API v1), and notification
 * groups as GroupedNotificationsResults (API v2).
 */
import { accountsByIds } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import {
  STATUS_TYPES,
  getNotification,
  type NotificationGroupPage,
  type NotificationPage,
} from "../../core/notifications.ts";
import { findReport } from "../../core/reports.ts";
import { serializeAccounts, type MastodonAccount } from "./account.ts";
import { profileImageUrl } from "../../media/profile-images.ts";
import { serializeReport, type MastodonReport } from "./report.ts";
import { serializeStatuses } from "./status.ts";

type MastodonStatus = Awaited<ReturnType<typeof serializeStatuses>>[number];

export interface MastodonNotification {
  id: string;
  type: string;
  created_at: string;
  group_key: string;
  account: MastodonAccount;
  /** Only for the types about a status. */
  status?: MastodonStatus;
  /** Only for `admin.report`. */
  report?: MastodonReport;
}

/** The statuses of a page, serialised for the viewer, by id (those that could not be are absent). */
async function statusesOf(
  ctx: CoreContext,
  page: Pick<NotificationPage, "statuses" | "filtered">,
  ids: readonly bigint[],
  viewerId: bigint,
): Promise<Map<bigint, MastodonStatus>> {
  const rows = [...new Set(ids)].flatMap((id) => page.statuses.get(id) ?? []);
  if (rows.length === 0) return new Map();
  const serialized = await serializeStatuses(ctx, rows, viewerId, { filtered: page.filtered });
  return new Map(serialized.map((status) => [BigInt(status.id), status]));
}

/**
 * The notifications of a page, in order. A notification about a status
 * that cannot be shown is left out, as Mastodon does.
 */
export async function serializeNotifications(ctx: CoreContext, page: NotificationPage, viewerId: bigint): Promise<MastodonNotification[]> {
  const rows = page.notifications;
  const [accountRows, statuses] = await Promise.all([
    accountsByIds(ctx, rows.map((row) => row.fromAccountId)),
    statusesOf(ctx, page, rows.flatMap((row) => (row.statusId == null ? [] : [row.statusId])), viewerId),
  ]);
  const senders = [...accountRows.values()];
  const serializedSenders = new Map((await serializeAccounts(ctx, senders)).map((account, i) => [senders[i].id, account]));
  const result: MastodonNotification[] = [];
  for (const row of rows) {
    const account = serializedSenders.get(row.fromAccountId);
    if (account == null) continue;
    const notification: MastodonNotification = {
      id: row.id.toString(),
      type: row.type,
      created_at: row.createdAt.toISOString(),
      group_key: row.groupKey,
      account,
    };
    if (STATUS_TYPES.includes(row.type)) {
      const status = row.statusId == null ? undefined : statuses.get(row.statusId);
      if (status == null) continue;
      notification.status = status;
    }
    if (row.type === "admin.report") {
      const report = row.reportId == null ? null : await findReport(ctx, row.reportId);
      const target = report == null ? undefined : accountRows.get(report.targetAccountId) ?? (await accountsByIds(ctx, [report.targetAccountId])).get(report.targetAccountId);
      // Mastodon leaves out a report notification whose report is gone.
      if (report == null || target == null) continue;
      notification.report = await serializeReport(ctx, report, target);
    }
    result.push(notification);
  }
  return result;
}

/**
 * One notification of the owner as the Notification entity (for streaming
 * and GET /api/v1/notifications/:id); null when it is gone or cannot be shown.
 */
export async function serializeNotificationById(ctx: CoreContext, ownerId: bigint, notificationId: bigint): Promise<MastodonNotification | null> {
  let page: NotificationPage;
  try {
    page = await getNotification(ctx, ownerId, notificationId);
  } catch {
    return null;
  }
  return (await serializeNotifications(ctx, page, ownerId))[0] ?? null;
}

export interface MastodonNotificationGroup {
  group_key: string;
  notifications_count: number;
  type: string;
  /**
   * An integer in Mastodon's JSON; a string here, as every id is, since
   * these ids are past 2^53 and a JavaScript client would read them wrong.
   */
  most_recent_notification_id: string;
  page_min_id: string;
  page_max_id: string;
  latest_page_notification_at: string;
  sample_account_ids: string[];
  status_id?: string;
}

export interface PartialAccountWithAvatar {
  id: string;
  acct: string;
  url: string;
  avatar: string;
  avatar_static: string;
  locked: boolean;
  bot: boolean;
}

export interface MastodonGroupedNotificationsResults {
  accounts: MastodonAccount[];
  partial_accounts?: PartialAccountWithAvatar[];
  statuses: MastodonStatus[];
  notification_groups: MastodonNotificationGroup[];
}

/**
 * A page of notification groups as GroupedNotificationsResults. With
 * `partial_avatars`, only the newest account of each group is in
 * `accounts`; the other sample accounts are in `partial_accounts`.
 */
export async function serializeNotificationGroups(
  ctx: CoreContext,
  page: NotificationGroupPage,
  viewerId: bigint,
  options: { expandAccounts?: "full" | "partial_avatars" } = {},
): Promise<MastodonGroupedNotificationsResults> {
  const statusIds = page.groups.flatMap((group) => (group.statusId != null && STATUS_TYPES.includes(group.type) ? [group.statusId] : []));
  const [accountRows, statuses] = await Promise.all([
    accountsByIds(ctx, page.groups.flatMap((group) => group.sampleAccountIds)),
    statusesOf(ctx, page, statusIds, viewerId),
  ]);
  const groups: MastodonNotificationGroup[] = [];
  const full = new Set<bigint>();
  const partial = new Set<bigint>();
  const shownStatuses = new Map<bigint, MastodonStatus>();
  for (const group of page.groups) {
    const sample = group.sampleAccountIds.filter((id) => accountRows.has(id));
    if (sample.length === 0) continue;
    const entry: MastodonNotificationGroup = {
      group_key: group.groupKey,
      notifications_count: group.notificationsCount,
      type: group.type,
      most_recent_notification_id: group.latest.id.toString(),
      page_min_id: group.pageMinId.toString(),
      page_max_id: group.pageMaxId.toString(),
      latest_page_notification_at: group.latest.createdAt.toISOString(),
      sample_account_ids: sample.map(String),
    };
    if (STATUS_TYPES.includes(group.type)) {
      const status = group.statusId == null ? undefined : statuses.get(group.statusId);
      if (status == null) continue;
      entry.status_id = status.id;
      shownStatuses.set(group.statusId!, status);
    }
    groups.push(entry);
    if (options.expandAccounts === "partial_avatars") {
      full.add(sample[0]);
      for (const id of sample.slice(1)) partial.add(id);
    } else {
      for (const id of sample) full.add(id);
    }
  }
  const fullRows = [...full].map((id) => accountRows.get(id)!);
  const result: MastodonGroupedNotificationsResults = {
    accounts: await serializeAccounts(ctx, fullRows),
    statuses: [...shownStatuses.values()],
    notification_groups: groups,
  };
  if (options.expandAccounts === "partial_avatars") {
    result.partial_accounts = [...partial].filter((id) => !full.has(id)).map((id) => {
      const account = accountRows.get(id)!;
      return {
        id: account.id.toString(),
        acct: account.domain == null ? account.username : `${account.username}@${account.domain}`,
        url: account.url ?? account.uri,
        avatar: profileImageUrl(ctx.config.origin, account, "avatar", "original"),
        avatar_static: profileImageUrl(ctx.config.origin, account, "avatar", account.domain == null ? "original" : "static"),
        locked: account.locked,
        bot: account.bot,
      };
    });
  }
  return result;
}
