/**
 * Remote accounts' avatars and headers in the media cache, as Mastodon
 * keeps them: downloaded when an account is stored or refreshed (one job
 * per picture on the "remote_media" queue, see remote-cache.ts), processed
 * as the owner's own pictures are (an image only, within the image size
 * limit, cropped to 400x400 or 1500x500, re-encoded without metadata, with
 * a still of an animated one), and stored under `cache/accounts/`.
 *
 * The account row keeps the remote URL; the copy is current while the URL
 * it came from is the account's URL. A changed picture is downloaded anew
 * and the old copy deleted; a removed one deletes the copy. Pruning
 * (src/core/media-cache.ts) deletes copies, and the media proxy fetches a
 * picture again when it is next viewed. src/media/profile-images.ts says
 * which URL clients get.
 */
import { rm } from "node:fs/promises";
import { and, eq, isNull, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { CoreContext } from "../core/context.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import type { JobQueue } from "../db/job-queue.ts";
import { accounts } from "../db/schema.ts";
import { MediaError } from "./errors.ts";
import { MEDIA_LIMITS } from "./limits.ts";
import { headOf } from "./processing.ts";
import {
  cachedProfileImageValues,
  isCurrent,
  PROFILE_IMAGE_KINDS,
  profileImageColumns,
  profileImageOf,
  type ProfileImage,
  type ProfileImageKind,
} from "./profile-images.ts";
import { downloadForCache, type CacheOptions, type CacheOutcome } from "./remote-download.ts";
import { sniff } from "./sniff.ts";
import { cachedProfileImageFolder, deleteMediaFiles, storeImage } from "./storage.ts";

/** A queued download of a remote account's avatar or header. */
export interface ProfileImageJob {
  accountId: string;
  image: ProfileImageKind;
}

export function isProfileImageJob(value: unknown): value is ProfileImageJob {
  const job = value as ProfileImageJob | null;
  return job != null && typeof job.accountId === "string" && /^\d{1,19}$/.test(job.accountId) &&
    (job.image === "avatar" || job.image === "header");
}

/** Whether a picture needs the worker: a new one to download, or a copy of a removed one to delete. */
function needsWork(image: ProfileImage): boolean {
  return image.url != null ? !isCurrent(image) : image.fileKey != null;
}

async function findRemoteAccount(ctx: CoreContext, accountId: bigint) {
  const [row] = await ctx.db.select().from(accounts).where(eq(accounts.id, accountId)).limit(1);
  return row == null || row.domain == null ? null : row;
}

/** Queues a job for each picture of remote account `accountId` whose cached copy is not current. */
export async function enqueueProfileImages(ctx: CoreContext, queue: Pick<JobQueue, "enqueue">, accountId: bigint): Promise<number> {
  const account = await findRemoteAccount(ctx, accountId);
  if (account == null) return 0;
  let queued = 0;
  for (const kind of PROFILE_IMAGE_KINDS) {
    if (!needsWork(profileImageOf(account, kind))) continue;
    const job: ProfileImageJob = { accountId: accountId.toString(), image: kind };
    await queue.enqueue(job);
    queued++;
  }
  return queued;
}

/**
 * Sets a picture's cached copy (null: none) if the row still has `expected`
 * as its URL and its copy; true when it did.
 */
async function replaceCopy(
  ctx: CoreContext,
  accountId: bigint,
  kind: ProfileImageKind,
  expected: ProfileImage,
  copy: Parameters<typeof cachedProfileImageValues>[1],
): Promise<boolean> {
  const columns = profileImageColumns(kind);
  const same = (column: AnyPgColumn, value: string | null): SQL => (value == null ? isNull(column) : eq(column, value));
  const updated = await ctx.db
    .update(accounts)
    .set(cachedProfileImageValues(kind, copy))
    .where(and(eq(accounts.id, accountId), same(columns.url, expected.url), same(columns.fileKey, expected.fileKey)))
    .returning({ id: accounts.id });
  return updated.length > 0;
}

/**
 * Brings one remote account's avatar or header in the cache up to date:
 * downloads and stores the picture it has now (replacing an older copy),
 * or deletes the copy of a picture it no longer has. Resolves with what
 * became of it; throws RemoteMediaRetryError when it should be tried again.
 */
export async function cacheProfileImage(ctx: CoreContext, job: ProfileImageJob, options: CacheOptions = {}): Promise<CacheOutcome> {
  const { config, log } = ctx;
  const accountId = BigInt(job.accountId);
  const kind = job.image;
  const account = await findRemoteAccount(ctx, accountId);
  if (account == null) return "skipped";
  const image = profileImageOf(account, kind);
  if (!needsWork(image)) return "skipped";
  if (image.url == null) {
    if (await replaceCopy(ctx, accountId, kind, image, null)) await deleteMediaFiles(config, [image.fileKey, image.staticKey]);
    return "skipped";
  }
  if (await isUrlSuspended(ctx, image.url)) return "skipped";

  const file = await downloadForCache(ctx, image.url, options);
  if (file == null) return "failed";
  let written: string[] = [];
  try {
    const sniffed = sniff(await headOf(file.path));
    if (sniffed?.kind !== "image") {
      log.info(`remote media: the ${kind} ${file.url} is not a picture; left uncached`);
      return "failed";
    }
    if (file.size > MEDIA_LIMITS.imageSizeLimit) {
      log.info(`remote media: the ${kind} ${file.url} is over the image size limit; left uncached`);
      return "failed";
    }
    let stored;
    try {
      stored = await storeImage(ctx, file.path, kind, { folder: cachedProfileImageFolder(kind) });
    } catch (error) {
      if (!(error instanceof MediaError)) throw error;
      log.info(`remote media: the ${kind} ${file.url}: ${error.message}; left uncached`);
      return "failed";
    }
    written = stored.previewKey === stored.key ? [stored.key] : [stored.key, stored.previewKey];
    const copy = {
      fileKey: stored.key,
      staticKey: stored.previewKey === stored.key ? null : stored.previewKey,
      source: image.url,
      cachedAt: new Date(),
    };
    if (!(await replaceCopy(ctx, accountId, kind, image, copy))) {
      // The account changed meanwhile (another picture, or cached by another run).
      await deleteMediaFiles(config, written);
      return "skipped";
    }
    written = [];
    await deleteMediaFiles(config, [image.fileKey, image.staticKey]).catch((error) => {
      log.warn(`could not delete the replaced cached ${kind} of ${account.uri}`, error);
    });
    log.debug(`remote media: cached the ${kind} ${file.url} as ${copy.fileKey}`);
    return "cached";
  } catch (error) {
    await deleteMediaFiles(config, written).catch(() => {});
    throw error;
  } finally {
    await rm(file.path, { force: true });
  }
}
