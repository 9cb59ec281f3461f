/** `islet media usage|prune`: disk use of DATA_DIR/media, and pruning the remote media cache. */
import { countPrunableRemoteMedia, mediaUsage, pruneRemoteMedia, type UsageCount } from "../core/media-cache.ts";
import { mediaRoot } from "../media/storage.ts";
import { CliError, parseOptions, withIslet, subcommand, type Command } from "./command.ts";
import { formatBytes, startProgress } from "./progress.ts";

const HELP = `
Usage: islet media <usage|prune> [options]

  usage                       bytes and files under DATA_DIR/media: local
                              uploads, cached remote media, other cache,
                              and uploads in progress
  prune [--older-than AGE]    delete the cached files of remote posts' media
                              and remote accounts' avatars and headers
                              older than AGE (default 7d; e.g. 30d, 12h, 45m);
                              a file is fetched again when next viewed. Local
                              uploads are never deleted. The server also
                              prunes on its own after MEDIA_CACHE_RETENTION_DAYS.
`;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `7d`, `12h`, `30m`, `90s`, `2w` in milliseconds; throws a CliError otherwise. */
export function parseAge(text: string, option = "--older-than"): number {
  const match = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  if (match == null) throw new CliError(`${option}: expected an age such as 7d, 12h or 30m, got ${JSON.stringify(text)}`);
  const ms = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(ms)) throw new CliError(`${option}: ${JSON.stringify(text)} is too long`);
  return ms;
}

function row(label: string, count: UsageCount): string {
  const files = `${count.files} ${count.files === 1 ? "file" : "files"}`;
  return `  ${`${label}:`.padEnd(21)}${files}, ${formatBytes(count.bytes)} (${count.bytes} bytes)`;
}

export const mediaCommand: Command = {
  name: "media",
  summary: "show media disk use, or prune the remote media cache",
  async run(argv) {
    const split = subcommand(argv, ["usage", "prune"], HELP);
    if (split == null) return;
    const [sub, rest] = split;
    if (sub === "usage") {
      if (parseOptions(rest, {}, HELP) == null) return;
      await withIslet(async ({ core, config }) => {
        const progress = startProgress({ label: "Counting media files", unit: "items" });
        let usage;
        try {
          usage = await mediaUsage(core, { onFile: () => progress.advance() });
        } catch (error) {
          progress.stop();
          throw error;
        }
        progress.stop();
        const total = {
          files: usage.local.files + usage.remote.files + usage.other.files + usage.uploadTemp.files,
          bytes: usage.local.bytes + usage.remote.bytes + usage.other.bytes + usage.uploadTemp.bytes,
        };
        process.stdout.write([
          `Media in ${mediaRoot(config)}:`,
          row("local uploads", usage.local),
          row("remote media cache", usage.remote),
          row("other cache", usage.other),
          row("upload temp", usage.uploadTemp),
          row("total", total),
        ].join("\n") + "\n");
      });
      return;
    }
    if (sub === "prune") {
      const parsed = parseOptions(rest, { "older-than": { type: "string", default: "7d" } }, HELP);
      if (parsed == null) return;
      const age = parseAge(parsed.values["older-than"]!);
      const before = new Date(Date.now() - age);
      await withIslet(async ({ core }) => {
        const progress = startProgress({ label: "Pruning remote media", total: await countPrunableRemoteMedia(core, before) });
        let result;
        try {
          result = await pruneRemoteMedia(core, before, { onAttachment: () => progress.advance(), onProfileImage: () => progress.advance() });
        } catch (error) {
          progress.stop();
          throw error;
        }
        progress.done(`${result.attachments} ${result.attachments === 1 ? "attachment" : "attachments"}`);
        process.stdout.write(
          `Removed ${result.files} cached ${result.files === 1 ? "file" : "files"} (${formatBytes(result.bytes)}) ` +
            `of ${result.attachments} remote media ${result.attachments === 1 ? "attachment" : "attachments"}` +
            (result.profileImages === 0 ? "" : ` and ${result.profileImages} remote profile ${result.profileImages === 1 ? "picture" : "pictures"}`) +
            ` older than ${parsed.values["older-than"]}.\n`,
        );
      });
      return;
    }
  },
};
