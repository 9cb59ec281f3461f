/**
 * Video and audio uploads with ffmpeg: probed on the request path (a file
 * ffprobe cannot read is refused at once), then, when a file must be
 * converted (an animated GIF into a looping MP4, HEVC or MOV into H.264
 * MP4, WAV or FLAC into MP3), converted by a bounded background worker
 * while the attachment has no URL yet: `POST /api/v2/media` answers 202,
 * `GET /api/v1/media/:id` 206 until the file is ready and 200 after.
 * A video that plays as it is only gets its still preview, made at once.
 *
 * Without ffmpeg and ffprobe none of this runs: src/core/media.ts keeps
 * video and sound as uploaded.
 */
import { randomBytes } from "node:crypto";
import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { mediaAttachments, type MediaMeta } from "../db/schema.ts";
import { ffprobe, planFor, transcodeAudio, transcodeVideo, videoStill, fileSize, type AvPlan, type FfprobeInfo } from "../media/av.ts";
import { MediaError } from "../media/errors.ts";
import { avTools, type AvTools } from "../media/ffmpeg.ts";
import { MEDIA_LIMITS } from "../media/limits.ts";
import { attachmentFolder, deleteMediaFiles, ensurePrivateDirectory, moveIntoMedia, storeThumbnail, uploadTmpDir } from "../media/storage.ts";
import type { CoreContext } from "./context.ts";

/** Conversions running at once: one, so that a 2-core server keeps answering. */
const CONCURRENCY = 1;

/** Where uploads wait for their conversion: under the upload folder, never served. */
export function processingDir(ctx: Pick<CoreContext, "config">): string {
  return join(uploadTmpDir(ctx.config), "processing");
}

/** The state kept in an attachment's meta while it is converted (never shown to clients). */
export interface ProcessingState {
  state: "pending" | "failed";
  error?: string;
}

export function processingStateOf(meta: MediaMeta | null | undefined): ProcessingState | null {
  const value = meta?.processing as ProcessingState | undefined;
  return value != null && typeof value === "object" ? value : null;
}

/** Mastodon's meta for a probed file. */
export function ffprobeMeta(info: FfprobeInfo, avMeta: (info: FfprobeInfo) => MediaMeta): MediaMeta {
  return avMeta(info);
}

/** Checks a probed video against the upload limits. */
export function checkVideoLimits(info: FfprobeInfo): void {
  if (info.kind !== "video") return;
  if (info.width != null && info.height != null && info.width * info.height > MEDIA_LIMITS.videoMatrixLimit) {
    throw new MediaError(`File dimensions ${info.width}x${info.height} are not supported for videos (at most ${MEDIA_LIMITS.videoMatrixLimit} pixels)`);
  }
  if (info.frameRate != null && info.frameRate > MEDIA_LIMITS.videoFrameRateLimit + 0.5) {
    throw new MediaError(`File frame rate of ${Math.floor(info.frameRate)} fps is not supported (at most ${MEDIA_LIMITS.videoFrameRateLimit})`);
  }
}

export { ffprobe, planFor, type AvPlan, type FfprobeInfo };

interface Job {
  tools: AvTools;
  id: bigint;
  input: string;
  plan: AvPlan;
  avMeta: (info: FfprobeInfo) => MediaMeta;
  done: () => void;
}

/** Conversions queued or running, by attachment ID: resolved when each ends (done or failed). */
const pending = new Map<bigint, Promise<void>>();

/** Resolves when the conversion of attachment `id` has ended (at once when there is none). */
export function conversionOf(id: bigint): Promise<void> {
  return pending.get(id) ?? Promise.resolve();
}

class ProcessingQueue {
  readonly #ctx: CoreContext;
  readonly #jobs: Job[] = [];
  #running = 0;
  #idle: (() => void)[] = [];

  constructor(ctx: CoreContext) {
    this.#ctx = ctx;
  }

  add(job: Job): void {
    this.#jobs.push(job);
    this.#pump();
  }

