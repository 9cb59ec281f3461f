/**
 * `islet media usage|prune|migrate`: what the media store holds, pruning
 * the remote media cache, and moving the files between DATA_DIR/media and
 * an S3 bucket.
 */
import { ConfigError, loadConfig, type Config, type S3Config } from "../config.ts";
import { countPrunableRemoteMedia, mediaUsage, pruneRemoteMedia, type UsageCount } from "../core/media-cache.ts";
import { relocateLocalMediaUrls } from "../core/media-storage.ts";
import { filesystemStorage, S3Storage } from "../media/storage/index.ts";
import { migrateMedia } from "../media/storage/migrate.ts";
import { s3PublicBase } from "../media/storage/s3.ts";
import { storageFor } from "../media/storage.ts";
import { CliError, cliConfig, parseOptions, withIslet, subcommand, type Command } from "./command.ts";
import { formatBytes, startProgress } from "./progress.ts";

const HELP = `
Usage: islet media <usage|prune|migrate> [options]

  usage                       bytes and files in the media store: local
                              uploads, cached remote media, other cache,
                              and uploads in progress
  prune [--older-than AGE]    delete the cached files of remote posts' media
                              and remote accounts' avatars and headers
                              older than AGE (default 7d; e.g. 30d, 12h, 45m);
                              a file is fetched again when next viewed. Local
                              uploads are never deleted. The server also
                              prunes on its own after MEDIA_CACHE_RETENTION_DAYS.
  migrate --to s3|fs [--delete-source]
                              copy every media file from DATA_DIR/media to the
                              S3 bucket (S3_BUCKET, S3_ENDPOINT, AWS_... set;
                              S3_ENABLED may still be false), or back; files
                              the target already holds are skipped, so an
                              interrupted run resumes. --delete-source removes
                              each file from where it was once copied. Stop the
                              server first, then set S3_ENABLED to match and
                              start it again.
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
  summary: "show media use, prune the remote media cache, or move media to or from an S3 bucket",
  async run(argv) {
    const split = subcommand(argv, ["usage", "prune", "migrate"], HELP);
    if (split == null) return;
    const [sub, rest] = split;
    if (sub === "usage") {
      if (parseOptions(rest, {}, HELP) == null) return;
      await withIslet(async ({ core, config }) => {
        const location = storageFor(config).location;
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
          `Media in ${location}:`,
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
    if (sub === "migrate") {
      const parsed = parseOptions(rest, { to: { type: "string" }, "delete-source": { type: "boolean", default: false } }, HELP);
      if (parsed == null) return;
      const to = parsed.values.to;
      if (to !== "s3" && to !== "fs") throw new CliError(`--to: expected s3 or fs, got ${to == null ? "nothing" : JSON.stringify(to)}`);
      await migrate(to, parsed.values["delete-source"] === true);
      return;
    }
  },
};

/** The bucket's settings, whether or not S3_ENABLED is true yet. */
function bucketSettings(): S3Config {
  try {
    return loadConfig({ ...process.env, S3_ENABLED: "true" }).s3!;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`${error.message} (the bucket to migrate ${error.variable === "S3_ENABLED" ? "" : "to or from "}is read from the S3_ and AWS_ variables)`);
    throw error;
  }
}

async function migrate(to: "s3" | "fs", deleteSource: boolean): Promise<void> {
  const config: Config = cliConfig();
  const s3 = bucketSettings();
  const bucket = new S3Storage(s3);
  const disk = filesystemStorage(config);
  const [from, target] = to === "s3" ? [disk, bucket] : [bucket, disk];
  try {
    const progress = startProgress({ label: `Moving media to ${target.location}`, unit: "bytes" });
    let result;
    try {
      result = await migrateMedia(from, target, {
        deleteSource,
        onTotal: (_files, bytes) => progress.setTotal(bytes),
        onFile: (file) => progress.advance(file.size),
      });
    } catch (error) {
      progress.stop();
      throw error;
    }
    progress.done(`${result.files + result.skipped} files`);
    // The owner's pictures are kept as URLs: point them at the new store.
    const fsBase = `${config.origin}/system`;
    const s3Base = s3PublicBase(s3);
    const relocated = await withIslet(({ core }) =>
      relocateLocalMediaUrls(core, to === "s3" ? [fsBase] : [s3Base], (key) => `${to === "s3" ? s3Base : fsBase}/${key}`),
    );
    process.stdout.write(
      `Copied ${result.files} ${result.files === 1 ? "file" : "files"} (${formatBytes(result.bytes)}) from ${from.location} to ${target.location}` +
        `${result.skipped > 0 ? `; ${result.skipped} already there` : ""}` +
        `${deleteSource ? `; removed ${result.deleted} from ${from.location}` : ""}` +
        `${relocated > 0 ? `; ${relocated} profile picture ${relocated === 1 ? "URL" : "URLs"} updated` : ""}.\n` +
        `Now set S3_ENABLED=${to === "s3" ? "true" : "false"} and restart the server.\n`,
    );
  } finally {
    bucket.destroy();
  }
}
