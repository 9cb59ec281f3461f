/**
 * Domains the owner hides (Mastodon's user-level domain blocks). Blocking a
 * domain ends the follows between the owner and its accounts both ways
 * (`follow.removed` tells federation to send the Undo or Reject), takes
 * those accounts out of the owner's lists and drops their notifications.
 * Timelines, notifications and the inbox ask {@link isDomainBlocked} and
 * {@link blockedDomains} to hide the rest.
 */
import { and, desc, asc, eq, gt, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { accounts, follows, notifications, userDomainBlocks } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { removeFollow } from "./follows.ts";
import { removeFromAllLists } from "./lists.ts";

export { isDomainBlocked } from "./domain-block-check.ts";

export type UserDomainBlock = typeof userDomainBlocks.$inferSelect;

/**
 * The domain as stored: lower-cased, IDNs in punycode, no trailing dot.
 * An `invalid` CoreError when it is blank or not a domain name.
 */
export function normalizeBlockedDomain(input: string): string {
  const trimmed = input.trim();
  if (trimmed === "") throw new CoreError("invalid", "Domain can't be blank");
  if (/[\s/@?#\\]/.test(trimmed) || trimmed.includes("://")) throw new CoreError("invalid", "Domain is not a valid domain name");
  let host: string;
  try {
    host = new URL(`http://${trimmed}`).hostname;
  } catch {
    throw new CoreError("invalid", "Domain is not a valid domain name");
  }
  host = host.replace(/\.$/, "");
  if (host === "" || host.startsWith("[") || !/^[a-z0-9.-]+$/.test(host) || host.split(".").some((label) => label === "")) {
    throw new CoreError("invalid", "Domain is not a valid domain name");
  }
  return host;
}

/** The host part of this server's handles and web address, to refuse blocking ourselves. */
function ownHosts(ctx: CoreContext): Set<string> {
  const strip = (value: string) => value.toLowerCase().replace(/:\d+$/, "");
  return new Set([strip(ctx.config.localDomain), strip(ctx.config.webDomain)]);
}

/**
 * Blocks a domain for the account (idempotent) and cuts the ties with it.
 * Returns the stored domain.
 */
export async function blockDomain(ctx: CoreContext, accountId: bigint, input: string): Promise<string> {
  const domain = normalizeBlockedDomain(input);
  if (ownHosts(ctx).has(domain)) throw new CoreError("invalid", "You cannot block your own domain");
  await ctx.db.insert(userDomainBlocks).values({ accountId, domain }).onConflictDoNothing();

  const there = ctx.db.select({ id: accounts.id }).from(accounts).where(eq(accounts.domain, domain));
  const ties = await ctx.db
    .select()
    .from(follows)
    .where(or(
      and(eq(follows.accountId, accountId), inArray(follows.targetAccountId, there)),
      and(eq(follows.targetAccountId, accountId), inArray(follows.accountId, there)),
    ));
  for (const tie of ties) {
    await removeFollow(ctx, tie, tie.accountId === accountId ? "unfollowed" : "rejected");
  }
  const remoteIds = (await there).map((row) => row.id);
  await removeFromAllLists(ctx, accountId, remoteIds);
  if (remoteIds.length > 0) {
    await ctx.db.delete(notifications).where(and(eq(notifications.accountId, accountId), inArray(notifications.fromAccountId, remoteIds)));
  }
  return domain;
}

/** Lifts a block (idempotent). */
export async function unblockDomain(ctx: CoreContext, accountId: bigint, input: string): Promise<void> {
  const domain = normalizeBlockedDomain(input);
  await ctx.db.delete(userDomainBlocks).where(and(eq(userDomainBlocks.accountId, accountId), eq(userDomainBlocks.domain, domain)));
}

/** Every domain the account hides. */
export async function blockedDomains(ctx: CoreContext, accountId: bigint): Promise<string[]> {
  const rows = await ctx.db.select({ domain: userDomainBlocks.domain }).from(userDomainBlocks).where(eq(userDomainBlocks.accountId, accountId));
  return rows.map((row) => row.domain);
}

/**
 * The row has no id of its own, so pages are cut by the time of the block:
 * the cursor is `created_at` in microseconds since the Unix epoch.
 */
const cursorOf = sql<string>`(extract(epoch from ${userDomainBlocks.createdAt}) * 1000000)::bigint`;

function atMicros(micros: bigint): SQL {
  return sql`(timestamptz 'epoch' + ${micros.toString()}::bigint * interval '1 microsecond')`;
}

export interface DomainBlockPage {
  maxId?: bigint;
  sinceId?: bigint;
  minId?: bigint;
  limit: number;
}

/** One page of the account's blocked domains, newest block first, each with its cursor. */
export async function getBlockedDomains(ctx: CoreContext, accountId: bigint, page: DomainBlockPage): Promise<{ domain: string; cursor: bigint }[]> {
  const conditions: SQL[] = [eq(userDomainBlocks.accountId, accountId)];
  if (page.maxId != null) conditions.push(lt(userDomainBlocks.createdAt, atMicros(page.maxId)));
  if (page.minId != null) conditions.push(gt(userDomainBlocks.createdAt, atMicros(page.minId)));
  else if (page.sinceId != null) conditions.push(gt(userDomainBlocks.createdAt, atMicros(page.sinceId)));
  const ascending = page.minId != null;
  const rows = await ctx.db
    .select({ domain: userDomainBlocks.domain, cursor: cursorOf })
    .from(userDomainBlocks)
    .where(and(...conditions))
    .orderBy(ascending ? asc(userDomainBlocks.createdAt) : desc(userDomainBlocks.createdAt), asc(userDomainBlocks.domain))
    .limit(page.limit);
  const result = rows.map((row) => ({ domain: row.domain, cursor: BigInt(row.cursor) }));
  return ascending ? result.reverse() : result;
}
