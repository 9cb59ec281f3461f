/** `islet domain block|unblock|list`: server-level domain blocks. */
import { and, count, eq, inArray, isNotNull, like, or } from "drizzle-orm";
import type { CoreContext } from "../core/context.ts";
import { blockDomain, listDomainBlocks, normalizeDomain, unblockDomain, type DomainBlockSeverity } from "../core/server-domain-blocks.ts";
import { accounts, mediaAttachments, statuses } from "../db/schema.ts";
import { CliError, parseOptions, withIslet, subcommand, type Command } from "./command.ts";

const HELP = `
Usage: islet domain <block|unblock|list> [options]

  block DOMAIN [--severity suspend|silence] [--comment TEXT]
          suspend (the default): refuse everything from DOMAIN and its
          subdomains, and delete the accounts stored from there with their
          posts, follows and media; silence: keep them out of public
          timelines
  unblock DOMAIN
          lift the block (purged accounts come back only when seen again)
  list    print the blocks: domain, severity, since, comment
`;

const SEVERITIES: readonly DomainBlockSeverity[] = ["suspend", "silence"];

/** Accounts, posts and media attachments stored from `domain` and below it. */
async function storedFrom(ctx: CoreContext, domain: string): Promise<{ accounts: number; statuses: number; media: number }> {
  const onDomain = and(isNotNull(accounts.domain), or(eq(accounts.domain, domain), like(accounts.domain, `%.${domain.replace(/[\\%_]/g, "\\$&")}`)));
  const ids = ctx.db.select({ id: accounts.id }).from(accounts).where(onDomain);
  const [a] = await ctx.db.select({ n: count() }).from(accounts).where(onDomain);
  const [s] = await ctx.db.select({ n: count() }).from(statuses).where(inArray(statuses.accountId, ids));
  const [m] = await ctx.db.select({ n: count() }).from(mediaAttachments).where(inArray(mediaAttachments.accountId, ids));
  return { accounts: a?.n ?? 0, statuses: s?.n ?? 0, media: m?.n ?? 0 };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const domainCommand: Command = {
  name: "domain",
  summary: "block, unblock or list blocked domains",
  async run(argv) {
    const split = subcommand(argv, ["block", "unblock", "list"], HELP);
    if (split == null) return;
    const [sub, rest] = split;
    if (sub === "block") {
      const parsed = parseOptions(rest, { severity: { type: "string", default: "suspend" }, comment: { type: "string" } }, HELP, true);
      if (parsed == null) return;
      const domain = oneDomain(parsed.positionals);
      const severity = parsed.values.severity as DomainBlockSeverity;
      if (!SEVERITIES.includes(severity)) {
        throw new CliError(`--severity: expected suspend or silence, got ${JSON.stringify(parsed.values.severity)}`);
      }
      await withIslet(async ({ core }) => {
        const normalized = normalizeDomain(domain);
        const before = severity === "suspend" ? await storedFrom(core, normalized) : null;
        const result = await blockDomain(core, normalized, { severity, comment: parsed.values.comment ?? null });
        if (severity === "silence") {
          process.stdout.write(`Silenced ${result.block.domain}: its accounts stay, kept out of public timelines.\n`);
          return;
        }
        const purged = result.purgedAccounts === 0
          ? "nothing was stored from there"
          : `purged ${plural(result.purgedAccounts, "account")}, ${plural(before!.statuses, "post")} and ${plural(before!.media, "media attachment")}`;
        process.stdout.write(`Suspended ${result.block.domain}: ${purged}.\n`);
      });
      return;
    }
    if (sub === "unblock") {
      const parsed = parseOptions(rest, {}, HELP, true);
      if (parsed == null) return;
      const domain = oneDomain(parsed.positionals);
      await withIslet(async ({ core }) => {
        const normalized = normalizeDomain(domain);
        if (!await unblockDomain(core, normalized)) throw new CliError(`${normalized} is not blocked`);
        process.stdout.write(`Unblocked ${normalized}.\n`);
      });
      return;
    }
    if (sub === "list") {
      if (parseOptions(rest, {}, HELP) == null) return;
      await withIslet(async ({ core }) => {
        const blocks = await listDomainBlocks(core);
        if (blocks.length === 0) {
          process.stdout.write("No blocked domains.\n");
          return;
        }
        const width = Math.max(...blocks.map((b) => b.domain.length));
        for (const block of blocks) {
          const comment = block.comment == null || block.comment === "" ? "" : `  ${block.comment.replace(/\s+/g, " ")}`;
          process.stdout.write(`${block.domain.padEnd(width)}  ${block.severity.padEnd(7)}  ${block.createdAt.toISOString().slice(0, 10)}${comment}\n`);
        }
      });
      return;
    }
  },
};

function oneDomain(positionals: string[]): string {
  const [domain, ...extra] = positionals;
  if (domain == null) throw new CliError("missing DOMAIN, e.g. islet domain block spam.example");
  if (extra.length > 0) throw new CliError(`one DOMAIN only, got also ${extra.map((d) => JSON.stringify(d)).join(" ")}`);
  return domain;
}
