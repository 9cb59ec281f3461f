/**
 * The owner's own account as verify_credentials and update_credentials
 * return it: an Account with `source` (the values as typed, and the posting
 * defaults) and `role`.
 */
import type { Account } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import { countFollowRequests } from "../../core/follows.ts";
import { getPreferences, getProfileSource } from "../../core/profile.ts";
import { serializeAccount, type MastodonAccount } from "./account.ts";

export interface MastodonCredentialAccount extends MastodonAccount {
  source: {
    privacy: "public" | "unlisted" | "private" | "direct";
    sensitive: boolean;
    language: string | null;
    note: string;
    fields: { name: string; value: string; verified_at: string | null }[];
    follow_requests_count: number;
    hide_collections: boolean;
    discoverable: boolean;
    indexable: boolean;
    attribution_domains: string[];
  };
  role: { id: string; name: string; permissions: string; color: string; highlighted: boolean };
}

export async function serializeCredentialAccount(ctx: CoreContext, account: Account): Promise<MastodonCredentialAccount> {
  const [base, preferences, source, followRequests] = await Promise.all([
    serializeAccount(ctx, account),
    getPreferences(ctx, account.id),
    getProfileSource(ctx, account),
    countFollowRequests(ctx, account.id),
  ]);
  const verified = new Map(account.fields.map((field) => [field.name, field.verifiedAt ?? null]));
  return {
    ...base,
    source: {
      privacy: preferences.privacy,
      sensitive: preferences.sensitive,
      language: preferences.language,
      note: source.note,
      fields: source.fields.map((field) => ({ name: field.name, value: field.value, verified_at: verified.get(field.name) ?? null })),
      follow_requests_count: followRequests,
      hide_collections: preferences.hideCollections,
      discoverable: account.discoverable,
      indexable: account.indexable,
      attribution_domains: [],
    },
    // Mastodon's role of an account without one: no special permissions,
    // so that clients show no moderation tools Islet does not have.
    role: { id: "-99", name: "", permissions: "0", color: "", highlighted: false },
  };
}
