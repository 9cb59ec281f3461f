/**
 * Reports across servers. The owner's report with `forward` goes to the
 * reported account's server as a Flag (object: the account and the
 * reported posts; content: the comment). An incoming Flag about the owner
 * becomes a report the owner is notified of.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Flag } from "@fedify/vocab";
import { inArray } from "drizzle-orm";
import { findAccountById, findAccountByUri, findLocalAccount, type Account } from "../core/accounts.ts";
import type { CoreContext } from "../core/context.ts";
import { findReport, receiveFlag } from "../core/reports.ts";
import { findStatusByUri } from "../core/remote-statuses.ts";
import { statuses } from "../db/schema.ts";
import { senderAccount } from "./inbox-statuses.ts";
import { deliver } from "./send.ts";

export function registerReportDelivery(federation: Federation<void>, core: CoreContext): void {
  core.events.on("report.created", async ({ reportId, accountId, targetAccountId }) => {
    const report = await findReport(core, reportId);
    if (report == null || !report.forwarded) return;
    const [reporter, target] = await Promise.all([findAccountById(core, accountId), findAccountById(core, targetAccountId)]);
    if (reporter == null || reporter.domain != null || target == null || target.domain == null || target.inboxUrl == null) return;
    const ids = report.statusIds.map((id) => BigInt(id));
    const reported = ids.length === 0 ? [] : await core.db.select({ uri: statuses.uri }).from(statuses).where(inArray(statuses.id, ids));
    const ctx = federation.createContext(new URL(core.config.origin), undefined);
    const flag = new Flag({
      id: new URL(report.uri ?? `${core.config.origin}/reports/${report.id}`),
      actor: ctx.getActorUri(reporter.username),
      objects: [new URL(target.uri), ...reported.map((row) => new URL(row.uri))],
      content: report.comment,
    });
    await deliver(core, ctx, reporter, [target], flag);
  });
}

/** The local account an IRI names: an actor IRI, or a post of it. */
async function reportedBy(ctx: InboxContext<void>, core: CoreContext, uri: URL): Promise<{ account?: Account; statusId?: bigint; authorId?: bigint } | null> {
  const parsed = ctx.parseUri(uri);
  if (parsed?.type === "actor") {
    const account = await findLocalAccount(core, parsed.identifier);
    return account == null ? null : { account };
  }
  const status = await findStatusByUri(core, uri.href);
  if (status == null) {
    const account = await findAccountByUri(core, uri.href);
    return account != null && account.domain == null ? { account } : null;
  }
  return { statusId: status.id, authorId: status.accountId };
}

export async function onFlag(ctx: InboxContext<void>, core: CoreContext, flag: Flag): Promise<void> {
  const reporter = await senderAccount(ctx, core, flag);
  if (reporter == null || reporter.domain == null) return;
  let target: Account | null = null;
  const statusIds: bigint[] = [];
  const authors = new Set<bigint>();
  for (const uri of flag.objectIds) {
    const found = await reportedBy(ctx, core, uri);
    if (found?.account != null) target ??= found.account;
    if (found?.statusId != null) {
      statusIds.push(found.statusId);
      authors.add(found.authorId!);
    }
  }
  if (target == null && authors.size > 0) {
    const author = await findAccountById(core, [...authors][0]!);
    if (author?.domain == null) target = author;
  }
  if (target == null || target.domain != null) return;
  await receiveFlag(core, reporter, target, {
    uri: flag.id?.href ?? null,
    comment: flag.content == null ? "" : String(flag.content),
    statusIds,
  });
}
