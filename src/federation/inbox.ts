/**
 * Inbox listeners: each incoming activity becomes the same core call the
 * Mastodon API would make. Fedify has verified the signature, and that the
 * signing key belongs to the activity's actor, before a listener runs.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Accept, Announce, Block, Create, Delete, EmojiReact, Flag, Follow, Like, Move, QuoteRequest, Reject, Undo, Update, isActor } from "@fedify/vocab";
import { findAccountByUri, findLocalAccount, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findFollow, findFollowByUri, followAccepted, receiveBlock, receiveFollow, receiveUnblock, removeFollow, type Follow as FollowRow } from "../core/follows.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { persistActor } from "./actors.ts";
import { fetchOptions, markDomainReachable } from "./domain-policy.ts";
import { onMove } from "./moves.ts";
import { onEmojiReact, onReaction, onUndoReaction } from "./reactions.ts";
import { onFlag } from "./reports.ts";
import { accountOf, onAnnounce, onCreate, onDelete, onLike, onUndoAnnounce, onUndoLike, onUnverifiedDelete, onUpdate, senderAccount, storePost } from "./inbox-statuses.ts";
import { isPostObject } from "./inbound-objects.ts";
import { onQuoteAnswer, onQuoteRequest } from "./quotes.ts";

export function registerInbox(federation: Federation<void>, core: CoreContext): void {
  /**
   * Every listener runs through here: an activity whose actor is on a
   * suspended domain is dropped; any other tells that its domain is reachable.
   */
  const accepted = <T extends { actorId: URL | null }>(handle: (ctx: InboxContext<void>, activity: T) => Promise<void>) =>
    async (ctx: InboxContext<void>, activity: T) => {
      if (activity.actorId == null || (await isUrlSuspended(core, activity.actorId))) return;
      await markDomainReachable(core, activity.actorId.host);
      await handle(ctx, activity);
    };
  federation
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Follow, accepted((ctx, follow: Follow) => onFollow(ctx, core, follow)))
    .on(Undo, accepted((ctx, undo: Undo) => onUndo(ctx, core, undo)))
    .on(Accept, accepted((ctx, accept: Accept) => onAccept(ctx, core, accept)))
    .on(Reject, accepted((ctx, reject: Reject) => onReject(ctx, core, reject)))
    .on(Create, accepted((ctx, create: Create) => onCreate(ctx, core, create)))
    .on(Update, accepted((ctx, update: Update) => onUpdate(ctx, core, update)))
    .on(Delete, accepted((ctx, del: Delete) => onDelete(ctx, core, del)))
    .on(Announce, accepted((ctx, announce: Announce) => onAnnounce(ctx, core, announce)))
    .on(Like, accepted(async (ctx, like: Like) => {
      // Misskey's Like carries its emoji: a favourite (as Mastodon counts it) and a reaction.
      await onLike(ctx, core, like);
      await onReaction(ctx, core, like);
    }))
    .on(EmojiReact, accepted((ctx, react: EmojiReact) => onEmojiReact(ctx, core, react)))
    .on(Block, accepted((ctx, block: Block) => onBlock(ctx, core, block)))
    .on(Flag, accepted((ctx, flag: Flag) => onFlag(ctx, core, flag)))
    .on(Move, accepted((ctx, move: Move) => onMove(ctx, core, move)))
    .on(QuoteRequest, accepted(async (ctx, request: QuoteRequest) => {
      if ((await senderAccount(ctx, core, request)) == null) return;
      // The quoting post, fetched from its server (not taken from the activity).
      await onQuoteRequest(ctx, core, request, async (author, uri) => {
        const object = await ctx.lookupObject(uri, fetchOptions(core, ctx)).catch(() => null);
        if (!isPostObject(object) || object.id?.href !== uri.href || object.attributionId?.href !== author.uri) return null;
        const quotingAuthor = await accountOf(ctx, core, object.attributionId);
        return quotingAuthor == null ? null : await storePost(ctx, core, quotingAuthor, object, 0, true);
      });
    }))
    .onUnverifiedActivity((_ctx, activity, reason) => onUnverifiedDelete(core, activity, reason))
    .onError((_ctx, error) => {
      core.log.warn("inbox: an activity could not be processed", error);
    });
}

/** The local account an IRI names, if it names one. */
async function localAccountFor(ctx: InboxContext<void>, core: CoreContext, uri: URL | null): Promise<Account | null> {
  if (uri == null) return null;
  const parsed = ctx.parseUri(uri);
  if (parsed?.type !== "actor") return null;
  return await findLocalAccount(core, parsed.identifier);
}

