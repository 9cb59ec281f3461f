/**
 * Remote interaction: the owner, reading another server, clicks follow,
 * favourite, boost or reply, and lands on Islet's `/authorize_interaction`
 * with the address of the account or post. This finds what the address
 * names (known here, or fetched through federation, which lends the core
 * a {@link RemoteResolver}) and does what the owner chose, through the same
 * core functions as the Mastodon API.
 */
import { and, eq } from "drizzle-orm";
import { favourites } from "../db/schema.ts";
import { findAccountById, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { findFollow } from "./follows.ts";
import { favouriteStatus, findReblog, reblogStatus } from "./interactions.ts";
import { followAccount } from "./relationships.ts";
import { findAccountByHandle, findAccountByUrl, findStatusByUrl, parseAccountQuery } from "./search.ts";
import { createStatus } from "./statuses.ts";
import type { StatusRow, Visibility } from "./statuses/rows.ts";

/** What an address names: an account, or a post with its author. */
export type InteractionTarget =
  | { kind: "account"; account: Account }
  | { kind: "status"; status: StatusRow; author: Account };

/** The interactions the page offers. */
export const INTERACTIONS = ["follow", "favourite", "boost", "reply"] as const;
export type Interaction = (typeof INTERACTIONS)[number];

/** `uri` as typed in links: a URL, or a handle with or without `acct:` and the leading `@`. */
function handleOf(uri: string): string | null {
  const text = uri.trim().replace(/^acct:/i, "").replace(/^@/, "");
  const { username, domain } = parseAccountQuery(text);
  if (domain == null || !/^[\w.-]+$/.test(username) || !/^[\w.-]+(:\d+)?$/.test(domain)) return null;
  return `${username}@${domain}`;
}

/**
 * The account or post `uri` names, as the owner (`viewerId`) may see it:
 * found here first, else fetched from its server. Null when nothing
 * (or nothing the owner may see) is there.
 */
export async function findInteractionTarget(
  ctx: CoreContext,
  uri: string,
  viewerId: bigint,
): Promise<InteractionTarget | null> {
  const text = uri.trim();
  if (/^https?:\/\//i.test(text)) {
    const account = await findAccountByUrl(ctx, text);
    if (account != null) return { kind: "account", account };
    let status = await findStatusByUrl(ctx, text, viewerId);
    if (status == null) {
      const found = await ctx.remote.resolveUrl(text).catch((error) => {
        ctx.log.debug(`could not resolve ${text}`, error);
        return null;
      });
      if (found?.kind === "account") return found;
      if (found?.kind === "status") status = await findStatusByUrl(ctx, found.status.uri, viewerId);
    }
    if (status == null) return null;
    const author = await findAccountById(ctx, status.accountId);
    return author == null ? null : { kind: "status", status, author };
  }
  const handle = handleOf(text);
  if (handle == null) return null;
  const known = await findAccountByHandle(ctx, handle);
  if (known != null) return { kind: "account", account: known };
  const account = await ctx.remote.resolveAccount(handle).catch(() => null);
  return account == null ? null : { kind: "account", account };
}

/** Where the owner stands with a target: following (or requested), favourited, boosted. */
export interface InteractionState {
  following: "none" | "requested" | "following";
  favourited: boolean;
  boosted: boolean;
  /** Whether the post may be boosted by the owner (not direct, not someone else's followers-only post). */
  boostable: boolean;
}

export async function interactionState(ctx: CoreContext, owner: Account, target: InteractionTarget): Promise<InteractionState> {
  const account = target.kind === "account" ? target.account : target.author;
  const follow = account.id === owner.id ? null : await findFollow(ctx, owner.id, account.id);
  const state: InteractionState = {
    following: follow == null ? "none" : follow.state === "accepted" ? "following" : "requested",
    favourited: false,
    boosted: false,
    boostable: false,
  };
  if (target.kind === "status") {
    const { status } = target;
    const rows = await ctx.db
      .select({ id: favourites.id })
      .from(favourites)
      .where(and(eq(favourites.accountId, owner.id), eq(favourites.statusId, status.id)))
      .limit(1);
    state.favourited = rows.length > 0;
    state.boosted = (await findReblog(ctx, owner.id, status.id)) != null;
    state.boostable = status.visibility === "public" || status.visibility === "unlisted" ||
      (status.visibility === "private" && status.accountId === owner.id);
  }
  return state;
}

/** What the owner asks for on the page. */
export interface InteractionRequest {
  action: Interaction;
  /** The reply's text (reply only). */
  text?: string;
  /** The reply's visibility (reply only; default: the owner's default). */
  visibility?: Visibility;
  spoilerText?: string;
}

/** What came of an interaction: the follow's state, or the post made (the reply, the boost) or acted on. */
export type InteractionResult =
  | { action: "follow"; state: "following" | "requested" }
  | { action: "favourite"; status: StatusRow }
  | { action: "boost"; status: StatusRow }
  | { action: "reply"; status: StatusRow };

/**
 * Does `request` to `target` as the owner. Throws a CoreError when it does
 * not fit the target (a reply to an account, following oneself, boosting a
 * post that may not be boosted).
 */
export async function interact(
  ctx: CoreContext,
  owner: Account,
  target: InteractionTarget,
  request: InteractionRequest,
): Promise<InteractionResult> {
  if (request.action === "follow") {
    const account = target.kind === "account" ? target.account : target.author;
    if (account.id === owner.id) throw new CoreError("invalid", "This is your own account.");
    const follow = await followAccount(ctx, owner, account);
    return { action: "follow", state: follow.state === "accepted" ? "following" : "requested" };
  }
  if (target.kind !== "status") throw new CoreError("invalid", "Only a post can be favourited, boosted or replied to.");
  if (request.action === "favourite") {
    return { action: "favourite", status: await favouriteStatus(ctx, owner, target.status) };
  }
  if (request.action === "boost") {
    return { action: "boost", status: await reblogStatus(ctx, owner, target.status) };
  }
  const text = request.text?.trim() ?? "";
  if (text === "") throw new CoreError("invalid", "The reply is empty.");
  const status = await createStatus(ctx, owner, {
    text,
    inReplyToId: target.status.id,
    visibility: request.visibility ?? null,
    spoilerText: request.spoilerText ?? null,
  });
  return { action: "reply", status };
}
