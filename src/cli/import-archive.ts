/**
 * `islet import archive FILE`: a Mastodon account archive (.tar.gz, .tgz,
 * or the folder it was extracted to), with a progress bar over the bytes
 * of outbox.json, likes.json and bookmarks.json. Running it again skips
 * what the first run stored.
 */
import { CoreError } from "../core/context.ts";
import { importArchive, openArchive } from "../core/imports/archive.ts";
import { createImportResolvers } from "../federation/imports.ts";
import { CliError, onePath, parseOptions, withFederation } from "./command.ts";
import { startProgress, type Progress } from "./progress.ts";

const HELP = `
Usage: islet import archive FILE

  FILE   the archive Mastodon's "Request your archive" gives (.zip, or
         .tar.gz/.tgz from older versions), or its extracted folder

Posts keep their dates, content warnings, media and descriptions, polls,
hashtags, mentions and threads; boosts are kept where the boosted post can
still be fetched; favourites, bookmarks and the profile are taken too.
Imported posts are not sent to anyone as new posts.
`;

export async function importArchiveCommand(argv: string[]): Promise<void> {
  const parsed = parseOptions(argv, {}, HELP, true);
  if (parsed == null) return;
  const file = onePath(parsed.positionals);
  await withFederation(async (islet) => {
    let progress: Progress | null = null;
    let current = "";
    let shown = 0;
    try {
      const archive = await openArchive(islet.core, file).catch((error: unknown) => {
        if (error instanceof CoreError) throw new CliError(error.message);
        throw error;
      });
      try {
        const report = await importArchive(islet.core, archive, {
          resolvers: createImportResolvers(islet.federation, islet.core),
          onProgress: ({ file: name, bytesRead, totalBytes }) => {
            if (name !== current) {
              progress?.done();
              progress = startProgress({ label: `Reading ${name}`, total: totalBytes, unit: "bytes" });
              current = name;
              shown = 0;
            }
            progress!.advance(bytesRead - shown);
            shown = bytesRead;
          },
        }).catch((error: unknown) => {
          if (error instanceof CoreError) throw new CliError(error.message);
          throw error;
        });
        (progress as Progress | null)?.done();
        progress = null;
        for (const skip of report.skipped) process.stdout.write(`skipped ${skip.item}: ${skip.reason}\n`);
        if (report.moreSkipped > 0) process.stdout.write(`... and ${report.moreSkipped} more skipped\n`);
        process.stdout.write(
          `${report.posts} posts, ${report.boosts} boosts, ${report.media} media files, ${report.favourites} favourites and ${report.bookmarks} bookmarks imported` +
            `${report.profile ? ", profile updated" : ""}; ${report.alreadyImported} were there already, ${report.skipped.length + report.moreSkipped} skipped.\n`,
        );
      } finally {
        await archive.close();
      }
    } finally {
      (progress as Progress | null)?.stop();
    }
  });
}
