/**
 * Media attachments: uploading, describing, previewing and deleting the
 * owner's pictures, videos and sounds before they are posted. The rules are
 * Mastodon's: an upload belongs to its account; it can be looked at and
 * changed only until a status uses it (after that, through editing the
 * status); it can be deleted only while no status uses it.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { mediaAttachments, type MediaMeta } from "../db/schema.ts";
import { INVALID_CONTENT_TYPE, MediaError, tooLargeMessage } from "../media/errors.ts";
import { MEDIA_LIMITS } from "../media/limits.ts";
import { probeAv, type AvInfo } from "../media/probe.ts";
import { avTools } from "../media/ffmpeg.ts";
import { headOf, inspectImage } from "../media/processing.ts";
import { checkVideoLimits, ffprobe, planFor, queueConversion, resumeConversions, videoStillFor } from "./media-processing.ts";
import { sniff, type AvFormat, type Sniffed } from "../media/sniff.ts";
import { attachmentFolder, deleteMediaFiles, moveIntoMedia, sizeMeta, storeImage, storeThumbnail } from "../media/storage.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";

export type MediaAttachment = typeof mediaAttachments.$inferSelect;

/** An uploaded file waiting on disk, as the API received it. */
export interface UploadedFile {
  path: string;
  /** Bytes in `path`. */
  size: number;
  /** The upload went past its size limit (and `path` holds only its beginning). */
  tooLarge?: boolean;
}

export interface FocalPoint {
  x: number;
  y: number;
}

export interface NewMedia {
  file: UploadedFile | null | undefined;
  /** A custom preview picture, for video and audio above all. */
  thumbnail?: UploadedFile | null;
  description?: string | null;
  focus?: FocalPoint | null;
}

export interface MediaChanges {
  /** A new description; "" or null removes it; undefined leaves it. */
  description?: string | null;
  focus?: FocalPoint | null;
  thumbnail?: UploadedFile | null;
}

/**
 * Parses a focal point as Mastodon takes it: "x,y" with both from -1.0 to
 * 1.0 (also [x, y] or {x, y}). Throws a CoreError "invalid" otherwise;
 * undefined and "" give undefined (no change).
 */
export function parseFocus(value: unknown): FocalPoint | undefined {
  if (value == null || value === "") return undefined;
  let parts: unknown[];
  if (typeof value === "string") parts = value.split(",").map((part) => part.trim());
  else if (Array.isArray(value)) parts = value;
  else if (typeof value === "object") parts = [(value as Record<string, unknown>).x, (value as Record<string, unknown>).y];
  else parts = [];
  const numbers = parts.map((part) =>
    typeof part === "number" ? part : typeof part === "string" && /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(part) ? Number(part) : Number.NaN,
  );
  if (numbers.length !== 2 || numbers.some((n) => !Number.isFinite(n) || n < -1 || n > 1)) {
    throw new CoreError("invalid", "Focus must be two numbers from -1.0 to 1.0, as x,y");
  }
  return { x: numbers[0], y: numbers[1] };
}

function checkDescription(description: string | null | undefined): string | null | undefined {
  if (description == null) return description;
  if ([...description].length > MEDIA_LIMITS.descriptionLimit) {
    throw new CoreError("invalid", `Description is too long (maximum is ${MEDIA_LIMITS.descriptionLimit} characters)`);
  }
  return description.trim() === "" ? null : description;
}

function checkFocus(focus: FocalPoint | null | undefined): void {
  if (focus == null) return;
  if (![focus.x, focus.y].every((n) => Number.isFinite(n) && n >= -1 && n <= 1)) {
    throw new CoreError("invalid", "Focus must be two numbers from -1.0 to 1.0, as x,y");
  }
}

