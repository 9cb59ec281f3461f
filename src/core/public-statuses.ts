/**
 * What the public web shows of the owner, to anyone, without signing in:
 * one post with the thread around it, the profile's pages of posts (public
 * only: unlisted posts have a page of their own but are listed nowhere),
 * the posts under a hashtag, and the profile's summary (counts, featured
 * tags, pictures). Each post comes with everything a page or a feed shows
 * of it (author, media, mentions, tags, poll), loaded in a fixed number of
 * queries whatever the number of posts.
 */
import { and, desc, eq, exists, isNull, lt, max, not, or, sql, type SQL } from "drizzle-orm";
import { mediaAttachments, statusPins, statuses, statusTags, tags } from "../db/schema.ts";
import { profileImageUrl } from "../media/profile-images.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { listEndorsements } from "./endorsements.ts";
import { getFeaturedTags } from "./featured-tags.ts";
import { countFollows } from "./follows.ts";
import type { MediaAttachment } from "./media.ts";
import type { PollRow } from "./polls.ts";
import { getPreferences } from "./profile.ts";
import { findStatuses, findStatusWithAuthor, type StatusRow } from "./statuses/rows.ts";
import { loadStatusDetails } from "./statuses/details.ts";
import { statusContext } from "./statuses/thread.ts";
import { normalizeTagName, type Tag } from "./tags.ts";
import { hiddenAuthorIds } from "./visibility.ts";

/** A media file as a page shows it: where to load it and its preview. */
export interface PublicMedia {
  id: bigint;
  type: MediaAttachment["type"];
  contentType: string;
  /** Null for a remote file of a kind this server does not handle and has no address for. */
  url: string | null;
  previewUrl: string | null;
  description: string | null;
  width: number | null;
  height: number | null;
  fileSize: number | null;
}

/** A post with what a page or a feed shows of it. */
export interface PublicStatus {
  status: StatusRow;
  author: Account;
  /** The author's avatar, always on this server. */
  avatarUrl: string;
  media: PublicMedia[];
  mentions: Account[];
  tags: Tag[];
  poll: PollRow | null;
  /** For a boost: the boosted post (the row itself has no content). */
  reblog: PublicStatus | null;
  /** Whether it is the owner's pinned post (profile pages only). */
  pinned: boolean;
}

/** The statuses the public may see listed: public posts, and boosts of them. */
const LISTED = eq(statuses.visibility, "public");

function mediaView(origin: string, row: MediaAttachment): PublicMedia {
  const proxied = row.fileKey == null && row.remoteUrl != null && row.type !== "unknown";
  const url = row.fileKey != null
    ? `${origin}/system/${row.fileKey}`
    : proxied ? `${origin}/media_proxy/${row.id}/original` : row.remoteUrl;
  const previewUrl = row.previewKey != null
    ? `${origin}/system/${row.previewKey}`
    : proxied && (row.type === "image" || row.type === "gifv")
      ? `${origin}/media_proxy/${row.id}/small`
      : row.type === "image" || row.type === "gifv" ? url : null;
  const original = row.meta?.original;
  return {
    id: row.id,
    type: row.type,
    contentType: row.contentType,
    url,
    previewUrl,
    description: row.description,
    width: typeof original?.width === "number" ? original.width : null,
    height: typeof original?.height === "number" ? original.height : null,
    fileSize: row.fileSize,
  };
}

/**
 * Loads what pages show of `rows` (boosts with their originals), in their
 * order. `pinnedIds` marks pinned posts.
 */
export async function loadPublicStatuses(ctx: CoreContext, rows: readonly StatusRow[], pinnedIds: ReadonlySet<bigint> = new Set()): Promise<PublicStatus[]> {
  if (rows.length === 0) return [];
  // The same batch the API's statuses are shown with, as nobody in particular sees them.
  const details = await loadStatusDetails(ctx, rows, null);
  const all = details.statuses;
  const origin = ctx.config.origin;
  const accountById = new Map(details.accounts.map((row) => [row.id, row]));
  const one = (row: StatusRow, nested: boolean): PublicStatus | null => {
    const author = accountById.get(row.accountId);
    if (author == null) return null;
    const original = row.reblogOfId == null ? null : all.get(row.reblogOfId);
    const reblog = original == null || nested ? null : one(original, true);
    if (row.reblogOfId != null && reblog == null) return null;
    return {
      status: row,
      author,
      avatarUrl: profileImageUrl(origin, author, "avatar", "original"),
      media: (details.media.get(row.id) ?? []).map((media) => mediaView(origin, media)),
      mentions: details.mentions.get(row.id) ?? [],
      tags: details.tags.get(row.id) ?? [],
      poll: details.polls.get(row.id) ?? null,
      reblog,
      pinned: pinnedIds.has(row.id),
    };
  };
  return rows.map((row) => one(row, false)).filter((view) => view != null);
}

