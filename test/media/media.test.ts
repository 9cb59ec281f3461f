/**
 * The media layer without HTTP: recognising files by their bytes, reading
 * video and audio containers, processing images with sharp (orientation,
 * metadata stripping, bombs, sizes per kind) and the files on disk
 * (permissions, keys that cannot leave the media root).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import sharp from "sharp";
import { MEDIA_LIMITS, ORIGINAL_MAX_PIXELS, uploadSizeLimit } from "../../src/media/limits.ts";
import { LIMITS } from "../../src/api/instance.ts";
import { MediaError } from "../../src/media/errors.ts";
import { probeAv } from "../../src/media/probe.ts";
import { processImage } from "../../src/media/processing.ts";
import { sniff } from "../../src/media/sniff.ts";
import { cleanUploadTmp, deleteMediaFiles, idPath, isValidKey, keyPath, mediaRoot, storeImage, uploadTmpDir } from "../../src/media/storage.ts";
import { animatedGif, flac, jpegWithExif, mp3, mp4, oggOpus, picture, pngBomb, wav, webm } from "./fixtures.ts";

const work = mkdtempSync(join(tmpdir(), "islet-media-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

function tempFile(name: string, bytes: Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

describe("limits", () => {
  test("the limits enforced are the ones the instance advertises", () => {
    assert.equal(MEDIA_LIMITS.imageSizeLimit, LIMITS.imageSizeLimit);
    assert.equal(MEDIA_LIMITS.imageMatrixLimit, LIMITS.imageMatrixLimit);
    assert.equal(MEDIA_LIMITS.videoSizeLimit, LIMITS.videoSizeLimit);
    assert.equal(MEDIA_LIMITS.videoMatrixLimit, LIMITS.videoMatrixLimit);
    assert.equal(MEDIA_LIMITS.videoFrameRateLimit, LIMITS.videoFrameRateLimit);
  });

  test("images get the image size limit, everything else the video one", async () => {
    assert.equal(uploadSizeLimit(await picture("png", 2, 2)), MEDIA_LIMITS.imageSizeLimit);
    assert.equal(uploadSizeLimit(mp4()), MEDIA_LIMITS.videoSizeLimit);
    assert.equal(uploadSizeLimit(new Uint8Array()), MEDIA_LIMITS.videoSizeLimit);
  });
});

describe("sniffing", () => {
  test("recognises images by their bytes", async () => {
    assert.deepEqual(sniff(await picture("png", 4, 4)), { format: "png", kind: "image" });
    assert.deepEqual(sniff(await picture("jpeg", 4, 4)), { format: "jpeg", kind: "image" });
    assert.deepEqual(sniff(await picture("webp", 4, 4)), { format: "webp", kind: "image" });
    assert.deepEqual(sniff(await picture("gif", 4, 4)), { format: "gif", kind: "image" });
    assert.deepEqual(sniff(await picture("avif", 16, 16)), { format: "avif", kind: "image" });
  });

  test("recognises video and audio containers", () => {
    assert.deepEqual(sniff(mp4()), { format: "mp4", kind: "video" });
    assert.deepEqual(sniff(mp4({ brand: "qt  " })), { format: "mov", kind: "video" });
    assert.deepEqual(sniff(mp4({ brand: "M4A " })), { format: "m4a", kind: "audio" });
    assert.deepEqual(sniff(webm()), { format: "webm", kind: "video" });
    assert.deepEqual(sniff(webm({ docType: "matroska" })), { format: "mkv", kind: "video" });
    assert.deepEqual(sniff(wav()), { format: "wav", kind: "audio" });
    assert.deepEqual(sniff(flac()), { format: "flac", kind: "audio" });
    assert.deepEqual(sniff(oggOpus()), { format: "ogg", kind: "audio" });
    assert.deepEqual(sniff(mp3(10)), { format: "mp3", kind: "audio" });
    assert.deepEqual(sniff(mp3(10, { id3: true })), { format: "mp3", kind: "audio" });
  });

  test("refuses what is none of these, whatever it is called", () => {
    for (const text of ["hello, this is not a picture", "<svg xmlns='http://www.w3.org/2000/svg'/>", "%PDF-1.7\n", "<html><script>alert(1)</script>", "RIFF\0\0\0\0AVI LIST"]) {
      assert.equal(sniff(Buffer.from(text)), null, text);
    }
    assert.equal(sniff(new Uint8Array()), null);
    // A lone frame-sync pattern followed by garbage is not MP3.
    const fake = Buffer.alloc(2000, 0x41);
    fake.set([0xff, 0xfb, 0x90, 0x00]);
    assert.equal(sniff(fake), null);
    // TIFF, BMP and ICO are images sharp could read, but not ones clients show.
    assert.equal(sniff(Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0])), null);
    assert.equal(sniff(Buffer.from("BM\0\0\0\0\0\0\0\0")), null);
  });
});

describe("probing video and audio", () => {
  test("MP4: duration, frame size, frame rate, bitrate", async () => {
    const bytes = mp4({ width: 640, height: 360, seconds: 5, fps: 30 });
    const info = await probeAv(tempFile("a.mp4", bytes), "mp4");
    assert.equal(info.kind, "video");
    assert.equal(info.duration, 5);
    assert.equal(info.width, 640);
    assert.equal(info.height, 360);
    assert.ok(Math.abs((info.frameRate ?? 0) - 30) < 0.01, `frame rate ${info.frameRate}`);
    assert.equal(info.bitrate, Math.round((bytes.length * 8) / 5));
  });

  test("MP4: a portrait phone video (rotation matrix) reports its shown size", async () => {
    const info = await probeAv(tempFile("b.mp4", mp4({ width: 1280, height: 720, rotated: true })), "mp4");
    assert.equal(info.width, 720);
    assert.equal(info.height, 1280);
  });

  test("MP4: moov after mdat, and sound only", async () => {
    const late = await probeAv(tempFile("c.mp4", mp4({ moovFirst: false, seconds: 7 })), "mp4");
    assert.equal(late.duration, 7);
    const sound = await probeAv(tempFile("d.mp4", mp4({ video: false })), "mp4");
    assert.equal(sound.kind, "audio");
    assert.equal(sound.width, undefined);
  });

  test("WebM: duration, frame size, frame rate; sound-only WebM is audio", async () => {
    const info = await probeAv(tempFile("a.webm", webm({ width: 320, height: 240, seconds: 4, fps: 25 })), "webm");
    assert.equal(info.kind, "video");
    assert.equal(info.duration, 4);
    assert.equal(info.width, 320);
    assert.equal(info.height, 240);
    assert.ok(Math.abs((info.frameRate ?? 0) - 25) < 0.01);
    const sound = await probeAv(tempFile("b.webm", webm({ video: false })), "webm");
    assert.equal(sound.kind, "audio");
  });

  test("audio durations: WAV, FLAC, Ogg Opus, MP3", async () => {
    assert.equal((await probeAv(tempFile("a.wav", wav(2)), "wav")).duration, 2);
    assert.equal((await probeAv(tempFile("a.flac", flac(3)), "flac")).duration, 3);
    assert.equal((await probeAv(tempFile("a.ogg", oggOpus(3)), "ogg")).duration, 3);
    const mp3Duration = (await probeAv(tempFile("a.mp3", mp3(100, { id3: true })), "mp3")).duration ?? 0;
    assert.ok(Math.abs(mp3Duration - (100 * 1152) / 44100) < 0.05, `mp3 duration ${mp3Duration}`);
  });

  test("truncated or garbled containers give less information, not an error", async () => {
    const cut = mp4().subarray(0, 60);
    const info = await probeAv(tempFile("cut.mp4", cut), "mp4");
    assert.equal(info.duration, undefined);
    const garbled = Buffer.from(webm());
    garbled.fill(0xff, 40);
    await probeAv(tempFile("garbled.webm", garbled), "webm");
    await probeAv(tempFile("empty.ogg", Buffer.from("OggS")), "ogg");
    await probeAv(tempFile("empty.wav", Buffer.from("RIFF\0\0\0\0WAVEdata")), "wav");
  });
});

describe("image processing", () => {
  test("PNG, JPEG and WebP keep their format and size, with a 640x640 WebP preview and a blurhash", async () => {
    for (const format of ["png", "jpeg", "webp"] as const) {
      const result = await processImage(await picture(format, 1000, 500), "attachment");
      assert.equal(result.original.format, format);
      assert.equal(result.original.width, 1000);
      assert.equal(result.original.height, 500);
      const stored = await sharp(result.original.data).metadata();
      assert.equal(stored.format, format);
      assert.equal(result.preview.format, "webp");
      assert.equal(result.preview.width, 640);
      assert.equal(result.preview.height, 320);
      assert.match(result.blurhash, /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{36}$/);
    }
  });

  test("a small picture is not enlarged for its preview", async () => {
    const result = await processImage(await picture("png", 50, 30), "attachment");
    assert.equal(result.preview.width, 50);
    assert.equal(result.preview.height, 30);
  });

  test("EXIF orientation is applied and every bit of metadata is dropped", async () => {
    const input = await jpegWithExif(300, 200);
    const before = await sharp(input).metadata();
    assert.equal(before.orientation, 6);
    assert.ok(before.exif != null && before.exif.includes(Buffer.from("SECRET-OWNER")), "the fixture carries EXIF");

    const result = await processImage(input, "attachment");
    assert.equal(result.original.width, 200);
    assert.equal(result.original.height, 300);
    const after = await sharp(result.original.data).metadata();
    assert.equal(after.orientation, undefined);
    assert.equal(after.exif, undefined);
    assert.equal(after.xmp, undefined);
    assert.equal(after.iptc, undefined);
    for (const secret of ["SECRET-OWNER", "IsletTestCam", "SerialX123", "Exif\0\0"]) {
      assert.equal(result.original.data.includes(Buffer.from(secret)), false, `${secret} is gone`);
      assert.equal(result.preview.data.includes(Buffer.from(secret)), false, `${secret} is gone from the preview`);
    }
    // Turned a quarter clockwise: the red left half is now on top.
    const { data, info } = await sharp(result.original.data).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    const top = pixel(100, 20);
    const bottom = pixel(100, 280);
    assert.ok(top[0] > 200 && top[2] < 60, `top is red: ${top}`);
    assert.ok(bottom[2] > 200 && bottom[0] < 60, `bottom is blue: ${bottom}`);
  });

  test("a decompression bomb is refused from its header", async () => {
    const bomb = await pngBomb(20000, 20000);
    assert.ok(bomb.length < 200);
    await assert.rejects(processImage(bomb, "attachment"), (error: unknown) => {
      assert.ok(error instanceof MediaError);
      assert.match(error.message, /20000x20000/);
      return true;
    });
    // Just over the limit is refused too; the limit itself is accepted by the check.
    await assert.rejects(processImage(await pngBomb(7681, 4320), "attachment"), MediaError);
  });

  test("a huge picture within the limit is scaled down to 3840x2160 worth of pixels", async () => {
    const result = await processImage(await picture("png", 4500, 2000), "attachment");
    assert.ok(result.original.width * result.original.height <= ORIGINAL_MAX_PIXELS);
    assert.ok(result.original.width >= 4300, `width ${result.original.width}`);
    assert.ok(Math.abs(result.original.width / result.original.height - 2.25) < 0.01);
  });

  test("not an image, an SVG, or a lying header: 422 content type", async () => {
    for (const bytes of [Buffer.from("just text"), Buffer.from("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>"), mp4()]) {
      await assert.rejects(processImage(bytes, "attachment"), (error: unknown) => {
        assert.ok(error instanceof MediaError);
        assert.equal(error.message, "File content type is invalid");
        return true;
      });
    }
    // Over the image size limit, even as bytes in hand.
    const big = Buffer.concat([await picture("png", 4, 4), Buffer.alloc(MEDIA_LIMITS.imageSizeLimit)]);
    await assert.rejects(processImage(big, "avatar"), /File file size must be less than 16 MB/);
    // PNG magic, then garbage.
    const broken = Buffer.concat([(await picture("png", 10, 10)).subarray(0, 8), Buffer.alloc(200, 7)]);
    await assert.rejects(processImage(broken, "attachment"), MediaError);
    // A truncated JPEG.
    const jpeg = await picture("jpeg", 200, 200);
    await assert.rejects(processImage(jpeg.subarray(0, 300), "attachment"), MediaError);
  });

  test("AVIF becomes JPEG; an animated GIF stays an animated GIF", async () => {
    const avif = await processImage(await picture("avif", 64, 48), "attachment");
    assert.equal(avif.original.format, "jpeg");
    assert.equal(avif.original.contentType, "image/jpeg");

    const gif = await processImage(await animatedGif(40, 30, 3), "attachment");
    assert.equal(gif.animated, true);
    assert.equal(gif.original.format, "gif");
    const meta = await sharp(gif.original.data).metadata();
    assert.equal(meta.pages, 3);
    assert.equal(gif.original.width, 40);
    assert.equal(gif.original.height, 30);
    assert.equal((await sharp(gif.preview.data).metadata()).pages ?? 1, 1);
  });

  test("avatars are cropped square to at most 400, headers to at most 1500x500", async () => {
    const avatar = await processImage(await picture("png", 1000, 600), "avatar");
    assert.deepEqual([avatar.original.width, avatar.original.height], [400, 400]);
    const smallAvatar = await processImage(await picture("png", 120, 90), "avatar");
    assert.deepEqual([smallAvatar.original.width, smallAvatar.original.height], [90, 90]);
    const header = await processImage(await picture("jpeg", 3000, 2000), "header");
    assert.deepEqual([header.original.width, header.original.height], [1500, 500]);
    const smallHeader = await processImage(await picture("jpeg", 600, 600), "header");
    assert.deepEqual([smallHeader.original.width, smallHeader.original.height], [600, 200]);
  });
});

describe("storage", () => {
  const config = { dataDir: join(work, "data") };

  test("keys stay inside the media root", () => {
    assert.ok(keyPath(config, "media_attachments/000/117/341/1/original.png")?.startsWith(mediaRoot(config)));
    for (const key of ["../secret_key_base", "a/../../b", "..", ".", "a/./b", ".tmp/x", "a//b", "/etc/passwd", "a\\..\\b", "a%2f..", "%2e%2e/x", "a/b\0", "", "a/.hidden", "a/b..c/..d"]) {
      assert.equal(keyPath(config, key), null, key);
      assert.equal(isValidKey(key), false, key);
    }
  });

  test("ID paths spread files over folders", () => {
    assert.equal(idPath(117341123456789012n), "011/734/112/117341123456789012");
    assert.equal(idPath(5n), "000/000/000/5");
  });

  test("storeImage writes owner-only files and folders; deleting removes them and their empty folders", async () => {
    const stored = await storeImage({ config }, await picture("png", 800, 800), "avatar", { id: 42n });
    assert.equal(stored.key, "accounts/avatars/000/000/000/42/original.png");
    assert.equal(stored.previewKey, stored.key, "a still avatar is its own static version");
    assert.equal(stored.contentType, "image/png");
    assert.deepEqual(stored.meta.original, { width: 400, height: 400, size: "400x400", aspect: 1 });
    const path = keyPath(config, stored.key)!;
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
    assert.equal(statSync(join(mediaRoot(config), "accounts")).mode & 0o777, 0o700);
    assert.equal(statSync(path).size, stored.size);

    const animated = await storeImage({ config }, await animatedGif(), "header");
    assert.notEqual(animated.previewKey, animated.key);
    assert.match(animated.previewKey, /\/static\.webp$/);

    await deleteMediaFiles(config, [stored.key, stored.previewKey, null]);
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(join(path, "..")), false, "the empty folder is gone");
    assert.equal(existsSync(join(mediaRoot(config), "accounts")), true, "the top folder stays");
  });

  test("stale upload leftovers are cleaned", async () => {
    const dir = uploadTmpDir(config);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "old.upload"), "x");
    writeFileSync(join(dir, "new.upload"), "x");
    const past = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(join(dir, "old.upload"), past, past);
    assert.equal(await cleanUploadTmp(config), 1);
    assert.equal(existsSync(join(dir, "old.upload")), false);
    assert.equal(existsSync(join(dir, "new.upload")), true);
  });
});
