/**
 * Outgoing activities for statuses and interactions, in reaction to core
 * events: Create, Update and Delete of the owner's posts, Announce and its
 * Undo for boosts, Like and its Undo for favourites. Each goes through the
 * durable queue, to every inbox that should have it, shared inboxes once.
 */
import type { Context, Federation } from "@fedify/fedify";
import { Create, Delete, Like, Note, Tombstone, Undo, Update } from "@fedify/vocab";
import { and, eq, isNotNull } from "drizzle-orm";
import { findAccountById, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findPollWithStatus } from "../core/polls.ts";
import { findStatusWithAuthor } from "../core/statuses.ts";
import { accounts, follows, statuses } from "../db/schema.ts";
import { deliver } from "./send.ts";
import { announceOf, createOf } from "./collections.ts";
import { addressing, loadFederatedStatus, objectFromStatus, remoteRecipients, type FederatedStatus } from "./objects.ts";

/** Remote accounts following `accountId`, with an inbox. */
async function remoteFollowers(core: CoreContext, accountId: bigint): Promise<Account[]> {
  const rows = await core.db
    .select({ account: accounts })
    .from(follows)
    .innerJoin(accounts, eq(accounts.id, follows.accountId))
    .where(and(eq(follows.targetAccountId, accountId), eq(follows.state, "accepted"), isNotNull(accounts.domain)));
  return rows.map((row) => row.account).filter((account) => account.inboxUrl != null);
}

/** Everyone who should receive activities about a status, once each. */
async function audience(core: CoreContext, data: FederatedStatus, extra: readonly bigint[] = []): Promise<Account[]> {
  const ids = [...data.mentioned.map((account) => account.id), ...extra];
  if (data.status.inReplyToAccountId != null) ids.push(data.status.inReplyToAccountId);
  const found = [
    ...(data.status.visibility === "direct" ? [] : await remoteFollowers(core, data.author.id)),
    ...(await remoteRecipients(core, ids)),
  ];
  const unique = new Map(found.map((account) => [account.uri, account]));
  return [...unique.values()];
}


export function registerStatusDelivery(federation: Federation<void>, core: CoreContext): void {
  const send = (ctx: Context<void>, sender: Account, to: Account[], activity: Parameters<Context<void>["sendActivity"]>[2]) =>
    deliver(core, ctx, sender, to, activity, { preferSharedInbox: true });
  const context = () => federation.createContext(new URL(core.config.origin), undefined);

  core.events.on("status.created", async ({ statusId }) => {
    const data = await loadFederatedStatus(core, statusId);
    if (data == null || data.author.domain != null) return;
    const ctx = context();
    if (data.status.reblogOfId != null) {
      const original = await core.db.select().from(statuses).where(eq(statuses.id, data.status.reblogOfId)).limit(1);
      if (original[0] == null) return;
      const to = await audience(core, data, [original[0].accountId]);
      await send(ctx, data.author, to, announceOf(ctx, data.author.username, data.status.uri, original[0].uri, data.status.createdAt));
      return;
    }
    await send(ctx, data.author, await audience(core, data), createOf(ctx, data.author.username, objectFromStatus(ctx, data)));
  });

  core.events.on("status.updated", async ({ statusId }) => {
    const data = await loadFederatedStatus(core, statusId);
    if (data == null || data.author.domain != null || data.status.reblogOfId != null) return;
    const ctx = context();
    const object = objectFromStatus(ctx, data);
    await send(ctx, data.author, await audience(core, data), new Update({
      id: new URL(`${data.status.uri}#updates/${(data.status.editedAt ?? new Date()).getTime()}`),
      actor: ctx.getActorUri(data.author.username),
      object,
      tos: object.toIds,
      ccs: object.ccIds,
    }));
  });

  core.events.on("status.deleted", async (deleted) => {
    const author = await findAccountById(core, deleted.accountId);
    if (author == null || author.domain != null) return;
    const ctx = context();
    const extra = [...deleted.mentionedAccountIds];
    let originalUri: string | null = null;
    if (deleted.reblogOfId != null) {
      const original = await core.db.select().from(statuses).where(eq(statuses.id, deleted.reblogOfId)).limit(1);
      if (original[0] != null) {
        extra.push(original[0].accountId);
        originalUri = original[0].uri;
      }
    }
    const to = [
      ...(deleted.visibility === "direct" ? [] : await remoteFollowers(core, author.id)),
      ...(await remoteRecipients(core, extra)),
    ];
    const unique = [...new Map(to.map((account) => [account.uri, account])).values()];
    const actor = ctx.getActorUri(author.username);
    if (deleted.reblogOfId != null) {
      if (originalUri == null) return;
      await send(ctx, author, unique, new Undo({
        id: new URL(`${deleted.uri}#undo`),
        actor,
        object: announceOf(ctx, author.username, deleted.uri, originalUri, new Date()),
      }));
      return;
    }
    const { tos, ccs } = addressing(ctx, author, deleted.visibility);
    await send(ctx, author, unique, new Delete({
      id: new URL(`${deleted.uri}#delete`),
      actor,
      object: new Tombstone({ id: new URL(deleted.uri) }),
      tos,
      ccs,
    }));
  });

  // The owner's vote in a remote poll: one Note per choice, to the poll's author.
  core.events.on("poll.voted", async ({ pollId, statusId, accountId, choices }) => {
    const voter = await findAccountById(core, accountId);
    if (voter == null || voter.domain != null) return;
    const row = await findPollWithStatus(core, pollId);
    if (row == null || row.status.id !== statusId || row.author.domain == null || row.author.inboxUrl == null) return;
    const ctx = context();
    const actor = ctx.getActorUri(voter.username);
    for (const choice of choices) {
      const title = row.poll.options[choice];
      if (title == null) continue;
      const id = new URL(`${actor.href}#votes/${pollId}/${choice}`);
      const note = new Note({ id, attribution: actor, name: title, replyTarget: new URL(row.status.uri), tos: [new URL(row.author.uri)] });
      await send(ctx, voter, [row.author], new Create({ id: new URL(`${id.href}/activity`), actor, object: note, tos: [new URL(row.author.uri)] }));
    }
  });

  /** A Like of a remote status by the owner, for favourite events. */
  async function likeOf(ctx: Context<void>, favouriteId: bigint, accountId: bigint, statusId: bigint, uri: string | null) {
    const liker = await findAccountById(core, accountId);
    if (liker == null || liker.domain != null) return null;
    const row = await findStatusWithAuthor(core, statusId);
    if (row == null || row.author.domain == null || row.author.inboxUrl == null) return null;
    const like = new Like({
      id: new URL(uri ?? `${ctx.getActorUri(liker.username).href}#likes/${favouriteId}`),
      actor: ctx.getActorUri(liker.username),
      object: new URL(row.status.uri),
    });
    return { liker, author: row.author, like };
  }

  core.events.on("favourite.created", async ({ favouriteId, accountId, statusId }) => {
    const ctx = context();
    const found = await likeOf(ctx, favouriteId, accountId, statusId, null);
    if (found != null) await send(ctx, found.liker, [found.author], found.like);
  });

  core.events.on("favourite.removed", async ({ favouriteId, accountId, statusId, uri }) => {
    const ctx = context();
    const found = await likeOf(ctx, favouriteId, accountId, statusId, uri);
    if (found == null) return;
    await send(ctx, found.liker, [found.author], new Undo({
      id: new URL(`${found.like.id!.href}/undo`),
      actor: found.like.actorId,
      object: found.like,
    }));
  });
}