/** A post's page: the post and the public thread around it. */
export interface PublicThread {
  status: PublicStatus;
  /** Oldest first. */
  ancestors: PublicStatus[];
  /** Depth first, as the thread goes. */
  descendants: PublicStatus[];
}

/**
 * The owner's post `id` as the public sees it, with its thread (leaving
 * out the accounts the owner blocks or mutes); null when
 * there is no such post of `username` here, or it is followers-only,
 * direct, or a boost. Unlisted posts are found: they are only not listed.
 */
export async function findPublicThread(ctx: CoreContext, username: string, id: bigint): Promise<PublicThread | null> {
  const found = await findStatusWithAuthor(ctx, id);
  if (found == null) return null;
  const { status, author } = found;
  if (author.domain != null || author.username.toLowerCase() !== username.toLowerCase()) return null;
  if (status.reblogOfId != null || (status.visibility !== "public" && status.visibility !== "unlisted")) return null;
  // The public's view of the thread, without the accounts the owner blocks or mutes.
  const [thread, hidden] = await Promise.all([statusContext(ctx, status, null), hiddenAuthorIds(ctx, author.id)]);
  const shown = (row: StatusRow) => !hidden.has(row.accountId);
  const views = await loadPublicStatuses(ctx, [...thread.ancestors.filter(shown), status, ...thread.descendants.filter(shown)]);
  const index = views.findIndex((view) => view.status.id === status.id);
  if (index < 0) return null;
  return { status: views[index], ancestors: views.slice(0, index), descendants: views.slice(index + 1) };
}

/** Which of the profile's lists: Mastodon's three tabs. */
export type ProfileTab = "posts" | "replies" | "media";

export interface PublicPageQuery {
  /** Posts older than this id (the next page's `max_id`). */
  maxId?: bigint;
  limit: number;
}

/** A page of posts; `nextMaxId` is where the following page starts, null at the end. */
export interface PublicStatusPage {
  statuses: PublicStatus[];
  nextMaxId: bigint | null;
}

/** The account's pinned public posts, the latest pinned first. */
async function pinnedRows(ctx: CoreContext, accountId: bigint): Promise<StatusRow[]> {
  const rows = await ctx.db
    .select({ status: statuses })
    .from(statusPins)
    .innerJoin(statuses, eq(statuses.id, statusPins.statusId))
    .where(and(eq(statusPins.accountId, accountId), eq(statuses.accountId, accountId), LISTED))
    .orderBy(desc(statusPins.id));
  return rows.map((row) => row.status);
}

/** One page of rows under `conditions`, newest first, boosts of posts that are not public left out. */
async function pageRows(ctx: CoreContext, conditions: (SQL | undefined)[], query: PublicPageQuery): Promise<{ rows: StatusRow[]; nextMaxId: bigint | null }> {
  const where = [...conditions];
  if (query.maxId != null) where.push(lt(statuses.id, query.maxId));
  const rows = await ctx.db
    .select()
    .from(statuses)
    .where(and(...where))
    .orderBy(desc(statuses.id))
    .limit(query.limit + 1);
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  // A boost is listed only when its original is public too.
  const originals = await findStatuses(ctx, page.filter((row) => row.reblogOfId != null).map((row) => row.reblogOfId!));
  const publicOriginals = new Set(originals.filter((row) => row.visibility === "public").map((row) => row.id));
  return {
    rows: page.filter((row) => row.reblogOfId == null || publicOriginals.has(row.reblogOfId)),
    nextMaxId: more ? page[page.length - 1].id : null,
  };
}

async function pageOf(ctx: CoreContext, conditions: (SQL | undefined)[], query: PublicPageQuery): Promise<PublicStatusPage> {
  const { rows, nextMaxId } = await pageRows(ctx, conditions, query);
  return { statuses: await loadPublicStatuses(ctx, rows), nextMaxId };
}

/**
 * One page of the account's public posts under `tab`, newest first. On the
 * first page of "posts" and "replies" the pinned posts come first (and are
 * not repeated below). Boosts are listed under "posts" and "replies".
 */
export async function listPublicProfileStatuses(ctx: CoreContext, account: Account, tab: ProfileTab, query: PublicPageQuery): Promise<PublicStatusPage> {
  const conditions: (SQL | undefined)[] = [eq(statuses.accountId, account.id), LISTED];
  if (tab === "posts") {
    // Replies to oneself (threads) stay, as on Mastodon.
    conditions.push(or(isNull(statuses.inReplyToId), eq(statuses.inReplyToAccountId, account.id)));
  }
  if (tab === "media") {
    conditions.push(isNull(statuses.reblogOfId));
    conditions.push(exists(ctx.db.select({ one: sql`1` }).from(mediaAttachments).where(eq(mediaAttachments.statusId, statuses.id))));
    return await pageOf(ctx, conditions, query);
  }
  conditions.push(not(exists(ctx.db.select({ one: sql`1` }).from(statusPins).where(and(
    eq(statusPins.statusId, statuses.id),
    eq(statusPins.accountId, account.id),
  )))));
  const [pinned, page] = await Promise.all([
    query.maxId == null ? pinnedRows(ctx, account.id) : Promise.resolve([]),
    pageRows(ctx, conditions, query),
  ]);
  const pinnedIds = new Set(pinned.map((row) => row.id));
  return { statuses: await loadPublicStatuses(ctx, [...pinned, ...page.rows], pinnedIds), nextMaxId: page.nextMaxId };
}

