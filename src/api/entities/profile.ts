/**
 * The owner's profile as GET and PATCH /api/v1/profile return it
 * (Mastodon's Profile entity): the editable values as typed, pictures null
 * when unset.
 */
import type { Account } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import { getPreferences, getProfileSource } from "../../core/profile.ts";

export interface MastodonProfile {
  id: string;
  display_name: string;
  note: string;
  fields: { name: string; value: string }[];
  avatar: string | null;
  avatar_static: string | null;
  avatar_description: string;
  header: string | null;
  header_static: string | null;
  header_description: string;
  locked: boolean;
  bot: boolean;
  hide_collections: boolean;
  discoverable: boolean;
  indexable: boolean;
  show_media: boolean;
  show_media_replies: boolean;
  show_featured: boolean;
  attribution_domains: string[];
}

export async function serializeProfile(ctx: CoreContext, account: Account): Promise<MastodonProfile> {
  const [preferences, source] = await Promise.all([getPreferences(ctx, account.id), getProfileSource(ctx, account)]);
  return {
    id: account.id.toString(),
    display_name: account.displayName,
    note: source.note,
    fields: source.fields,
    avatar: account.avatarUrl,
    avatar_static: account.avatarUrl == null ? null : preferences.avatarStaticUrl ?? account.avatarUrl,
    avatar_description: account.avatarDescription,
    header: account.headerUrl,
    header_static: account.headerUrl == null ? null : preferences.headerStaticUrl ?? account.headerUrl,
    header_description: account.headerDescription,
    locked: account.locked,
    bot: account.bot,
    hide_collections: preferences.hideCollections,
    discoverable: account.discoverable,
    indexable: account.indexable,
    show_media: preferences.showMedia,
    show_media_replies: preferences.showMediaReplies,
    show_featured: preferences.showFeatured,
    attribution_domains: [],
  };
}
