/**
 * Which servers Islet talks to. Suspended domains (`islet domain block`)
 * are never fetched from and never delivered to; domains whose inboxes keep
 * failing are skipped until their retry time (see unreachable_domains).
 */
import type { Context } from "@fedify/fedify";
import { and, eq, gt, gte, sql } from "drizzle-orm";
import { getOwner, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { isUrlSuspended, suspendedDomainTest } from "../core/server-domain-blocks.ts";
import { unreachableDomains } from "../db/schema.ts";

type DocumentLoader = Context<void>["documentLoader"];

/** Consecutive failed deliveries before a domain counts as unreachable. */
export const UNREACHABLE_AFTER_FAILURES = 5;
/** ...and only when they span at least this long (a brief outage is no reason). */
export const UNREACHABLE_MIN_SPAN_MS = 60 * 60 * 1000;
/** How long deliveries to an unreachable domain are skipped before one is tried again. */
export const UNREACHABLE_RETRY_MS = 6 * 60 * 60 * 1000;

export class SuspendedDomainError extends Error {
  constructor(url: string) {
    super(`${new URL(url).host} is a blocked domain`);
    this.name = "SuspendedDomainError";
  }
}

/**
 * A document loader that refuses URLs on suspended domains. With `signed`,
 * a document refused with 401 or 403 (a server in secure mode) is fetched
 * again with a signed request.
 */
export function guardedLoader(
  core: CoreContext,
  loader: DocumentLoader,
  signed?: () => Promise<DocumentLoader | null>,
): DocumentLoader {
  return async (url, options) => {
    if (await isUrlSuspended(core, url)) throw new SuspendedDomainError(url);
    try {
      return await loader(url, options);
    } catch (error) {
      const status = (error as { response?: { status?: number } } | null)?.response?.status;
      if (signed == null || (status !== 401 && status !== 403)) throw error;
      const signedLoader = await signed();
      if (signedLoader == null) throw error;
      return await signedLoader(url, options);
    }
  };
}

/**
 * Loader options for fetching on behalf of an incoming activity or a
 * lookup: suspended domains refused, requests signed by the owner when a
 * server asks for signatures.
 */
export function fetchOptions(core: CoreContext, ctx: Context<void>) {
  const signed = async () => {
    const owner = await getOwner(core);
    return owner == null ? null : await ctx.getDocumentLoader({ identifier: owner.account.username });
  };
  return { documentLoader: guardedLoader(core, ctx.documentLoader, signed), contextLoader: ctx.contextLoader };
}

/**
 * Loader options that fetch afresh, past the document cache: signed by
 * the owner (Fedify caches only unsigned fetches). For refreshing an
 * account and checking a Move's aliases.
 */
export async function freshFetchOptions(core: CoreContext, ctx: Context<void>) {
  const owner = await getOwner(core);
  if (owner == null) return fetchOptions(core, ctx);
  const signed = await ctx.getDocumentLoader({ identifier: owner.account.username });
  return { documentLoader: guardedLoader(core, signed), contextLoader: ctx.contextLoader };
}

function hostOf(url: string | null): string | null {
  if (url == null) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/** Whether deliveries to `domain` are held back now. */
export async function isDomainUnreachable(core: CoreContext, domain: string, now = new Date()): Promise<boolean> {
  const rows = await core.db.select().from(unreachableDomains).where(eq(unreachableDomains.domain, domain)).limit(1);
  const row = rows[0];
  return row != null && row.failures >= UNREACHABLE_AFTER_FAILURES && row.retryAt.getTime() > now.getTime();
}

/**
 * A failure this long after the previous one starts a new series: Fedify
 * reports failures, not successes, so a quiet gap is taken to mean the
 * deliveries between went through (retries are at most 12 hours apart).
 */
export const UNREACHABLE_SERIES_GAP_MS = 24 * 60 * 60 * 1000;

/**
 * Counts a failed delivery to `domain`. After UNREACHABLE_AFTER_FAILURES in
 * a row spanning UNREACHABLE_MIN_SPAN_MS, deliveries are skipped until
 * `retryAt`; each further failure pushes `retryAt` on.
 */
export async function recordDeliveryFailure(core: CoreContext, domain: string, now = new Date()): Promise<void> {
  const retryAt = new Date(now.getTime() + UNREACHABLE_RETRY_MS);
  const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;
  const newSeries = sql`${unreachableDomains.lastFailedAt} < ${at(new Date(now.getTime() - UNREACHABLE_SERIES_GAP_MS))}`;
  const failures = sql`case when ${newSeries} then 1 else ${unreachableDomains.failures} + 1 end`;
  const firstFailedAt = sql`case when ${newSeries} then ${at(now)} else ${unreachableDomains.firstFailedAt} end`;
  await core.db
    .insert(unreachableDomains)
    .values({ domain, failures: 1, firstFailedAt: now, lastFailedAt: now, retryAt: now })
    .onConflictDoUpdate({
      target: unreachableDomains.domain,
      set: {
        failures,
        firstFailedAt,
        lastFailedAt: now,
        retryAt: sql`case when ${failures} >= ${UNREACHABLE_AFTER_FAILURES}
          and ${firstFailedAt} <= ${at(new Date(now.getTime() - UNREACHABLE_MIN_SPAN_MS))}
          then ${at(retryAt)} else ${at(now)} end`,
      },
    });
}

/** The domain answered (a delivery went through, or it sent an activity): reachable again. */
export async function markDomainReachable(core: CoreContext, domain: string | null): Promise<void> {
  if (domain == null) return;
  await core.db.delete(unreachableDomains).where(eq(unreachableDomains.domain, domain));
}

/**
 * The accounts worth delivering to: an inbox, a domain that is neither
 * suspended nor (for now) unreachable. The blocks and the unreachable
 * domains are read once, however many recipients there are.
 */
export async function deliverableAccounts(core: CoreContext, recipients: readonly Account[], now = new Date()): Promise<Account[]> {
  const isSuspended = await suspendedDomainTest(core);
  const held = await core.db
    .select({ domain: unreachableDomains.domain })
    .from(unreachableDomains)
    .where(and(gte(unreachableDomains.failures, UNREACHABLE_AFTER_FAILURES), gt(unreachableDomains.retryAt, now)));
  const unreachable = new Set(held.map((row) => row.domain));
  return recipients.filter((account) => {
    if (account.inboxUrl == null) return false;
    const domains = [account.domain, hostOf(account.sharedInboxUrl), hostOf(account.inboxUrl)].filter((d): d is string => d != null);
    return domains.every((domain) => !isSuspended(domain) && !unreachable.has(domain));
  });
}
