/** Account rows as Mastodon's Account entity. */
import type { Account } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import { localAccountStats } from "../../core/profile.ts";
import { profileImageUrl } from "../../media/profile-images.ts";

export interface MastodonAccount {
  id: string;
  username: string;
  acct: string;
  url: string;
  uri: string;
  display_name: string;
  note: string;
  avatar: string;
  avatar_static: string;
  /** Alt text of the avatar (Mastodon 4.6). */
  avatar_description: string;
  header: string;
  header_static: string;
  header_description: string;
  locked: boolean;
  fields: { name: string; value: string; verified_at: string | null }[];
  emojis: unknown[];
  bot: boolean;
  group: boolean;
  discoverable: boolean | null;
  indexable: boolean;
  hide_collections: boolean | null;
  noindex: boolean | null;
  created_at: string;
  last_status_at: string | null;
  statuses_count: number;
  followers_count: number;
  following_count: number;
  roles?: unknown[];
}

/** Midnight UTC of the day an account was created, as Mastodon reports it. */
function createdDay(date: Date): string {
  return `${date.toISOString().slice(0, 10)}T00:00:00.000Z`;
}

/**
 * Serialises an account. Counts of the owner are computed; counts of remote
 * accounts are what their server reported. Pictures are always on this
 * server: a remote account's come from the media cache or the media proxy
 * (src/media/profile-images.ts), never from its own server.
 */
export async function serializeAccount(ctx: CoreContext, account: Account): Promise<MastodonAccount> {
  const local = account.domain == null;
  const origin = ctx.config.origin;
  let statusesCount = account.statusesCount;
  let followersCount = account.followersCount;
  let followingCount = account.followingCount;
  let lastStatusAt: string | null = null;
  let hideCollections = false;
  let avatarStatic: string | null = null;
  let headerStatic: string | null = null;
  if (local) {
    const stats = await localAccountStats(ctx, account);
    hideCollections = stats.preferences.hideCollections;
    avatarStatic = stats.preferences.avatarStaticUrl;
    headerStatic = stats.preferences.headerStaticUrl;
    statusesCount = stats.statusesCount;
    lastStatusAt = stats.lastStatusAt == null ? null : stats.lastStatusAt.toISOString().slice(0, 10);
    followersCount = stats.followersCount;
    followingCount = stats.followingCount;
  }
  return {
    id: account.id.toString(),
    username: account.username,
    acct: local ? account.username : `${account.username}@${account.domain}`,
    url: account.url ?? account.uri,
    uri: account.uri,
    display_name: account.displayName,
    note: account.note,
    avatar: profileImageUrl(origin, account, "avatar", "original"),
    avatar_static: (account.avatarUrl == null ? null : avatarStatic) ?? profileImageUrl(origin, account, "avatar", "static"),
    avatar_description: account.avatarDescription,
    header: profileImageUrl(origin, account, "header", "original"),
    header_static: (account.headerUrl == null ? null : headerStatic) ?? profileImageUrl(origin, account, "header", "static"),
    header_description: account.headerDescription,
    locked: account.locked,
    fields: account.fields.map((field) => ({ name: field.name, value: field.value, verified_at: field.verifiedAt ?? null })),
    emojis: [],
    bot: account.bot,
    group: account.actorType === "Group",
    discoverable: account.discoverable,
    indexable: account.indexable,
    hide_collections: hideCollections,
    noindex: !account.indexable,
    created_at: createdDay(account.publishedAt ?? account.createdAt),
    last_status_at: lastStatusAt,
    statuses_count: statusesCount,
    followers_count: followersCount,
    following_count: followingCount,
    ...(local ? { roles: [] } : {}),
  };
}

/**
 * Serialises several accounts, in order. Remote accounts need no queries;
 * the counts of a local account are computed once however often it occurs.
 */
export async function serializeAccounts(ctx: CoreContext, accounts: readonly Account[]): Promise<MastodonAccount[]> {
  const local = new Map<bigint, Promise<MastodonAccount>>();
  return await Promise.all(accounts.map((account) => {
    if (account.domain != null) return serializeAccount(ctx, account);
    let serialized = local.get(account.id);
    if (serialized == null) {
      serialized = serializeAccount(ctx, account);
      local.set(account.id, serialized);
    }
    return serialized;
  }));
}
