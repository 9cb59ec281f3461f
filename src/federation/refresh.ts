/**
 * Keeping remote accounts current: an account's actor document fetched
 * again on request (`islet accounts refresh`), or in the background when
 * it is seen and was last fetched more than a day ago.
 */
import type { Context } from "@fedify/fedify";
import { isActor } from "@fedify/vocab";
import type { Account } from "../core/accounts.ts";
import { CoreError, type CoreContext } from "../core/context.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { persistActor } from "./actors.ts";
import { freshFetchOptions } from "./domain-policy.ts";

/** How old a stored actor may get before seeing it fetches it again. */
export const STALE_ACCOUNT_MS = 24 * 60 * 60 * 1000;

/** Fetches a remote account's actor document again and stores it; emits `account.updated`. */
export async function refreshAccount(core: CoreContext, ctx: Context<void>, account: Account): Promise<Account> {
  if (account.domain == null) return account;
  if (await isUrlSuspended(core, account.uri)) throw new CoreError("forbidden", `${account.domain} is a blocked domain`);
  const document = await ctx.lookupObject(account.uri, await freshFetchOptions(core, ctx)).catch(() => null);
  if (document == null || !isActor(document) || document.id?.href !== account.uri) {
    throw new CoreError("not_found", `${account.uri} could not be fetched`);
  }
  const updated = await persistActor(core, document, ctx);
  await core.events.emit("account.updated", { accountId: updated.id });
  return updated;
}

/** Whether a remote account's stored actor is older than STALE_ACCOUNT_MS. */
export function isStale(account: Pick<Account, "domain" | "fetchedAt">, now = Date.now()): boolean {
  return account.domain != null && (account.fetchedAt == null || now - account.fetchedAt.getTime() > STALE_ACCOUNT_MS);
}

const refreshing = new Set<string>();

/**
 * Refreshes a stale remote account without waiting for it; one refresh per
 * account at a time, failures only logged.
 */
export function refreshInBackground(core: CoreContext, ctx: Context<void>, account: Account): void {
  if (!isStale(account) || refreshing.has(account.uri)) return;
  refreshing.add(account.uri);
  refreshAccount(core, ctx, account)
    .catch((error) => core.log.debug(`could not refresh ${account.uri}`, error))
    .finally(() => refreshing.delete(account.uri));
}
