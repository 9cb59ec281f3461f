/**
 * Inbox listeners: each incoming activity becomes the same core call the
 * Mastodon API would make. Fedify has verified the signature, and that the
 * signing key belongs to the activity's actor, before a listener runs.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Accept, Announce, Create, Delete, Follow, Like, Reject, Undo, Update, isActor } from "@fedify/vocab";
import { findAccountByUri, findLocalAccount, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findFollow, findFollowByUri, followAccepted, receiveFollow, removeFollow, type Follow as FollowRow } from "../core/follows.ts";
import { persistActor } from "./actors.ts";
import { onAnnounce, onCreate, onDelete, onLike, onUndoAnnounce, onUndoLike, onUpdate } from "./inbox-statuses.ts";

export function registerInbox(federation: Federation<void>, core: CoreContext): void {
  federation
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Follow, (ctx, follow) => onFollow(ctx, core, follow))
    .on(Undo, (ctx, undo) => onUndo(ctx, core, undo))
    .on(Accept, (ctx, accept) => onAccept(ctx, core, accept))
    .on(Reject, (ctx, reject) => onReject(ctx, core, reject))
    .on(Create, (ctx, create) => onCreate(ctx, core, create))
    .on(Update, (ctx, update) => onUpdate(ctx, core, update))
    .on(Delete, (ctx, del) => onDelete(ctx, core, del))
    .on(Announce, (ctx, announce) => onAnnounce(ctx, core, announce))
    .on(Like, (ctx, like) => onLike(ctx, core, like))
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
  const actor = await follow.getActor(ctx);
  if (actor == null || !isActor(actor) || actor.id?.href !== follow.actorId.href) return;
  const follower = await persistActor(core, actor, ctx);
  await receiveFollow(core, follower, target, follow.id?.href ?? null);
}

async function onUndo(ctx: InboxContext<void>, core: CoreContext, undo: Undo): Promise<void> {
  if (undo.actorId == null) return;
  const object = await undo.getObject({ ...ctx, suppressError: true }).catch(() => null);
  if (object instanceof Announce && object.id != null) {
    if (object.actorId?.href !== undo.actorId.href) return;
    await onUndoAnnounce(core, undo.actorId, object.id);
    return;
  }
  if (object instanceof Like) {
    await onUndoLike(core, undo.actorId, object);
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

async function onAccept(_ctx: InboxContext<void>, core: CoreContext, accept: Accept): Promise<void> {
  const follow = await answeredFollow(core, accept);
  if (follow != null) await followAccepted(core, follow);
}

async function onReject(_ctx: InboxContext<void>, core: CoreContext, reject: Reject): Promise<void> {
  const follow = await answeredFollow(core, reject);
  if (follow != null) await removeFollow(core, follow, "rejected");
}
