/**
 * Downloading a remote media file to a temporary file, as carefully as any
 * other request to a URL from outside: http or https only, never to an
 * address on the server's own networks (checked on every connection, so a
 * name cannot be re-pointed after a check, and again on every redirect),
 * within a deadline, and never past a size limit chosen from the file's
 * first bytes (images have a smaller one than video). ALLOW_PRIVATE_ADDRESS
 * (development and tests) lifts the address rule, as it does for
 * federation.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { GuardedFetchError, networkPolicy, openGuarded, type NetworkPolicy } from "../net/fetcher.ts";
import { MEDIA_LIMITS, uploadSizeLimit } from "./limits.ts";
import { SNIFF_BYTES } from "./sniff.ts";

/** Why a download did not give a file; `retry` says whether trying later may help. */
export class RemoteMediaError extends Error {
  readonly retry: boolean;
  constructor(message: string, retry: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RemoteMediaError";
    this.retry = retry;
  }
}

export interface DownloadOptions {
  /** Folder for the temporary file; it must exist. */
  tmpDir: string;
  allowPrivateAddress: boolean;
  /** Which addresses may be connected to; by default the rule ALLOW_PRIVATE_ADDRESS sets. */
  policy?: NetworkPolicy;
  /** The longest the whole download may take. */
  timeoutMs: number;
  /** Checked for the first URL and every redirect: true refuses it (a suspended domain). */
  refuse?: (url: URL) => Promise<boolean>;
  userAgent?: string;
  maxRedirects?: number;
  /** Stops the download (the server shutting down); it is then retryable. */
  signal?: AbortSignal;
}

export interface DownloadedFile {
  /** The temporary file; the caller moves or removes it. */
  path: string;
  size: number;
  /** The URL the file came from, after redirects. */
  url: string;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code == null || error.message.includes(code) ? error.message : `${error.message} (${code})`;
  }
  return String(error);
}

/**
 * Downloads `source` into a new file in `options.tmpDir`. Throws a
 * {@link RemoteMediaError}: retryable for network errors, the deadline,
 * 408, 429 and 5xx answers; final for other answers, refused addresses and
 * hosts, and files over the size limit.
 */
export async function downloadRemoteMedia(source: string, options: DownloadOptions): Promise<DownloadedFile> {
  let opened: Awaited<ReturnType<typeof openGuarded>>;
  try {
    opened = await openGuarded(source, {
      policy: options.policy ?? networkPolicy(options.allowPrivateAddress),
      timeoutMs: options.timeoutMs,
      maxRedirects: options.maxRedirects ?? 3,
      headers: { Accept: "image/*, video/*, audio/*, */*;q=0.5", ...(options.userAgent == null ? {} : { "User-Agent": options.userAgent }) },
      refuseUrl: options.refuse,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof GuardedFetchError) throw new RemoteMediaError(error.message, error.retry, { cause: error });
    throw error;
  }
  const { response, url } = opened;
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    response.destroy();
    const retry = status === 408 || status === 429 || status >= 500;
    throw new RemoteMediaError(`${url.href} answered ${status}`, retry);
  }

  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MEDIA_LIMITS.videoSizeLimit) {
    response.destroy();
    throw new RemoteMediaError(`${url.href} is ${declared} bytes, over the limit`, false);
  }

  const path = join(options.tmpDir, `remote-${randomBytes(8).toString("hex")}`);
  const file = createWriteStream(path, { mode: 0o600, flags: "wx" });
  const fileDone = new Promise<void>((resolve, reject) => {
    file.on("finish", resolve);
    file.on("error", reject);
  });
  fileDone.catch(() => {});
  let size = 0;
  let limit: number = MEDIA_LIMITS.videoSizeLimit;
  const head: Buffer[] = [];
  let headLength = 0;
  let decided = false;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      if (!decided) {
        head.push(chunk);
        headLength += chunk.length;
        if (headLength >= SNIFF_BYTES) {
          limit = uploadSizeLimit(Buffer.concat(head));
          decided = true;
        }
      }
      size += chunk.length;
      if (size > limit) throw new RemoteMediaError(`${url.href} is over the size limit of ${limit} bytes`, false);
      if (!file.write(chunk)) await once(file, "drain");
    }
    if (!decided && size > uploadSizeLimit(Buffer.concat(head))) {
      throw new RemoteMediaError(`${url.href} is over the size limit`, false);
    }
    file.end();
    await fileDone;
  } catch (error) {
    response.destroy();
    file.destroy();
    await rm(path, { force: true });
    if (error instanceof RemoteMediaError) throw error;
    if (opened.timedOut()) throw new RemoteMediaError(`${url.href} did not arrive within ${Math.round(options.timeoutMs / 1000)} s`, true, { cause: error });
    throw new RemoteMediaError(`${url.href} could not be received: ${describe(error)}`, true, { cause: error });
  }
  return { path, size, url: url.href };
}
