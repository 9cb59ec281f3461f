/**
 * Video and audio through the API with ffmpeg, as Mastodon handles them:
 * inputs made here by ffmpeg itself (an H.264 MP4, an HEVC MOV when this
 * ffmpeg can encode HEVC, an animated GIF, a WAV sound), uploaded with
 * `POST /api/v2/media`, checked for `meta` (sizes, duration, fps), a
 * preview for videos, `gifv` for the GIF, 202 then 200 for what is
 * converted, and a clear 422 for a corrupt video.
 *
 * Without ffmpeg these tests are skipped with the reason printed, except
 * under CI (CI set), where that is a failure.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { resumeMediaProcessing } from "../../src/core/media.ts";
import { conversionOf, mediaProcessingIdle, processingDir } from "../../src/core/media-processing.ts";
import { newId } from "../../src/core/ids.ts";
import { mediaAttachments } from "../../src/db/schema.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

function has(command: string): boolean {
  try {
    execFileSync(command, ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const ffmpegPresent = has("ffmpeg") && has("ffprobe");
if (!ffmpegPresent && process.env.CI) {
  test("ffmpeg and ffprobe are installed under CI", () => {
    assert.fail("ffmpeg/ffprobe not found on PATH: scripts/ci-deps.sh installs them (apt-get install -y ffmpeg)");
  });
}
const skip = ffmpegPresent ? false : "ffmpeg/ffprobe not installed (apt-get install -y ffmpeg); video and audio processing not tested";
if (skip) process.stdout.write(`# skipped: ${skip}\n`);
const hevc = ffmpegPresent && execFileSync("ffmpeg", ["-hide_banner", "-encoders"], { encoding: "utf8" }).includes("libx265");

const work = mkdtempSync(join(tmpdir(), "islet-video-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs ffmpeg with `args` writing `name` in the work folder; returns its bytes. */
function make(name: string, args: string[]): Buffer {
  const path = join(work, name);
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-y", ...args, path]);
  return readFileSync(path);
}

function upload(bytes: Uint8Array, name: string, type: string): FormData {
  const body = new FormData();
  body.append("file", new Blob([new Uint8Array(bytes)], { type }), name);
  return body;
}

type Json = Record<string, any>;

