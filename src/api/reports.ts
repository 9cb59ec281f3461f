/** Mastodon API: filing a report. */
import { Hono } from "hono";
import { createReport, MAX_REPORT_COMMENT_LENGTH, REPORT_CATEGORIES } from "../core/reports.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeReport } from "./entities/report.ts";
import { unprocessable } from "./errors.ts";
import { bodyParams, read } from "./params.ts";

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
