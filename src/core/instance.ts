/** Figures about this server, for NodeInfo and the instance API. */
import { count, countDistinct, isNotNull, isNull } from "drizzle-orm";
import { accounts, statuses, users } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { eq } from "drizzle-orm";

export interface InstanceStats {
  userCount: number;
  statusCount: number;
  domainCount: number;
}

export async function instanceStats(ctx: CoreContext): Promise<InstanceStats> {
  const [userRows, statusRows, domainRows] = await Promise.all([
    ctx.db.select({ n: count() }).from(users),
    ctx.db.select({ n: count() }).from(statuses).innerJoin(accounts, eq(accounts.id, statuses.accountId)).where(isNull(accounts.domain)),
    ctx.db.select({ n: countDistinct(accounts.domain) }).from(accounts).where(isNotNull(accounts.domain)),
  ]);
  return {
    userCount: Number(userRows[0]?.n ?? 0),
    statusCount: Number(statusRows[0]?.n ?? 0),
    domainCount: Number(domainRows[0]?.n ?? 0),
  };
}
