/**
 * Quote posts over ActivityPub (FEP-044f, as Mastodon 4.5 and GoToSocial
 * speak it): the owner's stamps (QuoteAuthorization) served at their own
 * IRIs; QuoteRequest, Accept/Reject and Delete of a stamp sent and
 * received; and the quote a received post makes, with its stamp fetched
 * and checked before it counts. The rules are in src/core/quotes.ts.
 */
import type { Context, Federation, InboxContext } from "@fedify/fedify";
import { Accept, Delete, QuoteAuthorization, QuoteRequest, Reject } from "@fedify/vocab";
import { findAccountById, findAccountByUri, getOwner } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { parseId } from "../core/ids.ts";
import {
  findQuote,
  findQuoteAuthorization,
  findQuoteByRequest,
  quoteAnswered,
  receiveQuoteRequest,
  receiveQuoteRevoke,
  setRemoteQuote,
  type QuoteRow,
} from "../core/quotes.ts";
import { findStatus, findStatusByUri, type StatusRow } from "../core/statuses.ts";
import { fetchOptions } from "./domain-policy.ts";
import type { RemoteQuote } from "./inbound-objects.ts";
import { loadFederatedStatus, objectFromStatus } from "./objects.ts";
import { deliver } from "./send.ts";

/** The owner's stamps, each at /users/{identifier}/quote_authorizations/{id} while it stands. */
export function registerQuoteAuthorizations(federation: Federation<void>, core: CoreContext): void {
  federation.setObjectDispatcher(QuoteAuthorization, "/users/{identifier}/quote_authorizations/{id}", async (ctx, values) => {
    const id = parseId(values.id);
    if (id == null) return null;
    const found = await findQuoteAuthorization(core, values.identifier, id);
    if (found == null) return null;
    return new QuoteAuthorization({
      id: new URL(found.quote.authorizationUri!),
      attribution: ctx.getActorUri(found.owner.username),
      interactingObject: new URL(found.quotingUri),
      interactionTarget: new URL(found.quotedUri),
    });
  });
}

/** The QuoteRequest a quote was asked with, as an Accept or Reject names it. */
function requestOf(requestUri: string, requesterUri: string, quotedUri: string, quotingUri: string): QuoteRequest {
  return new QuoteRequest({ id: new URL(requestUri), actor: new URL(requesterUri), object: new URL(quotedUri), instrument: new URL(quotingUri) });
}

/** Sends what the quote events ask: QuoteRequest, Accept with the stamp, Reject, Delete of a stamp. */
export function registerQuoteDelivery(federation: Federation<void>, core: CoreContext): void {
  const context = () => federation.createContext(new URL(core.config.origin), undefined);

  core.events.on("quote.requested", async ({ quoteId, statusId, quotedStatusId }) => {
    const [quote, data, quoted] = await Promise.all([findQuote(core, quoteId), loadFederatedStatus(core, statusId), findStatus(core, quotedStatusId)]);
    if (quote?.requestUri == null || data == null || data.author.domain != null || quoted == null) return;
    const quotedAuthor = await findAccountById(core, quoted.accountId);
    if (quotedAuthor == null || quotedAuthor.domain == null) return;
    const ctx = context();
    await deliver(core, ctx, data.author, [quotedAuthor], new QuoteRequest({
      id: new URL(quote.requestUri),
      actor: ctx.getActorUri(data.author.username),
      object: new URL(quoted.uri),
      instrument: objectFromStatus(ctx, data),
      tos: [new URL(quotedAuthor.uri)],
    }));
  });

  const answer = (accepted: boolean) => async ({ quoteId, requestUri, accountId }: { quoteId: bigint; requestUri: string; accountId: bigint }) => {
    const [quote, requester, owner] = await Promise.all([findQuote(core, quoteId), findAccountById(core, accountId), getOwner(core)]);
    if (quote == null || requester == null || requester.domain == null || owner == null) return;
    const quoting = await findStatus(core, quote.statusId);
    if (quoting == null) return;
    const ctx = context();
    const actor = ctx.getActorUri(owner.account.username);
    const request = requestOf(requestUri, requester.uri, quote.quotedUri, quoting.uri);
    const activity = accepted && quote.authorizationUri != null
      ? new Accept({ id: new URL(`${quote.authorizationUri}#accept`), actor, object: request, result: new URL(quote.authorizationUri), tos: [new URL(requester.uri)] })
      : new Reject({ id: new URL(`${actor.href}#quote-rejects/${quote.id}`), actor, object: request, tos: [new URL(requester.uri)] });
    await deliver(core, ctx, owner.account, [requester], activity);
  };
  core.events.on("quote.authorized", answer(true));
  core.events.on("quote.rejected", answer(false));

  core.events.on("quote.revoked", async ({ statusId, authorizationUri }) => {
    const [quoting, owner] = await Promise.all([findStatus(core, statusId), getOwner(core)]);
    if (quoting == null || owner == null || authorizationUri == null || !authorizationUri.startsWith(`${core.config.origin}/`)) return;
    const quotingAuthor = await findAccountById(core, quoting.accountId);
    if (quotingAuthor == null || quotingAuthor.domain == null) return;
    const ctx = context();
    const actor = ctx.getActorUri(owner.account.username);
    await deliver(core, ctx, owner.account, [quotingAuthor], new Delete({
      id: new URL(`${authorizationUri}#delete`),
      actor,
      object: new URL(authorizationUri),
      tos: [new URL(quotingAuthor.uri)],
    }));
  });
}

