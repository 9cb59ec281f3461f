/**
 * `islet export csv DIR` writes Mastodon's CSV exports (follows, blocks,
 * mutes, blocked domains, bookmarks, lists) into DIR, under Mastodon's own
 * file names; `islet export archive FILE` writes an account archive in
 * Mastodon's format (outbox.json, actor.json, likes.json, bookmarks.json,
 * media files) that Mastodon, GoToSocial or another Islet can read.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EXPORT_FILES, exportCsv } from "../core/exports/csv-exports.ts";
import { IMPORT_TYPES } from "../core/imports/csv-formats.ts";
import { CliError, onePath, parseOptions, subcommand, withIslet, type Command } from "./command.ts";

const HELP = `
Usage: islet export <csv DIR | archive FILE>

  csv DIR        write following_accounts.csv, blocked_accounts.csv,
                 muted_accounts.csv, blocked_domains.csv, bookmarks.csv and
                 lists.csv into DIR (made if missing), as Mastodon exports
                 them: its "Import and export" page, and \`islet import\`,
                 read them back
  archive FILE   write the account archive (a .tar.gz): posts, profile,
                 likes, bookmarks and media, in Mastodon's archive format
`;

async function exportCsvFiles(argv: string[]): Promise<void> {
  const parsed = parseOptions(argv, {}, HELP, true);
  if (parsed == null) return;
  const dir = onePath(parsed.positionals, "DIR");
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new CliError(`cannot make ${dir} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  await withIslet(async ({ core }) => {
    for (const type of IMPORT_TYPES) {
      const csv = await exportCsv(core, type);
      const path = join(dir, EXPORT_FILES[type]);
      try {
        await writeFile(path, csv);
      } catch (error) {
        throw new CliError(`cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? error})`);
      }
      const rows = csv === "" ? 0 : csv.trimEnd().split("\n").length - (type === "following" || type === "muting" ? 1 : 0);
      process.stdout.write(`${path}: ${rows} ${rows === 1 ? "row" : "rows"}\n`);
    }
  });
}

export const exportCommand: Command = {
  name: "export",
  summary: "export Mastodon's CSV files or an account archive",
  async run(argv) {
    const split = subcommand(argv, ["csv", "archive"], HELP);
    if (split == null) return;
    const [kind, rest] = split;
    if (kind === "csv") {
      await exportCsvFiles(rest);
      return;
    }
    const { exportArchiveCommand } = await import("./export-archive.ts");
    await exportArchiveCommand(rest);
  },
};
