/**
 * Outgoing activities, in reaction to core events. Each is handed to
 * Fedify's sendActivity, which puts it on the durable queue: the request
 * that caused it has answered long before the remote server does.
 */
import type { Context, Federation } from "@fedify/fedify";
import { Accept, Block, Follow, Reject, Undo, Update } from "@fedify/vocab";
import { and, eq, isNotNull } from "drizzle-orm";
import { accounts as accountsTable, blocks, follows } from "../db/schema.ts";
import { findAccountById, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { getPreferences } from "../core/profile.ts";
import { personFromAccount } from "./actors.ts";
import { deliver } from "./send.ts";

export function registerDelivery(federation: Federation<void>, core: CoreContext): void {
  const context = () => federation.createContext(new URL(core.config.origin), undefined);

  /** Both accounts of a follow, when one is local and the other remote. */
  async function pair(accountId: bigint, targetAccountId: bigint) {
    const [account, target] = await Promise.all([findAccountById(core, accountId), findAccountById(core, targetAccountId)]);
    return account == null || target == null ? null : { account, target };
  }

  const followOf = (ctx: Context<void>, id: string | null, follower: Account, target: Account) =>
    new Follow({
      id: id == null ? null : new URL(id),
      actor: follower.domain == null ? ctx.getActorUri(follower.username) : new URL(follower.uri),
      object: target.domain == null ? ctx.getActorUri(target.username) : new URL(target.uri),
    });

  core.events.on("follow.accepted", async ({ followId, accountId, targetAccountId }) => {
    const accounts = await pair(accountId, targetAccountId);
    if (accounts == null || accounts.target.domain != null || accounts.account.domain == null) return;
    const { account: follower, target: owner } = accounts;
    if (follower.inboxUrl == null) return;
    const follow = await core.db.query.follows.findFirst({ where: (f, { eq }) => eq(f.id, followId) });
    const ctx = context();
    await deliver(core, ctx, owner, [follower],
      new Accept({
        id: new URL(`${ctx.getActorUri(owner.username).href}#accepts/follows/${followId}`),
        actor: ctx.getActorUri(owner.username),
        object: followOf(ctx, follow?.uri ?? null, follower, owner),
      }),
    );
  });

  core.events.on("follow.created", async ({ followId, accountId, targetAccountId }) => {
    const accounts = await pair(accountId, targetAccountId);
    if (accounts == null || accounts.account.domain != null || accounts.target.domain == null) return;
    const follow = await core.db.query.follows.findFirst({ where: (f, { eq }) => eq(f.id, followId) });
    if (follow == null) return;
    const ctx = context();
    await deliver(core, ctx, accounts.account, [accounts.target], followOf(ctx, follow.uri, accounts.account, accounts.target));
  });

  core.events.on("follow.removed", async ({ followId, accountId, targetAccountId, uri, reason }) => {
    const accounts = await pair(accountId, targetAccountId);
    if (accounts == null) return;
    const { account: follower, target } = accounts;
    const ctx = context();
    if (reason === "unfollowed" && follower.domain == null && target.domain != null) {
      await deliver(core, ctx, follower, [target],
        new Undo({
          id: new URL(`${ctx.getActorUri(follower.username).href}#follows/${followId}/undo`),
          actor: ctx.getActorUri(follower.username),
          object: followOf(ctx, uri, follower, target),
        }),
      );
    } else if (reason === "rejected" && target.domain == null && follower.domain != null) {
      await deliver(core, ctx, target, [follower],
        new Reject({
          id: new URL(`${ctx.getActorUri(target.username).href}#rejects/follows/${followId}`),
          actor: ctx.getActorUri(target.username),
          object: followOf(ctx, uri, follower, target),
        }),
      );
    }
  });

  // A profile change of a local account goes to everyone who follows it.
  core.events.on("account.updated", async ({ accountId }) => {
    const account = await findAccountById(core, accountId);
    if (account == null || account.domain != null) return;
    const rows = await core.db
      .select({ follower: accountsTable })
      .from(follows)
      .innerJoin(accountsTable, eq(accountsTable.id, follows.accountId))
      .where(and(eq(follows.targetAccountId, accountId), eq(follows.state, "accepted"), isNotNull(accountsTable.inboxUrl)));
    if (rows.length === 0) return;
    const ctx = context();
    const actor = await personFromAccount(ctx, account, await getPreferences(core, account.id));
    await deliver(core, ctx, account, rows.map((row) => row.follower),
      new Update({ id: new URL(`${actor.id!.href}#updates/${Date.now()}`), actor: actor.id, object: actor }), { preferSharedInbox: true });
  });

  const blockOf = (ctx: Context<void>, blockId: bigint, blocker: Account, target: Account, uri: string | null) =>
    new Block({
      id: new URL(uri ?? `${ctx.getActorUri(blocker.username).href}#blocks/${blockId}`),
      actor: ctx.getActorUri(blocker.username),
      object: new URL(target.uri),
    });

  core.events.on("account.blocked", async ({ blockId, accountId, targetAccountId }) => {
    const accounts = await pair(accountId, targetAccountId);
    if (accounts == null || accounts.account.domain != null || accounts.target.inboxUrl == null) return;
    const ctx = context();
    const rows = await core.db.select({ uri: blocks.uri }).from(blocks).where(eq(blocks.id, blockId)).limit(1);
    const block = blockOf(ctx, blockId, accounts.account, accounts.target, rows[0]?.uri ?? null);
    await deliver(core, ctx, accounts.account, [accounts.target], block);
  });

  core.events.on("account.unblocked", async ({ blockId, accountId, targetAccountId, uri }) => {
    const accounts = await pair(accountId, targetAccountId);
    if (accounts == null || accounts.account.domain != null || accounts.target.inboxUrl == null) return;
    const ctx = context();
    const block = blockOf(ctx, blockId, accounts.account, accounts.target, uri);
    await deliver(core, ctx, accounts.account, [accounts.target],
      new Undo({ id: new URL(`${block.id!.href}/undo`), actor: block.actorId, object: block }),
    );
  });
}
