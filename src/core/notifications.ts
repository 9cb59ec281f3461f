/**
 * Notifications of the owner: made in reaction to core events (mentions,
 * boosts, favourites, follows, posts of accounts the owner asked to be
 * notified about, edits of boosted posts, closed polls), listed one by one
 * (API v1) or grouped (API v2), counted against the notifications marker.
 *
 * Favourites and boosts of one status, and follows, share a `group_key`
 * while they keep coming: a new one joins the group of the previous one
 * unless that group started 12 hours or more before (Mastodon's rule).
 * Other kinds get `ungrouped-{id}`.
 */
import { and, asc, count, desc, eq, gt, gte, inArray, like, lt, lte, notInArray, sql, type SQL } from "drizzle-orm";
import { accounts, conversationMutes, follows, markers, mentions, notifications, pollVotes, statuses } from "../db/schema.ts";
import { findAccountById, getOwner, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { applyFilters, type FilterMatch } from "./filters.ts";
import { ownerQuotesOf } from "./quotes.ts";
import { idPaging, type IdPage } from "./follows.ts";
import { newId } from "./ids.ts";
import { hidesNotificationsFrom } from "./relationships.ts";

export type NotificationRow = typeof notifications.$inferSelect;
type Status = typeof statuses.$inferSelect;

/** Every notification type Mastodon knows (what `types[]` may name). */
export const NOTIFICATION_TYPES = [
  "mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
  "admin.sign_up", "admin.report", "severed_relationships", "moderation_warning", "quote", "quoted_update",
  // An account the owner followed moved; the follow moved with it (Pleroma and Akkoma name it so).
  "move",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The types that carry a status. */
export const STATUS_TYPES: readonly string[] = ["mention", "status", "reblog", "favourite", "poll", "update", "quote", "quoted_update"];

/** The types grouped under one key (Mastodon: favourite, reblog, follow; admin.sign_up has no use here). */
export const GROUPABLE_TYPES: readonly string[] = ["favourite", "reblog", "follow"];

/** A group is not extended once it has spanned this many hours. */
const MAX_GROUP_SPAN_HOURS = 12;
const HOUR = 3_600_000;

/** How many accounts a notification group shows. */
export const SAMPLE_ACCOUNTS = 8;

export interface NewNotification {
  /** Who is notified (a local account). */
  accountId: bigint;
  fromAccountId: bigint;
  type: NotificationType;
  statusId?: bigint | null;
  /** The report an `admin.report` notification is about. */
  reportId?: bigint | null;
}

/**
 * Stores a notification unless the rules drop it: a notification about
 * oneself (but for polls), from an account the recipient blocks, mutes with
 * its notifications or whose domain it hides, or about a conversation it
 * muted. Emits `notification.created`; returns the row, or null if dropped.
 */
export async function createNotification(ctx: CoreContext, input: NewNotification): Promise<NotificationRow | null> {
  if (input.fromAccountId === input.accountId && input.type !== "poll") return null;
  const [recipient, from] = await Promise.all([findAccountById(ctx, input.accountId), findAccountById(ctx, input.fromAccountId)]);
  if (recipient == null || recipient.domain != null || from == null) return null;
  if (from.id !== recipient.id && await hidesNotificationsFrom(ctx, recipient.id, from)) return null;
  const statusId = input.statusId ?? null;
  if (statusId != null && await conversationMuted(ctx, recipient.id, statusId)) return null;

  const createdAt = new Date();
  const id = newId(createdAt);
  const groupKey = await groupKeyFor(ctx, recipient.id, input.type, statusId, id, createdAt);
  const rows = await ctx.db
    .insert(notifications)
    .values({ id, accountId: recipient.id, fromAccountId: from.id, type: input.type, statusId, reportId: input.reportId ?? null, groupKey, createdAt })
    .returning();
  await ctx.events.emit("notification.created", { notificationId: id, accountId: recipient.id });
  return rows[0];
}

async function conversationMuted(ctx: CoreContext, accountId: bigint, statusId: bigint): Promise<boolean> {
  const rows = await ctx.db
    .select({ one: sql`1` })
    .from(statuses)
    .innerJoin(conversationMutes, and(
      eq(conversationMutes.conversationId, statuses.conversationId),
      eq(conversationMutes.accountId, accountId),
    ))
    .where(eq(statuses.id, statusId))
    .limit(1);
  return rows.length > 0;
}

/**
 * Mastodon's group key: `favourite-{statusId}-{hour}`, `reblog-{statusId}-{hour}`,
 * `follow-{hour}`, where the hour is that of the group's first notification
 * (a later one reuses the previous group's hour while within 12 hours of it);
 * `ungrouped-{id}` for the other types.
 */
async function groupKeyFor(
  ctx: CoreContext,
  accountId: bigint,
  type: string,
  statusId: bigint | null,
  id: bigint,
  createdAt: Date,
): Promise<string> {
  if (!GROUPABLE_TYPES.includes(type) || (type !== "follow" && statusId == null)) return `ungrouped-${id}`;
  const prefix = type === "follow" ? "follow" : `${type}-${statusId}`;
  let hour = Math.floor(createdAt.getTime() / HOUR);
  const previous = await ctx.db
    .select({ groupKey: notifications.groupKey })
    .from(notifications)
    .where(and(eq(notifications.accountId, accountId), like(notifications.groupKey, `${prefix}-%`)))
    .orderBy(desc(notifications.id))
    .limit(1);
  const previousHour = previous.length === 0 ? null : Number(previous[0].groupKey.slice(prefix.length + 1));
  if (previousHour != null && Number.isInteger(previousHour) && hour < previousHour + MAX_GROUP_SPAN_HOURS) hour = previousHour;
  return `${prefix}-${hour}`;
}

const registered = new WeakSet<CoreContext>();

/**
 * Makes notifications for the owner out of core events. Safe to call more
 * than once per core (later calls do nothing); returns a function that
 * unsubscribes (only from the first call).
 */
export function registerNotifications(ctx: CoreContext): () => void {
  if (registered.has(ctx)) return () => {};
  registered.add(ctx);
  const owner = async (): Promise<Account | null> => (await getOwner(ctx))?.account ?? null;
  const status = async (id: bigint): Promise<Status | null> =>
    (await ctx.db.select().from(statuses).where(eq(statuses.id, id)).limit(1))[0] ?? null;

  const offs = [
    ctx.events.on("status.created", async ({ statusId }) => {
      const [me, row] = await Promise.all([owner(), status(statusId)]);
      if (me == null || row == null || row.accountId === me.id) return;
      if (row.reblogOfId != null) {
        const original = await status(row.reblogOfId);
        if (original?.accountId === me.id) {
          await createNotification(ctx, { accountId: me.id, fromAccountId: row.accountId, type: "reblog", statusId: original.id });
        }
        return;
      }
      const mentioned = await ctx.db
        .select({ silent: mentions.silent })
        .from(mentions)
        .where(and(eq(mentions.statusId, row.id), eq(mentions.accountId, me.id)))
        .limit(1);
      if (mentioned.length > 0) {
        if (!mentioned[0].silent) await createNotification(ctx, { accountId: me.id, fromAccountId: row.accountId, type: "mention", statusId: row.id });
        return;
      }
      // A new post (not a reply to someone else) of an account followed with notify.
      if (row.visibility === "direct") return;
      if (row.inReplyToId != null && row.inReplyToAccountId !== row.accountId) return;
      const follow = await ctx.db
        .select({ notify: follows.notify })
        .from(follows)
        .where(and(eq(follows.accountId, me.id), eq(follows.targetAccountId, row.accountId), eq(follows.state, "accepted")))
        .limit(1);
      if (follow[0]?.notify) await createNotification(ctx, { accountId: me.id, fromAccountId: row.accountId, type: "status", statusId: row.id });
    }),

    ctx.events.on("status.updated", async ({ statusId }) => {
      const [me, row] = await Promise.all([owner(), status(statusId)]);
      if (me == null || row == null || row.accountId === me.id) return;
      const boosted = await ctx.db
        .select({ id: statuses.id })
        .from(statuses)
        .where(and(eq(statuses.reblogOfId, row.id), eq(statuses.accountId, me.id)))
        .limit(1);
      if (boosted.length > 0) await createNotification(ctx, { accountId: me.id, fromAccountId: row.accountId, type: "update", statusId: row.id });
      // A post the owner quoted was edited: the notification names the owner's quote.
      for (const { quote } of await ownerQuotesOf(ctx, row.id)) {
        await createNotification(ctx, { accountId: me.id, fromAccountId: row.accountId, type: "quoted_update", statusId: quote.statusId });
      }
    }),

    // Someone's quote of the owner's post was accepted.
    ctx.events.on("quote.accepted", async ({ statusId, quotedStatusId }) => {
      if (quotedStatusId == null) return;
      const [me, quoting, quoted] = await Promise.all([owner(), status(statusId), status(quotedStatusId)]);
      if (me == null || quoting == null || quoted == null || quoted.accountId !== me.id || quoting.accountId === me.id) return;
      await createNotification(ctx, { accountId: me.id, fromAccountId: quoting.accountId, type: "quote", statusId: quoting.id });
    }),

    ctx.events.on("favourite.created", async ({ accountId, statusId }) => {
      const [me, row] = await Promise.all([owner(), status(statusId)]);
      if (me == null || row == null || row.accountId !== me.id) return;
      await createNotification(ctx, { accountId: me.id, fromAccountId: accountId, type: "favourite", statusId: row.id });
    }),

    ctx.events.on("follow.received", async ({ followId, accountId, targetAccountId, pending }) => {
      const me = await owner();
      if (me == null || targetAccountId !== me.id) return;
      // A Follow repeated for a follow already known notifies once.
      const follow = (await ctx.db.select().from(follows).where(eq(follows.id, followId)).limit(1))[0];
      if (follow != null) {
        const seen = await ctx.db
          .select({ id: notifications.id })
          .from(notifications)
          .where(and(
            eq(notifications.accountId, me.id),
            eq(notifications.fromAccountId, accountId),
            inArray(notifications.type, ["follow", "follow_request"]),
            gte(notifications.createdAt, follow.createdAt),
          ))
          .limit(1);
        if (seen.length > 0) return;
      }
      await createNotification(ctx, { accountId: me.id, fromAccountId: accountId, type: pending ? "follow_request" : "follow" });
    }),

    // An answered or withdrawn request is no longer something to act on.
    ctx.events.on("follow.accepted", async ({ accountId, targetAccountId }) => {
      await dropFollowRequestNotifications(ctx, targetAccountId, accountId);
    }),
    ctx.events.on("follow.removed", async ({ accountId, targetAccountId }) => {
      await dropFollowRequestNotifications(ctx, targetAccountId, accountId);
    }),

    ctx.events.on("poll.expired", async ({ pollId, statusId }) => {
      const [me, row] = await Promise.all([owner(), status(statusId)]);
      if (me == null || row == null) return;
      if (row.accountId !== me.id) {
        const voted = await ctx.db
          .select({ id: pollVotes.id })
          .from(pollVotes)
          .where(and(eq(pollVotes.pollId, pollId), eq(pollVotes.accountId, me.id)))
          .limit(1);
        if (voted.length === 0) return;
      }
      await createNotification(ctx, { accountId: me.id, fromAccountId: row.accountId, type: "poll", statusId: row.id });
    }),
  ];
  return () => {
    for (const off of offs) off();
    registered.delete(ctx);
  };
}

async function dropFollowRequestNotifications(ctx: CoreContext, recipientId: bigint, fromId: bigint): Promise<void> {
  await ctx.db.delete(notifications).where(and(
    eq(notifications.accountId, recipientId),
    eq(notifications.fromAccountId, fromId),
    eq(notifications.type, "follow_request"),
  ));
}

/** Which notifications a list or count takes in. */
export interface NotificationFilter {
  /** Only these types (unknown names are ignored; none known: nothing). */
  types?: readonly string[];
  excludeTypes?: readonly string[];
  /** Only those from this account. */
  fromAccountId?: bigint;
}

function filterConditions(accountId: bigint, filter: NotificationFilter): SQL[] | null {
  const conditions: SQL[] = [eq(notifications.accountId, accountId)];
  if (filter.types != null && filter.types.length > 0) {
    const known = filter.types.filter((type) => (NOTIFICATION_TYPES as readonly string[]).includes(type));
    if (known.length === 0) return null;
    conditions.push(inArray(notifications.type, known));
  }
  if (filter.excludeTypes != null && filter.excludeTypes.length > 0) conditions.push(notInArray(notifications.type, [...filter.excludeTypes]));
  if (filter.fromAccountId != null) conditions.push(eq(notifications.fromAccountId, filter.fromAccountId));
  return conditions;
}

/** Notifications with what it takes to show them. */
export interface NotificationPage {
  notifications: NotificationRow[];
  /** The statuses they are about, by id. */
  statuses: Map<bigint, Status>;
  /** Filter results (context `notifications`, action warn or blur) by status id, for Status.filtered. */
  filtered: Map<bigint, FilterMatch[]>;
  /** The ids of every notification the page went over, shown or not: the cursors for Link. */
  cursorIds: bigint[];
}

/**
 * The statuses of these notifications, and the owner's filters applied to
 * them: notifications whose status a `hide` filter matched are dropped
 * (the owner's own statuses are never filtered).
 */
async function withStatuses(ctx: CoreContext, accountId: bigint, rows: NotificationRow[]): Promise<Omit<NotificationPage, "cursorIds">> {
  const ids = [...new Set(rows.flatMap((row) => (row.statusId == null ? [] : [row.statusId])))];
  const statusRows = ids.length === 0 ? [] : await ctx.db.select().from(statuses).where(inArray(statuses.id, ids));
  const byId = new Map(statusRows.map((row) => [row.id, row]));
  const others = statusRows.filter((row) => row.accountId !== accountId);
  const { visible, filtered } = await applyFilters(ctx, accountId, "notifications", others);
  const shown = new Set(visible.map((row) => row.id));
  const hidden = new Set(others.filter((row) => !shown.has(row.id)).map((row) => row.id));
  return {
    notifications: rows.filter((row) => row.statusId == null || (byId.has(row.statusId) && !hidden.has(row.statusId))),
    statuses: byId,
    filtered,
  };
}

/** One page of the account's notifications, newest first (API v1). */
export async function listNotifications(
  ctx: CoreContext,
  accountId: bigint,
  filter: NotificationFilter,
  page: IdPage,
): Promise<NotificationPage> {
  const conditions = filterConditions(accountId, filter);
  if (conditions == null) return { notifications: [], statuses: new Map(), filtered: new Map(), cursorIds: [] };
  const { conditions: cursor, order, forward } = idPaging(notifications.id, page);
  const rows = await ctx.db
    .select()
    .from(notifications)
    .where(and(...conditions, ...cursor))
    .orderBy(order)
    .limit(page.limit);
  if (forward) rows.reverse();
  return { ...(await withStatuses(ctx, accountId, rows)), cursorIds: rows.map((row) => row.id) };
}

/** One notification of the account, with its status; not found otherwise. */
export async function getNotification(ctx: CoreContext, accountId: bigint, id: bigint): Promise<NotificationPage> {
  const rows = await ctx.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.accountId, accountId), eq(notifications.id, id)))
    .limit(1);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  const page = await withStatuses(ctx, accountId, rows);
  // A filter hiding it does not make it vanish when asked for by id.
  return { ...page, notifications: rows, cursorIds: [id] };
}

