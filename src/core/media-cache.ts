/**
 * The media folder's disk use, and pruning of the remote media cache.
 *
 * Files of remote posts' attachments are a cache (src/media/remote-cache.ts
 * fills it, under `media_attachments/<id path>/`): the row keeps the remote
 * URL, so a pruned attachment is shown through the media proxy again, as
 * before it was cached, and downloaded anew when viewed or if its post is
 * edited. Remote accounts' avatars and headers (src/media/profile-cache.ts,
 * under `cache/accounts/`) are a cache the same way. The owner's uploads
 * and profile pictures are never pruned.
 */
import { dirname } from "node:path";
import { and, asc, count, eq, gt, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import { accounts, mediaAttachments } from "../db/schema.ts";
import { cachedProfileImageValues, PROFILE_IMAGE_KINDS, profileImageColumns } from "../media/profile-images.ts";
import { deleteMediaFiles, filesBelow, keyOfMediaUrl, storageFor, uploadTmpDir } from "../media/storage.ts";
import type { CoreContext } from "./context.ts";

export interface UsageCount {
  files: number;
  bytes: number;
}

export interface MediaUsage {
  /** The owner's uploads and profile pictures. */
  local: UsageCount;
  /** Cached files of remote posts' attachments and remote accounts' pictures (prunable). */
  remote: UsageCount;
  /** Files no row refers to. */
  other: UsageCount;
  /** Uploads being received, or left by an interrupted upload. */
  uploadTemp: UsageCount;
}

type Category = keyof MediaUsage;

/** The key folder of a stored file named by its URL (`/system/<key>` or in the bucket). */
function localFolderOfUrl(origin: string, url: string | null): string | null {
  const key = keyOfMediaUrl(origin, url);
  return key == null ? null : dirname(key);
}

/**
 * Counts the files in the media store (DATA_DIR/media or the bucket) by
 * what they are, and the uploads being received. `onFile` is
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
  const remotePictures = new Set<string>();
  const pictures = await ctx.db
    .select({ a: accounts.avatarFileKey, b: accounts.avatarStaticKey, c: accounts.headerFileKey, d: accounts.headerStaticKey })
    .from(accounts)
    .where(and(isNotNull(accounts.domain), or(isNotNull(accounts.avatarFileKey), isNotNull(accounts.headerFileKey))));
  for (const row of pictures) for (const key of [row.a, row.b, row.c, row.d]) if (key != null) remotePictures.add(key);
  const localFolders = new Set<string>();
  const locals = await ctx.db.select({ avatarUrl: accounts.avatarUrl, headerUrl: accounts.headerUrl }).from(accounts).where(isNull(accounts.domain));
  for (const account of locals) {
    for (const url of [account.avatarUrl, account.headerUrl]) {
      const folder = localFolderOfUrl(ctx.config.origin, url);
      if (folder != null) localFolders.add(folder);
    }
  }

  const usage: MediaUsage = {
    local: { files: 0, bytes: 0 },
    remote: { files: 0, bytes: 0 },
    other: { files: 0, bytes: 0 },
    uploadTemp: { files: 0, bytes: 0 },
  };
  const tmp = uploadTmpDir(ctx.config);
  for await (const file of filesBelow(tmp)) {
    usage.uploadTemp.files++;
    usage.uploadTemp.bytes += file.size;
    options.onFile?.(file.size);
  }
  for await (const file of storageFor(ctx.config).list()) {
    const key = file.key;
    let category: Category = "other";
    const segments = key.split("/");
    if (segments[0] === "media_attachments" && segments.length >= 3) category = attachmentOwner.get(segments[segments.length - 2]) ?? "other";
    else if (remotePictures.has(key)) category = "remote";
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
  /** Remote accounts' avatars and headers whose cached copies were removed. */
  profileImages: number;
  files: number;
  bytes: number;
}

/** Remote accounts' avatars or headers of this kind cached before `before`. */
function prunablePictures(kind: "avatar" | "header", before: Date) {
  const columns = profileImageColumns(kind);
  return and(isNotNull(accounts.domain), isNotNull(columns.fileKey), lt(columns.cachedAt, before));
}

