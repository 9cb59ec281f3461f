/**
 * `islet import <kind> FILE`: Mastodon's CSV exports (follows, blocks,
 * mutes, domain blocks, bookmarks, lists) and its account archive.
 *
 * A CSV import is stored and queued, then worked in this process with a
 * progress bar until every row has an outcome; the report lists the rows
 * that failed. Stopped half-way, the rows left are worked by the running
 * server (or by the next import command).
 */
import { readFile } from "node:fs/promises";
import { CoreError } from "../core/context.ts";
import { createImportQueue, describeRow, importProgress, importReport, startImport, startImportWorker, type ImportType } from "../core/imports/bulk-imports.ts";
import { createImportResolvers } from "../federation/imports.ts";
import { CliError, onePath, parseOptions, subcommand, withFederation, type Command } from "./command.ts";
import { startProgress } from "./progress.ts";

const HELP = `
Usage: islet import <kind> FILE [--overwrite]
       islet import mastodon --database URL --media DIR --account NAME

  mastodon             take over a stopped Mastodon's account in place
                       (islet import mastodon --help tells more)

  following FILE       following_accounts.csv: follow these accounts (with
                       their "Show boosts", "Notify on new posts", "Languages")
  blocks FILE          blocked_accounts.csv: block these accounts
  mutes FILE           muted_accounts.csv: mute these accounts
  domain-blocks FILE   blocked_domains.csv: hide these domains
  bookmarks FILE       bookmarks.csv: bookmark these posts
  lists FILE           lists.csv: put these accounts in these lists
  archive FILE         a Mastodon account archive (.zip, .tar.gz, .tgz or
                       its extracted folder): posts, profile, likes, bookmarks

Options:
  --overwrite   replace what is there (unfollow, unblock, unmute, unbookmark
                what the file does not list; lists it does not name are
                deleted, the others emptied first); without it the file is
                merged with what is there

Accounts are found through federation, a few at a time; a row whose
server does not answer is tried again a few times. Running the same
import twice changes nothing the second time.
`;

/** The command's kinds, and Mastodon's names for the CSV ones. */
const CSV_KINDS: Record<string, ImportType> = {
  following: "following",
  blocks: "blocking",
  mutes: "muting",
  "domain-blocks": "domain_blocking",
  bookmarks: "bookmarks",
  lists: "lists",
};
/** Every kind the command takes; `archive` and `mastodon` have modules of their own. */
const KINDS = [...Object.keys(CSV_KINDS), "archive", "mastodon"] as const;

/** How often the command looks at the import's progress. */
const POLL_MS = 200;

async function readCsv(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

async function importCsv(type: ImportType, argv: string[]): Promise<void> {
  const parsed = parseOptions(argv, { overwrite: { type: "boolean" } }, HELP, true);
  if (parsed == null) return;
  const file = onePath(parsed.positionals);
  const csv = await readCsv(file);
  await withFederation(async (islet) => {
    const stop = new AbortController();
    let worker: Promise<void> | null = null;
    try {
      const started = await startImport(islet.core, { type, csv, overwrite: parsed.values.overwrite === true, filename: file }).catch((error: unknown) => {
        if (error instanceof CoreError) throw new CliError(`${file}: ${error.message}`);
        throw error;
      });
      for (const skipped of started.skipped) process.stdout.write(`line ${skipped.line}: skipped, ${skipped.reason}\n`);
      const id = started.import.id;
      worker = startImportWorker(islet.core, createImportQueue(islet.core.database, { log: islet.core.log }), createImportResolvers(islet.federation, islet.core), stop.signal);
      const progress = startProgress({ label: `Importing ${file}`, total: started.import.totalItems });
      let shown = 0;
      for (;;) {
        const now = await importProgress(islet.core, id);
        const done = now.imported + now.failed;
        if (done > shown) progress.advance(done - shown);
        shown = done;
        if (now.state === "finished" || now.pending === 0) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const report = await importReport(islet.core, id);
      const failed = report.filter((row) => row.outcome === "failed");
      const imported = report.length - failed.length;
      progress.done(`${imported} imported, ${failed.length} failed, ${started.skipped.length} skipped`);
      for (const row of failed) process.stdout.write(`line ${row.line}: ${describeRow(row)}: ${row.error ?? "failed"}\n`);
      if (imported === 0 && report.length + started.skipped.length > 0) {
        const first = failed[0];
        throw new CliError(first != null ? `nothing could be imported (line ${first.line}: ${first.error})` : "nothing could be imported");
      }
    } finally {
      stop.abort();
      await worker;
    }
  });
}

export const importCommand: Command = {
  name: "import",
  summary: "take over a Mastodon in place, or import its CSV exports or account archive",
  async run(argv) {
    const split = subcommand(argv, KINDS, HELP);
    if (split == null) return;
    const [kind, rest] = split;
    if (kind === "mastodon") {
      const { importMastodonCommand } = await import("./import-mastodon.ts");
      await importMastodonCommand.run(rest);
      return;
    }
    if (kind === "archive") {
      const { importArchiveCommand } = await import("./import-archive.ts");
      await importArchiveCommand(rest);
      return;
    }
    await importCsv(CSV_KINDS[kind]!, rest);
  },
};