/** Deletes one notification; not found when the account has no such notification. */
export async function dismissNotification(ctx: CoreContext, accountId: bigint, id: bigint): Promise<void> {
  const rows = await ctx.db
    .delete(notifications)
    .where(and(eq(notifications.accountId, accountId), eq(notifications.id, id)))
    .returning({ id: notifications.id });
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
}

/** Deletes every notification of the account. */
export async function clearNotifications(ctx: CoreContext, accountId: bigint): Promise<void> {
  await ctx.db.delete(notifications).where(eq(notifications.accountId, accountId));
}

/** The id of the last notification the account has read (its notifications marker), if any. */
async function lastReadNotificationId(ctx: CoreContext, accountId: bigint): Promise<bigint | null> {
  const rows = await ctx.db
    .select({ lastReadId: markers.lastReadId })
    .from(markers)
    .where(and(eq(markers.accountId, accountId), eq(markers.timeline, "notifications")))
    .limit(1);
  const value = rows[0]?.lastReadId;
  return value != null && /^\d{1,19}$/.test(value) ? BigInt(value) : null;
}

/** The filter's conditions, limited to notifications newer than the marker; null when nothing can match. */
async function unreadConditions(ctx: CoreContext, accountId: bigint, filter: NotificationFilter): Promise<SQL[] | null> {
  const conditions = filterConditions(accountId, filter);
  if (conditions == null) return null;
  const lastRead = await lastReadNotificationId(ctx, accountId);
  if (lastRead != null) conditions.push(gt(notifications.id, lastRead));
  return conditions;
}