/** Remote attachments with cached files older than `before`, and remote accounts' pictures cached before it: how many. */
export async function countPrunableRemoteMedia(ctx: CoreContext, before: Date): Promise<number> {
  const [row] = await ctx.db
    .select({ n: count() })
    .from(mediaAttachments)
    .innerJoin(accounts, eq(accounts.id, mediaAttachments.accountId))
    .where(and(isNotNull(accounts.domain), or(isNotNull(mediaAttachments.fileKey), isNotNull(mediaAttachments.previewKey)), lt(mediaAttachments.createdAt, before)));
  let n = row?.n ?? 0;
  for (const kind of PROFILE_IMAGE_KINDS) {
    const [pictures] = await ctx.db.select({ n: count() }).from(accounts).where(prunablePictures(kind, before));
    n += pictures?.n ?? 0;
  }
  return n;
}

/** Adds the sizes of the files at `keys` to `result`, before they are deleted. */
async function measure(ctx: CoreContext, keys: Iterable<string>, result: PruneResult): Promise<void> {
  for (const key of keys) {
    const found = await storageFor(ctx.config).stat(key);
    if (found == null) continue;
    result.bytes += found.size;
    result.files++;
  }
}

/**
 * Deletes the cached files of remote accounts' attachments created before
 * `before`, and of remote accounts' avatars and headers cached before it,
 * and clears their keys: the API then points at the media proxy, which
 * fetches a file again when it is next viewed. Local uploads and the
 * owner's pictures are never touched. Works in batches; `onAttachment` is
 * called once per attachment pruned, `onProfileImage` once per picture.
 */
export async function pruneRemoteMedia(
  ctx: CoreContext,
  before: Date,
  options: { batchSize?: number; onAttachment?: () => void; onProfileImage?: () => void } = {},
): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 200;
  const result: PruneResult = { attachments: 0, profileImages: 0, files: 0, bytes: 0 };
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
    await measure(ctx, keys, result);
    await deleteMediaFiles(ctx.config, keys);
  }
  for (const kind of PROFILE_IMAGE_KINDS) await prunePictures(ctx, kind, before, batchSize, result, options.onProfileImage);
  return result;
}

/** {@link pruneRemoteMedia} for one kind of remote accounts' pictures. */
async function prunePictures(
  ctx: CoreContext,
  kind: "avatar" | "header",
  before: Date,
  batchSize: number,
  result: PruneResult,
  onProfileImage?: () => void,
): Promise<void> {
  const columns = profileImageColumns(kind);
  let after = -1n;
  for (;;) {
    const batch = await ctx.db
      .select({ id: accounts.id, fileKey: columns.fileKey, staticKey: columns.staticKey })
      .from(accounts)
      .where(and(gt(accounts.id, after), prunablePictures(kind, before)))
      .orderBy(asc(accounts.id))
      .limit(batchSize);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]!.id;
    // Only the copies still named (a new one cached meanwhile stays), and the rows first.
    const cleared = await ctx.db
      .update(accounts)
      .set(cachedProfileImageValues(kind, null))
      .where(and(inArray(accounts.id, batch.map((row) => row.id)), inArray(columns.fileKey, batch.map((row) => row.fileKey!))))
      .returning({ id: accounts.id });
    const clearedIds = new Set(cleared.map((row) => row.id));
    const keys = new Set<string>();
    for (const row of batch) {
      if (!clearedIds.has(row.id)) continue;
      for (const key of [row.fileKey, row.staticKey]) if (key != null) keys.add(key);
      result.profileImages++;
      onProfileImage?.();
    }
    await measure(ctx, keys, result);
    await deleteMediaFiles(ctx.config, keys);
  }
}

/**
 * The scheduled prune: remote media cached longer than
 * MEDIA_CACHE_RETENTION_DAYS (nothing when it is 0).
 */
export async function pruneExpiredRemoteMedia(ctx: CoreContext): Promise<PruneResult | null> {
  const days = ctx.config.mediaCacheRetentionDays;
  if (days <= 0) return null;
  const result = await pruneRemoteMedia(ctx, new Date(Date.now() - days * 24 * 3600 * 1000));
  if (result.attachments > 0 || result.profileImages > 0) {
    ctx.log.info(
      `pruned the cached files of ${result.attachments} remote media attachments and ${result.profileImages} remote profile pictures ` +
        `(${result.files} files, ${result.bytes} bytes)`,
    );
  }
  return result;
}
