/**
 * Incoming posts and boosts: Create, Update, Delete, Announce and Undo of an
 * Announce. Each checks that the actor is the author (no spoofing), reads
 * the object, and calls the core function for remote posts.
 */
import type { Context, InboxContext, UnverifiedActivityReason } from "@fedify/fedify";
import { Announce, Create, Delete, Like, Update, isActor, type Activity, type Object as APObject } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import { deleteRemoteAccounts, findAccountByUri, getOwner, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { favouriteStatus, unfavouriteStatus } from "../core/interactions.ts";
import { votePoll } from "../core/polls.ts";
import {
  findStatusByUri,
  receiveReblog,
  receiveStatus,
  receiveStatusDelete,
  receiveStatusUpdate,
} from "../core/remote-statuses.ts";
import type { StatusRow } from "../core/statuses.ts";
import { follows, polls } from "../db/schema.ts";
import { Note } from "@fedify/vocab";
import { persistActor } from "./actors.ts";
import { fetchOptions } from "./domain-policy.ts";
import { refreshInBackground } from "./refresh.ts";
import { isPostObject, readRemotePost, type PostObject, type RemotePost } from "./inbound-objects.ts";
import { applyRemoteQuote, onStampDelete } from "./quotes.ts";

/** How far up a thread missing parents are fetched. */
const MAX_PARENT_DEPTH = 5;

function sameOrigin(a: URL | null | undefined, b: URL | null | undefined): boolean {
  return a != null && b != null && a.origin === b.origin;
}

/** The sender's account, stored or refreshed from its actor document. */
export async function senderAccount(ctx: Context<void>, core: CoreContext, activity: { actorId: URL | null; getActor(options?: object): Promise<unknown> }): Promise<Account | null> {
  if (activity.actorId == null) return null;
  const known = await findAccountByUri(core, activity.actorId.href);
  if (known != null) {
    refreshInBackground(core, ctx, known);
    return known;
  }
  const actor = await activity.getActor(fetchOptions(core, ctx)).catch(() => null);
  if (actor == null || !isActor(actor) || actor.id?.href !== activity.actorId.href) return null;
  return await persistActor(core, actor, ctx);
}

/** The accounts a post's Mention tags name, among those Islet knows. */
async function mentionedAccounts(ctx: Context<void>, core: CoreContext, uris: readonly string[]): Promise<Account[]> {
  const found: Account[] = [];
  for (const uri of new Set(uris)) {
    const account = await findAccountByUri(core, uri);
    if (account != null) found.push(account);
    else {
      const parsed = ctx.parseUri(new URL(uri));
      if (parsed?.type === "actor") {
        const local = await findAccountByUri(core, ctx.getActorUri(parsed.identifier).href);
        if (local != null) found.push(local);
      }
    }
  }
  return found;
}

/**
 * Whether the owner wants this post: it is by someone the owner follows,
 * it mentions the owner, or it replies to a post Islet has.
 */
async function isRelevant(core: CoreContext, author: Account, mentioned: readonly Account[], inReplyToUri: string | null, quotedUri: string | null = null): Promise<boolean> {
  const owner = await getOwner(core);
  if (owner == null) return false;
  if (mentioned.some((account) => account.id === owner.account.id)) return true;
  // A quote of one of the owner's posts.
  if (quotedUri != null && (await findStatusByUri(core, quotedUri))?.accountId === owner.account.id) return true;
  const following = await core.db
    .select({ id: follows.id })
    .from(follows)
    .where(and(eq(follows.accountId, owner.account.id), eq(follows.targetAccountId, author.id), eq(follows.state, "accepted")))
    .limit(1);
  if (following.length > 0) return true;
  return inReplyToUri != null && (await findStatusByUri(core, inReplyToUri)) != null;
}

/**
 * Stores a post object by `author`, first fetching the parents it replies
 * to when Islet lacks them (up to MAX_PARENT_DEPTH).
 */
export async function storePost(ctx: Context<void>, core: CoreContext, author: Account, object: PostObject, depth = 0, force = false) {
  const post = await readRemotePost(ctx, object, author.followersUrl);
  const mentioned = await mentionedAccounts(ctx, core, post.mentionUris);
  if (!force && !(await isRelevant(core, author, mentioned, post.inReplyToUri, post.quote?.quotedUri ?? null))) return null;
  if (post.inReplyToUri != null && depth < MAX_PARENT_DEPTH && (await findStatusByUri(core, post.inReplyToUri)) == null) {
    const parent = await ctx.lookupObject(post.inReplyToUri, fetchOptions(core, ctx)).catch(() => null);
    if (isPostObject(parent) && sameOrigin(parent.id, parent.attributionId)) {
      const parentAuthor = await accountOf(ctx, core, parent.attributionId);
      if (parentAuthor != null) await storePost(ctx, core, parentAuthor, parent, depth + 1, true).catch(() => null);
    }
  }
  const status = await receiveStatus(core, author, post, mentioned);
  await quoteIn(ctx, core, status, post, depth);
  return status;
}

/** The quote a received post makes; the quoted post is fetched when missing (not too deep). */
async function quoteIn(ctx: Context<void>, core: CoreContext, status: StatusRow, post: RemotePost, depth: number): Promise<void> {
  if (post.quote == null && depth > 0) return;
  await applyRemoteQuote(ctx, core, status, post.quote, async (uri) => {
    if (depth >= MAX_PARENT_DEPTH) return null;
    const object = await ctx.lookupObject(uri, fetchOptions(core, ctx)).catch(() => null);
    if (!isPostObject(object) || !sameOrigin(object.id, object.attributionId)) return null;
    const quotedAuthor = await accountOf(ctx, core, object.attributionId);
    if (quotedAuthor == null) return null;
    return await storePost(ctx, core, quotedAuthor, object, depth + 1, true);
  }).catch((error) => core.log.debug(`the quote in ${status.uri} could not be read`, error));
}

/** The account behind an actor IRI, fetched when unknown. */
export async function accountOf(ctx: Context<void>, core: CoreContext, uri: URL | null): Promise<Account | null> {
  if (uri == null) return null;
  const known = await findAccountByUri(core, uri.href);
  if (known != null) return known;
  const actor = await ctx.lookupObject(uri, fetchOptions(core, ctx)).catch(() => null);
  if (actor == null || !isActor(actor) || actor.id?.href !== uri.href) return null;
  return await persistActor(core, actor, ctx);
}

export async function onCreate(ctx: InboxContext<void>, core: CoreContext, create: Create): Promise<void> {
  const object = await create.getObject(fetchOptions(core, ctx)).catch(() => null);
  if (!isPostObject(object)) return;
  // The author must be the actor, and the object must live on its server.
  if (create.actorId == null || object.attributionId?.href !== create.actorId.href || !sameOrigin(object.id, create.actorId)) return;
  const author = await senderAccount(ctx, core, create);
  if (author == null) return;
  if (await isPollVote(core, author, object)) return;
  await storePost(ctx, core, author, object);
}

/**
 * A vote in a poll of ours arrives as a Note with a name (the option) and
 * no content, in reply to the poll. Counts it and says whether it was one.
 */
async function isPollVote(core: CoreContext, voter: Account, object: PostObject): Promise<boolean> {
  if (!(object instanceof Note) || object.name == null || object.replyTargetId == null) return false;
  if (object.content != null && String(object.content).trim() !== "") return false;
  const status = await findStatusByUri(core, object.replyTargetId.href);
  if (status == null) return false;
  const rows = await core.db.select().from(polls).where(eq(polls.statusId, status.id)).limit(1);
  const poll = rows[0];
  if (poll == null) return false;
  const choice = poll.options.indexOf(String(object.name));
  if (choice < 0) return true;
  await votePoll(core, voter, poll.id, [choice], { uri: object.id?.href ?? null }).catch((error) => {
    core.log.debug(`a poll vote from ${voter.uri} was not counted`, error);
  });
  return true;
}

export async function onUpdate(ctx: InboxContext<void>, core: CoreContext, update: Update): Promise<void> {
  const object = await update.getObject(fetchOptions(core, ctx)).catch(() => null);
  if (update.actorId == null || object == null) return;
  if (isActor(object)) {
    if (object.id?.href !== update.actorId.href) return;
    const account = await persistActor(core, object, ctx);
    await core.events.emit("account.updated", { accountId: account.id });
    return;
  }
  if (!isPostObject(object) || object.attributionId?.href !== update.actorId.href || !sameOrigin(object.id, update.actorId)) return;
  const author = await senderAccount(ctx, core, update);
  if (author == null) return;
  const post = await readRemotePost(ctx, object, author.followersUrl);
  const mentioned = await mentionedAccounts(ctx, core, post.mentionUris);
  const updated = await receiveStatusUpdate(core, author, post, mentioned);
  if (updated != null) await quoteIn(ctx, core, updated, post, 0);
}

export async function onDelete(ctx: InboxContext<void>, core: CoreContext, del: Delete): Promise<void> {
  if (del.actorId == null || del.objectId == null || !sameOrigin(del.objectId, del.actorId)) return;
  const author = await findAccountByUri(core, del.actorId.href);
  if (author == null) return;
  // An actor deleting itself: the account goes, with all of its.
  if (del.objectId.href === del.actorId.href) {
    if (author.domain != null) await deleteRemoteAccounts(core, [author.id]);
    return;
  }
  if (await receiveStatusDelete(core, author, del.objectId.href)) return;
  // A stamp approving a quote, withdrawn.
  await onStampDelete(core, del);
}

/**
 * A Delete that could not be verified because the sender's key is gone: a
 * deleted account's server answers 404 or 410 for its actor, and with it
 * its key. When the activity deletes that very actor, and its own server
 * says the key (on the actor's origin) is gone, the account is deleted
 * here too and the delivery is accepted, as Mastodon does. Anything else
 * keeps Fedify's 401.
 */
export async function onUnverifiedDelete(core: CoreContext, activity: Activity, reason: UnverifiedActivityReason): Promise<Response | void> {
  if (!(activity instanceof Delete) || activity.actorId == null || activity.objectId?.href !== activity.actorId.href) return;
  if (reason.type !== "keyFetchError" || !("status" in reason.result)) return;
  if (reason.result.status !== 404 && reason.result.status !== 410) return;
  if (reason.keyId.origin !== activity.actorId.origin) return;
  const account = await findAccountByUri(core, activity.actorId.href);
  if (account != null && account.domain != null) await deleteRemoteAccounts(core, [account.id]);
  return new Response(null, { status: 202 });
}

export async function onAnnounce(ctx: InboxContext<void>, core: CoreContext, announce: Announce): Promise<void> {
  if (announce.actorId == null || announce.id == null || announce.objectId == null) return;
  if (!sameOrigin(announce.id, announce.actorId)) return;
  const booster = await senderAccount(ctx, core, announce);
  if (booster == null) return;
  const owner = await getOwner(core);
  let original = await findStatusByUri(core, announce.objectId.href);
  if (original == null) {
    // Only boosts by followed accounts bring new posts in.
    const following = owner == null ? [] : await core.db.select({ id: follows.id }).from(follows).where(and(
      eq(follows.accountId, owner.account.id), eq(follows.targetAccountId, booster.id), eq(follows.state, "accepted"),
    )).limit(1);
    if (following.length === 0) return;
    const object: APObject | null = await announce.getObject(fetchOptions(core, ctx)).catch(() => null);
    if (!isPostObject(object) || !sameOrigin(object.id, object.attributionId)) return;
    const author = await accountOf(ctx, core, object.attributionId);
    if (author == null || author.domain == null) return;
    original = await storePost(ctx, core, author, object, 0, true);
    if (original == null) return;
  }
  if (original.visibility !== "public" && original.visibility !== "unlisted") return;
  const published = announce.published == null ? new Date() : new Date(announce.published.epochMilliseconds);
  await receiveReblog(core, booster, original, announce.id.href, published);
}

/** Undo of an Announce: the boost goes. */
export async function onUndoAnnounce(core: CoreContext, actorId: URL, announceId: URL): Promise<void> {
  const booster = await findAccountByUri(core, actorId.href);
  if (booster == null) return;
  await receiveStatusDelete(core, booster, announceId.href);
}

/** A remote account favourited a post Islet has. */
export async function onLike(ctx: InboxContext<void>, core: CoreContext, like: Like): Promise<void> {
  if (like.actorId == null || like.objectId == null) return;
  const status = await findStatusByUri(core, like.objectId.href);
  if (status == null) return;
  const liker = await senderAccount(ctx, core, like);
  if (liker == null || liker.domain == null) return;
  await favouriteStatus(core, liker, status, { uri: like.id?.href ?? null }).catch(() => null);
}

/** Undo of a Like: the favourite goes. */
export async function onUndoLike(core: CoreContext, actorId: URL, like: Like): Promise<void> {
  if (like.objectId == null || like.actorId?.href !== actorId.href) return;
  const [liker, status] = await Promise.all([findAccountByUri(core, actorId.href), findStatusByUri(core, like.objectId.href)]);
  if (liker == null || status == null) return;
  await unfavouriteStatus(core, liker, status);
}
