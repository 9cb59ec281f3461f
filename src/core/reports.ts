/**
 * Reports: the owner reporting an account (and some of its posts) to its
 * server's moderators. `report.created` lets federation forward a Flag to
 * the account's server when the owner asked for it.
 */
import { and, eq, inArray } from "drizzle-orm";
import { reports, statuses } from "../db/schema.ts";
import { findAccountById, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import { createNotification } from "./notifications.ts";

export type Report = typeof reports.$inferSelect;

export const REPORT_CATEGORIES = ["spam", "legal", "violation", "other"] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];
export const MAX_REPORT_COMMENT_LENGTH = 1000;

export interface NewReport {
  targetAccountId: bigint;
  statusIds?: readonly bigint[];
  comment?: string;
  /** Forward to the target's server (remote targets only). */
  forward?: boolean;
  category?: ReportCategory;
  ruleIds?: readonly string[];
}

/**
 * Files a report by `reporterId`. The target must exist (not_found), the
 * statuses must be the target's (not_found), the comment at most 1000
 * characters, and Islet has no server rules, so `ruleIds` must be empty.
 */
export async function createReport(ctx: CoreContext, reporterId: bigint, input: NewReport): Promise<{ report: Report; target: Account }> {
  const target = await findAccountById(ctx, input.targetAccountId);
  if (target == null) throw new CoreError("not_found", "Record not found");
  if (target.id === reporterId) throw new CoreError("invalid", "You cannot report yourself");
  const comment = input.comment ?? "";
  if ([...comment].length > MAX_REPORT_COMMENT_LENGTH) {
    throw new CoreError("invalid", `Comment is too long (maximum is ${MAX_REPORT_COMMENT_LENGTH} characters)`);
  }
  const category: ReportCategory = input.category ?? "other";
  if (!REPORT_CATEGORIES.includes(category)) throw new CoreError("invalid", `Category must be one of ${REPORT_CATEGORIES.join(", ")}`);
  const ruleIds = [...new Set(input.ruleIds ?? [])];
  if (ruleIds.length > 0) {
    // Mastodon files a report citing rules as a violation of them; Islet
    // has no server rules to cite.
    throw new CoreError("invalid", "Rule ids does not reference valid rules");
  }
  const statusIds = [...new Set(input.statusIds ?? [])];
  if (statusIds.length > 0) {
    const found = await ctx.db
      .select({ id: statuses.id })
      .from(statuses)
      .where(and(inArray(statuses.id, statusIds), eq(statuses.accountId, target.id)));
    if (found.length !== statusIds.length) throw new CoreError("not_found", "Record not found");
  }
  const forwarded = input.forward === true && target.domain != null;
  const rows = await ctx.db
    .insert(reports)
    .values({
      id: newId(),
      accountId: reporterId,
      targetAccountId: target.id,
      statusIds: statusIds.map(String),
      ruleIds,
      comment,
      category,
      forwarded,
    })
    .returning();
  const report = rows[0];
  await ctx.events.emit("report.created", { reportId: report.id, accountId: reporterId, targetAccountId: target.id });
  return { report, target };
}

export async function findReport(ctx: CoreContext, id: bigint): Promise<Report | null> {
  const rows = await ctx.db.select().from(reports).where(eq(reports.id, id)).limit(1);
  return rows[0] ?? null;
}

export interface ReceivedFlag {
  /** The Flag's IRI: a repeated delivery files nothing new. */
  uri: string | null;
  comment: string;
  /** Statuses of the target it names (others are ignored). */
  statusIds: readonly bigint[];
}

/**
 * A remote server's report (an incoming Flag) about a local account,
 * filed by `reporter` (often that server's instance actor). Kept as a
 * report and, as Mastodon tells its moderators, an `admin.report`
 * notification for the owner.
 */
export async function receiveFlag(ctx: CoreContext, reporter: Account, target: Account, flag: ReceivedFlag): Promise<Report> {
  if (target.domain != null) throw new CoreError("invalid", "only reports about local accounts are received");
  if (reporter.domain == null) throw new CoreError("invalid", "a received report comes from a remote account");
  if (flag.uri != null) {
    const seen = await ctx.db.select().from(reports).where(eq(reports.uri, flag.uri)).limit(1);
    if (seen[0] != null) return seen[0];
  }
  const ids = [...new Set(flag.statusIds)];
  const own = ids.length === 0
    ? []
    : await ctx.db.select({ id: statuses.id }).from(statuses).where(and(inArray(statuses.id, ids), eq(statuses.accountId, target.id)));
  const rows = await ctx.db
    .insert(reports)
    .values({
      id: newId(),
      accountId: reporter.id,
      targetAccountId: target.id,
      statusIds: own.map((row) => String(row.id)),
      comment: [...flag.comment].slice(0, MAX_REPORT_COMMENT_LENGTH * 5).join(""),
      category: "other",
      uri: flag.uri,
    })
    .returning();
  const report = rows[0];
  await ctx.events.emit("report.created", { reportId: report.id, accountId: reporter.id, targetAccountId: target.id });
  await createNotification(ctx, { accountId: target.id, fromAccountId: reporter.id, type: "admin.report", reportId: report.id });
  return report;
}
