/**
 * The owner's relationships in Mastodon's CSV export formats, the files
 * Mastodon's "Data export" page offers and its import reads: follows,
 * blocks, mutes, blocked domains, bookmarks and lists. Follow requests
 * not yet accepted are listed with the follows: they are follows the
 * owner asked for, and the server moved to asks again.
 */
import { asc, desc, eq } from "drizzle-orm";
import { accounts, blocks, bookmarks, follows, listAccounts, lists, mutes, statuses } from "../../db/schema.ts";
import { requireOwner, type Account } from "../accounts.ts";
import type { CoreContext } from "../context.ts";
import { blockedDomains } from "../domain-blocks.ts";
import { writeExportCsv, type ImportType } from "../imports/csv-formats.ts";

/** The file names Mastodon gives its exports, by kind. */
export const EXPORT_FILES: Record<ImportType, string> = {
  following: "following_accounts.csv",
  blocking: "blocked_accounts.csv",
  muting: "muted_accounts.csv",
  domain_blocking: "blocked_domains.csv",
  bookmarks: "bookmarks.csv",
  lists: "lists.csv",
};

/** `user@host`, with this server's domain for the owner. */
function acct(ctx: CoreContext, account: Pick<Account, "username" | "domain">): string {
  return `${account.username}@${account.domain ?? ctx.config.localDomain}`;
}

/** One export as CSV text. */
export async function exportCsv(ctx: CoreContext, type: ImportType): Promise<string> {
  const { account: owner } = await requireOwner(ctx);
  switch (type) {
    case "following": {
      const rows = await ctx.db
        .select({ account: accounts, follow: follows })
        .from(follows)
        .innerJoin(accounts, eq(accounts.id, follows.targetAccountId))
        .where(eq(follows.accountId, owner.id))
        .orderBy(desc(follows.id));
      return writeExportCsv(type, rows.map(({ account, follow }) => [acct(ctx, account), follow.showReblogs, follow.notify, follow.languages?.join(", ") ?? ""]));
    }
    case "blocking": {
      const rows = await ctx.db
        .select({ account: accounts })
        .from(blocks)
        .innerJoin(accounts, eq(accounts.id, blocks.targetAccountId))
        .where(eq(blocks.accountId, owner.id))
        .orderBy(desc(blocks.id));
      return writeExportCsv(type, rows.map(({ account }) => [acct(ctx, account)]));
    }
    case "muting": {
      const rows = await ctx.db
        .select({ account: accounts, mute: mutes })
        .from(mutes)
        .innerJoin(accounts, eq(accounts.id, mutes.targetAccountId))
        .where(eq(mutes.accountId, owner.id))
        .orderBy(desc(mutes.id));
      return writeExportCsv(type, rows.map(({ account, mute }) => [acct(ctx, account), mute.hideNotifications]));
    }
    case "domain_blocking":
      return writeExportCsv(type, (await blockedDomains(ctx, owner.id)).map((domain) => [domain]));
    case "bookmarks": {
      const rows = await ctx.db
        .select({ uri: statuses.uri })
        .from(bookmarks)
        .innerJoin(statuses, eq(statuses.id, bookmarks.statusId))
        .where(eq(bookmarks.accountId, owner.id))
        .orderBy(desc(bookmarks.id));
      return writeExportCsv(type, rows.map((row) => [row.uri]));
    }
    case "lists": {
      const rows = await ctx.db
        .select({ title: lists.title, account: accounts })
        .from(lists)
        .innerJoin(listAccounts, eq(listAccounts.listId, lists.id))
        .innerJoin(accounts, eq(accounts.id, listAccounts.accountId))
        .where(eq(lists.accountId, owner.id))
        .orderBy(asc(lists.id), asc(accounts.id));
      return writeExportCsv(type, rows.map((row) => [row.title, acct(ctx, row.account)]));
    }
  }
}
