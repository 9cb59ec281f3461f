/** `islet export archive FILE`: the account archive in Mastodon's format, as a .tar.gz. */
import { writeAccountArchive } from "../federation/account-archive.ts";
import { CliError, onePath, parseOptions, withFederation } from "./command.ts";
import { startProgress } from "./progress.ts";

const HELP = `
Usage: islet export archive FILE

  FILE   where to write the archive (.tar.gz): outbox.json, actor.json,
         likes.json, bookmarks.json, the avatar, the header and the media
`;

export async function exportArchiveCommand(argv: string[]): Promise<void> {
  const parsed = parseOptions(argv, {}, HELP, true);
  if (parsed == null) return;
  const file = onePath(parsed.positionals);
  await withFederation(async (islet) => {
    const progress = startProgress({ label: `Writing ${file}` });
    try {
      let shown = 0;
      const report = await writeAccountArchive(islet.federation, islet.core, file, (done, total) => {
        if (shown === 0) progress.setTotal(total);
        progress.advance(done - shown);
        shown = done;
      });
      progress.done(`${report.posts} posts, ${report.boosts} boosts, ${report.media} media files, ${report.favourites} favourites, ${report.bookmarks} bookmarks`);
    } catch (error) {
      progress.stop();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "ENOENT" || code === "EISDIR") throw new CliError(`cannot write ${file} (${code})`);
      throw error;
    }
  });
}
