/**
 * Server-level domain blocks (`islet domain block`): a suspended domain is
 * purged (its accounts, their posts, follows and media) and refused from
 * then on; a silenced one stays but is kept out of public timelines.
 * A block covers the domain's subdomains too, as Mastodon's does.
 */
import { and, asc, eq, inArray, isNotNull, like, or } from "drizzle-orm";
import { accounts, domainBlocks } from "../db/schema.ts";
import { deleteRemoteAccounts } from "./accounts.ts";
import { CoreError, type CoreContext } from "./context.ts";

export type DomainBlock = typeof domainBlocks.$inferSelect;
export type DomainBlockSeverity = DomainBlock["severity"];

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;

/** A domain as stored: lower case, no scheme, path or trailing dot; throws if it is not one. */
export function normalizeDomain(input: string): string {
  let domain = input.trim().toLowerCase();
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(domain)) {
    try {
      domain = new URL(domain).host;
    } catch {
      // reported below
    }
  }
  domain = domain.replace(/\.$/, "");
  try {
    // Internationalised names are kept in their ASCII (punycode) form.
    domain = new URL(`http://${domain}`).host;
  } catch {
    throw new CoreError("invalid", `${JSON.stringify(input)} is not a domain name`);
  }
  if (!DOMAIN.test(domain)) throw new CoreError("invalid", `${JSON.stringify(input)} is not a domain name`);
  return domain;
}

/** The domain and each parent: `a.b.example` → `a.b.example`, `b.example`, `example`. */
function domainAndParents(domain: string): string[] {
  const host = domain.replace(/:\d+$/, "");
  const labels = host.split(".");
  const result = new Set<string>([domain]);
  for (let i = 0; i < labels.length; i++) result.add(labels.slice(i).join("."));
  return [...result];
}

/** The block that covers `domain` (itself or a parent), if any. */
export async function findDomainBlock(ctx: CoreContext, domain: string | null | undefined): Promise<DomainBlock | null> {
  if (domain == null || domain === "") return null;
  const candidates = domainAndParents(domain.toLowerCase());
  const rows = await ctx.db.select().from(domainBlocks).where(inArray(domainBlocks.domain, candidates));
  if (rows.length === 0) return null;
  // The most specific entry decides.
  rows.sort((a, b) => b.domain.length - a.domain.length);
  return rows[0]!;
}

/**
 * A test of many domains against the suspensions, read once: for a
 * delivery to many servers, instead of one lookup per domain.
 */
export async function suspendedDomainTest(ctx: CoreContext): Promise<(domain: string) => boolean> {
  const rows = await ctx.db.select({ domain: domainBlocks.domain }).from(domainBlocks).where(eq(domainBlocks.severity, "suspend"));
  const suspended = new Set(rows.map((row) => row.domain));
  if (suspended.size === 0) return () => false;
  return (domain) => domainAndParents(domain.toLowerCase()).some((candidate) => suspended.has(candidate));
}

/** Whether activities and documents from `domain` are refused (a suspension). */
export async function isDomainSuspended(ctx: CoreContext, domain: string | null | undefined): Promise<boolean> {
  return (await findDomainBlock(ctx, domain))?.severity === "suspend";
}

/** Whether the host of `url` is suspended. */
export async function isUrlSuspended(ctx: CoreContext, url: URL | string | null | undefined): Promise<boolean> {
  if (url == null) return false;
  try {
    return await isDomainSuspended(ctx, new URL(url).host);
  } catch {
    return false;
  }
}

export async function listDomainBlocks(ctx: CoreContext): Promise<DomainBlock[]> {
  return await ctx.db.select().from(domainBlocks).orderBy(asc(domainBlocks.domain));
}

export interface BlockDomainResult {
  block: DomainBlock;
  /** Remote accounts removed (suspensions only). */
  purgedAccounts: number;
}

/**
 * Blocks `domain`. A suspension deletes every account on it and below it,
 * with their posts, follows, notifications and media files.
 */
export async function blockDomain(
  ctx: CoreContext,
  input: string,
  options: { severity?: DomainBlockSeverity; comment?: string | null } = {},
): Promise<BlockDomainResult> {
  const domain = normalizeDomain(input);
  if (domain === ctx.config.localDomain.toLowerCase() || domain === ctx.config.webDomain.toLowerCase()) {
    throw new CoreError("invalid", `${domain} is this server's own domain`);
  }
  const severity = options.severity ?? "suspend";
  const [block] = await ctx.db
    .insert(domainBlocks)
    .values({ domain, severity, comment: options.comment ?? null })
    .onConflictDoUpdate({ target: domainBlocks.domain, set: { severity, comment: options.comment ?? null } })
    .returning();
  let purgedAccounts = 0;
  if (severity === "suspend") purgedAccounts = await purgeDomain(ctx, domain);
  return { block: block!, purgedAccounts };
}

/** Lifts a block; returns false when there was none. */
export async function unblockDomain(ctx: CoreContext, input: string): Promise<boolean> {
  const domain = normalizeDomain(input);
  const removed = await ctx.db.delete(domainBlocks).where(eq(domainBlocks.domain, domain)).returning({ domain: domainBlocks.domain });
  return removed.length > 0;
}

async function purgeDomain(ctx: CoreContext, domain: string): Promise<number> {
  const onDomain = and(isNotNull(accounts.domain), or(eq(accounts.domain, domain), like(accounts.domain, `%.${domain.replace(/[\\%_]/g, "\\$&")}`)));
  const ids = (await ctx.db.select({ id: accounts.id }).from(accounts).where(onDomain)).map((r) => r.id);
  return await deleteRemoteAccounts(ctx, ids);
}
