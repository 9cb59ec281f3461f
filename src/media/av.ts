/**
 * Video and audio with ffprobe and ffmpeg, as Mastodon handles them:
 * probing, a still preview for videos, animated GIFs into silent looping
 * MP4 ("gifv"), video browsers cannot play (HEVC, MOV, WebM with other
 * codecs...) re-encoded to H.264/AAC MP4 within Mastodon's limits, and
 * sound other than MP3, Ogg or AAC into MP3.
 *
 * Each ffmpeg run has a time limit and reads and writes local files; the
 * caller decides where it runs (src/media/av-worker.ts keeps long work off
 * the request path).
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { MediaError } from "./errors.ts";
import type { AvTools } from "./ffmpeg.ts";
import type { AvInfo } from "./probe.ts";

/** What ffprobe says of a file. */
export interface FfprobeInfo extends AvInfo {
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "gif", "mp3". */
  container: string;
  videoCodec: string | null;
  audioCodec: string | null;
  pixelFormat: string | null;
}

/** Longest one ffprobe may run. */
const PROBE_TIMEOUT_MS = 30_000;
/** Longest one conversion may run (Mastodon's videos are at most a few minutes; this bounds a pathological file). */
const CONVERT_TIMEOUT_MS = 15 * 60_000;
/** Mastodon's ceilings for re-encoded video: bitrate, frames (3 hours at 60 fps), audio bitrate. */
const VIDEO_BITRATE = "1300K";
const MAX_FRAMES = 60 * 60 * 3;
const AUDIO_BITRATE = "192k";

function run(command: string, args: string[], timeoutMs: number): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "buffer" }, (error, stdout, stderr) => {
      if (error != null) reject(Object.assign(error, { stderr: String(stderr) }));
      else resolve({ stdout, stderr: String(stderr) });
    });
  });
}

function rate(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const [n, d] = text.split("/").map(Number);
  if (!Number.isFinite(n) || !Number.isFinite(d) || d === 0 || n === 0) return undefined;
  return n / d;
}

function positive(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : typeof value === "number" ? value : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Probes a file with ffprobe. Throws a MediaError (422) when it is not video or sound ffprobe can read. */
export async function ffprobe(tools: AvTools, path: string): Promise<FfprobeInfo> {
  let output: Buffer;
  try {
    ({ stdout: output } = await run(tools.ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path], PROBE_TIMEOUT_MS));
  } catch {
    throw new MediaError("File could not be processed: it is not a video or audio file that can be read");
  }
  let parsed: { streams?: Record<string, unknown>[]; format?: Record<string, unknown> };
  try {
    parsed = JSON.parse(output.toString("utf8"));
  } catch {
    throw new MediaError("File could not be processed: it is not a video or audio file that can be read");
  }
  const streams = parsed.streams ?? [];
  // Cover art in an audio file is a picture stream marked attached_pic: not a video.
  const video = streams.find((s) => s.codec_type === "video" && (s.disposition as Record<string, number> | undefined)?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === "audio");
  if (video == null && audio == null) throw new MediaError("File could not be processed: it holds no video or audio track");
  const format = parsed.format ?? {};
  const width = positive(video?.width);
  const height = positive(video?.height);
  if (video != null && (width == null || height == null)) throw new MediaError("File could not be processed: its video track has no picture size");
  const duration = positive(format.duration) ?? positive(video?.duration) ?? positive(audio?.duration);
  return {
    kind: video != null ? "video" : "audio",
    container: String(format.format_name ?? ""),
    videoCodec: video == null ? null : String(video.codec_name ?? ""),
    audioCodec: audio == null ? null : String(audio.codec_name ?? ""),
    pixelFormat: video == null ? null : String(video.pix_fmt ?? ""),
    width,
    height,
    frameRate: video == null ? undefined : rate(video.avg_frame_rate) ?? rate(video.r_frame_rate),
    duration,
    bitrate: positive(format.bit_rate),
  };
}

/** What a video or sound needs before browsers play it everywhere. */
export type AvPlan =
  | { kind: "video"; action: "keep" | "transcode" }
  | { kind: "gifv"; action: "transcode" }
  | { kind: "audio"; action: "keep" | "mp3" };

/** Mastodon's rule: H.264 (yuv420p) with AAC or no sound in MP4 plays everywhere; anything else is re-encoded. */
export function planFor(info: FfprobeInfo, animatedGif: boolean): AvPlan {
  if (animatedGif) return { kind: "gifv", action: "transcode" };
  if (info.kind === "video") {
    const playable = info.container.split(",").includes("mp4") && info.videoCodec === "h264" && info.pixelFormat === "yuv420p" &&
      (info.audioCodec == null || info.audioCodec === "aac");
    return { kind: "video", action: playable ? "keep" : "transcode" };
  }
  const playable = ["mp3", "vorbis", "opus", "aac"].includes(info.audioCodec ?? "");
  return { kind: "audio", action: playable ? "keep" : "mp3" };
}

function failure(what: string, error: unknown): MediaError {
  const detail = String((error as { stderr?: string }).stderr ?? "").trim().split("\n").filter(Boolean).at(-1) ?? "";
  return new MediaError(`File could not be processed: ${what}${detail !== "" ? ` (${detail.slice(0, 200)})` : ""}`);
}

/** An animated GIF or a video into H.264/AAC MP4 at `output` (silent and without sound track for a GIF). */
export async function transcodeVideo(tools: AvTools, input: string, output: string, options: { silent: boolean }): Promise<void> {
  const args = [
    "-nostdin", "-v", "error", "-y", "-i", input,
    "-map_metadata", "-1",
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast",
    "-crf", "18", "-maxrate", VIDEO_BITRATE, "-bufsize", VIDEO_BITRATE,
    "-frames:v", String(MAX_FRAMES),
    // Even sizes (H.264 wants them), within 1920x1920 like Mastodon's limit for converted video.
    "-vf", "scale='min(1920,iw)':'min(1920,ih)':force_original_aspect_ratio=decrease,scale=trunc(iw/2)*2:trunc(ih/2)*2",
    "-movflags", "+faststart",
  ];
  if (options.silent) args.push("-an");
  else args.push("-c:a", "aac", "-b:a", AUDIO_BITRATE);
  args.push("-f", "mp4", output);
  try {
    await run(tools.ffmpeg, args, CONVERT_TIMEOUT_MS);
  } catch (error) {
    throw failure("the video could not be converted", error);
  }
}

/** Sound into MP3 at `output`. */
export async function transcodeAudio(tools: AvTools, input: string, output: string): Promise<void> {
  try {
    await run(tools.ffmpeg, ["-nostdin", "-v", "error", "-y", "-i", input, "-map_metadata", "-1", "-vn", "-c:a", "libmp3lame", "-q:a", "2", "-f", "mp3", output], CONVERT_TIMEOUT_MS);
  } catch (error) {
    throw failure("the sound could not be converted", error);
  }
}

/** A PNG still of a video's first frame (or of one a little in, for longer videos), as bytes. */
export async function videoStill(tools: AvTools, input: string, duration: number | undefined): Promise<Buffer> {
  const at = duration != null && duration > 2 ? "1" : "0";
  try {
    const { stdout } = await run(tools.ffmpeg, ["-nostdin", "-v", "error", "-ss", at, "-i", input, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"], PROBE_TIMEOUT_MS);
    if (stdout.byteLength === 0) throw Object.assign(new Error("no frame"), { stderr: "no frame could be decoded" });
    return stdout;
  } catch (error) {
    throw failure("no still could be made of the video", error);
  }
}

/** Bytes in a file. */
export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