for (const kind of databaseKinds().slice(0, 1)) {
  describe(`video and audio with ffmpeg (${kind})`, { skip }, () => {
    let instance: TestInstance;
    let token: string;
    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
    });
    after(async () => {
      if (instance != null) await mediaProcessingIdle(instance.islet.core);
      await instance?.close();
    });

    /** Uploads through v2, expecting 202, then polls v1 until 200. */
    async function uploadConverted(bytes: Uint8Array, name: string, type: string): Promise<{ first: Json; done: Json }> {
      const response = await api(instance, "POST", "/api/v2/media", { token, body: upload(bytes, name, type) });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.equal(response.body.url, null, "no URL while it is converted");
      const id = response.body.id;
      const done = await eventually(async () => {
        const current = await api(instance, "GET", `/api/v1/media/${id}`, { token });
        assert.ok(current.status === 206 || current.status === 200, `206 or 200, got ${current.status} ${JSON.stringify(current.body)}`);
        return current.status === 200 ? current.body : undefined;
      }, `media ${id} processed`, 120_000);
      return { first: response.body, done };
    }

    async function fetchBytes(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
      const response = await fetch(`${instance.url}${new URL(url).pathname}`);
      return { status: response.status, type: response.headers.get("content-type"), bytes: Buffer.from(await response.arrayBuffer()) };
    }

    test("an H.264 MP4 plays as it is: 200 at once, with meta and a still preview", async () => {
      const mp4 = make("clip.mp4", [
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
      ]);
      const response = await api(instance, "POST", "/api/v2/media", { token, body: upload(mp4, "clip.mp4", "video/mp4") });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const body: Json = response.body;
      assert.equal(body.type, "video");
      assert.match(body.url, /\/original\.mp4$/);
      assert.equal(body.meta.original.width, 320);
      assert.equal(body.meta.original.height, 240);
      assert.equal(body.meta.fps, 25);
      assert.ok(Math.abs(body.meta.original.duration - 2) < 0.2, `duration ${body.meta.original.duration}`);
      assert.equal(body.meta.small.width, 320);
      assert.ok(body.preview_url != null && body.preview_url !== body.url, "a still preview");
      const preview = await fetchBytes(body.preview_url);
      assert.equal(preview.status, 200);
      assert.equal((await sharp(preview.bytes).metadata()).width, 320);
      assert.ok(typeof body.blurhash === "string" && body.blurhash.length > 5);
      const file = await fetchBytes(body.url);
      assert.deepEqual(file.bytes, mp4, "kept as uploaded");
    });

    test("an HEVC MOV is converted to H.264 MP4: 202, then 200 with the converted file", { skip: hevc ? false : "this ffmpeg has no HEVC encoder (libx265)" }, async () => {
      const mov = make("phone.mov", ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "1", "-c:v", "libx265", "-tag:v", "hvc1", "-pix_fmt", "yuv420p"]);
      const { done } = await uploadConverted(mov, "phone.mov", "video/quicktime");
      assert.equal(done.type, "video");
      assert.match(done.url, /\/original\.mp4$/);
      assert.equal(done.meta.original.width, 320);
      assert.equal(done.meta.fps, 30);
      assert.ok(done.preview_url != null);
      const file = await fetchBytes(done.url);
      assert.equal(file.type, "video/mp4");
      const codec = execFileSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "-"], { input: file.bytes }).toString().trim();
      assert.equal(codec, "h264");
    });

    test("an animated GIF becomes a silent looping MP4 of type gifv", async () => {
      const gif = make("loop.gif", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1"]);
      const { done } = await uploadConverted(gif, "loop.gif", "image/gif");
      assert.equal(done.type, "gifv");
      assert.match(done.url, /\/original\.mp4$/);
      assert.equal(done.meta.original.width, 64);
      assert.equal(done.meta.original.height, 48);
      assert.equal(done.meta.fps, 10);
      const file = await fetchBytes(done.url);
      const streams = execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", "-"], { input: file.bytes }).toString().trim();
      assert.equal(streams, "video", "no sound track");
      const preview = await fetchBytes(done.preview_url);
      assert.equal(preview.status, 200);
    });

    test("a WAV sound is converted to MP3 with its duration", async () => {
      const wav = make("tone.wav", ["-f", "lavfi", "-i", "sine=frequency=440:duration=1.5"]);
      const { done } = await uploadConverted(wav, "tone.wav", "audio/wav");
      assert.equal(done.type, "audio");
      assert.match(done.url, /\/original\.mp3$/);
      assert.ok(Math.abs(done.meta.original.duration - 1.5) < 0.2, `duration ${done.meta.original.duration}`);
      assert.equal((await fetchBytes(done.url)).type, "audio/mpeg");
    });

    test("a conversion a stop interrupted is resumed at start; leftovers are removed", async () => {
      const core = instance.islet.core;
      make("resume.wav", ["-f", "lavfi", "-i", "sine=frequency=220:duration=1"]);
      const dir = processingDir(core);
      mkdirSync(dir, { recursive: true });
      const id = newId();
      copyFileSync(join(work, "resume.wav"), join(dir, `${id}.audio.input`));
      const orphan = join(dir, `${newId()}.video.input`);
      copyFileSync(join(work, "resume.wav"), orphan);
      await core.db.insert(mediaAttachments).values({
        id, accountId: instance.owner!.account.id, type: "audio", contentType: "audio/mpeg", meta: { processing: { state: "pending" } },
      });
      const before = await api(instance, "GET", `/api/v1/media/${id}`, { token });
      assert.equal(before.status, 206);
      const early = await api(instance, "POST", "/api/v1/statuses", { token, body: { status: "too early", media_ids: [id.toString()] } });
      assert.equal(early.status, 422);
      assert.match(early.body.error, /not finished processing/);
      assert.equal(await resumeMediaProcessing(core), 1);
      assert.equal(existsSync(orphan), false, "an upload no attachment waits for is removed");
      await conversionOf(id);
      const after = await api(instance, "GET", `/api/v1/media/${id}`, { token });
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.match(after.body.url, /\/original\.mp3$/);
      assert.equal(after.body.meta.processing, undefined, "the processing state is not shown");
    });

    test("a corrupt video is a clear 422, and nothing is kept", async () => {
      const mp4 = make("good.mp4", ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
      // The container's first box, then noise: recognised as MP4, unreadable.
      const corrupt = Buffer.concat([mp4.subarray(0, 32), Buffer.alloc(4096, 0x5a)]);
      const response = await api(instance, "POST", "/api/v2/media", { token, body: upload(corrupt, "broken.mp4", "video/mp4") });
      assert.equal(response.status, 422, JSON.stringify(response.body));
      assert.match(response.body.error, /^Validation failed: File could not be processed/);
    });
  });
}
