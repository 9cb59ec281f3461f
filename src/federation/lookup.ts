/** Finding remote accounts by actor URL or handle, through federation. */
import type { Federation } from "@fedify/fedify";
import { isActor } from "@fedify/vocab";
import { findAccountByUri, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { persistActor } from "./actors.ts";

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
  const ctx = federation.createContext(new URL(core.config.origin), undefined);
  const object = await ctx.lookupObject(query).catch(() => null);
  if (object == null || !isActor(object)) {
    throw new CoreError("not_found", `no account found at ${query}`);
  }
  return await persistActor(core, object, ctx);
}