/** How many notifications are newer than the notifications marker, counting at most `limit`. */
export async function countUnreadNotifications(
  ctx: CoreContext,
  accountId: bigint,
  filter: NotificationFilter,
  limit: number,
): Promise<number> {
  const conditions = await unreadConditions(ctx, accountId, filter);
  if (conditions == null) return 0;
  const capped = ctx.db.select({ id: notifications.id }).from(notifications).where(and(...conditions)).limit(limit).as("capped");
  const rows = await ctx.db.select({ n: count() }).from(capped);
  return Number(rows[0]?.n ?? 0);
}

/** The key a notification is grouped under, given the types the client lets be grouped. */
export function effectiveGroupKey(row: NotificationRow, groupedTypes?: readonly string[] | null): string {
  const groupable = groupedTypes == null || groupedTypes.length === 0 ? GROUPABLE_TYPES : groupedTypes;
  return groupable.includes(row.type) && !row.groupKey.startsWith("ungrouped-") ? row.groupKey : `ungrouped-${row.id}`;
}

/** How many notification groups are unread, over at most `limit` unread notifications. */
export async function countUnreadNotificationGroups(
  ctx: CoreContext,
  accountId: bigint,
  filter: NotificationFilter & { groupedTypes?: readonly string[] },
  limit: number,
): Promise<number> {
  const conditions = await unreadConditions(ctx, accountId, filter);
  if (conditions == null) return 0;
  const rows = await ctx.db
    .select()
    .from(notifications)
    .where(and(...conditions))
    .orderBy(desc(notifications.id))
    .limit(limit);
  return new Set(rows.map((row) => effectiveGroupKey(row, filter.groupedTypes))).size;
}

