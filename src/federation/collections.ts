/**
 * The owner's collections: outbox, followers, following and featured, each
 * paged by an ID cursor as Mastodon pages them.
 */
import type { Context, Federation } from "@fedify/fedify";
import { Announce, Create, PUBLIC_COLLECTION, type Note, type Question } from "@fedify/vocab";
import { and, count, desc, eq, inArray, lt } from "drizzle-orm";
import { findLocalAccount } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { countFollows, listFollows } from "../core/follows.ts";
import { parseId } from "../core/ids.ts";
import { statuses } from "../db/schema.ts";
import { recipientOf } from "./actors.ts";
import { mayFetch } from "./authorized-fetch.ts";
import { loadFederatedStatus, objectFromStatus } from "./objects.ts";
import { toInstant } from "./time.ts";

const OUTBOX_PAGE = 20;
const FOLLOWS_PAGE = 40;

export function registerCollections(federation: Federation<void>, core: CoreContext): void {
  const publicStatuses = (accountId: bigint) =>
    and(eq(statuses.accountId, accountId), inArray(statuses.visibility, ["public", "unlisted"]));

  federation
    .setOutboxDispatcher("/users/{identifier}/outbox", async (ctx, identifier, cursor) => {
      const account = await findLocalAccount(core, identifier);
      if (account == null || cursor == null) return null;
      const before = cursor === "" ? null : parseId(cursor);
      const condition = before == null ? publicStatuses(account.id) : and(publicStatuses(account.id), lt(statuses.id, before));
      const rows = await core.db.select().from(statuses).where(condition).orderBy(desc(statuses.id)).limit(OUTBOX_PAGE);
      const items = [];
      for (const status of rows) {
        if (status.reblogOfId != null) {
          const original = await core.db.select({ uri: statuses.uri }).from(statuses).where(eq(statuses.id, status.reblogOfId)).limit(1);
          if (original[0] == null) continue;
          items.push(announceOf(ctx, identifier, status.uri, original[0].uri, status.createdAt));
          continue;
        }
        const data = await loadFederatedStatus(core, status.id);
        if (data != null) items.push(createOf(ctx, identifier, objectFromStatus(ctx, data)));
      }
      const last = rows.at(-1);
      return { items, nextCursor: rows.length === OUTBOX_PAGE && last != null ? last.id.toString() : null };
    })
    .setCounter(async (_ctx, identifier) => {
      const account = await findLocalAccount(core, identifier);
      if (account == null) return null;
      const rows = await core.db.select({ n: count() }).from(statuses).where(publicStatuses(account.id));
      return Number(rows[0]?.n ?? 0);
    })
    .setFirstCursor(() => "")
    .authorize((ctx) => mayFetch(core, ctx));

  federation
    .setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier, cursor) => {
      const account = await findLocalAccount(core, identifier);
      if (account == null) return null;
      // Without a cursor Fedify wants every follower (to deliver to them).
      const before = cursor == null || cursor === "" ? undefined : parseId(cursor) ?? undefined;
      const limit = cursor == null ? Number.MAX_SAFE_INTEGER : FOLLOWS_PAGE;
      const rows = await listFollows(core, account.id, "followers", { before, limit });
      const items = rows.filter((row) => row.account.inboxUrl != null).map((row) => recipientOf(row.account));
      const last = rows.at(-1);
      const nextCursor = cursor != null && rows.length === FOLLOWS_PAGE && last != null ? last.followId.toString() : null;
      return { items, nextCursor };
    })
    .setCounter(async (_ctx, identifier) => {
      const account = await findLocalAccount(core, identifier);
      return account == null ? null : await countFollows(core, account.id, "followers");
    })
    .setFirstCursor(() => "")
    .authorize((ctx) => mayFetch(core, ctx));

  federation
    .setFollowingDispatcher("/users/{identifier}/following", async (_ctx, identifier, cursor) => {
      const account = await findLocalAccount(core, identifier);
      if (account == null || cursor == null) return null;
      const before = cursor === "" ? undefined : parseId(cursor) ?? undefined;
      const rows = await listFollows(core, account.id, "following", { before, limit: FOLLOWS_PAGE });
      const last = rows.at(-1);
      return {
        items: rows.map((row) => new URL(row.account.uri)),
        nextCursor: rows.length === FOLLOWS_PAGE && last != null ? last.followId.toString() : null,
      };
    })
    .setCounter(async (_ctx, identifier) => {
      const account = await findLocalAccount(core, identifier);
      return account == null ? null : await countFollows(core, account.id, "following");
    })
    .setFirstCursor(() => "")
    .authorize((ctx) => mayFetch(core, ctx));

  federation.setFeaturedDispatcher("/users/{identifier}/collections/featured", async (_ctx, identifier) => {
    const account = await findLocalAccount(core, identifier);
    if (account == null) return null;
    // Pinned posts arrive with the statuses API; until then nothing is featured.
    return { items: [] };
  }).authorize((ctx) => mayFetch(core, ctx));
}

/** The Create activity of a local status's object. */
export function createOf(ctx: Context<void>, identifier: string, object: Note | Question): Create {
  return new Create({
    id: new URL(`${object.id!.href}/activity`),
    actor: ctx.getActorUri(identifier),
    object,
    published: object.published,
    tos: object.toIds,
    ccs: object.ccIds,
  });
}

/** The Announce activity of a local boost. */
export function announceOf(ctx: Context<void>, identifier: string, boostUri: string, originalUri: string, at: Date): Announce {
  return new Announce({
    id: new URL(`${boostUri}/activity`),
    actor: ctx.getActorUri(identifier),
    object: new URL(originalUri),
    published: toInstant(at),
    tos: [PUBLIC_COLLECTION],
    ccs: [ctx.getFollowersUri(identifier)],
  });
}
