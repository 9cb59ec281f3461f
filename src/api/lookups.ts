/** What a request names, found, or Mastodon's 404 answer. */
import { findAccountById, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { notFound } from "./errors.ts";

/** The account with this id; a 404 "Record not found" when there is none. */
export async function requireAccount(core: CoreContext, id: bigint): Promise<Account> {
  const account = await findAccountById(core, id);
  if (account == null) throw notFound();
  return account;
}