/** A group of notifications as GroupedNotificationsResults shows it. */
export interface NotificationGroup {
  groupKey: string;
  type: string;
  /** The newest notification of the group within the page. */
  latest: NotificationRow;
  notificationsCount: number;
  /** Newest first, at most {@link SAMPLE_ACCOUNTS}, distinct. */
  sampleAccountIds: bigint[];
  statusId: bigint | null;
  pageMinId: bigint;
  pageMaxId: bigint;
}

export interface NotificationGroupPage {
  groups: NotificationGroup[];
  statuses: Map<bigint, Status>;
  filtered: Map<bigint, FilterMatch[]>;
  /** The ids of every notification the page went over: the cursors for Link. */
  cursorIds: bigint[];
}

/**
 * One page of notification groups (API v2), newest first: `limit` groups,
 * each with the notifications of the page that belong to it, its total
 * count and sample accounts up to its newest notification on the page.
 */
export async function listNotificationGroups(
  ctx: CoreContext,
  accountId: bigint,
  filter: NotificationFilter & { groupedTypes?: readonly string[] },
  page: IdPage,
): Promise<NotificationGroupPage> {
  const empty: NotificationGroupPage = { groups: [], statuses: new Map(), filtered: new Map(), cursorIds: [] };
  const conditions = filterConditions(accountId, filter);
  if (conditions == null) return empty;
  const { conditions: cursor, forward } = idPaging(notifications.id, page);
  const batchSize = 200;
  const members = new Map<string, NotificationRow[]>();
  const statusMap = new Map<bigint, Status>();
  const filtered = new Map<bigint, FilterMatch[]>();
  const cursorIds: bigint[] = [];
  let boundary: SQL | null = null;
  scan: for (;;) {
    const batch: NotificationRow[] = await ctx.db
      .select()
      .from(notifications)
      .where(and(...conditions, ...cursor, ...(boundary == null ? [] : [boundary])))
      .orderBy(forward ? asc(notifications.id) : desc(notifications.id))
      .limit(batchSize);
    if (batch.length === 0) break;
    const last: bigint = batch[batch.length - 1].id;
    boundary = forward ? gt(notifications.id, last) : lt(notifications.id, last);
    const shown = await withStatuses(ctx, accountId, batch);
    for (const [id, row] of shown.statuses) statusMap.set(id, row);
    for (const [id, results] of shown.filtered) filtered.set(id, results);
    const kept = new Set(shown.notifications.map((row) => row.id));
    for (const row of batch) {
      const key = effectiveGroupKey(row, filter.groupedTypes);
      if (kept.has(row.id) && !members.has(key)) {
        if (members.size >= page.limit) break scan;
        members.set(key, []);
      }
      cursorIds.push(row.id);
      if (kept.has(row.id)) members.get(key)!.push(row);
    }
    if (batch.length < batchSize) break;
  }
  if (members.size === 0) return { ...empty, cursorIds };

  // Totals and sample accounts of the real groups, up to each group's newest notification here.
  const grouped = [...members.keys()].filter((key) => !key.startsWith("ungrouped-"));
  const newestOf = (rows: NotificationRow[]) => rows.reduce((a, b) => (a.id > b.id ? a : b));
  const ceiling = [...members.values()].map((rows) => newestOf(rows).id).reduce((a, b) => (a > b ? a : b));
  const everyMember = grouped.length === 0 ? [] : await ctx.db
    .select({ id: notifications.id, groupKey: notifications.groupKey, fromAccountId: notifications.fromAccountId })
    .from(notifications)
    .where(and(eq(notifications.accountId, accountId), inArray(notifications.groupKey, grouped), lte(notifications.id, ceiling)))
    .orderBy(desc(notifications.id));

  const groups = [...members.entries()].map(([groupKey, rows]): NotificationGroup => {
    const latest = newestOf(rows);
    const oldest = rows.reduce((a, b) => (a.id < b.id ? a : b));
    let notificationsCount = 1;
    let sampleAccountIds = [latest.fromAccountId];
    if (!groupKey.startsWith("ungrouped-")) {
      const all = everyMember.filter((member) => member.groupKey === groupKey && member.id <= latest.id);
      notificationsCount = Math.max(all.length, rows.length);
      sampleAccountIds = [...new Set(all.map((member) => member.fromAccountId))].slice(0, SAMPLE_ACCOUNTS);
      if (sampleAccountIds.length === 0) sampleAccountIds = [latest.fromAccountId];
    }
    return {
      groupKey,
      type: latest.type,
      latest,
      notificationsCount,
      sampleAccountIds,
      statusId: latest.statusId,
      pageMinId: oldest.id,
      pageMaxId: latest.id,
    };
  });
  groups.sort((a, b) => (a.latest.id > b.latest.id ? -1 : a.latest.id < b.latest.id ? 1 : 0));
  return { groups, statuses: statusMap, filtered, cursorIds };
}