/**
 * The account's latest public posts for its feed: no boosts, no replies
 * to others (threads stay), nothing pinned put first.
 */
export async function listPublicFeedStatuses(ctx: CoreContext, account: Account, limit: number): Promise<PublicStatus[]> {
  const page = await pageOf(ctx, [
    eq(statuses.accountId, account.id),
    LISTED,
    isNull(statuses.reblogOfId),
    or(isNull(statuses.inReplyToId), eq(statuses.inReplyToAccountId, account.id)),
  ], { limit });
  return page.statuses;
}

/**
 * One page of the account's public posts carrying the hashtag `name`
 * (any case, with or without `#`), newest first; null when no post here
 * ever used the tag. Boosts are not listed.
 */
export async function listPublicTagStatuses(
  ctx: CoreContext,
  account: Account,
  name: string,
  query: PublicPageQuery,
): Promise<{ tag: Tag; page: PublicStatusPage } | null> {
  const normalized = normalizeTagName(name.replace(/^#/, ""));
  const [tag] = await ctx.db.select().from(tags).where(eq(tags.name, normalized)).limit(1);
  if (tag == null) return null;
  const page = await pageOf(ctx, [
    eq(statuses.accountId, account.id),
    LISTED,
    isNull(statuses.reblogOfId),
    exists(ctx.db.select({ one: sql`1` }).from(statusTags).where(and(eq(statusTags.statusId, statuses.id), eq(statusTags.tagId, tag.id)))),
  ], query);
  return { tag, page };
}

/** What the profile page shows beside the posts. */
export interface PublicProfile {
  account: Account;
  avatarUrl: string;
  headerUrl: string;
  /** Whether the owner set pictures of their own (not the placeholders). */
  hasAvatar: boolean;
  hasHeader: boolean;
  statusesCount: number;
  /** Null when the owner hides their network ("hide_collections"). */
  followersCount: number | null;
  followingCount: number | null;
  featuredTags: { name: string; displayName: string; statusesCount: number; lastStatusAt: Date | null }[];
  /**
   * The accounts the owner features, newest first, with their avatars on
   * this server. Shown whatever "hide_collections" says, as Mastodon does.
   */
  featuredAccounts: { account: Account; avatarUrl: string }[];
  /** The latest change to the account or its posts, for Last-Modified. */
  updatedAt: Date;
}

/** How many featured accounts the profile page lists at most. */
const FEATURED_ACCOUNTS_SHOWN = 80;

/** The summary of a local account's profile for its public page. */
export async function getPublicProfile(ctx: CoreContext, account: Account): Promise<PublicProfile> {
  const [preferences, counted, featured, endorsed] = await Promise.all([
    getPreferences(ctx, account.id),
    ctx.db.select({ last: max(statuses.updatedAt) }).from(statuses).where(eq(statuses.accountId, account.id)),
    getFeaturedTags(ctx, account.id),
    listEndorsements(ctx, account.id, { limit: FEATURED_ACCOUNTS_SHOWN }),
  ]);
  const hidden = preferences.hideCollections;
  const [followers, following] = hidden
    ? [null, null]
    : await Promise.all([countFollows(ctx, account.id, "followers"), countFollows(ctx, account.id, "following")]);
  const last = counted[0]?.last == null ? null : new Date(counted[0].last);
  const origin = ctx.config.origin;
  return {
    account,
    avatarUrl: profileImageUrl(origin, account, "avatar", "original"),
    headerUrl: profileImageUrl(origin, account, "header", "original"),
    hasAvatar: account.avatarUrl != null,
    hasHeader: account.headerUrl != null,
    statusesCount: account.statusesCount,
    followersCount: followers,
    followingCount: following,
    featuredTags: featured.map((entry) => ({
      name: entry.tag.name,
      displayName: entry.tag.displayName,
      statusesCount: entry.statusesCount,
      lastStatusAt: entry.lastStatusAt,
    })),
    featuredAccounts: endorsed.map((row) => ({ account: row.account, avatarUrl: profileImageUrl(origin, row.account, "avatar", "original") })),
    updatedAt: last != null && last > account.updatedAt ? last : account.updatedAt,
  };
}
