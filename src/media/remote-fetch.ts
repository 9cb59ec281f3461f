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
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { isNonPublicHost, publicAddressLookup } from "../net/public-address.ts";
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

/** Resolves names like dns.lookup, refusing those that lead to a non-public address. */
const publicLookup = publicAddressLookup((message) => new RemoteMediaError(message, false));

/** Why `url` may not be fetched (before any connection), or null. */
function urlProblem(url: URL, allowPrivateAddress: boolean): string | null {
  if (url.protocol !== "https:" && url.protocol !== "http:") return `${url.protocol} URLs are not fetched`;
  if (url.username !== "" || url.password !== "") return "the URL carries a user name or password";
  if (!allowPrivateAddress) {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    // A literal address is connected to without a lookup: check it here.
    if (isNonPublicHost(host)) {
      return `${host} is not a public address`;
    }
  }
  return null;
}

/** Sends a GET; resolves with the response head once it arrives. */
function get(url: URL, options: DownloadOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, {
      method: "GET",
      headers: { Accept: "image/*, video/*, audio/*, */*;q=0.5", ...(options.userAgent == null ? {} : { "User-Agent": options.userAgent }) },
      lookup: options.allowPrivateAddress ? undefined : publicLookup,
      signal,
    });
    request.on("error", reject);
    request.on("response", resolve);
    request.end();
  });
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
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new RemoteMediaError("the media URL is not a URL", false);
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const deadline = options.signal == null ? timeout : AbortSignal.any([timeout, options.signal]);
  const maxRedirects = options.maxRedirects ?? 3;
  let response: IncomingMessage | null = null;
  for (let redirects = 0; ; redirects++) {
    const problem = urlProblem(url, options.allowPrivateAddress);
    if (problem != null) throw new RemoteMediaError(`${url.href}: ${problem}`, false);
    if (options.refuse != null && (await options.refuse(url))) throw new RemoteMediaError(`${url.host} is suspended`, false);
    try {
      response = await get(url, options, deadline);
    } catch (error) {
      if (error instanceof RemoteMediaError) throw error;
      if (timeout.aborted) throw new RemoteMediaError(`no answer from ${url.origin} within ${Math.round(options.timeoutMs / 1000)} s`, true, { cause: error });
      throw new RemoteMediaError(`could not reach ${url.origin}: ${describe(error)}`, true, { cause: error });
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location != null) {
      response.resume();
      if (redirects >= maxRedirects) throw new RemoteMediaError(`${source}: too many redirects`, false);
      try {
        url = new URL(location, url);
      } catch {
        throw new RemoteMediaError(`${url.href} redirects to an invalid URL`, false);
      }
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      const retry = status === 408 || status === 429 || status >= 500;
      throw new RemoteMediaError(`${url.href} answered ${status}`, retry);
    }
    break;
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
    if (timeout.aborted) throw new RemoteMediaError(`${url.href} did not arrive within ${Math.round(options.timeoutMs / 1000)} s`, true, { cause: error });
    throw new RemoteMediaError(`${url.href} could not be received: ${describe(error)}`, true, { cause: error });
  }
  return { path, size, url: url.href };
}
