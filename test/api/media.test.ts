/**
 * The media API as clients use it: uploading pictures, videos and sounds
 * through `/api/v1/media` and `/api/v2/media` (multipart), reading, changing
 * and deleting uploads, scopes, and the files served at `/system/...`
 * (types, caching, ranges, and no way out of the media folder).
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { newId } from "../../src/core/ids.ts";
import { mediaAttachments, statuses } from "../../src/db/schema.ts";
import { keyPath, mediaRoot, uploadTmpDir } from "../../src/media/storage.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { jpegWithExif, mp3, mp4, picture, pngBomb, wav, webm } from "../media/fixtures.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

type Json = Record<string, any>;

function form(fields: Record<string, string | { bytes: Uint8Array; name: string; type: string }>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string") body.append(name, value);
    else body.append(name, new Blob([new Uint8Array(value.bytes)], { type: value.type }), value.name);
  }
  return body;
}

const file = (bytes: Uint8Array, name: string, type: string) => ({ bytes, name, type });

/** GET (or HEAD) of a URL on the instance, as bytes. */
async function fetchFile(instance: TestInstance, url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const path = new URL(url).pathname;
  const response = await fetch(`${instance.url}${path}`, init);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** A request with a raw, unnormalised path, as a hostile client could send it. */
function rawGet(instance: TestInstance, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(instance.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("latin1") }));
    });
    req.on("error", reject);
    req.end();
  });
}

