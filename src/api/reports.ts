/** Mastodon API: filing a report. */
import { Hono } from "hono";
import type { Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { createReport, MAX_REPORT_COMMENT_LENGTH, REPORT_CATEGORIES, type Report } from "../core/reports.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeAccount, type MastodonAccount } from "./entities/account.ts";
import { unprocessable } from "./errors.ts";
import { bodyParams, read } from "./params.ts";

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

export function reportsRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const app = new Hono<ApiEnv>();

  app.post("/api/v1/reports", async (c) => {
    const reporterId = requireUser(c, "write:reports");
    const params = await bodyParams(c);
    const targetAccountId = read.id(params, "account_id");
    if (targetAccountId == null) throw unprocessable("account_id is missing");
    const { report, target } = await createReport(core, reporterId, {
      targetAccountId,
      statusIds: read.ids(params, "status_ids", { max: 100 }) ?? [],
      comment: read.string(params, "comment", { max: MAX_REPORT_COMMENT_LENGTH }) ?? "",
      forward: read.boolean(params, "forward") ?? false,
      category: read.oneOf(params, "category", REPORT_CATEGORIES),
      ruleIds: read.strings(params, "rule_ids") ?? [],
    });
    return c.json(await serializeReport(core, report, target));
  });

  return app;
}