/** Recognises an upload by its bytes and checks its size; throws a MediaError. */
async function identify(file: UploadedFile): Promise<Sniffed> {
  const sniffed = sniff(await headOf(file.path));
  if (sniffed == null) {
    if (file.tooLarge) throw new MediaError(tooLargeMessage(MEDIA_LIMITS.videoSizeLimit));
    throw new MediaError(INVALID_CONTENT_TYPE);
  }
  const limit = sniffed.kind === "image" ? MEDIA_LIMITS.imageSizeLimit : MEDIA_LIMITS.videoSizeLimit;
  if (file.tooLarge || file.size > limit) throw new MediaError(tooLargeMessage(limit));
  if (file.size === 0) throw new MediaError(INVALID_CONTENT_TYPE);
  return sniffed;
}

/** How a video or audio file is stored, once its tracks are known. */
function avStorage(format: AvFormat, kind: "video" | "audio"): { contentType: string; ext: string } {
  switch (format) {
    case "mp4":
      return kind === "video" ? { contentType: "video/mp4", ext: "mp4" } : { contentType: "audio/mp4", ext: "m4a" };
    case "m4a":
      return { contentType: "audio/mp4", ext: "m4a" };
    case "mov":
      return kind === "video" ? { contentType: "video/quicktime", ext: "mov" } : { contentType: "audio/mp4", ext: "m4a" };
    case "webm":
      return { contentType: `${kind}/webm`, ext: "webm" };
    case "mkv":
      return kind === "video" ? { contentType: "video/x-matroska", ext: "mkv" } : { contentType: "audio/x-matroska", ext: "mka" };
    case "ogg":
      return kind === "video" ? { contentType: "video/ogg", ext: "ogv" } : { contentType: "audio/ogg", ext: "ogg" };
    case "mp3":
      return { contentType: "audio/mpeg", ext: "mp3" };
    case "wav":
      return { contentType: "audio/wav", ext: "wav" };
    case "flac":
      return { contentType: "audio/flac", ext: "flac" };
  }
}

/** "0:01:05.25", as Mastodon writes a length. */
function formatLength(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds - hours * 3600 - minutes * 60;
  return `${hours}:${String(minutes).padStart(2, "0")}:${rest.toFixed(2).padStart(5, "0")}`;
}

function round(value: number, places: number): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}

/** Mastodon's meta for a video or audio file, from what its container says. */
export function avMeta(info: AvInfo): MediaMeta {
  const original: NonNullable<MediaMeta["original"]> = {};
  const meta: MediaMeta = { original };
  if (info.kind === "video" && info.width != null && info.height != null) {
    Object.assign(original, sizeMeta(info.width, info.height));
    Object.assign(meta, sizeMeta(info.width, info.height));
  }
  if (info.kind === "video" && info.frameRate != null) {
    const fps = round(info.frameRate, 2);
    original.frame_rate = Number.isInteger(fps) ? `${fps}/1` : `${Math.round(fps * 1000)}/1000`;
    meta.fps = Math.round(fps);
  }
  if (info.duration != null) {
    const duration = round(info.duration, 3);
    original.duration = duration;
    meta.duration = duration;
    meta.length = formatLength(info.duration);
  }
  if (info.bitrate != null) original.bitrate = info.bitrate;
  return meta;
}

/** Row values of a stored media file (what an upload and the remote media cache both set). */
export type StoredMediaValues = Pick<typeof mediaAttachments.$inferInsert, "type" | "contentType" | "fileKey" | "fileSize" | "previewKey" | "blurhash" | "meta">;

/**
 * Stores the file at `path` (`size` bytes, identified as `sniffed`) as the
 * media of attachment `id`: a picture processed, with its preview and
 * blurhash; a video or sound kept as it is, filed by container and tracks.
 * `uploadLimits` applies the size and frame-rate limits of uploads to
 * videos. The file at `path` is moved or consumed. Throws MediaError for a
 * file that cannot be stored.
 */
