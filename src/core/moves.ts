/**
 * Account migration. A remote account the owner follows moves to another
 * (an incoming Move, checked against the new account's aliases): the owner
 * follows the new account instead. The owner moves away (`islet account
 * move`), or lists aliases so that an account elsewhere may move here.
 */
import { eq } from "drizzle-orm";
import { accounts } from "../db/schema.ts";
import { findAccountById, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { findFollow, follow, unfollow } from "./follows.ts";
import { createNotification } from "./notifications.ts";

/** Whether `target` names `origin` among its aliases (alsoKnownAs). */
export function isAliasOf(target: Pick<Account, "alsoKnownAs">, origin: Pick<Account, "uri">): boolean {
  return target.alsoKnownAs.includes(origin.uri);
}

/**
 * `origin` moved to `target`, which lists `origin` as an alias (the caller
 * has re-fetched `target` to be sure). Marks `origin` as moved; when the
 * owner followed it, the owner follows `target` with the same options and
 * unfollows `origin`, and is notified (`move`). Returns whether the owner's
 * follow moved.
 */
export async function receiveMove(ctx: CoreContext, owner: Account, origin: Account, target: Account): Promise<boolean> {
  if (origin.domain == null) throw new CoreError("invalid", "a local account does not move through the inbox");
  if (origin.id === target.id) throw new CoreError("invalid", "an account cannot move to itself");
  if (!isAliasOf(target, origin)) throw new CoreError("forbidden", `${target.uri} does not list ${origin.uri} as an alias`);
  await ctx.db.update(accounts).set({ movedToAccountId: target.id, updatedAt: new Date() }).where(eq(accounts.id, origin.id));
  const existing = await findFollow(ctx, owner.id, origin.id);
  if (existing == null) return false;
  if (target.id !== owner.id) {
    await follow(ctx, owner, target, {
      showReblogs: existing.showReblogs,
      notify: existing.notify,
      languages: existing.languages,
    });
  }
  await unfollow(ctx, owner.id, origin.id);
  await createNotification(ctx, { accountId: owner.id, fromAccountId: origin.id, type: "move" });
  return true;
}

/**
 * The owner moves to `target` (a remote account listing the owner as an
 * alias). Sets the owner's `movedTo`; `account.moved` lets federation tell
 * the followers.
 */
export async function moveOwner(ctx: CoreContext, owner: Account, target: Account): Promise<void> {
  if (owner.domain != null) throw new CoreError("invalid", "only the local account can be moved here");
  if (target.id === owner.id) throw new CoreError("invalid", "an account cannot move to itself");
  if (!isAliasOf(target, owner)) {
    throw new CoreError("invalid", `${target.uri} does not list ${owner.uri} among its aliases (alsoKnownAs); add it there first`);
  }
  await ctx.db.update(accounts).set({ movedToAccountId: target.id, updatedAt: new Date() }).where(eq(accounts.id, owner.id));
  await ctx.events.emit("account.moved", { accountId: owner.id, targetAccountId: target.id });
  await ctx.events.emit("account.updated", { accountId: owner.id });
}

/** The owner's move is withdrawn: no longer marked as moved (followers who left stay gone). */
export async function undoOwnerMove(ctx: CoreContext, owner: Account): Promise<boolean> {
  if (owner.movedToAccountId == null) return false;
  await ctx.db.update(accounts).set({ movedToAccountId: null, updatedAt: new Date() }).where(eq(accounts.id, owner.id));
  await ctx.events.emit("account.updated", { accountId: owner.id });
  return true;
}

/** The account the owner moved to, if it did. */
export async function movedTo(ctx: CoreContext, account: Account): Promise<Account | null> {
  return account.movedToAccountId == null ? null : await findAccountById(ctx, account.movedToAccountId);
}

/** Adds an alias (an actor IRI) to the owner, so that account may move here. */
export async function addAlias(ctx: CoreContext, owner: Account, uri: string): Promise<string[]> {
  if (uri === owner.uri) throw new CoreError("invalid", "an account is not an alias of itself");
  if (owner.alsoKnownAs.includes(uri)) return owner.alsoKnownAs;
  return await setAliases(ctx, owner, [...owner.alsoKnownAs, uri]);
}

/** Removes an alias from the owner; not_found when it had none such. */
export async function removeAlias(ctx: CoreContext, owner: Account, uri: string): Promise<string[]> {
  if (!owner.alsoKnownAs.includes(uri)) throw new CoreError("not_found", `${uri} is not an alias`);
  return await setAliases(ctx, owner, owner.alsoKnownAs.filter((alias) => alias !== uri));
}

async function setAliases(ctx: CoreContext, owner: Account, aliases: string[]): Promise<string[]> {
  await ctx.db.update(accounts).set({ alsoKnownAs: aliases, updatedAt: new Date() }).where(eq(accounts.id, owner.id));
  await ctx.events.emit("account.updated", { accountId: owner.id });
  return aliases;
}