/**
 * Whether the stamp at `authorizationUri` approves `quotingUri` quoting
 * `quotedUri`: fetched from its server, a QuoteAuthorization by the quoted
 * post's author (on that author's server) naming both posts.
 */
export async function verifyQuoteAuthorization(
  ctx: Context<void>,
  core: CoreContext,
  authorizationUri: string,
  quotingUri: string,
  quotedUri: string,
  quotedAuthorUri: string,
): Promise<boolean> {
  let stamp: unknown;
  try {
    stamp = await ctx.lookupObject(authorizationUri, fetchOptions(core, ctx));
  } catch {
    return false;
  }
  if (!(stamp instanceof QuoteAuthorization) || stamp.id == null) return false;
  if (stamp.id.href !== authorizationUri || stamp.id.origin !== new URL(quotedAuthorUri).origin) return false;
  return stamp.attributionId?.href === quotedAuthorUri &&
    stamp.interactingObjectId?.href === quotingUri &&
    stamp.interactionTargetId?.href === quotedUri;
}

/**
 * A remote account asks to quote the owner's post: its quoting post is
 * fetched from its server and stored, then the core decides.
 */
export async function onQuoteRequest(
  ctx: InboxContext<void>,
  core: CoreContext,
  request: QuoteRequest,
  store: (author: NonNullable<Awaited<ReturnType<typeof findAccountByUri>>>, uri: URL) => Promise<StatusRow | null>,
): Promise<void> {
  if (request.id == null || request.actorId == null || request.objectId == null || request.instrumentId == null) return;
  const quoted = await findStatusByUri(core, request.objectId.href);
  if (quoted == null) return;
  if (request.instrumentId.origin !== request.actorId.origin) return;
  const requester = await findAccountByUri(core, request.actorId.href);
  if (requester == null || requester.domain == null) return;
  const quoting = (await findStatusByUri(core, request.instrumentId.href)) ?? (await store(requester, request.instrumentId));
  if (quoting == null || quoting.accountId !== requester.id) return;
  await receiveQuoteRequest(core, requester, quoted, quoting, request.id.href);
}

/**
 * An Accept or Reject of a QuoteRequest the owner sent: an Accept counts
 * once the stamp it names (`result`) is fetched and checked.
 */
export async function onQuoteAnswer(ctx: InboxContext<void>, core: CoreContext, activity: Accept | Reject): Promise<boolean> {
  if (activity.actorId == null || activity.objectId == null) return false;
  const quote = await findQuoteByRequest(core, activity.objectId.href);
  if (quote == null || quote.quotedStatusId == null) return false;
  const [quoting, quoted] = await Promise.all([findStatus(core, quote.statusId), findStatus(core, quote.quotedStatusId)]);
  if (quoting == null || quoted == null) return true;
  const quotedAuthor = await findAccountById(core, quoted.accountId);
  if (quotedAuthor == null || quotedAuthor.uri !== activity.actorId.href) return true;
  if (activity instanceof Reject) {
    await quoteAnswered(core, quote, { accepted: false });
    return true;
  }
  const stampUri = activity.resultId?.href;
  if (stampUri == null) return true;
  if (!(await verifyQuoteAuthorization(ctx, core, stampUri, quoting.uri, quoted.uri, quotedAuthor.uri))) {
    core.log.info(`a quote approval from ${quotedAuthor.uri} named a stamp that does not approve the quote: ${stampUri}`);
    return true;
  }
  await quoteAnswered(core, quote, { accepted: true, authorizationUri: stampUri });
  return true;
}

/** A Delete naming a stamp: the quotes it approved are revoked. */
export async function onStampDelete(core: CoreContext, del: Delete): Promise<boolean> {
  if (del.actorId == null || del.objectId == null) return false;
  const author = await findAccountByUri(core, del.actorId.href);
  if (author == null) return false;
  return await receiveQuoteRevoke(core, author, del.objectId.href);
}

/**
 * Records the quote a received post makes (or no longer makes). The
 * quoted post is fetched when Islet lacks it (`fetchQuoted`); a FEP-044f
 * stamp on another server is fetched and checked.
 */
export async function applyRemoteQuote(
  ctx: Context<void>,
  core: CoreContext,
  status: StatusRow,
  quote: RemoteQuote | null,
  fetchQuoted: (uri: string) => Promise<StatusRow | null>,
): Promise<QuoteRow | null> {
  if (quote == null) return await setRemoteQuote(core, status, null);
  const quoted = (await findStatusByUri(core, quote.quotedUri)) ?? (await fetchQuoted(quote.quotedUri).catch(() => null));
  let verified = false;
  if (quote.form === "fep-044f" && quote.authorizationUri != null && quoted != null && !quote.authorizationUri.startsWith(`${core.config.origin}/`)) {
    const quotedAuthor = await findAccountById(core, quoted.accountId);
    if (quotedAuthor != null) {
      verified = await verifyQuoteAuthorization(ctx, core, quote.authorizationUri, status.uri, quoted.uri, quotedAuthor.uri);
    }
  }
  return await setRemoteQuote(core, status, { ...quote, verified });
}