export async function storeMediaFile(
  ctx: CoreContext,
  id: bigint,
  path: string,
  size: number,
  sniffed: Sniffed,
  options: { uploadLimits: boolean },
): Promise<StoredMediaValues> {
  if (sniffed.kind === "image") {
    const stored = await storeImage(ctx, path, "attachment", { id });
    return {
      type: "image",
      contentType: stored.contentType,
      fileKey: stored.key,
      fileSize: stored.size,
      previewKey: stored.previewKey,
      blurhash: stored.blurhash,
      meta: stored.meta,
    };
  }
  const format = sniffed.format as AvFormat;
  const tools = await avTools(ctx.config);
  const info = tools != null ? await ffprobe(tools, path) : await probeAv(path, format);
  const kind: "video" | "audio" = format === "m4a" || format === "mp3" || format === "wav" || format === "flac" ? "audio" : info.kind;
  if (options.uploadLimits && kind === "video") {
    if (info.width != null && info.height != null && info.width * info.height > MEDIA_LIMITS.videoMatrixLimit) {
      throw new MediaError(`File dimensions ${info.width}x${info.height} are not supported for videos (at most ${MEDIA_LIMITS.videoMatrixLimit} pixels)`);
    }
    if (info.frameRate != null && info.frameRate > MEDIA_LIMITS.videoFrameRateLimit + 0.5) {
      throw new MediaError(`File frame rate of ${Math.floor(info.frameRate)} fps is not supported (at most ${MEDIA_LIMITS.videoFrameRateLimit})`);
    }
  }
  const { contentType, ext } = avStorage(format, kind);
  const key = `${attachmentFolder(id)}/original.${ext}`;
  // With ffmpeg, a video gets a still preview, as clients expect.
  const preview = tools != null && kind === "video" ? await videoStillFor(ctx, tools, id, path, info.duration) : null;
  const meta = avMeta({ ...info, kind });
  try {
    await moveIntoMedia(ctx.config, path, key);
  } catch (error) {
    if (preview != null) await deleteMediaFiles(ctx.config, [preview.key]).catch(() => {});
    throw error;
  }
  if (preview != null) meta.small = preview.small;
  return { type: kind, contentType, fileKey: key, fileSize: size, previewKey: preview?.key ?? null, blurhash: preview?.blurhash ?? null, meta };
}

/**
 * Stores an upload as a new, unattached media attachment of `accountId`.
 * Images are processed at once (see src/media/processing.ts); video and
 * audio are kept as uploaded. The uploaded file is moved or consumed.
 * Throws a CoreError "invalid" (422) for a missing, unknown, oversized or
 * undecodable file and for a bad description or focus.
 */
export async function createMedia(ctx: CoreContext, accountId: bigint, input: NewMedia): Promise<MediaAttachment> {
  const description = checkDescription(input.description);
  checkFocus(input.focus);
  const file = input.file;
  if (file == null) throw new CoreError("invalid", "File can't be blank");
  const sniffed = await identify(file);
  if (input.thumbnail != null) await identifyThumbnail(input.thumbnail);

  const id = newId();
  const written: (string | null)[] = [];
  const converted = await startConversion(ctx, accountId, id, file, sniffed, input, description ?? null);
  if (converted != null) return converted;
  try {
    const values = await storeMediaFile(ctx, id, file.path, file.size, sniffed, { uploadLimits: true });
    written.push(values.fileKey ?? null, values.previewKey ?? null);
    if (input.thumbnail != null) {
      const thumbnail = await storeThumbnail(ctx, input.thumbnail.path, id);
      written.push(thumbnail.key);
      if (values.previewKey != null && values.previewKey !== values.fileKey) {
        await deleteMediaFiles(ctx.config, [values.previewKey]);
      }
      values.previewKey = thumbnail.key;
      values.meta = { ...values.meta, small: thumbnail.small };
      values.blurhash ??= thumbnail.blurhash;
    }
    const rows = await ctx.db
      .insert(mediaAttachments)
      .values({
        id,
        accountId,
        ...values,
        description: description ?? null,
        focusX: input.focus?.x ?? null,
        focusY: input.focus?.y ?? null,
      })
      .returning();
    return rows[0];
  } catch (error) {
    await deleteMediaFiles(ctx.config, written).catch(() => {});
    throw error;
  }
}

