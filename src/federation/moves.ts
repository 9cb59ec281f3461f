/**
 * Move activities. Incoming: an account moved to another, which must list
 * it among its aliases; the new account is fetched afresh to check. The
 * owner's own move goes out to its followers.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Move, isActor } from "@fedify/vocab";
import { findAccountById, findAccountByUri, getOwner } from "../core/accounts.ts";
import { CoreError, type CoreContext } from "../core/context.ts";
import { listFollows } from "../core/follows.ts";
import { isAliasOf, receiveMove } from "../core/moves.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { persistActor } from "./actors.ts";
import { freshFetchOptions } from "./domain-policy.ts";
import { deliver } from "./send.ts";

export async function onMove(ctx: InboxContext<void>, core: CoreContext, move: Move): Promise<void> {
  if (move.actorId == null || move.objectId == null || move.targetId == null) return;
  // Only an account moves itself.
  if (move.objectId.href !== move.actorId.href || move.targetId.href === move.actorId.href) return;
  const origin = await findAccountByUri(core, move.actorId.href);
  if (origin == null || origin.domain == null) return;
  if (await isUrlSuspended(core, move.targetId)) return;
  // Fetched now, whatever is stored: the alias must be there today.
  const document = await ctx.lookupObject(move.targetId, await freshFetchOptions(core, ctx)).catch(() => null);
  let target;
  if (document != null && isActor(document) && document.id?.href === move.targetId.href) {
    target = await persistActor(core, document, ctx);
  } else {
    // The new account may be the owner here.
    const parsed = ctx.parseUri(move.targetId);
    target = parsed?.type === "actor" ? await findAccountByUri(core, ctx.getActorUri(parsed.identifier).href) : null;
  }
  if (target == null || !isAliasOf(target, origin)) {
    core.log.info(`a Move of ${origin.uri} to ${move.targetId.href} was ignored: the target does not list it as an alias`);
    return;
  }
  const owner = await getOwner(core);
  if (owner == null) return;
  await receiveMove(core, owner.account, origin, target).catch((error) => {
    if (!(error instanceof CoreError)) throw error;
    core.log.info(`a Move of ${origin.uri} was ignored: ${error.message}`);
  });
}

const PAGE = 500;

export function registerMoveDelivery(federation: Federation<void>, core: CoreContext): void {
  core.events.on("account.moved", async ({ accountId, targetAccountId }) => {
    const [account, target] = await Promise.all([findAccountById(core, accountId), findAccountById(core, targetAccountId)]);
    if (account == null || account.domain != null || target == null) return;
    const ctx = federation.createContext(new URL(core.config.origin), undefined);
    const actor = ctx.getActorUri(account.username);
    const move = new Move({
      id: new URL(`${actor.href}#moves/${target.id}/${Date.now()}`),
      actor,
      object: actor,
      target: new URL(target.uri),
      tos: [ctx.getFollowersUri(account.username)],
    });
    let before: bigint | undefined;
    for (;;) {
      const page = await listFollows(core, account.id, "followers", { before, limit: PAGE });
      const remote = page.map((row) => row.account).filter((follower) => follower.domain != null);
      await deliver(core, ctx, account, remote, move, { preferSharedInbox: true });
      if (page.length < PAGE) break;
      before = page.at(-1)!.followId;
    }
  });
}
