/**
 * Quote posts, as Mastodon 4.5 has them (FEP-044f): a post may quote one
 * other; the quoted post's author approves it with a QuoteAuthorization
 * ("stamp"), and may revoke it later. Each post states who may quote it
 * (its quote policy). The Mastodon API and the inbox both come here.
 *
 * Events: `quote.requested` (the owner quotes a remote post: federation
 * asks its author), `quote.authorized` (the owner approved a remote quote:
 * federation answers with the stamp), `quote.rejected`, `quote.revoked`
 * (the owner withdrew a stamp), and `quote.accepted` whenever a quote
 * becomes accepted (notifications).
 */
import { and, count, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/connect.ts";
import { follows, statusQuotes, statuses } from "../db/schema.ts";
import { findAccountById, getOwner, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { idPaging, type IdPage } from "./follows.ts";
import { newId } from "./ids.ts";
import { findStatus, findStatusByUri, resolveReblog, type StatusRow, type Visibility } from "./statuses/rows.ts";
import { canView } from "./visibility.ts";

export type QuoteRow = typeof statusQuotes.$inferSelect;
export type QuoteState = QuoteRow["state"];
export type QuotePolicy = "public" | "followers" | "nobody";
/** How a post's quote policy applies to one viewer (Mastodon's `quote_approval.current_user`). */
export type QuoteApproval = "automatic" | "manual" | "denied" | "unknown";

export const QUOTE_POLICIES: readonly QuotePolicy[] = ["public", "followers", "nobody"];

/** Where the owner's stamp for quote `quoteId` lives. */
export function quoteAuthorizationUri(origin: string, username: string, quoteId: bigint): string {
  return `${origin}/users/${username}/quote_authorizations/${quoteId}`;
}

/**
 * The policy a post is quoted under. The owner's posts from before quotes
 * existed state none and, as on Mastodon, are quoted by nobody but the
 * owner; a remote post without one is unknown (null).
 */
export function quotePolicyOf(status: Pick<StatusRow, "quotePolicy" | "uri">, origin: string): QuotePolicy | null {
  if (status.quotePolicy != null) return status.quotePolicy;
  return status.uri.startsWith(`${origin}/`) ? "nobody" : null;
}

/** How each post's policy applies to `viewerId`, in a fixed number of queries. */
export async function quoteApprovals(ctx: CoreContext, rows: readonly StatusRow[], viewerId: bigint | null): Promise<Map<bigint, QuoteApproval>> {
  const result = new Map<bigint, QuoteApproval>();
  const followersOnly = rows.filter((row) => row.accountId !== viewerId && quotePolicyOf(row, ctx.config.origin) === "followers");
  const followed = new Set<bigint>();
  if (viewerId != null && followersOnly.length > 0) {
    const found = await ctx.db
      .select({ id: follows.targetAccountId })
      .from(follows)
      .where(and(eq(follows.accountId, viewerId), eq(follows.state, "accepted"), inArray(follows.targetAccountId, [...new Set(followersOnly.map((row) => row.accountId))])));
    for (const row of found) followed.add(row.id);
  }
  for (const row of rows) {
    const policy = quotePolicyOf(row, ctx.config.origin);
    let approval: QuoteApproval;
    if (viewerId != null && row.accountId === viewerId) approval = "automatic";
    else if (row.visibility === "private" || row.visibility === "direct" || row.reblogOfId != null) approval = "denied";
    else if (viewerId == null) approval = "unknown";
    else if (policy == null) approval = "unknown";
    else if (policy === "public") approval = "automatic";
    else if (policy === "followers") approval = followed.has(row.accountId) ? "automatic" : "denied";
    else approval = "denied";
    result.set(row.id, approval);
  }
  return result;
}

/**
 * The post `quotedId` when `author` may quote it: visible to the author,
 * not someone else's followers-only or direct post nor the author's own
 * direct one, and a policy that does not deny the author. A boost stands
 * for its original. Throws CoreError (not_found, invalid).
 */
export async function checkQuotable(ctx: CoreContext, author: Account, quotedId: bigint): Promise<StatusRow> {
  const found = await findStatus(ctx, quotedId);
  if (found == null || !(await canView(ctx, found, author.id))) throw new CoreError("not_found", "The post you are trying to quote does not appear to exist");
  const quoted = await resolveReblog(ctx, found);
  if (quoted.visibility === "direct") throw new CoreError("invalid", "Direct posts cannot be quoted");
  if (quoted.visibility === "private" && quoted.accountId !== author.id) throw new CoreError("invalid", "Private posts cannot be quoted");
  const approval = (await quoteApprovals(ctx, [quoted], author.id)).get(quoted.id);
  if (approval === "denied") throw new CoreError("invalid", "The author of this post does not allow you to quote it");
  return quoted;
}

/**
 * The visibility of a post quoting `quoted`: a quote of the author's own
 * followers-only post is followers-only at most, as on Mastodon.
 */
export function quotingVisibility(quoted: StatusRow, visibility: Visibility): Visibility {
  return quoted.visibility === "private" && (visibility === "public" || visibility === "unlisted") ? "private" : visibility;
}

/**
 * The HTML of a quoting post: as Mastodon, a `RE:` paragraph linking the
 * quoted post goes first unless the text links to it already (servers
 * that know no quotes show that; clients hide `.quote-inline`).
 */
export function withQuoteInline(html: string, quoted: Pick<StatusRow, "uri" | "url">, escape: (text: string) => string): string {
  const link = quoted.url ?? quoted.uri;
  if ([quoted.uri, quoted.url].some((target) => target != null && html.includes(`href="${escape(target)}"`))) return html;
  return `<p class="quote-inline">RE: <a href="${escape(link)}">${escape(link)}</a></p>${html}`;
}

/**
 * The state a new local quote of `quoted` starts in: accepted when the
 * owner quotes their own post, pending when a remote author must approve.
 */
export function initialQuoteState(author: Account, quoted: StatusRow): QuoteState {
  return quoted.accountId === author.id ? "accepted" : "pending";
}

/** Writes the quote row of a new post; call inside its transaction. */
export async function writeQuote(
  db: Db,
  statusId: bigint,
  quote: { quotedStatusId: bigint | null; quotedUri: string; state: QuoteState; authorizationUri?: string | null; requestUri?: string | null },
): Promise<QuoteRow> {
  const rows = await db.insert(statusQuotes).values({
    id: newId(),
    statusId,
    quotedStatusId: quote.quotedStatusId,
    quotedUri: quote.quotedUri,
    state: quote.state,
    authorizationUri: quote.authorizationUri ?? null,
    requestUri: quote.requestUri ?? null,
  }).returning();
  return rows[0];
}

/**
 * After a new post of the owner's is stored: when its quote waits for a
 * remote author's approval, emits `quote.requested` (federation asks).
 */
export async function requestQuoteApproval(ctx: CoreContext, statusId: bigint): Promise<void> {
  const quote = await findQuoteOf(ctx, statusId);
  if (quote?.state === "pending" && quote.quotedStatusId != null && quote.requestUri != null) {
    await ctx.events.emit("quote.requested", { quoteId: quote.id, statusId, quotedStatusId: quote.quotedStatusId });
  }
}

export async function findQuoteOf(ctx: CoreContext, statusId: bigint): Promise<QuoteRow | null> {
  const rows = await ctx.db.select().from(statusQuotes).where(eq(statusQuotes.statusId, statusId)).limit(1);
  return rows[0] ?? null;
}

export async function findQuote(ctx: CoreContext, id: bigint): Promise<QuoteRow | null> {
  const rows = await ctx.db.select().from(statusQuotes).where(eq(statusQuotes.id, id)).limit(1);
  return rows[0] ?? null;
}

/** The quotes the posts make, by quoting post id. */
export async function quotesOf(ctx: CoreContext, statusIds: readonly bigint[]): Promise<Map<bigint, QuoteRow>> {
  if (statusIds.length === 0) return new Map();
  const rows = await ctx.db.select().from(statusQuotes).where(inArray(statusQuotes.statusId, [...new Set(statusIds)]));
  return new Map(rows.map((row) => [row.statusId, row]));
}

/** How many accepted quotes each post has, by quoted post id. */
export async function quoteCounts(ctx: CoreContext, statusIds: readonly bigint[]): Promise<Map<bigint, number>> {
  if (statusIds.length === 0) return new Map();
  const rows = await ctx.db
    .select({ id: statusQuotes.quotedStatusId, n: count() })
    .from(statusQuotes)
    .where(and(inArray(statusQuotes.quotedStatusId, [...new Set(statusIds)]), eq(statusQuotes.state, "accepted")))
    .groupBy(statusQuotes.quotedStatusId);
  return new Map(rows.map((row) => [row.id!, Number(row.n)]));
}

/**
 * The state a quote shows: an accepted quote whose quoted post is gone
 * shows as deleted.
 */
export function shownQuoteState(quote: QuoteRow): QuoteState {
  return quote.state === "accepted" && quote.quotedStatusId == null ? "deleted" : quote.state;
}

/** One page of the accepted quotes of `status`, newest first, with the quote id as cursor. */
export async function listQuotesOf(ctx: CoreContext, status: StatusRow, page: IdPage): Promise<{ status: StatusRow; cursorId: bigint }[]> {
  const { conditions, order, forward } = idPaging(statusQuotes.id, page);
  const rows = await ctx.db
    .select({ status: statuses, cursorId: statusQuotes.id })
    .from(statusQuotes)
    .innerJoin(statuses, eq(statuses.id, statusQuotes.statusId))
    .where(and(eq(statusQuotes.quotedStatusId, status.id), eq(statusQuotes.state, "accepted"), ...conditions))
    .orderBy(order)
    .limit(page.limit);
  return forward ? rows.reverse() : rows;
}

/** Changes who may quote one of the owner's posts (PUT interaction_policy); emits `status.updated`. */
export async function setQuotePolicy(ctx: CoreContext, status: StatusRow, policy: QuotePolicy): Promise<StatusRow> {
  if (!QUOTE_POLICIES.includes(policy)) throw new CoreError("invalid", `quote_approval_policy must be one of ${QUOTE_POLICIES.join(", ")}`);
  if (status.reblogOfId != null) throw new CoreError("not_found", "Record not found");
  if (status.quotePolicy === policy) return status;
  const rows = await ctx.db.update(statuses).set({ quotePolicy: policy, updatedAt: new Date() }).where(eq(statuses.id, status.id)).returning();
  await ctx.events.emit("status.updated", { statusId: status.id, accountId: status.accountId });
  return rows[0];
}

/** Sets a quote's state (and stamp); emits `quote.accepted` when it becomes accepted. */
async function moveQuote(ctx: CoreContext, quote: QuoteRow, state: QuoteState, authorizationUri?: string | null): Promise<QuoteRow> {
  const rows = await ctx.db.update(statusQuotes).set({
    state,
    ...(authorizationUri === undefined ? {} : { authorizationUri }),
    updatedAt: new Date(),
  }).where(eq(statusQuotes.id, quote.id)).returning();
  const updated = rows[0] ?? quote;
  if (state === "accepted" && quote.state !== "accepted") {
    await ctx.events.emit("quote.accepted", { quoteId: quote.id, statusId: quote.statusId, quotedStatusId: quote.quotedStatusId });
  }
  return updated;
}

/** A quote of the owner's post `quoted` in the post `statusId`, as the owner revokes it. */
export async function revokeQuote(ctx: CoreContext, owner: Account, quoted: StatusRow, quotingStatusId: bigint): Promise<StatusRow> {
  const rows = await ctx.db.select().from(statusQuotes).where(and(eq(statusQuotes.statusId, quotingStatusId), eq(statusQuotes.quotedStatusId, quoted.id))).limit(1);
  const quote = rows[0];
  if (quote == null) throw new CoreError("not_found", "Record not found");
  // Only the quoted post's author may withdraw the approval.
  if (quoted.accountId !== owner.id) throw new CoreError("forbidden", "This action is not allowed");
  const quoting = await findStatus(ctx, quotingStatusId);
  if (quoting == null) throw new CoreError("not_found", "Record not found");
  if (quote.state === "revoked") return quoting;
  if (quoting.accountId === owner.id) throw new CoreError("invalid", "You cannot revoke your own quote; edit the post instead");
  await moveQuote(ctx, quote, "revoked");
  await ctx.events.emit("quote.revoked", { quoteId: quote.id, statusId: quote.statusId, quotedStatusId: quoted.id, authorizationUri: quote.authorizationUri });
  return quoting;
}

/**
 * A remote account asks to quote the owner's post `quoted` in its post
 * `quoting` (a QuoteRequest, `requestUri`). Approved at once when the
 * post's policy lets the account quote it automatically (the stamp is
 * then served at {@link quoteAuthorizationUri}), rejected otherwise.
 * Emits `quote.authorized` or `quote.rejected` each time (a repeated
 * request is answered again).
 */
export async function receiveQuoteRequest(ctx: CoreContext, requester: Account, quoted: StatusRow, quoting: StatusRow, requestUri: string): Promise<QuoteRow | null> {
  const owner = await getOwner(ctx);
  if (owner == null || quoted.accountId !== owner.account.id || quoting.accountId !== requester.id) return null;
  const approval = (await quoteApprovals(ctx, [quoted], requester.id)).get(quoted.id);
  let quote = await findQuoteOf(ctx, quoting.id);
  if (quote == null) {
    try {
      quote = await writeQuote(ctx.db, quoting.id, { quotedStatusId: quoted.id, quotedUri: quoted.uri, state: "pending", requestUri });
    } catch {
      quote = await findQuoteOf(ctx, quoting.id);
      if (quote == null) throw new CoreError("conflict", "The quote could not be stored");
    }
  } else if (quote.quotedStatusId !== quoted.id) {
    return null;
  }
  if (quote.requestUri !== requestUri) {
    await ctx.db.update(statusQuotes).set({ requestUri }).where(eq(statusQuotes.id, quote.id));
    quote = { ...quote, requestUri };
  }
  if (approval !== "automatic" || quote.state === "revoked") {
    if (quote.state !== "revoked") quote = await moveQuote(ctx, quote, "rejected");
    await ctx.events.emit("quote.rejected", { quoteId: quote.id, requestUri, accountId: requester.id, quotedStatusId: quoted.id });
    return quote;
  }
  quote = await moveQuote(ctx, quote, "accepted", quoteAuthorizationUri(ctx.config.origin, owner.account.username, quote.id));
  await ctx.events.emit("quote.authorized", { quoteId: quote.id, requestUri, accountId: requester.id, quotedStatusId: quoted.id });
  return quote;
}

/** The owner's stamp `quoteId`, while it stands: with the quoting and quoted posts' IRIs. */
export async function findQuoteAuthorization(ctx: CoreContext, username: string, quoteId: bigint): Promise<{ quote: QuoteRow; quotingUri: string; quotedUri: string; owner: Account } | null> {
  const owner = await getOwner(ctx);
  const quote = await findQuote(ctx, quoteId);
  if (owner == null || quote == null || owner.account.username !== username || quote.state !== "accepted" || quote.quotedStatusId == null) return null;
  if (quote.authorizationUri !== quoteAuthorizationUri(ctx.config.origin, username, quote.id)) return null;
  const [quoting, quoted] = await Promise.all([findStatus(ctx, quote.statusId), findStatus(ctx, quote.quotedStatusId)]);
  if (quoting == null || quoted == null || quoted.accountId !== owner.account.id) return null;
  return { quote, quotingUri: quoting.uri, quotedUri: quoted.uri, owner: owner.account };
}

/**
 * The owner's quote of a remote post, answered: `accepted` with the stamp
 * (already fetched and checked by federation), or rejected. An accepted
 * quote is federated again (`status.updated`) now carrying its stamp.
 */
export async function quoteAnswered(ctx: CoreContext, quote: QuoteRow, answer: { accepted: true; authorizationUri: string } | { accepted: false }): Promise<void> {
  if (quote.state !== "pending" && !(answer.accepted && quote.state === "accepted")) return;
  const quoting = await findStatus(ctx, quote.statusId);
  if (quoting == null) return;
  if (!answer.accepted) {
    await moveQuote(ctx, quote, "rejected");
    await ctx.events.emit("status.updated", { statusId: quoting.id, accountId: quoting.accountId });
    return;
  }
  if (quote.state === "accepted" && quote.authorizationUri === answer.authorizationUri) return;
  await moveQuote(ctx, quote, "accepted", answer.authorizationUri);
  await ctx.events.emit("status.updated", { statusId: quoting.id, accountId: quoting.accountId });
}

/** The quote the owner asked for with QuoteRequest `requestUri`. */
export async function findQuoteByRequest(ctx: CoreContext, requestUri: string): Promise<QuoteRow | null> {
  const rows = await ctx.db.select().from(statusQuotes).where(eq(statusQuotes.requestUri, requestUri)).limit(1);
  return rows[0] ?? null;
}

/**
 * A stamp withdrawn by its author (a Delete of it): the quotes it
 * approved show as revoked. Only the quoted post's author may do it.
 */
export async function receiveQuoteRevoke(ctx: CoreContext, author: Account, authorizationUri: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ quote: statusQuotes, quotedAuthorId: statuses.accountId })
    .from(statusQuotes)
    .innerJoin(statuses, eq(statuses.id, statusQuotes.quotedStatusId))
    .where(eq(statusQuotes.authorizationUri, authorizationUri));
  let revoked = false;
  for (const { quote, quotedAuthorId } of rows) {
    if (quotedAuthorId !== author.id || quote.state === "revoked") continue;
    await moveQuote(ctx, quote, "revoked");
    revoked = true;
    // The owner's own quote is federated again, without its stamp; a
    // remote post was not edited, so nothing is said of it.
    const quoting = await findStatus(ctx, quote.statusId);
    if (quoting != null && quoting.uri.startsWith(`${ctx.config.origin}/`)) {
      await ctx.events.emit("status.updated", { statusId: quoting.id, accountId: quoting.accountId });
    }
  }
  return revoked;
}

