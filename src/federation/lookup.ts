/** Finding remote accounts by actor URL or handle, and what a pasted URL names, through federation. */
import type { Federation } from "@fedify/fedify";
import { isActor } from "@fedify/vocab";
import { findAccountByUri, type Account } from "../core/accounts.ts";
import type { CoreContext, ResolvedUrl } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { isDomainSuspended, isUrlSuspended } from "../core/server-domain-blocks.ts";
import { findStatusByUri } from "../core/remote-statuses.ts";
import type { statuses } from "../db/schema.ts";
import { persistActor } from "./actors.ts";
import { freshFetchOptions } from "./domain-policy.ts";
import { isPostObject } from "./inbound-objects.ts";
import { accountOf, storePost } from "./inbox-statuses.ts";

/** Whether a URL or `@user@host` handle points at a suspended domain. */
async function isSuspendedQuery(core: CoreContext, query: string): Promise<boolean> {
  if (/^https?:\/\//.test(query)) return await isUrlSuspended(core, query);
  const host = /@([^@/\s]+)$/.exec(query.replace(/^acct:/, ""))?.[1];
  return host != null && (await isDomainSuspended(core, host));
}

/**
 * The account an actor URL or `@user@host` handle names: fetched, stored and
 * returned; an account seen before is returned as stored unless `refresh`.
 */
export async function resolveAccount(
  federation: Federation<void>,
  core: CoreContext,
  query: string,
  options: { refresh?: boolean } = {},
): Promise<Account> {
  if (!options.refresh && /^https?:\/\//.test(query)) {
    const known = await findAccountByUri(core, query);
    if (known != null) return known;
  }
  if (await isSuspendedQuery(core, query)) throw new CoreError("not_found", `no account found at ${query}`);
  const ctx = federation.createContext(new URL(core.config.origin), undefined);
  // Signed and uncached: a server in secure mode shows unsigned requests
  // only the key, and a refresh wants today's document.
  const loaders = await freshFetchOptions(core, ctx);
  const object = await ctx.lookupObject(query, loaders).catch(() => null);
  if (object == null || !isActor(object)) {
    throw new CoreError("not_found", `no account found at ${query}`);
  }
  return await persistActor(core, object, ctx);
}

type Status = typeof statuses.$inferSelect;


/**
 * What an `https://` URL names, as Mastodon's search resolves a pasted
 * link: the document is fetched as ActivityPub (a profile or post page
 * answers with its actor or post, whose id may differ from the URL). An
 * object whose id differs from the URL is fetched again from its id, and
 * taken only as that answers (so a copy on another origin is never
 * trusted, and a reduced document served at a page URL is completed). An
 * actor is stored as an account; a post (Note, Article, Page, Question) is
 * stored with its author when it comes from the author's own origin. Null
 * when nothing usable is there.
 */
export async function resolveUrl(federation: Federation<void>, core: CoreContext, url: string): Promise<ResolvedUrl> {
  if (!/^https?:\/\//i.test(url) || (await isUrlSuspended(core, url))) return null;
  const ctx = federation.createContext(new URL(core.config.origin), undefined);
  const loaders = await freshFetchOptions(core, ctx);
  let object = await ctx.lookupObject(url, { ...loaders, crossOrigin: "trust" }).catch(() => null);
  if (object?.id == null) return null;
  // As Mastodon: a document found at another address than its id (a page
  // URL, a copy elsewhere) is taken as its id answers, on the id's origin.
  if (object.id.href !== new URL(url).href) {
    if (await isUrlSuspended(core, object.id.href)) return null;
    object = await ctx.lookupObject(object.id, loaders).catch(() => null);
    if (object?.id == null) return null;
  }
  if (isActor(object)) {
    if (object.id!.origin === core.config.origin) {
      const local = await findAccountByUri(core, object.id!.href);
      return local == null ? null : { kind: "account", account: local };
    }
    return { kind: "account", account: await persistActor(core, object, ctx) };
  }
  if (!isPostObject(object)) return null;
  const known = await findStatusByUri(core, object.id!.href);
  if (known != null) return { kind: "status", status: known };
  if (object.id!.origin === core.config.origin || object.attributionId?.origin !== object.id!.origin) return null;
  const author = await accountOf(ctx, core, object.attributionId);
  if (author == null) return null;
  const stored = await storePost(ctx, core, author, object, 0, true);
  return stored == null ? null : { kind: "status", status: stored };
}