async function onFollow(ctx: InboxContext<void>, core: CoreContext, follow: Follow): Promise<void> {
  if (follow.actorId == null) return;
  const target = await localAccountFor(ctx, core, follow.objectId);
  if (target == null) return;
  const actor = await follow.getActor(fetchOptions(core, ctx));
  if (actor == null || !isActor(actor) || actor.id?.href !== follow.actorId.href) return;
  const follower = await persistActor(core, actor, ctx);
  await receiveFollow(core, follower, target, follow.id?.href ?? null);
}

async function onUndo(ctx: InboxContext<void>, core: CoreContext, undo: Undo): Promise<void> {
  if (undo.actorId == null) return;
  const object = await undo.getObject({ ...fetchOptions(core, ctx), suppressError: true }).catch(() => null);
  if (object instanceof Announce && object.id != null) {
    if (object.actorId?.href !== undo.actorId.href) return;
    await onUndoAnnounce(core, undo.actorId, object.id);
    return;
  }
  if (object instanceof Like) {
    await onUndoLike(core, undo.actorId, object);
    await onUndoReaction(core, undo.actorId, object, undo.objectId);
    return;
  }
  if (object instanceof Block) {
    if (object.actorId?.href !== undo.actorId.href) return;
    const blocker = await findAccountByUri(core, undo.actorId.href);
    if (blocker == null || blocker.domain == null) return;
    await receiveUnblock(core, blocker, await localAccountFor(ctx, core, object.objectId), object.id?.href ?? undo.objectId?.href ?? null);
    return;
  }
  if (object instanceof EmojiReact) {
    await onUndoReaction(core, undo.actorId, object, undo.objectId);
    return;
  }
  if (object instanceof Follow || object == null) {
    const follow = await followNamedBy(ctx, core, undo.objectId, object instanceof Follow ? object : null, undo.actorId);
    // Only the follower may undo its follow.
    if (follow == null) return;
    const follower = await findAccountByUri(core, undo.actorId.href);
    if (follower == null || follower.id !== follow.accountId) return;
    await removeFollow(core, follow, "undone");
  }
}

/**
 * The stored follow an activity refers to: by the Follow's IRI, or by its
 * actor and object when the IRI is unknown (some servers mint new ones).
 */
async function followNamedBy(
  ctx: InboxContext<void>,
  core: CoreContext,
  objectId: URL | null,
  embedded: Follow | null,
  actorId: URL,
): Promise<FollowRow | null> {
  if (objectId != null) {
    const byUri = await findFollowByUri(core, objectId.href);
    if (byUri != null) return byUri;
  }
  if (embedded?.actorId == null || embedded.objectId == null) return null;
  if (embedded.actorId.href !== actorId.href) return null;
  const follower = await findAccountByUri(core, embedded.actorId.href);
  const target = await localAccountFor(ctx, core, embedded.objectId);
  if (follower == null || target == null) return null;
  return await findFollow(core, follower.id, target.id);
}

/** A follow the owner asked for, answered by the account it asked. */
async function answeredFollow(core: CoreContext, activity: Accept | Reject): Promise<FollowRow | null> {
  if (activity.actorId == null || activity.objectId == null) return null;
  // Match on the object's IRI: fetching it would only reach our own server.
  const follow = await findFollowByUri(core, activity.objectId.href);
  if (follow == null) return null;
  const target = await findAccountByUri(core, activity.actorId.href);
  return target != null && target.id === follow.targetAccountId ? follow : null;
}

async function onAccept(ctx: InboxContext<void>, core: CoreContext, accept: Accept): Promise<void> {
  const follow = await answeredFollow(core, accept);
  if (follow != null) await followAccepted(core, follow);
  else await onQuoteAnswer(ctx, core, accept);
}

async function onReject(ctx: InboxContext<void>, core: CoreContext, reject: Reject): Promise<void> {
  const follow = await answeredFollow(core, reject);
  if (follow != null) await removeFollow(core, follow, "rejected");
  else await onQuoteAnswer(ctx, core, reject);
}

/** A remote account blocks the owner. */
async function onBlock(ctx: InboxContext<void>, core: CoreContext, block: Block): Promise<void> {
  const target = await localAccountFor(ctx, core, block.objectId);
  if (target == null) return;
  const blocker = await senderAccount(ctx, core, block);
  if (blocker == null || blocker.domain == null) return;
  await receiveBlock(core, blocker, target, block.id?.href ?? null);
}