/** What a received post says it quotes (read by federation). */
export interface RemoteQuoteInput {
  /** The quoted post's IRI. */
  quotedUri: string;
  /**
   * The stamp's IRI, when the post names one (FEP-044f); null for the
   * older forms (quoteUrl, _misskey_quote, quoteUri, link tags).
   */
  authorizationUri: string | null;
  /** FEP-044f `quote` (approval expected), or an older form (read as accepted). */
  form: "fep-044f" | "legacy";
  /** Federation fetched the stamp and found it approves this very quote. */
  verified: boolean;
}

/**
 * Stores or updates the quote a received post makes. A quote of the
 * owner's post is accepted only when the owner's own stamp for it
 * stands; another FEP-044f quote only with a stamp federation verified;
 * an older form is taken as it is. The quoted post is linked when Islet
 * has it.
 */
export async function setRemoteQuote(ctx: CoreContext, quoting: StatusRow, input: RemoteQuoteInput | null): Promise<QuoteRow | null> {
  const existing = await findQuoteOf(ctx, quoting.id);
  if (input == null) {
    if (existing != null && existing.state !== "revoked") await ctx.db.delete(statusQuotes).where(eq(statusQuotes.id, existing.id));
    return null;
  }
  const quoted = await findStatusByUri(ctx, input.quotedUri);
  const owner = await getOwner(ctx);
  const ownPost = quoted != null && owner != null && quoted.accountId === owner.account.id;
  let state: QuoteState;
  let authorizationUri = input.authorizationUri;
  if (existing?.state === "revoked" && (existing.quotedUri === input.quotedUri)) return existing;
  let stampNow = false;
  if (ownPost) {
    // Only the owner's own standing stamp counts, whatever the post claims.
    const stamped = existing != null && existing.quotedStatusId === quoted.id && existing.state === "accepted" && existing.authorizationUri != null;
    state = stamped ? "accepted" : existing?.state === "rejected" ? "rejected" : "pending";
    authorizationUri = stamped ? existing!.authorizationUri : null;
    // An older form asks nobody: approved here when the policy lets its author quote automatically.
    if (!stamped && input.form === "legacy" && (await quoteApprovals(ctx, [quoted], quoting.accountId)).get(quoted.id) === "automatic") {
      stampNow = true;
    }
  } else if (input.form === "legacy") {
    state = "accepted";
  } else if (input.authorizationUri != null) {
    state = input.verified ? "accepted" : "unauthorized";
  } else {
    state = "pending";
  }
  if (stampNow && owner != null) {
    const quote = existing ?? await writeQuote(ctx.db, quoting.id, { quotedStatusId: quoted!.id, quotedUri: input.quotedUri, state: "pending" });
    return await moveQuote(ctx, quote, "accepted", quoteAuthorizationUri(ctx.config.origin, owner.account.username, quote.id));
  }
  if (existing == null) {
    const quote = await writeQuote(ctx.db, quoting.id, { quotedStatusId: quoted?.id ?? null, quotedUri: input.quotedUri, state, authorizationUri });
    if (state === "accepted") await ctx.events.emit("quote.accepted", { quoteId: quote.id, statusId: quoting.id, quotedStatusId: quote.quotedStatusId });
    return quote;
  }
  const rows = await ctx.db.update(statusQuotes).set({
    quotedStatusId: quoted?.id ?? null,
    quotedUri: input.quotedUri,
    authorizationUri,
    updatedAt: new Date(),
  }).where(eq(statusQuotes.id, existing.id)).returning();
  return existing.state === state ? rows[0] : await moveQuote(ctx, rows[0], state);
}