for (const kind of databaseKinds()) {
  describe(`media API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    before(async () => {
      // Without ffmpeg: video and sound kept as uploaded (test/media/video.test.ts covers them with ffmpeg).
      instance = await startInstance(kind, { username: "owner", env: { FFMPEG_BINARY: "/nonexistent/ffmpeg", FFPROBE_BINARY: "/nonexistent/ffprobe" } });
      token = await ownerToken(instance);
    });
    after(async () => {
      await instance?.close();
    });

    const upload = (fields: Parameters<typeof form>[0], path = "/api/v2/media", bearer: string | null = token) =>
      api<Json>(instance, "POST", path, { token: bearer, body: form(fields) });

    test("a PNG upload: 200, sizes, preview, blurhash, focus and description", async () => {
      const png = await picture("png", 800, 600, "#c33");
      const response = await upload({ file: file(png, "red.png", "image/png"), description: "A red square", focus: "0.5,-0.25" });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const media = response.body;
      assert.match(media.id, /^\d+$/);
      assert.equal(media.type, "image");
      assert.equal(media.description, "A red square");
      assert.deepEqual(media.meta.original, { width: 800, height: 600, size: "800x600", aspect: 800 / 600 });
      assert.deepEqual(media.meta.small, { width: 640, height: 480, size: "640x480", aspect: 640 / 480 });
      assert.deepEqual(media.meta.focus, { x: 0.5, y: -0.25 });
      assert.equal(typeof media.blurhash, "string");
      assert.ok(media.blurhash.length >= 6);
      assert.ok(media.url.startsWith(`${instance.origin}/system/media_attachments/`), media.url);
      assert.match(media.url, /\/original\.png$/);
      assert.match(media.preview_url, /\/small\.webp$/);
      assert.equal(media.remote_url, null);

      const original = await fetchFile(instance, media.url);
      assert.equal(original.status, 200);
      assert.equal(original.headers.get("content-type"), "image/png");
      assert.equal(original.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal(original.headers.get("x-content-type-options"), "nosniff");
      const originalMeta = await sharp(original.bytes).metadata();
      assert.deepEqual([originalMeta.format, originalMeta.width, originalMeta.height], ["png", 800, 600]);

      const preview = await fetchFile(instance, media.preview_url);
      assert.equal(preview.status, 200);
      assert.equal(preview.headers.get("content-type"), "image/webp");
      const previewMeta = await sharp(preview.bytes).metadata();
      assert.deepEqual([previewMeta.format, previewMeta.width, previewMeta.height], ["webp", 640, 480]);

      const row = (await instance.islet.core.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, BigInt(media.id))))[0];
      assert.equal(row.accountId, instance.owner!.account.id);
      assert.equal(row.statusId, null);
      assert.equal(row.fileSize, original.bytes.length);
    });

    test("the MediaAttachment matches the Mastodon schema", { skip: skipContract }, async () => {
      const response = await upload({ file: file(await picture("jpeg", 120, 80), "a.jpg", "image/jpeg"), focus: "0,0" });
      assert.equal(response.status, 200);
      assertMatchesSchema("MediaAttachment", response.body);
      const video = await upload({ file: file(mp4(), "v.mp4", "video/mp4") });
      assertMatchesSchema("MediaAttachment", video.body);
      const got = await api(instance, "GET", `/api/v1/media/${response.body.id}`, { token });
      assertMatchesSchema("MediaAttachment", got.body);
    });

    test("v1 upload of a JPEG with EXIF: turned upright, no EXIF or GPS left in any stored file", async () => {
      const response = await upload({ file: file(await jpegWithExif(300, 200), "photo.jpg", "image/jpeg") }, "/api/v1/media");
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.deepEqual(response.body.meta.original, { width: 200, height: 300, size: "200x300", aspect: 200 / 300 });
      for (const url of [response.body.url, response.body.preview_url]) {
        const stored = await fetchFile(instance, url);
        assert.equal(stored.status, 200);
        const meta = await sharp(stored.bytes).metadata();
        assert.equal(meta.exif, undefined, `${url} has no EXIF`);
        assert.equal(meta.orientation, undefined);
        for (const secret of ["SECRET-OWNER", "IsletTestCam", "SerialX123"]) {
          assert.equal(stored.bytes.includes(Buffer.from(secret)), false, `${secret} is not in ${url}`);
        }
      }
      const stored = await fetchFile(instance, response.body.url);
      assert.equal(stored.headers.get("content-type"), "image/jpeg");
      const meta = await sharp(stored.bytes).metadata();
      assert.deepEqual([meta.width, meta.height], [200, 300]);
    });

    test("WebP and GIF keep their format", async () => {
      const webp = await upload({ file: file(await picture("webp", 64, 64), "x.webp", "image/webp") });
      assert.equal(webp.status, 200);
      assert.match(webp.body.url, /\.webp$/);
      assert.equal((await fetchFile(instance, webp.body.url)).headers.get("content-type"), "image/webp");
      const gif = await upload({ file: file(await picture("gif", 64, 64), "x.gif", "image/gif") });
      assert.equal(gif.status, 200);
      assert.equal(gif.body.type, "image");
      assert.match(gif.body.url, /\.gif$/);
    });

    test("the content decides, not the name or declared type", async () => {
      const text = Buffer.from("#!/bin/sh\necho this is not a picture\n");
      for (const path of ["/api/v1/media", "/api/v2/media"]) {
        const response = await upload({ file: file(text, "innocent.png", "image/png") }, path);
        assert.equal(response.status, 422);
        assert.deepEqual(response.body, { error: "Validation failed: File content type is invalid" });
      }
      // A real PNG declared as something else is still a PNG.
      const png = await upload({ file: file(await picture("png", 10, 10), "notes.txt", "text/plain") });
      assert.equal(png.status, 200);
      assert.equal(png.body.type, "image");
      const svg = await upload({ file: file(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), "x.svg", "image/svg+xml") });
      assert.equal(svg.status, 422);
    });

    test("a decompression bomb is refused from its header with 422", async () => {
      const bomb = await pngBomb(20000, 20000);
      const response = await upload({ file: file(bomb, "bomb.png", "image/png") });
      assert.equal(response.status, 422);
      // The dimensions in the message come from the header check, before any decoding.
      assert.match(response.body.error, /^Validation failed: .*20000x20000/);
    });

    test("an image over the image size limit is refused with 422, and its temporary file is gone", async () => {
      const png = await picture("png", 8, 8);
      const big = Buffer.concat([png, Buffer.alloc(16 * 1024 * 1024 + 1024)]);
      const response = await upload({ file: file(big, "big.png", "image/png") });
      assert.equal(response.status, 422);
      assert.equal(response.body.error, "Validation failed: File file size must be less than 16 MB");
      const leftovers = existsSync(uploadTmpDir(instance.islet.config)) ? readdirSync(uploadTmpDir(instance.islet.config)) : [];
      assert.deepEqual(leftovers, []);
    });

    test("a body announced larger than any upload is refused before it is read", async () => {
      const url = new URL(instance.url);
      // Only the first part's headers are ever sent: the answer proves the rest was not awaited.
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({
          host: url.hostname,
          port: url.port,
          path: "/api/v2/media",
          method: "POST",
          headers: {
            Authorization: `Bearer ${token}`,
            "Content-Type": "multipart/form-data; boundary=xyz",
            "Content-Length": String(500 * 1024 * 1024),
          },
        }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on("error", (error) => (error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error));
        req.write("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n");
      });
      assert.equal(status, 422);
    });

    test("video is accepted as video, with its duration and size; ranges are served", async () => {
      const bytes = mp4({ width: 640, height: 360, seconds: 5, fps: 30 });
      const response = await upload({ file: file(bytes, "clip.bin", "application/octet-stream"), description: "A clip" });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const media = response.body;
      assert.equal(media.type, "video");
      assert.match(media.url, /\/original\.mp4$/);
      assert.equal(media.preview_url, null);
      assert.equal(media.blurhash, null);
      assert.equal(media.meta.original.duration, 5);
      assert.equal(media.meta.original.width, 640);
      assert.equal(media.meta.original.height, 360);
      assert.equal(media.meta.original.frame_rate, "30/1");
      assert.equal(media.meta.duration, 5);
      assert.equal(media.meta.length, "0:00:05.00");
      assert.equal(media.meta.aspect, 640 / 360);

      const whole = await fetchFile(instance, media.url);
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get("content-type"), "video/mp4");
      assert.equal(whole.headers.get("accept-ranges"), "bytes");
      assert.deepEqual(whole.bytes, bytes);

      const part = await fetchFile(instance, media.url, { headers: { Range: "bytes=4-11" } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get("content-range"), `bytes 4-11/${bytes.length}`);
      assert.equal(part.bytes.toString("latin1"), "ftypisom");
      const tail = await fetchFile(instance, media.url, { headers: { Range: "bytes=-10" } });
      assert.equal(tail.status, 206);
      assert.deepEqual(tail.bytes, bytes.subarray(bytes.length - 10));
      const beyond = await fetchFile(instance, media.url, { headers: { Range: `bytes=${bytes.length}-` } });
      assert.equal(beyond.status, 416);

      const webmResponse = await upload({ file: file(webm(), "clip.webm", "video/webm") });
      assert.equal(webmResponse.body.type, "video");
      assert.equal((await fetchFile(instance, webmResponse.body.url)).headers.get("content-type"), "video/webm");
    });

    test("video over the frame size or frame rate limits is refused", async () => {
      const huge = await upload({ file: file(mp4({ width: 4096, height: 2160 }), "big.mp4", "video/mp4") });
      assert.equal(huge.status, 422);
      assert.match(huge.body.error, /^Validation failed: .*4096x2160/);
      const fast = await upload({ file: file(mp4({ fps: 240, seconds: 1 }), "fast.mp4", "video/mp4") });
      assert.equal(fast.status, 422);
      assert.match(fast.body.error, /^Validation failed: .*240 fps/);
      const portrait4k = await upload({ file: file(mp4({ width: 2160, height: 3840, seconds: 1 }), "tall.mp4", "video/mp4") });
      assert.equal(portrait4k.status, 200, "3840x2160 worth of pixels is within the limit");
    });

    test("audio is accepted as audio; a sound-only MP4 too", async () => {
      const cases: [Uint8Array, string, RegExp, string][] = [
        [wav(2), "a.wav", /\.wav$/, "audio/wav"],
        [mp3(200), "a.mp3", /\.mp3$/, "audio/mpeg"],
        [mp4({ video: false }), "a.mp4", /\.m4a$/, "audio/mp4"],
      ];
      for (const [bytes, name, ext, type] of cases) {
        const response = await upload({ file: file(bytes, name, "application/octet-stream") });
        assert.equal(response.status, 200, `${name}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.type, "audio", name);
        assert.match(response.body.url, ext);
        assert.equal(typeof response.body.meta.original.duration, "number");
        assert.equal((await fetchFile(instance, response.body.url)).headers.get("content-type"), type);
      }
    });

    test("a custom thumbnail for a video: preview and blurhash", async () => {
      const response = await upload({
        file: file(mp4(), "v.mp4", "video/mp4"),
        thumbnail: file(await picture("jpeg", 1280, 720, "#258"), "t.jpg", "image/jpeg"),
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.match(response.body.preview_url, /\/thumbnail-[0-9a-f]+\.jpg$/);
      assert.equal(typeof response.body.blurhash, "string");
      assert.deepEqual(response.body.meta.small, { width: 640, height: 360, size: "640x360", aspect: 640 / 360 });
      const preview = await fetchFile(instance, response.body.preview_url);
      assert.equal(preview.headers.get("content-type"), "image/jpeg");

      const bad = await upload({ file: file(mp4(), "v.mp4", "video/mp4"), thumbnail: file(Buffer.from("nope"), "t.jpg", "image/jpeg") });
      assert.equal(bad.status, 422);
    });

    test("focus: parsed, checked", async () => {
      const png = await picture("png", 10, 10);
      const ok = await upload({ file: file(png, "a.png", "image/png"), focus: "-1,1" });
      assert.deepEqual(ok.body.meta.focus, { x: -1, y: 1 });
      for (const focus of ["2,0", "0,-1.5", "abc", "0.5", "0.1,0.2,0.3", "NaN,0", "1e5,0", ",", "Infinity,0"]) {
        const response = await upload({ file: file(png, "a.png", "image/png"), focus });
        assert.equal(response.status, 422, focus);
        assert.match(response.body.error, /^Validation failed: Focus/, focus);
      }
    });

    test("description: at most 1500 characters", async () => {
      const png = await picture("png", 10, 10);
      const longest = "é".repeat(1500);
      const ok = await upload({ file: file(png, "a.png", "image/png"), description: longest });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.description, longest);
      const tooLong = await upload({ file: file(png, "a.png", "image/png"), description: "x".repeat(1501) });
      assert.equal(tooLong.status, 422);
      assert.match(tooLong.body.error, /^Validation failed: Description is too long/);
    });

    test("no file: 422", async () => {
      const response = await upload({ description: "nothing" });
      assert.equal(response.status, 422);
      assert.equal(response.body.error, "Validation failed: File can't be blank");
      const json = await api(instance, "POST", "/api/v1/media", { token, body: { file: "not a file" } });
      assert.equal(json.status, 422);
      const huge = await api(instance, "POST", "/api/v1/media", { token, body: { file: "x".repeat(200_000) } });
      assert.equal(huge.status, 422);
    });

    test("malformed multipart bodies are 400 or 422, never 500", async () => {
      const bodies: [string, string][] = [
        ["multipart/form-data; boundary=xyz", "this is not multipart at all"],
        ["multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG cut short"],
        ["multipart/form-data", "--xyz--"],
        ["multipart/form-data; boundary=", ""],
      ];
      for (const [type, body] of bodies) {
        const response = await fetch(`${instance.url}/api/v2/media`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": type }, body });
        assert.ok(response.status === 422 || response.status === 400, `${type}: ${body}: ${response.status}`);
        assert.equal(typeof (await response.json()).error, "string");
      }
      assert.deepEqual(readdirSync(uploadTmpDir(instance.islet.config)), [], "no temporary file left");
    });

    test("scopes: none is 401, read is 403, write:media and write are enough", async () => {
      const png = await picture("png", 10, 10);
      const none = await upload({ file: file(png, "a.png", "image/png") }, "/api/v2/media", null);
      assert.equal(none.status, 401);
      const bad = await upload({ file: file(png, "a.png", "image/png") }, "/api/v2/media", "not-a-token");
      assert.equal(bad.status, 401);
      const readOnly = await ownerToken(instance, "read");
      const forbidden = await upload({ file: file(png, "a.png", "image/png") }, "/api/v2/media", readOnly);
      assert.equal(forbidden.status, 403);
      const made = await upload({ file: file(png, "a.png", "image/png") });
      assert.equal((await api(instance, "GET", `/api/v1/media/${made.body.id}`, { token: readOnly })).status, 403);
      assert.equal((await api(instance, "PUT", `/api/v1/media/${made.body.id}`, { token: readOnly, body: { description: "x" } })).status, 403);
      assert.equal((await api(instance, "DELETE", `/api/v1/media/${made.body.id}`, { token: readOnly })).status, 403);
      assert.equal((await api(instance, "GET", `/api/v1/media/${made.body.id}`)).status, 401);
      for (const scopes of ["write:media", "write"]) {
        const allowed = await upload({ file: file(png, "a.png", "image/png") }, "/api/v2/media", await ownerToken(instance, scopes));
        assert.equal(allowed.status, 200, scopes);
      }
    });

    test("GET, PUT and DELETE of an unattached upload", async () => {
      const made = (await upload({ file: file(await picture("png", 100, 50), "a.png", "image/png"), description: "before" })).body;
      const got = await api(instance, "GET", `/api/v1/media/${made.id}`, { token });
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, made);

      const updated = await api(instance, "PUT", `/api/v1/media/${made.id}`, { token, body: { description: "after", focus: "0.1,0.2" } });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.description, "after");
      assert.deepEqual(updated.body.meta.focus, { x: 0.1, y: 0.2 });
      assert.equal(updated.body.url, made.url);

      const multipart = await api(instance, "PUT", `/api/v1/media/${made.id}`, { token, body: form({ description: "multipart" }) });
      assert.equal(multipart.body.description, "multipart");
      assert.deepEqual(multipart.body.meta.focus, { x: 0.1, y: 0.2 }, "focus left as it was");

      const urlencoded = await api(instance, "PUT", `/api/v1/media/${made.id}`, { token, body: new URLSearchParams({ description: "" }) });
      assert.equal(urlencoded.status, 200);
      assert.equal(urlencoded.body.description, null, "an empty description removes it");

      assert.equal((await api(instance, "PUT", `/api/v1/media/${made.id}`, { token, body: { focus: "3,3" } })).status, 422);
      assert.equal((await api(instance, "PUT", `/api/v1/media/${made.id}`, { token, body: { description: "y".repeat(1501) } })).status, 422);

      // A new thumbnail replaces the generated preview, whose file goes.
      const withThumbnail = await api(instance, "PUT", `/api/v1/media/${made.id}`, {
        token,
        body: form({ thumbnail: file(await picture("webp", 300, 300), "t.webp", "image/webp") }),
      });
      assert.equal(withThumbnail.status, 200, JSON.stringify(withThumbnail.body));
      assert.notEqual(withThumbnail.body.preview_url, made.preview_url);
      assert.equal((await fetchFile(instance, withThumbnail.body.preview_url)).status, 200);
      assert.equal((await fetchFile(instance, made.preview_url)).status, 404);

      const deleted = await api(instance, "DELETE", `/api/v1/media/${made.id}`, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, {});
      assert.equal((await api(instance, "GET", `/api/v1/media/${made.id}`, { token })).status, 404);
      assert.equal((await api(instance, "DELETE", `/api/v1/media/${made.id}`, { token })).status, 404);
      assert.equal((await fetchFile(instance, made.url)).status, 404, "the files are gone");
      assert.equal((await fetchFile(instance, withThumbnail.body.preview_url)).status, 404);
    });

    test("unknown, malformed and foreign IDs are 404", async () => {
      for (const id of ["123456789", "abc", "-1", "99999999999999999999"]) {
        assert.equal((await api(instance, "GET", `/api/v1/media/${id}`, { token })).status, 404, id);
        assert.equal((await api(instance, "PUT", `/api/v1/media/${id}`, { token, body: { description: "x" } })).status, 404, id);
        assert.equal((await api(instance, "DELETE", `/api/v1/media/${id}`, { token })).status, 404, id);
      }
      // Someone else's upload (a remote account's media row).
      const db = instance.islet.core.db;
      const { accounts } = await import("../../src/db/schema.ts");
      const strangerId = newId();
      await db.insert(accounts).values({
        id: strangerId,
        username: "stranger",
        domain: "remote.example",
        uri: "https://remote.example/users/stranger",
      } as typeof accounts.$inferInsert);
      const foreignId = newId();
      await db.insert(mediaAttachments).values({ id: foreignId, accountId: strangerId, type: "image", contentType: "image/png", remoteUrl: "https://remote.example/a.png" });
      assert.equal((await api(instance, "GET", `/api/v1/media/${foreignId}`, { token })).status, 404);
      assert.equal((await api(instance, "PUT", `/api/v1/media/${foreignId}`, { token, body: { description: "mine now" } })).status, 404);
      assert.equal((await api(instance, "DELETE", `/api/v1/media/${foreignId}`, { token })).status, 404);
    });

    test("attached media: GET and PUT are 404, DELETE is 422", async () => {
      const made = (await upload({ file: file(await picture("png", 20, 20), "a.png", "image/png") })).body;
      const db = instance.islet.core.db;
      const statusId = newId();
      await db.insert(statuses).values({ id: statusId, accountId: instance.owner!.account.id, uri: `${instance.origin}/users/owner/statuses/${statusId}` });
      await db.update(mediaAttachments).set({ statusId }).where(eq(mediaAttachments.id, BigInt(made.id)));
      assert.equal((await api(instance, "GET", `/api/v1/media/${made.id}`, { token })).status, 404);
      assert.equal((await api(instance, "PUT", `/api/v1/media/${made.id}`, { token, body: { description: "x" } })).status, 404);
      const deleted = await api(instance, "DELETE", `/api/v1/media/${made.id}`, { token });
      assert.equal(deleted.status, 422);
      assert.deepEqual(deleted.body, { error: "Media attachment is currently used by a status" });
      assert.equal((await fetchFile(instance, made.url)).status, 200, "still served");
    });

    test("stored files and folders are the owner's only", async () => {
      const made = (await upload({ file: file(await picture("png", 20, 20), "a.png", "image/png") })).body;
      const key = new URL(made.url).pathname.slice("/system/".length);
      const path = keyPath(instance.islet.config, key)!;
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
      assert.equal(statSync(mediaRoot(instance.islet.config)).mode & 0o777, 0o700);
    });

    test("HEAD of a media file: headers without a body", async () => {
      const made = (await upload({ file: file(await picture("png", 20, 20), "a.png", "image/png") })).body;
      const head = await fetchFile(instance, made.url, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), "image/png");
      assert.ok(Number(head.headers.get("content-length")) > 0);
      assert.equal(head.bytes.length, 0);
      const etag = head.headers.get("etag")!;
      const cached = await fetchFile(instance, made.url, { headers: { "If-None-Match": etag } });
      assert.equal(cached.status, 304);
    });

    test("/system never leaves the media folder", async () => {
      const secret = readFileSync(join(instance.islet.config.dataDir, "secret_key_base"), "utf8").trim();
      writeFileSync(join(mediaRoot(instance.islet.config), "..", "outside.txt"), "outside");
      mkdirSync(uploadTmpDir(instance.islet.config), { recursive: true });
      writeFileSync(join(uploadTmpDir(instance.islet.config), "pending.upload"), "pending");
      const attempts = [
        "/system/../secret_key_base",
        "/system/../../secret_key_base",
        "/system/%2e%2e/secret_key_base",
        "/system/%2E%2E/%2E%2E/secret_key_base",
        "/system/..%2fsecret_key_base",
        "/system/%2e%2e%2fsecret_key_base",
        "/system/%252e%252e/secret_key_base",
        "/system/media_attachments/..%2f..%2fsecret_key_base",
        "/system/media_attachments/%2e%2e/%2e%2e/outside.txt",
        "/system/..%5csecret_key_base",
        "/system/.tmp/pending.upload",
        "/system/%2etmp/pending.upload",
        "/system//etc/passwd",
        "/system/%2fetc%2fpasswd",
        "/system/media_attachments",
        "/system/",
        "/system/secret_key_base%00.png",
        "/system/../outside.txt",
      ];
      for (const path of attempts) {
        const response = await rawGet(instance, path);
        assert.equal(response.status, 404, path);
        assert.equal(response.body.includes(secret), false, path);
        assert.equal(response.body.includes("outside"), false, path);
        assert.equal(response.body.includes("pending"), false, path);
      }
      // A raw backslash does not even get past Node's HTTP parser.
      const backslash = await rawGet(instance, "/system/..\\secret_key_base");
      assert.ok(backslash.status === 400 || backslash.status === 404, String(backslash.status));
      assert.equal(backslash.body.includes(secret), false);
    });
  });
}