/**
 * With ffmpeg: an upload that must be converted (an animated GIF, video
 * browsers cannot play, sound other than MP3/Ogg/AAC) is probed now (a file
 * that cannot be read is a 422), saved as an attachment without a file, and
 * converted in the background (src/core/media-processing.ts). Null when the
 * upload needs no conversion (or ffmpeg is missing): it is stored at once.
 */
async function startConversion(
  ctx: CoreContext,
  accountId: bigint,
  id: bigint,
  file: UploadedFile,
  sniffed: Sniffed,
  input: NewMedia,
  description: string | null,
): Promise<MediaAttachment | null> {
  const tools = await avTools(ctx.config);
  if (tools == null) return null;
  const animatedGif = sniffed.kind === "image" && sniffed.format === "gif" && (await inspectImage(file.path)).animated;
  if (sniffed.kind === "image" && !animatedGif) return null;
  const info = await ffprobe(tools, file.path);
  checkVideoLimits(info);
  const plan = planFor(info, animatedGif);
  if (plan.action === "keep") return null;
  const written: string[] = [];
  try {
    let previewKey: string | null = null;
    let blurhash: string | null = null;
    const meta: MediaMeta = { ...avMeta(info), processing: { state: "pending" } };
    if (input.thumbnail != null) {
      const thumbnail = await storeThumbnail(ctx, input.thumbnail.path, id);
      written.push(thumbnail.key);
      previewKey = thumbnail.key;
      blurhash = thumbnail.blurhash;
      meta.small = thumbnail.small;
    }
    const rows = await ctx.db
      .insert(mediaAttachments)
      .values({
        id,
        accountId,
        type: plan.kind,
        contentType: plan.kind === "audio" ? "audio/mpeg" : "video/mp4",
        fileKey: null,
        fileSize: null,
        previewKey,
        blurhash,
        meta,
        description,
        focusX: input.focus?.x ?? null,
        focusY: input.focus?.y ?? null,
      })
      .returning();
    try {
      await queueConversion(ctx, tools, id, file.path, plan, (converted) => avMeta(converted));
    } catch (error) {
      await ctx.db.delete(mediaAttachments).where(eq(mediaAttachments.id, id));
      throw error;
    }
    return rows[0];
  } catch (error) {
    await deleteMediaFiles(ctx.config, written).catch(() => {});
    throw error;
  }
}

/** Queues again the conversions a stop interrupted (at start). */
export async function resumeMediaProcessing(ctx: CoreContext): Promise<number> {
  return await resumeConversions(ctx, (info) => avMeta(info));
}

async function identifyThumbnail(file: UploadedFile): Promise<void> {
  const sniffed = sniff(await headOf(file.path));
  if (sniffed == null || sniffed.kind !== "image") throw new MediaError("Thumbnail content type is invalid");
  if (file.tooLarge || file.size > MEDIA_LIMITS.imageSizeLimit) {
    throw new MediaError(`Thumbnail file size must be less than ${Math.round(MEDIA_LIMITS.imageSizeLimit / (1024 * 1024))} MB`);
  }
}

export interface FindOptions {
  /** Also find media a status uses (for editing a status). Default false, as the media API wants. */
  includeAttached?: boolean;
}

/**
 * The account's media attachment `id`. As in Mastodon's media API, one a
 * status already uses counts as not found unless `includeAttached`.
 */
export async function getMedia(ctx: CoreContext, accountId: bigint, id: bigint, options: FindOptions = {}): Promise<MediaAttachment> {
  const conditions = [eq(mediaAttachments.id, id), eq(mediaAttachments.accountId, accountId)];
  if (!options.includeAttached) conditions.push(isNull(mediaAttachments.statusId));
  const rows = await ctx.db.select().from(mediaAttachments).where(and(...conditions)).limit(1);
  if (rows[0] == null) throw new CoreError("not_found", "Record not found");
  return rows[0];
}

/**
 * Changes the description, focal point or custom preview of an unattached
 * upload (or of an attached one with `includeAttached`, for status edits).
 */
