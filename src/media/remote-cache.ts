/**
 * The remote media cache: the files of remote posts' attachments are
 * downloaded and served from this server, as Mastodon does, so that
 * clients load them from here (with a preview and a blurhash) rather than
 * from every server in the timeline.
 *
 * A reaction to `status.created` and `status.updated` puts one job per
 * uncached remote attachment on the durable "remote_media" queue; the
 * worker downloads the file (see remote-fetch.ts: public addresses only,
 * within a deadline and the upload size limits) unless its host is
 * suspended. Images go through the same processing as uploads (sniffed by
 * their bytes, oriented, stripped, scaled, with a preview and a blurhash);
 * video and audio are kept as they are. Anything else stays uncached.
 * Network errors and 408, 429 and 5xx answers are retried a few times with
 * back-off; after that, or after any other failure, the attachment stays
 * uncached and clients are given its remote URL. Pruning
 * (src/core/media-cache.ts) makes cached attachments uncached again.
 *
 * The same queue and worker download remote accounts' avatars and headers
 * (src/media/profile-cache.ts), queued when an account is stored or
 * refreshed.
 */
import { rm } from "node:fs/promises";
import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import type { CoreContext } from "../core/context.ts";
import { storeMediaFile } from "../core/media.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import type { Database } from "../db/connect.ts";
import { createJobQueue, type JobQueue, type JobQueueOptions } from "../db/job-queue.ts";
import type { DatabaseMessageQueue } from "../db/message-queue.ts";
import { accounts, mediaAttachments } from "../db/schema.ts";
import { MediaError } from "./errors.ts";
import { headOf } from "./processing.ts";
import { cacheProfileImage, enqueueProfileImages, isProfileImageJob } from "./profile-cache.ts";
import { downloadForCache, REMOTE_MEDIA_TIMEOUT_MS, type CacheOptions, type CacheOutcome } from "./remote-download.ts";
import { sniff } from "./sniff.ts";
import { deleteMediaFiles } from "./storage.ts";

export { REMOTE_MEDIA_TIMEOUT_MS, RemoteMediaRetryError, type CacheOptions, type CacheOutcome } from "./remote-download.ts";

/** The queue's name in `queue_messages`. */
export const REMOTE_MEDIA_QUEUE = "remote_media";
/** Attempts before a file is left uncached: with the back-off, the last is a minute or so after the first. */
export const REMOTE_MEDIA_MAX_ATTEMPTS = 5;

/** A queued download: the attachment's id, as a string. */
export interface RemoteMediaJob {
  mediaId: string;
}

/** What the cache needs of a queue. */
export type RemoteMediaQueue = JobQueue;

/** The "remote_media" queue over the shared table. */
export function createRemoteMediaQueue(database: Database, options: JobQueueOptions = {}): DatabaseMessageQueue {
  // The lease: a download, then at most a minute of image processing.
  return createJobQueue(database, {
    name: REMOTE_MEDIA_QUEUE,
    maxAttempts: REMOTE_MEDIA_MAX_ATTEMPTS,
    visibilityTimeoutSeconds: (2 * REMOTE_MEDIA_TIMEOUT_MS) / 1000 + 60,
    concurrency: 2,
  }, options);
}

/** Queues a download of each uncached remote attachment of `statusId`. */
export async function enqueueRemoteMedia(ctx: CoreContext, queue: Pick<RemoteMediaQueue, "enqueue">, statusId: bigint): Promise<number> {
  const rows = await ctx.db
    .select({ id: mediaAttachments.id })
    .from(mediaAttachments)
    .where(and(eq(mediaAttachments.statusId, statusId), isNotNull(mediaAttachments.remoteUrl), isNull(mediaAttachments.fileKey)));
  for (const row of rows) {
    const job: RemoteMediaJob = { mediaId: row.id.toString() };
    await queue.enqueue(job);
  }
  return rows.length;
}

const registered = new WeakSet<CoreContext>();

/**
 * Subscribes the cache on `ctx.events`, once per core: a received or
 * edited remote post queues its uncached files, a remote account stored or
 * refreshed its avatar and header. Returns a function that unsubscribes it.
 */