/** The notifications of a group key (`ungrouped-{id}` names one), newest first. */
async function groupMembers(ctx: CoreContext, accountId: bigint, groupKey: string): Promise<NotificationRow[]> {
  const single = /^ungrouped-(\d{1,19})$/.exec(groupKey);
  return await ctx.db
    .select()
    .from(notifications)
    .where(and(
      eq(notifications.accountId, accountId),
      single == null ? eq(notifications.groupKey, groupKey) : eq(notifications.id, BigInt(single[1])),
    ))
    .orderBy(desc(notifications.id));
}

/** One notification group by key, whole; not found when it has no notifications. */
export async function getNotificationGroup(ctx: CoreContext, accountId: bigint, groupKey: string): Promise<NotificationGroupPage> {
  const rows = await groupMembers(ctx, accountId, groupKey);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  const shown = await withStatuses(ctx, accountId, rows);
  const latest = rows[0];
  return {
    groups: [{
      groupKey,
      type: latest.type,
      latest,
      notificationsCount: rows.length,
      sampleAccountIds: [...new Set(rows.map((row) => row.fromAccountId))].slice(0, SAMPLE_ACCOUNTS),
      statusId: latest.statusId,
      pageMinId: rows[rows.length - 1].id,
      pageMaxId: latest.id,
    }],
    statuses: shown.statuses,
    filtered: shown.filtered,
    cursorIds: rows.map((row) => row.id),
  };
}

/** The accounts of a notification group, newest first, each once; not found when the group is empty. */
export async function getNotificationGroupAccounts(ctx: CoreContext, accountId: bigint, groupKey: string): Promise<Account[]> {
  const rows = await groupMembers(ctx, accountId, groupKey);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  const ids = [...new Set(rows.map((row) => row.fromAccountId))];
  const found = await ctx.db.select().from(accounts).where(inArray(accounts.id, ids));
  const byId = new Map(found.map((row) => [row.id, row]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Deletes the notifications of a group. An `ungrouped-{id}` key that names
 * no notification is not found; an unknown group key is simply nothing to do.
 */
export async function dismissNotificationGroup(ctx: CoreContext, accountId: bigint, groupKey: string): Promise<void> {
  const single = /^ungrouped-(\d{1,19})$/.exec(groupKey);
  if (single != null) {
    await dismissNotification(ctx, accountId, BigInt(single[1]));
    return;
  }
  await ctx.db.delete(notifications).where(and(eq(notifications.accountId, accountId), eq(notifications.groupKey, groupKey)));
}
