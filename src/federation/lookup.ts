/** Finding remote accounts by actor URL or handle, through federation. */
import type { Federation } from "@fedify/fedify";
import { isActor } from "@fedify/vocab";
import { findAccountByUri, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { isDomainSuspended, isUrlSuspended } from "../core/server-domain-blocks.ts";
import { persistActor } from "./actors.ts";
import { freshFetchOptions } from "./domain-policy.ts";

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