export function registerRemoteMediaCache(ctx: CoreContext, queue: Pick<RemoteMediaQueue, "enqueue">): () => void {
  if (registered.has(ctx)) return () => {};
  registered.add(ctx);
  const offCreated = ctx.events.on("status.created", async ({ statusId }) => {
    await enqueueRemoteMedia(ctx, queue, statusId);
  });
  const offUpdated = ctx.events.on("status.updated", async ({ statusId }) => {
    await enqueueRemoteMedia(ctx, queue, statusId);
  });
  const offAccount = ctx.events.on("account.stored", async ({ accountId }) => {
    await enqueueProfileImages(ctx, queue, accountId);
  });
  return () => {
    offCreated();
    offUpdated();
    offAccount();
    registered.delete(ctx);
  };
}

function isJob(value: unknown): value is RemoteMediaJob {
  const job = value as RemoteMediaJob | null;
  return job != null && typeof job.mediaId === "string" && /^\d{1,19}$/.test(job.mediaId);
}

/**
 * Downloads and stores the file of one queued attachment (or, for a
 * profile picture's job, see {@link cacheProfileImage}). Resolves with
 * what became of it ("skipped": nothing to do, or its host is suspended;
 * "failed": left uncached for good); throws {@link RemoteMediaRetryError}
 * when it should be tried again.
 */
export async function cacheRemoteMedia(ctx: CoreContext, job: unknown, options: CacheOptions = {}): Promise<CacheOutcome> {
  const { log, config } = ctx;
  if (isProfileImageJob(job)) return await cacheProfileImage(ctx, job, options);
  if (!isJob(job)) {
    log.error("remote media: dropped a queued message that is not a media download", job);
    return "skipped";
  }
  const found = await ctx.db
    .select({ media: mediaAttachments, domain: accounts.domain })
    .from(mediaAttachments)
    .innerJoin(accounts, eq(accounts.id, mediaAttachments.accountId))
    .where(eq(mediaAttachments.id, BigInt(job.mediaId)))
    .limit(1);
  const row = found[0]?.media;
  // Gone, already cached, or not remote at all.
  if (row == null || found[0]!.domain == null || row.fileKey != null || row.remoteUrl == null) return "skipped";
  if (await isUrlSuspended(ctx, row.remoteUrl)) return "skipped";

  const file = await downloadForCache(ctx, row.remoteUrl, options);
  if (file == null) return "failed";

  const written: string[] = [];
  try {
    const sniffed = sniff(await headOf(file.path));
    if (sniffed == null) {
      // Not a picture, video or sound this server knows: clients get a link.
      await ctx.db.update(mediaAttachments).set({ type: "unknown", updatedAt: new Date() }).where(eq(mediaAttachments.id, row.id));
      log.info(`remote media: ${file.url} is not a known kind of media; left uncached`);
      return "failed";
    }
    let stored;
    try {
      stored = await storeMediaFile(ctx, row.id, file.path, file.size, sniffed, { uploadLimits: false });
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      log.info(`remote media: ${file.url}: ${error.message}; left uncached`);
      return "failed";
    }
    for (const key of [stored.fileKey, stored.previewKey]) if (key != null) written.push(key);
    const set: Partial<typeof mediaAttachments.$inferInsert> = {
      ...stored,
      // A GIF the author's server turned into a video stays a "gifv".
      type: stored.type === "video" && row.type === "gifv" ? "gifv" : stored.type,
      // The author's server computed it from the full picture: keep it.
      blurhash: row.blurhash ?? stored.blurhash,
    };
    const updated = await ctx.db
      .update(mediaAttachments)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(mediaAttachments.id, row.id), isNull(mediaAttachments.fileKey)))
      .returning({ id: mediaAttachments.id });
    if (updated.length === 0) {
      // Removed meanwhile, or cached by another run: keep only what a row names.
      const current = await ctx.db
        .select({ fileKey: mediaAttachments.fileKey, previewKey: mediaAttachments.previewKey })
        .from(mediaAttachments)
        .where(inArray(mediaAttachments.id, [row.id]));
      const kept = new Set(current.flatMap((r) => [r.fileKey, r.previewKey]));
      await deleteMediaFiles(config, written.filter((key) => !kept.has(key)));
      return "skipped";
    }
    log.debug(`remote media: cached ${file.url} as ${set.fileKey}`);
    return "cached";
  } catch (error) {
    await deleteMediaFiles(config, written).catch(() => {});
    throw error;
  } finally {
    await rm(file.path, { force: true });
  }
}

/** Downloads queued remote media until `signal` aborts; resolves once stopped. */
export async function startRemoteMediaWorker(ctx: CoreContext, queue: RemoteMediaQueue, signal: AbortSignal, options: CacheOptions = {}): Promise<void> {
  await queue.listen(async (job) => {
    await cacheRemoteMedia(ctx, job, { ...options, signal });
  }, { signal });
}
