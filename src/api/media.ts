/**
 * Mastodon API: media uploads (`/api/v1/media`, `/api/v2/media`), and the
 * stored files themselves at `/system/<key>`, and remote files not in the
 * cache at `/media_proxy/<id>/<style>` (src/media/proxy.ts).
 *
 * Uploads are streamed to disk (src/media/upload.ts), never buffered whole;
 * images are processed before the answer. A file ffmpeg must convert (a GIF,
 * a video or sound browsers cannot play) is converted in the background:
 * v2 answers 202 with `url: null`, and `GET /api/v1/media/:id` 206 until it
 * is ready, then 200, as Mastodon does; v1 waits for it.
 */
import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { Context } from "hono";
import { Hono } from "hono";
import { createMedia, deleteMedia, getMedia, parseFocus, updateMedia, type UploadedFile } from "../core/media.ts";
import { conversionOf, processingStateOf } from "../core/media-processing.ts";
import { MEDIA_LIMITS, uploadSizeLimit } from "../media/limits.ts";
import { contentTypeOfKey, isValidKey, keyPath, lazyUploadTmpDir, mediaUrl } from "../media/storage.ts";
import { BodyTooLargeError, isMultipart, receiveMultipart } from "../media/upload.ts";
import { tooLargeMessage } from "../media/errors.ts";
import type { ProfileImageStyle } from "../media/profile-images.ts";
import { MediaProxy, type ProxyStyle } from "../media/proxy.ts";
import { requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { serializeMediaAttachment } from "./entities/media-attachment.ts";
import { bodyParams, nest, pathId, read, type Params } from "./params.ts";

/** The largest request body an upload may have: a video, a thumbnail and some text. */
const MAX_UPLOAD_BODY = MEDIA_LIMITS.videoSizeLimit + MEDIA_LIMITS.imageSizeLimit + 1024 * 1024;

/** The largest JSON or URL-encoded body taken (they carry no file). */
const MAX_FIELDS_BODY = 64 * 1024;

interface MediaForm {
  params: Params;
  files: Record<string, UploadedFile>;
  cleanup(): Promise<void>;
}

/** A 422 for an oversized body, closing the connection so that the rest of it is not read. */
function tooLarge(c: Context, limit: number): Response {
  c.header("Connection", "close");
  return c.json({ error: `Validation failed: ${tooLargeMessage(limit)}` }, 422);
}

export function mediaRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { core } = deps;
  const origin = core.config.origin;
  const app = new Hono<ApiEnv>();

  const tmpDir = lazyUploadTmpDir(core.config);

  /**
   * The form of an upload: multipart with files streamed to disk, or (for
   * updates without a new thumbnail) JSON or URL-encoded fields.
   */
  async function readForm(c: Context<ApiEnv>, files: Record<string, (head: Uint8Array) => number>): Promise<MediaForm | Response> {
    const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
    if (!isMultipart(c.req.header("Content-Type"))) {
      // Without a file, the fields are a few hundred bytes at most.
      if (Number.isFinite(declared) && declared > MAX_FIELDS_BODY) {
        c.header("Connection", "close");
        return c.json({ error: "Validation failed: the request body is too large; upload files as multipart/form-data" }, 422);
      }
      return { params: await bodyParams(c), files: {}, cleanup: async () => {} };
    }
    if (Number.isFinite(declared) && declared > MAX_UPLOAD_BODY) return tooLarge(c, MEDIA_LIMITS.videoSizeLimit);
    try {
      const form = await receiveMultipart(c.req.raw, { tmpDir: await tmpDir(), files, maxBodyBytes: MAX_UPLOAD_BODY });
      return { params: nest(form.fields), files: form.files, cleanup: form.cleanup };
    } catch (error) {
      if (error instanceof BodyTooLargeError) return tooLarge(c, MEDIA_LIMITS.videoSizeLimit);
      throw error;
    }
  }

  const upload = async (c: Context<ApiEnv>, version: 1 | 2) => {
    const accountId = requireUser(c, "write:media");
    const form = await readForm(c, { file: uploadSizeLimit, thumbnail: () => MEDIA_LIMITS.imageSizeLimit });
    if (form instanceof Response) return form;
    try {
      const row = await createMedia(core, accountId, {
        file: form.files.file ?? null,
        thumbnail: form.files.thumbnail ?? null,
        description: read.string(form.params, "description"),
        focus: parseFocus(form.params.focus),
      });
      if (row.fileKey == null) {
        // Being converted (src/core/media-processing.ts): v2 answers at once
        // with no URL yet, as Mastodon does; v1 has always waited.
        if (version === 2) return c.json(serializeMediaAttachment(origin, row), 202);
        await conversionOf(row.id);
        return processedAnswer(c, await getMedia(core, accountId, row.id));
      }
      return c.json(serializeMediaAttachment(origin, row), 200);
    } finally {
      await form.cleanup();
    }
  };
  app.post("/api/v1/media", (c) => upload(c, 1));
  app.post("/api/v2/media", (c) => upload(c, 2));

  /** 200 with a processed attachment, 206 while it is converted, 422 when its conversion failed. */
  const processedAnswer = (c: Context<ApiEnv>, row: Awaited<ReturnType<typeof getMedia>>) => {
    const processing = processingStateOf(row.meta);
    if (processing?.state === "failed") return c.json({ error: `Validation failed: ${processing.error ?? "File could not be processed"}` }, 422);
    return c.json(serializeMediaAttachment(origin, row), row.fileKey == null && row.remoteUrl == null ? 206 : 200);
  };

  app.get("/api/v1/media/:id", async (c) => {
    const accountId = requireUser(c, "write:media");
    return processedAnswer(c, await getMedia(core, accountId, pathId(c)));
  });

  app.put("/api/v1/media/:id", async (c) => {
    const accountId = requireUser(c, "write:media");
    const id = pathId(c);
    const form = await readForm(c, { thumbnail: () => MEDIA_LIMITS.imageSizeLimit });
    if (form instanceof Response) return form;
    try {
      const row = await updateMedia(core, accountId, id, {
        description: read.string(form.params, "description"),
        focus: parseFocus(form.params.focus),
        thumbnail: form.files.thumbnail ?? null,
      });
      return c.json(serializeMediaAttachment(origin, row), 200);
    } finally {
      await form.cleanup();
    }
  });

  app.delete("/api/v1/media/:id", async (c) => {
    const accountId = requireUser(c, "write:media");
    await deleteMedia(core, accountId, pathId(c));
    return c.json({}, 200);
  });

  app.get("/system/*", (c) => serveMediaFile(c, core.config));

  // Remote files not in the cache: downloaded on first view, then redirected to.
  const proxy = new MediaProxy(core);
  app.get("/media_proxy/:id{[0-9]{1,19}}/:style{original|small}", async (c) => {
    const id = BigInt(c.req.param("id"));
    if (id > MAX_ID) return notFound(c);
    const answer = await proxy.answer(id, c.req.param("style") as ProxyStyle);
    c.header("Cache-Control", "no-store");
    if (answer.kind === "redirect") return c.redirect(answer.location, 302);
    if (answer.kind === "unavailable") return c.text("The file could not be fetched from its server; try again later", 502);
    return notFound(c);
  });
  // A remote account's avatar or header, the same way.
  app.get("/media_proxy/:kind{avatars|headers}/:id{[0-9]{1,19}}/:style{original|static}", async (c) => {
    const id = BigInt(c.req.param("id"));
    if (id > MAX_ID) return notFound(c);
    const kind = c.req.param("kind") === "avatars" ? "avatar" : "header";
    const answer = await proxy.answerProfileImage(id, kind, c.req.param("style") as ProfileImageStyle);
    c.header("Cache-Control", "no-store");
    if (answer.kind === "redirect") return c.redirect(answer.location, 302);
    if (answer.kind === "unavailable") return c.text("The file could not be fetched from its server; try again later", 502);
    return notFound(c);
  });
  return app;
}

