/**
 * Filling in what Islet did not receive: the recent posts of an account
 * the owner starts following (from its outbox), and the replies of a post
 * whose thread is opened. Both are bounded in count and depth.
 */
import type { Context, Federation } from "@fedify/fedify";
import { Collection, Create, type Object as APObject } from "@fedify/vocab";
import { findAccountById, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findStatusByUri } from "../core/remote-statuses.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { fetchOptions } from "./domain-policy.ts";
import { accountOf, storePost } from "./inbox-statuses.ts";
import { isPostObject } from "./inbound-objects.ts";

/** Posts taken from a newly followed account's outbox. */
export const OUTBOX_BACKFILL_LIMIT = 20;
/** Replies fetched when a thread is opened, and how deep. */
export const REPLIES_LIMIT = 40;
export const REPLIES_DEPTH = 3;

function sameOrigin(a: URL | null | undefined, b: URL | null | undefined): boolean {
  return a != null && b != null && a.origin === b.origin;
}

/**
 * Stores the newest `limit` posts in `account`'s outbox that Islet lacks
 * (its items newest first, as Mastodon pages them); returns how many were new.
 */
export async function backfillOutbox(core: CoreContext, ctx: Context<void>, account: Account, limit = OUTBOX_BACKFILL_LIMIT): Promise<number> {
  if (account.domain == null || account.outboxUrl == null || (await isUrlSuspended(core, account.outboxUrl))) return 0;
  const options = fetchOptions(core, ctx);
  const outbox = await ctx.lookupObject(account.outboxUrl, options).catch(() => null);
  if (!(outbox instanceof Collection)) return 0;
  let seen = 0;
  let taken = 0;
  let stored = 0;
  for await (const item of ctx.traverseCollection(outbox, { ...options, suppressError: true })) {
    // The newest `limit` posts, whether Islet had them or not.
    if (seen++ >= limit * 2 || taken >= limit) break;
    if (!(item instanceof Create) || item.actorId?.href !== account.uri) continue;
    const object: APObject | null = await item.getObject({ ...options, suppressError: true }).catch(() => null);
    if (!isPostObject(object) || object.attributionId?.href !== account.uri || !sameOrigin(object.id, item.actorId)) continue;
    taken++;
    if (object.id != null && (await findStatusByUri(core, object.id.href)) != null) continue;
    const row = await storePost(ctx, core, account, object, 0, true).catch((error) => {
      core.log.debug(`could not store ${object.id?.href} from ${account.outboxUrl}`, error);
      return null;
    });
    if (row != null) stored++;
  }
  return stored;
}

/**
 * Fetches the replies of a post (its `replies` collection), and theirs,
 * down to `depth`, at most `limit` in all; returns how many were new.
 */
export async function fetchReplies(
  core: CoreContext,
  ctx: Context<void>,
  uri: string,
  budget = { remaining: REPLIES_LIMIT },
  depth = REPLIES_DEPTH,
): Promise<number> {
  if (depth <= 0 || budget.remaining <= 0 || (await isUrlSuspended(core, uri))) return 0;
  const options = fetchOptions(core, ctx);
  const post = await ctx.lookupObject(uri, options).catch(() => null);
  if (!isPostObject(post)) return 0;
  const replies = await post.getReplies({ ...options, suppressError: true }).catch(() => null);
  if (replies == null) return 0;
  let stored = 0;
  let seen = 0;
  for await (const item of ctx.traverseCollection(replies, { ...options, suppressError: true })) {
    if (budget.remaining <= 0 || seen++ >= REPLIES_LIMIT * 2) break;
    const reply = item instanceof URL ? await ctx.lookupObject(item, options).catch(() => null) : item;
    if (!isPostObject(reply) || reply.id == null || !sameOrigin(reply.id, reply.attributionId)) continue;
    if (reply.replyTargetId?.href !== uri) continue;
    if ((await findStatusByUri(core, reply.id.href)) == null) {
      const author = await accountOf(ctx, core, reply.attributionId);
      if (author == null) continue;
      const row = await storePost(ctx, core, author, reply, 0, true).catch(() => null);
      if (row == null) continue;
      budget.remaining--;
      stored++;
    }
    stored += await fetchReplies(core, ctx, reply.id.href, budget, depth - 1);
  }
  return stored;
}

const backfilling = new Set<string>();

/** When a remote account accepts the owner's follow, its recent posts are fetched. */
export function registerBackfill(federation: Federation<void>, core: CoreContext): void {
  core.events.on("follow.accepted", async ({ accountId, targetAccountId }) => {
    const [follower, target] = await Promise.all([findAccountById(core, accountId), findAccountById(core, targetAccountId)]);
    if (follower == null || follower.domain != null || target == null || target.domain == null) return;
    if (backfilling.has(target.uri)) return;
    backfilling.add(target.uri);
    const ctx = federation.createContext(new URL(core.config.origin), undefined);
    // In the background: the Accept's processing does not wait for the outbox.
    backfillOutbox(core, ctx, target)
      .catch((error) => core.log.debug(`could not read the outbox of ${target.uri}`, error))
      .finally(() => backfilling.delete(target.uri));
  });
}

/** When each thread's replies were last fetched (by the root post's IRI). */
const repliesFetchedAt = new Map<string, number>();
const REPLIES_REFETCH_MS = 5 * 60 * 1000;
const inFlight = new Map<string, Promise<number>>();

/**
 * Fetches the replies of a remote post when its thread is opened, at most
 * every five minutes per post, waiting at most `waitMs` for it: what
 * arrives later is there the next time the thread is opened.
 */
export async function fetchRepliesWithin(federation: Federation<void>, core: CoreContext, uri: string, waitMs = 2000): Promise<void> {
  let running = inFlight.get(uri);
  if (running == null) {
    const last = repliesFetchedAt.get(uri);
    if (last != null && Date.now() - last < REPLIES_REFETCH_MS) return;
    repliesFetchedAt.set(uri, Date.now());
    if (repliesFetchedAt.size > 10_000) repliesFetchedAt.delete(repliesFetchedAt.keys().next().value!);
    const ctx = federation.createContext(new URL(core.config.origin), undefined);
    running = fetchReplies(core, ctx, uri)
      .catch((error) => {
        core.log.debug(`could not fetch the replies of ${uri}`, error);
        return 0;
      })
      .finally(() => inFlight.delete(uri));
    inFlight.set(uri, running);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([running, new Promise((resolve) => { timer = setTimeout(resolve, waitMs); })]);
  clearTimeout(timer);
}
