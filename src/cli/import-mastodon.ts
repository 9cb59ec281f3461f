/** `islet import mastodon`: become a Mastodon account, in place. */
import { takeOverMastodonAccount, type TakeoverReport } from "../core/takeover/mastodon.ts";
import { CliError, parseOptions, readPassword, withIslet, type Command } from "./command.ts";

const HELP = `
Usage: islet import mastodon --database postgres://… --media DIR --account NAME [--password-file PATH|-]

Makes this (empty) Islet the Mastodon account NAME, at the same domain:
the same username, post addresses and ids, key pair and profile, the posts
with their media, polls and edits, boosts, pins, favourites and bookmarks,
followers (with their inboxes), follows, follow requests, blocks, mutes,
domain blocks, lists, filters, markers and hashtags. Stop Mastodon first.
Run once; after a failure, run it again: it resumes where it stopped.

Options:
  --database URL        Mastodon's PostgreSQL database (read only)
  --media DIR           Mastodon's public/system folder
  --account NAME        the local Mastodon account to take over
  --password-file PATH  the owner's new password ("-" reads stdin); without
                        it, set one afterwards with \`islet account password\`
`;

/** The report as lines: what came along, then what did not. */
export function reportLines(report: TakeoverReport, origin: string): string[] {
  const lines = [`Islet is now @${report.username} (${report.actorUri}).`, "Carried over:"];
  for (const [what, n] of Object.entries(report.counts)) lines.push(`  ${what}: ${n}`);
  const skipped = Object.entries(report.skipped);
  if (skipped.length > 0) {
    lines.push("Not carried over:");
    for (const [what, n] of skipped) lines.push(`  ${what}: ${n}`);
  }
  lines.push(`Point the web server for ${new URL(origin).host} at Islet now.`);
  return lines;
}

export const importMastodonCommand: Command = {
  name: "mastodon",
  summary: "take over a Mastodon account in place, from its database and media folder",
  async run(argv) {
    const parsed = parseOptions(argv, {
      database: { type: "string" },
      media: { type: "string" },
      account: { type: "string" },
      "password-file": { type: "string" },
    }, HELP);
    if (parsed == null) return;
    const { database, media, account } = parsed.values;
    if (database == null || media == null || account == null) throw new CliError("give --database, --media and --account; see --help");
    const passwordFile = parsed.values["password-file"];
    const password = passwordFile == null ? null : await readPassword(passwordFile, "Password");
    await withIslet(async ({ core, config }) => {
      const report = await takeOverMastodonAccount(core, {
        databaseUrl: database,
        mediaDir: media,
        username: account.replace(/^@/, ""),
        password,
        progress: (line) => process.stdout.write(`${line}\n`),
      });
      process.stdout.write(`${reportLines(report, config.origin).join("\n")}\n`);
    });
  },
};
