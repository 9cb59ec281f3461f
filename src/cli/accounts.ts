/** `islet accounts refresh [--all | ACCOUNT...]`: fetch remote accounts' profiles again. */
import { and, asc, eq, gt, isNotNull, sql } from "drizzle-orm";
import { findAccountByUri, type Account } from "../core/accounts.ts";
import { CoreError } from "../core/context.ts";
import { accounts } from "../db/schema.ts";
import { refreshAccount } from "../federation/refresh.ts";
import { openIslet, type Islet } from "../islet.ts";
import { createLogger } from "../log.ts";
import { handleProblem } from "./account-handle.ts";
import { CliError, cliConfig, parseOptions, subcommand, type Command } from "./command.ts";

const HELP = `
Usage: islet accounts refresh [--all | ACCOUNT...]

  refresh ACCOUNT...   fetch these remote accounts (@user@host or actor URL)
                       again and store what their servers say now
  refresh --all        every remote account Islet knows
`;

/** A stored remote account by `@user@host` handle or actor URL. */
async function findRemote(islet: Islet, query: string): Promise<Account | null> {
  if (/^https?:\/\//.test(query)) return await findAccountByUri(islet.core, query);
  const match = /^@?([^@\s]+)@([^@\s]+)$/.exec(query);
  if (match == null) return null;
  const rows = await islet.core.db
    .select()
    .from(accounts)
    .where(and(sql`lower(${accounts.username}) = lower(${match[1]})`, eq(accounts.domain, match[2]!.toLowerCase())))
    .limit(1);
  return rows[0] ?? null;
}

export interface RefreshResult {
  refreshed: number;
  failed: { query: string; reason: string }[];
}

/**
 * Refreshes the named accounts (or all remote ones with `all`), one at a
 * time; failures are collected, not thrown. `report` hears each outcome.
 */
export async function refreshAccounts(
  islet: Islet,
  target: { all: true } | { queries: string[] },
  report: (line: string, failed: boolean) => void = () => {},
): Promise<RefreshResult> {
  const ctx = islet.federation.createContext(new URL(islet.config.origin), undefined);
  const result: RefreshResult = { refreshed: 0, failed: [] };
  const refresh = async (query: string, account: Account | null) => {
    if (account == null || account.domain == null) {
      const reason = handleProblem(query) ?? "not a known remote account";
      result.failed.push({ query, reason });
      report(`${query}: ${reason}`, true);
      return;
    }
    try {
      await refreshAccount(islet.core, ctx, account);
      result.refreshed++;
      report(`${account.uri}: refreshed`, false);
    } catch (error) {
      const reason = error instanceof CoreError ? error.message : String(error);
      result.failed.push({ query, reason });
      report(`${account.uri}: ${reason}`, true);
    }
  };
  if ("all" in target) {
    let after = 0n;
    for (;;) {
      const page = await islet.core.db
        .select()
        .from(accounts)
        .where(and(isNotNull(accounts.domain), gt(accounts.id, after)))
        .orderBy(asc(accounts.id))
        .limit(100);
      for (const account of page) await refresh(account.uri, account);
      if (page.length < 100) break;
      after = page.at(-1)!.id;
    }
  } else {
    for (const query of target.queries) await refresh(query, await findRemote(islet, query));
  }
  return result;
}

export const accountsCommand: Command = {
  name: "accounts",
  summary: "refresh remote accounts",
  async run(argv) {
    const split = subcommand(argv, ["refresh"], HELP);
    if (split == null) return;
    const [, rest] = split;
    const parsed = parseOptions(rest, { all: { type: "boolean" } }, HELP, true);
    if (parsed == null) return;
    const all = parsed.values.all === true;
    if (all === (parsed.positionals.length > 0)) throw new CliError("give either --all or one or more accounts");
    const config = cliConfig();
    const islet = await openIslet(config, { log: createLogger(config.logLevel === "debug" ? "debug" : "warning") });
    // One account: one line, the outcome (a failure is the error line).
    // Several: a line per account, then the count.
    const single = !all && parsed.positionals.length === 1;
    let result: RefreshResult;
    try {
      result = await refreshAccounts(islet, all ? { all: true } : { queries: parsed.positionals }, (line, failed) => {
        if (!(single && failed)) process.stdout.write(`${line}\n`);
      });
    } finally {
      await islet.close();
    }
    if (single) {
      const failure = result.failed[0];
      if (failure != null) throw new CliError(`${failure.query}: ${failure.reason}`);
      return;
    }
    process.stdout.write(`${result.refreshed} refreshed, ${result.failed.length} failed.\n`);
    if (result.failed.length > 0 && result.refreshed === 0) throw new CliError("no account could be refreshed");
  },
};