  /** Resolves once no job is queued or running. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < CONCURRENCY && this.#jobs.length > 0) {
      const job = this.#jobs.shift()!;
      this.#running++;
      void processJob(this.#ctx, job)
        .catch((error) => this.#ctx.log.error(`media ${job.id}: processing failed`, error))
        .finally(() => {
          job.done();
          this.#running--;
          this.#pump();
          if (this.#running === 0 && this.#jobs.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }
}

const queues = new WeakMap<CoreContext, ProcessingQueue>();

function queueOf(ctx: CoreContext): ProcessingQueue {
  let queue = queues.get(ctx);
  if (queue == null) {
    queue = new ProcessingQueue(ctx);
    queues.set(ctx, queue);
  }
  return queue;
}

/** Resolves once every conversion queued in `ctx` has ended (for shutting down and for tests). */
export function mediaProcessingIdle(ctx: CoreContext): Promise<void> {
  return queues.get(ctx)?.idle() ?? Promise.resolve();
}

/**
 * Moves an upload to the processing folder and queues its conversion; the
 * attachment row (without a file) must exist or be about to. Returns where
 * the upload now waits.
 */
export async function queueConversion(ctx: CoreContext, tools: AvTools, id: bigint, path: string, plan: AvPlan, avMeta: (info: FfprobeInfo) => MediaMeta): Promise<string> {
  const dir = processingDir(ctx);
  await ensurePrivateDirectory(dir);
  const input = join(dir, `${id}.${plan.kind}.input`);
  await rename(path, input);
  enqueue(ctx, tools, id, input, plan, avMeta);
  return input;
}

function enqueue(ctx: CoreContext, tools: AvTools, id: bigint, input: string, plan: AvPlan, avMeta: (info: FfprobeInfo) => MediaMeta): void {
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  pending.set(id, ended);
  queueOf(ctx).add({ tools, id, input, plan, avMeta, done: () => {
    pending.delete(id);
    done();
  } });
}

/**
 * After a restart: queues again the conversions a stop interrupted (their
 * uploads wait in the processing folder, their rows still pending), and
 * removes what no pending attachment needs. Returns how many were queued.
 */
export async function resumeConversions(ctx: CoreContext, avMeta: (info: FfprobeInfo) => MediaMeta): Promise<number> {
  const tools = await avTools(ctx.config);
  const dir = processingDir(ctx);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let queued = 0;
  for (const name of names) {
    const match = /^(\d{1,19})\.(video|gifv|audio)\.input$/.exec(name);
    const id = match == null ? null : BigInt(match[1]!);
    if (match == null || id == null || tools == null || pending.has(id)) {
      if (match == null || tools == null) await rm(join(dir, name), { force: true });
      continue;
    }
    const [row] = await ctx.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, id)).limit(1);
    if (row == null || row.fileKey != null || processingStateOf(row.meta)?.state !== "pending") {
      await rm(join(dir, name), { force: true });
      continue;
    }
    const kind = match[2] as AvPlan["kind"];
    const plan: AvPlan = kind === "audio" ? { kind, action: "mp3" } : kind === "gifv" ? { kind, action: "transcode" } : { kind, action: "transcode" };
    enqueue(ctx, tools, id, join(dir, name), plan, avMeta);
    queued++;
  }
  return queued;
}

async function processJob(ctx: CoreContext, job: Job): Promise<void> {
  const output = `${job.input}.${randomBytes(4).toString("hex")}.${job.plan.kind === "audio" ? "mp3" : "mp4"}`;
  const written: string[] = [];
  try {
    if (job.plan.kind === "audio") await transcodeAudio(job.tools, job.input, output);
    else await transcodeVideo(job.tools, job.input, output, { silent: job.plan.kind === "gifv" });
    const info = await ffprobe(job.tools, output);
    const meta: MediaMeta = job.avMeta(info);
    let previewKey: string | null = null;
    let blurhash: string | null = null;
    if (info.kind === "video") {
      const still = await videoStill(job.tools, output, info.duration);
      const thumbnail = await storeThumbnail(ctx, still, job.id);
      written.push(thumbnail.key);
      previewKey = thumbnail.key;
      blurhash = thumbnail.blurhash;
      meta.small = thumbnail.small;
    }
    const size = await fileSize(output);
    const key = `${attachmentFolder(job.id)}/original.${job.plan.kind === "audio" ? "mp3" : "mp4"}`;
    await moveIntoMedia(ctx.config, output, key);
    written.push(key);
    const [row] = await ctx.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, job.id)).limit(1);
    if (row == null) {
      // Deleted while it was converted.
      await deleteMediaFiles(ctx.config, written);
      return;
    }
    // A custom preview sent with the upload stays.
    const keepPreview = row.previewKey != null;
    const { processing: _state, ...rest } = row.meta ?? {};
    const updated = await ctx.db
      .update(mediaAttachments)
      .set({
        fileKey: key,
        fileSize: size,
        contentType: job.plan.kind === "audio" ? "audio/mpeg" : "video/mp4",
        previewKey: keepPreview ? row.previewKey : previewKey,
        blurhash: row.blurhash ?? blurhash,
        meta: { ...rest, ...meta, ...(keepPreview && rest.small != null ? { small: rest.small } : {}) },
        updatedAt: new Date(),
      })
      .where(eq(mediaAttachments.id, job.id))
      .returning({ id: mediaAttachments.id });
    if (updated.length === 0) await deleteMediaFiles(ctx.config, written);
    else if (keepPreview && previewKey != null) await deleteMediaFiles(ctx.config, [previewKey]);
  } catch (error) {
    await deleteMediaFiles(ctx.config, written).catch(() => {});
    const message = error instanceof MediaError ? error.message : "File could not be processed";
    ctx.log.warn(`media ${job.id}: ${message}`, error instanceof MediaError ? undefined : error);
    const [row] = await ctx.db.select({ meta: mediaAttachments.meta }).from(mediaAttachments).where(eq(mediaAttachments.id, job.id)).limit(1);
    if (row != null) {
      await ctx.db
        .update(mediaAttachments)
        .set({ meta: { ...(row.meta ?? {}), processing: { state: "failed", error: message } satisfies ProcessingState }, updatedAt: new Date() })
        .where(eq(mediaAttachments.id, job.id));
    }
  } finally {
    await rm(output, { force: true });
    await rm(job.input, { force: true });
  }
}

/** A still preview of a video that needs no conversion, stored for attachment `id`. */
export async function videoStillFor(ctx: CoreContext, tools: AvTools, id: bigint, path: string, duration: number | undefined) {
  return await storeThumbnail(ctx, await videoStill(tools, path, duration), id);
}

/** Uploads left waiting by a stop: their names, for a later look (they are removed with the upload folder's leftovers). */
export async function pendingConversions(ctx: CoreContext): Promise<string[]> {
  try {
    return await readdir(processingDir(ctx));
  } catch {
    return [];
  }
}
