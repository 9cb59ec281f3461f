/**
 * The media folder's disk use, and pruning of the remote media cache.
 *
 * Files of remote posts' attachments are a cache (src/media/remote-cache.ts
 * fills it, under `media_attachments/<id path>/`): the row keeps the remote
 * URL, so a pruned attachment is shown at its remote URL again, as before
 * it was cached, and downloaded anew if its post is edited. The owner's
 * uploads and profile pictures are never pruned.
 */
import { stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { and, asc, count, eq, gt, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import { accounts, mediaAttachments } from "../db/schema.ts";
import { deleteMediaFiles, filesBelow, keyPath, mediaRoot } from "../media/storage.ts";
import type { CoreContext } from "./context.ts";

export interface UsageCount {
  files: number;
  bytes: number;
}

export interface MediaUsage {
  /** The owner's uploads and profile pictures. */
  local: UsageCount;
  /** Cached files of remote posts' attachments (prunable). */
  remote: UsageCount;
  /** Other cached files: remote avatars and headers, files no row refers to. */
  other: UsageCount;
  /** Uploads being received, or left by an interrupted upload. */
  uploadTemp: UsageCount;
}

type Category = keyof MediaUsage;

/** The key folder of a stored file named by a `/system/<key>` URL. */
function localFolderOfUrl(url: string | null): string | null {
  if (url == null) return null;
  const at = url.indexOf("/system/");
  return at < 0 ? null : dirname(url.slice(at + "/system/".length));
}

/**
 * Counts the files under DATA_DIR/media by what they are. `onFile` is
 * called for each file (for progress).
 */
export async function mediaUsage(ctx: CoreContext, options: { onFile?: (bytes: number) => void } = {}): Promise<MediaUsage> {
  const attachmentOwner = new Map<string, Category>();
  const rows = await ctx.db
    .select({ id: mediaAttachments.id, domain: accounts.domain })
    .from(mediaAttachments)
    .innerJoin(accounts, eq(accounts.id, mediaAttachments.accountId))
    .where(or(isNotNull(mediaAttachments.fileKey), isNotNull(mediaAttachments.previewKey)));
  for (const row of rows) attachmentOwner.set(row.id.toString(), row.domain == null ? "local" : "remote");
  const localFolders = new Set<string>();
  const locals = await ctx.db.select({ avatarUrl: accounts.avatarUrl, headerUrl: accounts.headerUrl }).from(accounts).where(isNull(accounts.domain));
  for (const account of locals) {
    for (const url of [account.avatarUrl, account.headerUrl]) {
      const folder = localFolderOfUrl(url);
      if (folder != null) localFolders.add(folder);
    }
  }

  const usage: MediaUsage = {
    local: { files: 0, bytes: 0 },
    remote: { files: 0, bytes: 0 },
    other: { files: 0, bytes: 0 },
    uploadTemp: { files: 0, bytes: 0 },
  };
  const root = mediaRoot(ctx.config);
  for await (const file of filesBelow(root)) {
    const key = relative(root, file.path).split(sep).join("/");
    let category: Category = "other";
    const segments = key.split("/");
    if (segments[0] === ".tmp") category = "uploadTemp";
    else if (segments[0] === "media_attachments" && segments.length >= 3) category = attachmentOwner.get(segments[segments.length - 2]) ?? "other";
    else if (localFolders.has(dirname(key))) category = "local";
    usage[category].files++;
    usage[category].bytes += file.size;
    options.onFile?.(file.size);
  }
  return usage;
}

export interface PruneResult {
  /** Attachments whose cached files were removed. */
  attachments: number;
  files: number;
  bytes: number;
}

/** Remote attachments with cached files older than `before`: how many. */
export async function countPrunableRemoteMedia(ctx: CoreContext, before: Date): Promise<number> {
  const [row] = await ctx.db
    .select({ n: count() })
    .from(mediaAttachments)
    .innerJoin(accounts, eq(accounts.id, mediaAttachments.accountId))
    .where(and(isNotNull(accounts.domain), or(isNotNull(mediaAttachments.fileKey), isNotNull(mediaAttachments.previewKey)), lt(mediaAttachments.createdAt, before)));
  return row?.n ?? 0;
}

/**
 * Deletes the cached files of remote accounts' attachments created before
 * `before`, and clears their keys: the API then points at the media proxy,
 * which fetches a file again when it is next viewed. Local uploads are
 * never touched. Works in batches; `onAttachment` is called once per
 * attachment pruned.
 */
export async function pruneRemoteMedia(
  ctx: CoreContext,
  before: Date,
  options: { batchSize?: number; onAttachment?: () => void } = {},
): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 200;
  const result: PruneResult = { attachments: 0, files: 0, bytes: 0 };
  let after = -1n;
  for (;;) {
    const batch = await ctx.db
      .select({ id: mediaAttachments.id, fileKey: mediaAttachments.fileKey, previewKey: mediaAttachments.previewKey })
      .from(mediaAttachments)
      .innerJoin(accounts, eq(accounts.id, mediaAttachments.accountId))
      .where(and(
        gt(mediaAttachments.id, after),
        isNotNull(accounts.domain),
        or(isNotNull(mediaAttachments.fileKey), isNotNull(mediaAttachments.previewKey)),
        lt(mediaAttachments.createdAt, before),
      ))
      .orderBy(asc(mediaAttachments.id))
      .limit(batchSize);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    // The rows stop pointing at the files first: nothing serves a file that is gone.
    const cleared = await ctx.db
      .update(mediaAttachments)
      .set({ fileKey: null, previewKey: null, fileSize: null, updatedAt: new Date() })
      .where(inArray(mediaAttachments.id, batch.map((row) => row.id)))
      .returning({ id: mediaAttachments.id });
    const clearedIds = new Set(cleared.map((row) => row.id));
    const keys = new Set<string>();
    for (const row of batch) {
      if (!clearedIds.has(row.id)) continue;
      for (const key of [row.fileKey, row.previewKey]) if (key != null) keys.add(key);
      result.attachments++;
      options.onAttachment?.();
    }
    for (const key of keys) {
      const path = keyPath(ctx.config, key);
      if (path == null) continue;
      try {
        result.bytes += (await stat(path)).size;
        result.files++;
      } catch {
        // Already gone.
      }
    }
    await deleteMediaFiles(ctx.config, keys);
  }
  return result;
}

/**
 * The scheduled prune: remote media cached longer than
 * MEDIA_CACHE_RETENTION_DAYS (nothing when it is 0).
 */
export async function pruneExpiredRemoteMedia(ctx: CoreContext): Promise<PruneResult | null> {
  const days = ctx.config.mediaCacheRetentionDays;
  if (days <= 0) return null;
  const result = await pruneRemoteMedia(ctx, new Date(Date.now() - days * 24 * 3600 * 1000));
  if (result.attachments > 0) {
    ctx.log.info(`pruned the cached files of ${result.attachments} remote media attachments (${result.files} files, ${result.bytes} bytes)`);
  }
  return result;
}