export async function updateMedia(
  ctx: CoreContext,
  accountId: bigint,
  id: bigint,
  changes: MediaChanges,
  options: FindOptions = {},
): Promise<MediaAttachment> {
  const description = checkDescription(changes.description);
  checkFocus(changes.focus);
  const row = await getMedia(ctx, accountId, id, options);
  if (changes.thumbnail != null) await identifyThumbnail(changes.thumbnail);

  const set: Partial<typeof mediaAttachments.$inferInsert> = { updatedAt: new Date() };
  if (changes.description !== undefined) set.description = description ?? null;
  if (changes.focus !== undefined) {
    set.focusX = changes.focus?.x ?? null;
    set.focusY = changes.focus?.y ?? null;
  }
  let stale: string | null = null;
  let fresh: string | null = null;
  if (changes.thumbnail != null) {
    const thumbnail = await storeThumbnail(ctx, changes.thumbnail.path, id);
    fresh = thumbnail.key;
    set.previewKey = thumbnail.key;
    set.meta = { ...row.meta, small: thumbnail.small };
    if (row.type !== "image") set.blurhash = thumbnail.blurhash;
    if (row.previewKey != null && row.previewKey !== row.fileKey) stale = row.previewKey;
  }
  let updated: MediaAttachment | undefined;
  try {
    const rows = await ctx.db.update(mediaAttachments).set(set).where(eq(mediaAttachments.id, row.id)).returning();
    updated = rows[0];
  } catch (error) {
    if (fresh != null) await deleteMediaFiles(ctx.config, [fresh]).catch(() => {});
    throw error;
  }
  if (stale != null) await deleteMediaFiles(ctx.config, [stale]).catch((error) => ctx.log.warn(`could not delete ${stale}`, error));
  return updated;
}

/**
 * Deletes an upload no status uses, and its files. One a status uses is a
 * conflict (422 "Media attachment is currently used by a status").
 */
export async function deleteMedia(ctx: CoreContext, accountId: bigint, id: bigint): Promise<void> {
  const row = await getMedia(ctx, accountId, id, { includeAttached: true });
  if (row.statusId != null) throw new CoreError("conflict", "Media attachment is currently used by a status");
  const deleted = await ctx.db
    .delete(mediaAttachments)
    .where(and(eq(mediaAttachments.id, row.id), isNull(mediaAttachments.statusId)))
    .returning({ id: mediaAttachments.id });
  if (deleted.length === 0) throw new CoreError("conflict", "Media attachment is currently used by a status");
  await removeMediaFiles(ctx, row);
}

/** Every file key an attachment has on disk. */
export function mediaFileKeys(row: Pick<MediaAttachment, "fileKey" | "previewKey">): string[] {
  return [row.fileKey, row.previewKey].filter((key): key is string => key != null);
}

/** Deletes an attachment's files (after its row is gone, e.g. with its status). Missing files are fine. */
export async function removeMediaFiles(ctx: CoreContext, row: Pick<MediaAttachment, "fileKey" | "previewKey">): Promise<void> {
  try {
    await deleteMediaFiles(ctx.config, mediaFileKeys(row));
  } catch (error) {
    ctx.log.warn(`could not delete media files ${mediaFileKeys(row).join(", ")}`, error);
  }
}

/**
 * The account's unattached uploads among `ids`, in the order of `ids`
 * (unknown, foreign and already attached ones left out), for attaching to
 * a new status.
 */
export async function findAttachableMedia(ctx: CoreContext, accountId: bigint, ids: readonly bigint[]): Promise<MediaAttachment[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.db
    .select()
    .from(mediaAttachments)
    .where(and(inArray(mediaAttachments.id, [...ids]), eq(mediaAttachments.accountId, accountId), isNull(mediaAttachments.statusId)));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const seen = new Set<bigint>();
  const result: MediaAttachment[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (row != null && !seen.has(id)) {
      seen.add(id);
      result.push(row);
    }
  }
  return result;
}