/** The owner's accepted quotes of `quotedId` (for `quoted_update`), with the quoted post's author. */
export async function ownerQuotesOf(ctx: CoreContext, quotedId: bigint): Promise<{ quote: QuoteRow; quotedAuthor: Account }[]> {
  const owner = await getOwner(ctx);
  if (owner == null) return [];
  const rows = await ctx.db
    .select({ quote: statusQuotes })
    .from(statusQuotes)
    .innerJoin(statuses, eq(statuses.id, statusQuotes.statusId))
    .where(and(eq(statusQuotes.quotedStatusId, quotedId), eq(statusQuotes.state, "accepted"), eq(statuses.accountId, owner.account.id)));
  const quoted = await findStatus(ctx, quotedId);
  const author = quoted == null ? null : await findAccountById(ctx, quoted.accountId);
  if (author == null) return [];
  return rows.map((row) => ({ quote: row.quote, quotedAuthor: author }));
}

/**
 * `quoted_status_id` given with an edit of the owner's post: the same
 * quote stays; a post without one gets it (checked as for a new post,
 * asked for when the quoted author must approve); another is refused.
 * Returns whether anything changed.
 */
export async function quoteOnEdit(ctx: CoreContext, author: Account, status: StatusRow, quotedStatusId: bigint): Promise<boolean> {
  const existing = await findQuoteOf(ctx, status.id);
  if (existing != null) {
    if (existing.quotedStatusId === quotedStatusId) return false;
    throw new CoreError("invalid", "The quoted post of a post cannot be changed");
  }
  const quoted = await checkQuotable(ctx, author, quotedStatusId);
  if (quotingVisibility(quoted, status.visibility) !== status.visibility) throw new CoreError("invalid", "A private post can only be quoted in a private or direct post");
  const state = initialQuoteState(author, quoted);
  const quote = await writeQuote(ctx.db, status.id, {
    quotedStatusId: quoted.id,
    quotedUri: quoted.uri,
    state,
    requestUri: state === "pending" ? `${status.uri}#quote-request` : null,
  });
  await ctx.events.emit("status.updated", { statusId: status.id, accountId: status.accountId });
  if (state === "pending") await ctx.events.emit("quote.requested", { quoteId: quote.id, statusId: status.id, quotedStatusId: quoted.id });
  return true;
}
