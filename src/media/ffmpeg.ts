/**
 * ffmpeg and ffprobe (Debian's and nixpkgs' package): whether they are
 * installed, found on PATH. Without them, videos and sounds are stored as
 * uploaded, read by the container probe of probe.ts.
 */
import { execFile } from "node:child_process";

export interface FfmpegTools {
  ffmpeg: string | null;
  ffprobe: string | null;
  /** The first line of `ffmpeg -version`, when found. */
  version: string | null;
}

function versionOf(command: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, ["-version"], { timeout: 10_000 }, (error, stdout) => {
      resolve(error != null ? null : String(stdout).split("\n")[0] ?? "");
    });
  });
}

let found: Promise<FfmpegTools> | undefined;

/** Looks for ffmpeg and ffprobe once per process. */
export function findFfmpeg(): Promise<FfmpegTools> {
  found ??= (async () => {
    const [ffmpeg, ffprobe] = await Promise.all([versionOf("ffmpeg"), versionOf("ffprobe")]);
    return { ffmpeg: ffmpeg == null ? null : "ffmpeg", ffprobe: ffprobe == null ? null : "ffprobe", version: ffmpeg };
  })();
  return found;
}
