/**
 * ffmpeg and ffprobe (Debian's and nixpkgs' package): whether they are
 * installed. The commands are FFMPEG_BINARY and FFPROBE_BINARY (Mastodon's
 * names), by default `ffmpeg` and `ffprobe` on PATH. Without them, videos
 * and sounds are stored as uploaded, read by the container probe of
 * probe.ts.
 */
import { execFile } from "node:child_process";
import type { Config } from "../config.ts";

export interface FfmpegTools {
  /** The command to run, or null when it is missing. */
  ffmpeg: string | null;
  ffprobe: string | null;
  /** The first line of `ffmpeg -version`, when found. */
  version: string | null;
}

/** Both commands, when both are installed. */
export interface AvTools {
  ffmpeg: string;
  ffprobe: string;
}

function versionOf(command: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, ["-version"], { timeout: 10_000 }, (error, stdout) => {
      resolve(error != null ? null : String(stdout).split("\n")[0] ?? "");
    });
  });
}

const found = new Map<string, Promise<FfmpegTools>>();

/** Looks for ffmpeg and ffprobe (once per process and pair of commands). */
export function findFfmpeg(config?: Pick<Config, "ffmpeg">): Promise<FfmpegTools> {
  const ffmpeg = config?.ffmpeg?.ffmpeg ?? "ffmpeg";
  const ffprobe = config?.ffmpeg?.ffprobe ?? "ffprobe";
  const key = `${ffmpeg}\u0000${ffprobe}`;
  let tools = found.get(key);
  if (tools == null) {
    tools = (async () => {
      const [ffmpegVersion, ffprobeVersion] = await Promise.all([versionOf(ffmpeg), versionOf(ffprobe)]);
      return { ffmpeg: ffmpegVersion == null ? null : ffmpeg, ffprobe: ffprobeVersion == null ? null : ffprobe, version: ffmpegVersion };
    })();
    found.set(key, tools);
  }
  return tools;
}

/** ffmpeg and ffprobe when both are installed, else null. */
export async function avTools(config?: Pick<Config, "ffmpeg">): Promise<AvTools | null> {
  const tools = await findFfmpeg(config);
  return tools.ffmpeg != null && tools.ffprobe != null ? { ffmpeg: tools.ffmpeg, ffprobe: tools.ffprobe } : null;
}
