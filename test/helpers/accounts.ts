/**
 * Remote accounts stored straight in the database, as if their actors had
 * been fetched.
 */
import { upsertRemoteAccount, type Account, type RemoteActor } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";

/**
 * Stores `username` at `overrides.domain` (default remote.example): a
 * Person named after the username, with no inbox and nothing counted.
 * `overrides` sets any other field of the actor.
 */
export async function insertRemoteAccount(core: CoreContext, username: string, overrides: Partial<RemoteActor> = {}): Promise<Account> {
  const domain = overrides.domain ?? "remote.example";
  return await upsertRemoteAccount(core, {
    uri: `https://${domain}/users/${username}`,
    username,
    domain,
    url: `https://${domain}/@${username}`,
    actorType: "Person",
    displayName: username,
    note: "",
    avatarUrl: null,
    headerUrl: null,
    inboxUrl: null,
    sharedInboxUrl: null,
    outboxUrl: null,
    followersUrl: null,
    followingUrl: null,
    featuredUrl: null,
    locked: false,
    bot: false,
    discoverable: true,
    indexable: true,
    fields: [],
    alsoKnownAs: [],
    followersCount: 0,
    followingCount: 0,
    statusesCount: 0,
    publishedAt: null,
    ...overrides,
  });
}
