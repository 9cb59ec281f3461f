/** Mastodon's Report entity. */
import type { Account } from "../../core/accounts.ts";
import type { CoreContext } from "../../core/context.ts";
import type { Report } from "../../core/reports.ts";
import { serializeAccount, type MastodonAccount } from "./account.ts";

export interface MastodonReport {
  id: string;
  action_taken: boolean;
  action_taken_at: string | null;
  category: string;
  comment: string;
  forwarded: boolean;
  created_at: string;
  status_ids: string[];
  rule_ids: string[] | null;
  target_account: MastodonAccount;
}

export async function serializeReport(ctx: CoreContext, report: Report, target: Account): Promise<MastodonReport> {
  return {
    id: report.id.toString(),
    action_taken: report.actionTakenAt != null,
    action_taken_at: report.actionTakenAt?.toISOString() ?? null,
    category: report.category,
    comment: report.comment,
    forwarded: report.forwarded,
    created_at: report.createdAt.toISOString(),
    status_ids: report.statusIds,
    // Mastodon leaves it null when no rule was cited.
    rule_ids: report.ruleIds.length === 0 ? null : report.ruleIds,
    target_account: await serializeAccount(ctx, target),
  };
}
