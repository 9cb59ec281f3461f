/**
 * One download into the remote media cache, as attachments
 * (src/media/remote-cache.ts) and remote accounts' pictures
 * (src/media/profile-cache.ts) both do it: through remote-fetch.ts, never
 * from a suspended domain (checked on every redirect too), within a
 * deadline; a failure that may pass is thrown as
 * {@link RemoteMediaRetryError} for the queue to try again.
 */
import type { CoreContext } from "../core/context.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { ISLET_VERSION } from "../version.ts";
import { downloadRemoteMedia, RemoteMediaError, type DownloadedFile } from "./remote-fetch.ts";
import { ensurePrivateDirectory, uploadTmpDir } from "./storage.ts";

/** The longest one download may take. */
export const REMOTE_MEDIA_TIMEOUT_MS = 60_000;

/** The download may work later; the queue tries again. */
export class RemoteMediaRetryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RemoteMediaRetryError";
  }
}

/**
 * What became of a queued download: "cached"; "skipped" (nothing to do, or
 * its host is suspended); "failed" (left uncached for good).
 */
export type CacheOutcome = "cached" | "skipped" | "failed";

export interface CacheOptions {
  timeoutMs?: number;
  /** Aborts a download in progress (it is then retried later). */
  signal?: AbortSignal;
}

/**
 * Downloads `url` to a temporary file under the upload folder; the caller
 * removes it. Null when it cannot be had (logged); throws
 * {@link RemoteMediaRetryError} when trying later may help.
 */
export async function downloadForCache(ctx: CoreContext, url: string, options: CacheOptions = {}): Promise<DownloadedFile | null> {
  const { config, log } = ctx;
  const tmpDir = uploadTmpDir(config);
  await ensurePrivateDirectory(tmpDir);
  try {
    return await downloadRemoteMedia(url, {
      tmpDir,
      allowPrivateAddress: config.allowPrivateAddress,
      timeoutMs: options.timeoutMs ?? REMOTE_MEDIA_TIMEOUT_MS,
      refuse: (next) => isUrlSuspended(ctx, next),
      userAgent: `Islet/${ISLET_VERSION} (+${config.origin}/)`,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof RemoteMediaError)) throw error;
    if (error.retry) {
      log.info(`remote media: ${error.message}; trying again later`);
      throw new RemoteMediaRetryError(error.message, { cause: error });
    }
    log.info(`remote media: ${error.message}; left uncached`);
    return null;
  }
}