const notFound = (c: Context) => c.text("Not found", 404);

/** The largest id a row can have (bigint). */
const MAX_ID = 9_223_372_036_854_775_807n;

/** A single `bytes=` range of a file of `size` bytes: null for the whole file, "unsatisfiable" for a 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | null {
  if (header == null) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match == null) return null;
  const [, from, to] = match;
  if (from === "" && to === "") return null;
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

/**
 * Serves a stored media file: the right Content-Type, cached for good
 * (keys are never reused), byte ranges for video players, HEAD. Anything
 * that is not a plain key of a regular file is a 404: no dot-segments, no
 * encoded characters, no hidden files, no symbolic links.
 */
async function serveMediaFile(c: Context, config: ApiDeps["core"]["config"]): Promise<Response> {
  const pathname = new URL(c.req.url).pathname;
  if (!pathname.startsWith("/system/")) return notFound(c);
  const key = pathname.slice("/system/".length);
  // Media in a bucket are served from there (or S3_ALIAS_HOST); this keeps older links working.
  if (config.s3 != null) {
    if (!isValidKey(key)) return notFound(c);
    c.header("Cache-Control", "public, max-age=3600");
    return c.redirect(mediaUrl(config.origin, key), 302);
  }
  const path = keyPath(config, key);
  if (path == null) return notFound(c);
  let info;
  try {
    info = await lstat(path);
  } catch {
    return notFound(c);
  }
  if (!info.isFile()) return notFound(c);

  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    "Content-Type": contentTypeOfKey(key),
    "Cache-Control": "public, max-age=31536000, immutable",
    "Accept-Ranges": "bytes",
    "ETag": etag,
    "Last-Modified": info.mtime.toUTCString(),
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Access-Control-Allow-Origin": "*",
  };
  const ifNoneMatch = c.req.header("If-None-Match");
  if (ifNoneMatch != null && ifNoneMatch.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
    return new Response(null, { status: 304, headers });
  }

  const ifRange = c.req.header("If-Range");
  const range = ifRange != null && ifRange !== etag ? null : parseRange(c.req.header("Range"), info.size);
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { ...headers, "Content-Range": `bytes */${info.size}` } });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? info.size - 1;
  const length = Math.max(0, end - start + 1);
  headers["Content-Length"] = String(length);
  if (range != null) headers["Content-Range"] = `bytes ${start}-${end}/${info.size}`;
  const status = range != null ? 206 : 200;
  if (c.req.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  const stream = createReadStream(path, { start, end });
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
}
