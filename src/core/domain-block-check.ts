/**
 * Whether an account hides a domain (a user-level domain block). Apart from
 * src/core/domain-blocks.ts, which ends follows when a domain is blocked,
 * so that following can ask this without the two importing each other.
 */
import { and, eq, inArray } from "drizzle-orm";
import { userDomainBlocks } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";

/** Whether the account hides this domain (subdomains of a blocked domain included). */
export async function isDomainBlocked(ctx: CoreContext, accountId: bigint, domain: string | null): Promise<boolean> {
  if (domain == null) return false;
  const host = domain.toLowerCase();
  const labels = host.split(".");
  const candidates = labels.map((_, i) => labels.slice(i).join(".")).filter((candidate) => candidate.includes(".") || candidate === host);
  const rows = await ctx.db
    .select({ domain: userDomainBlocks.domain })
    .from(userDomainBlocks)
    .where(and(eq(userDomainBlocks.accountId, accountId), inArray(userDomainBlocks.domain, candidates)))
    .limit(1);
  return rows.length > 0;
}
