/**
 * Image processing with sharp (libvips): check, orient, strip, resize,
 * re-encode, and make the small preview and the blurhash.
 *
 * Every image is decoded and encoded anew, so nothing of the upload's
 * metadata survives: no EXIF (GPS position, camera serial), no XMP, no
 * comments; colours are converted to sRGB. The EXIF orientation is applied
 * to the pixels first. Dimensions are read from the header before anything
 * is decoded, and sharp is told the same pixel limit, so a "decompression
 * bomb" (a small file claiming a huge picture) is refused at once with
 * bounded memory.
 *
 * Formats: JPEG, PNG, WebP and GIF keep their format; AVIF (and HEIC, when
 * this build of libvips can decode it: the prebuilt sharp cannot, so HEIC is
 * refused) becomes JPEG, or WebP when it has transparency. Animated GIF and
 * WebP stay animated images of type "image": Mastodon turns GIFs into MP4
 * "gifv" with ffmpeg, which Islet does without; a "gifv" whose URL is a GIF
 * would not play in clients that show gifv in a <video> element.
 */
import { open, stat } from "node:fs/promises";
import { encode as encodeBlurhash } from "blurhash";
import sharp, { type Metadata, type Sharp } from "sharp";
import { INVALID_CONTENT_TYPE, MediaError, tooLargeMessage } from "./errors.ts";
import { ANIMATION_MAX_PIXELS, MEDIA_LIMITS, ORIGINAL_MAX_PIXELS, PREVIEW_MAX_SIDE } from "./limits.ts";
import { FORMATS, sniff, SNIFF_BYTES, type ImageFormat } from "./sniff.ts";

// Uploads are processed once; libvips' operation cache would only hold memory.
sharp.cache(false);

/** What an image becomes: a media attachment, a profile picture or banner, or a custom preview. */
export type ImageKind = "attachment" | "avatar" | "header" | "thumbnail";

export type OutputFormat = "jpeg" | "png" | "webp" | "gif";

export interface EncodedImage {
  data: Buffer;
  format: OutputFormat;
  contentType: string;
  ext: string;
  width: number;
  height: number;
}

export interface ProcessedImage {
  /** The file to keep: oriented, stripped, scaled as the kind wants. */
  original: EncodedImage;
  /** A still preview within 640x640 (for avatars and headers: a still of the same size). */
  preview: EncodedImage;
  /** BlurHash of the picture, 4x4 components. */
  blurhash: string;
  /** The upload's own size, after orientation. */
  source: { width: number; height: number; format: ImageFormat };
  animated: boolean;
}

/** Longest a single sharp pipeline may run. */
const TIMEOUT_SECONDS = 60;

const SHARP_FORMAT: Record<ImageFormat, string> = {
  jpeg: "jpeg",
  png: "png",
  gif: "gif",
  webp: "webp",
  avif: "heif",
  heic: "heif",
};

/** The first {@link SNIFF_BYTES} of a file (by path) or of bytes in memory, for sniffing. */
export async function headOf(input: string | Uint8Array): Promise<Uint8Array> {
  if (typeof input !== "string") return input.subarray(0, SNIFF_BYTES);
  const file = await open(input, "r");
  try {
    const buffer = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await file.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function encoded(data: Buffer, format: OutputFormat, width: number, height: number): EncodedImage {
  return { data, format, contentType: FORMATS[format].contentType, ext: FORMATS[format].ext, width, height };
}

function encode(pipeline: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case "jpeg":
      return pipeline.jpeg({ quality, progressive: true });
    case "png":
      return pipeline.png({ compressionLevel: 6 });
    case "webp":
      return pipeline.webp({ quality });
    case "gif":
      return pipeline.gif();
  }
}

/** The size `kind` wants an oriented `width`x`height` picture at, and whether to crop to it. */
function targetSize(kind: ImageKind, width: number, height: number): { width: number; height: number; crop: boolean } {
  switch (kind) {
    case "attachment": {
      const pixels = width * height;
      if (pixels <= ORIGINAL_MAX_PIXELS) return { width, height, crop: false };
      const scale = Math.sqrt(ORIGINAL_MAX_PIXELS / pixels);
      return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)), crop: false };
    }
    case "avatar": {
      const side = Math.min(400, width, height);
      return { width: side, height: side, crop: true };
    }
    case "header": {
      // 1500x500, or the largest 3:1 box the picture holds, centred.
      const factor = Math.min(1, width / 1500, height / 500);
      return { width: Math.max(1, Math.round(1500 * factor)), height: Math.max(1, Math.round(500 * factor)), crop: true };
    }
    case "thumbnail": {
      const scale = Math.min(1, PREVIEW_MAX_SIDE / width, PREVIEW_MAX_SIDE / height);
      return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), crop: false };
    }
  }
}

function outputFormat(source: ImageFormat, hasAlpha: boolean): OutputFormat {
  if (source === "avif" || source === "heic") return hasAlpha ? "webp" : "jpeg";
  return source;
}

/** A BlurHash of an encoded picture, computed on a copy of at most 32x32. */
export async function blurhashOf(image: Buffer): Promise<string> {
  const { data, info } = await sharp(image)
    .resize(32, 32, { fit: "inside" })
    .ensureAlpha()
    .raw()
    .timeout({ seconds: TIMEOUT_SECONDS })
    .toBuffer({ resolveWithObject: true });
  return encodeBlurhash(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, 4, 4);
}

/** Reads the header only; refuses what is not an image we take, or too many pixels. */
export async function inspectImage(input: string | Uint8Array): Promise<{ format: ImageFormat; metadata: Metadata; animated: boolean; width: number; height: number }> {
  const size = typeof input === "string" ? (await stat(input)).size : input.byteLength;
  if (size > MEDIA_LIMITS.imageSizeLimit) throw new MediaError(tooLargeMessage(MEDIA_LIMITS.imageSizeLimit));
  const sniffed = sniff(await headOf(input));
  if (sniffed == null || sniffed.kind !== "image") throw new MediaError(INVALID_CONTENT_TYPE);
  const format = sniffed.format as ImageFormat;
  let metadata: Metadata;
  try {
    metadata = await sharp(typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength), { limitInputPixels: false }).metadata();
  } catch {
    throw new MediaError(INVALID_CONTENT_TYPE);
  }
  if (metadata.format !== SHARP_FORMAT[format]) throw new MediaError(INVALID_CONTENT_TYPE);
  const width = metadata.width ?? 0;
  const frameHeight = metadata.pageHeight ?? metadata.height ?? 0;
  if (width <= 0 || frameHeight <= 0) throw new MediaError(INVALID_CONTENT_TYPE);
  if (width * frameHeight > MEDIA_LIMITS.imageMatrixLimit) {
    throw new MediaError(`File dimensions ${width}x${frameHeight} are not supported (at most ${MEDIA_LIMITS.imageMatrixLimit} pixels)`);
  }
  const pages = metadata.pages ?? 1;
  const animated = pages > 1 && (format === "gif" || format === "webp");
  if (animated && width * frameHeight * pages > ANIMATION_MAX_PIXELS) {
    throw new MediaError(`File animation of ${pages} frames of ${width}x${frameHeight} is too large`);
  }
  const oriented = metadata.autoOrient ?? { width, height: frameHeight };
  return { format, metadata, animated, width: animated ? width : oriented.width, height: animated ? frameHeight : oriented.height };
}

/**
 * Checks and processes an uploaded image (a file path or the bytes). Throws
 * a {@link MediaError} (422) for anything that is not a JPEG, PNG, GIF,
 * WebP or AVIF picture within the limits, or that cannot be decoded.
 */
export async function processImage(input: string | Uint8Array, kind: ImageKind): Promise<ProcessedImage> {
  const { format, metadata, animated: sourceAnimated, width, height } = await inspectImage(input);
  // A custom preview is a still picture.
  const animated = sourceAnimated && kind !== "thumbnail";
  const pixelLimit = animated ? ANIMATION_MAX_PIXELS : MEDIA_LIMITS.imageMatrixLimit;
  const source = typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const load = () => sharp(source, { limitInputPixels: pixelLimit, animated, failOn: "error" }).timeout({ seconds: TIMEOUT_SECONDS });

  try {
    const target = targetSize(kind, width, height);
    const format_ = outputFormat(format, metadata.hasAlpha);
    let pipeline = load().autoOrient();
    if (target.width !== width || target.height !== height) {
      pipeline = pipeline.resize(target.width, target.height, target.crop ? { fit: "cover", position: "centre" } : { fit: "fill" });
    }
    const quality = kind === "thumbnail" ? 85 : 90;
    const { data, info } = await encode(pipeline, format_, quality).toBuffer({ resolveWithObject: true });
    const outHeight = animated ? (info.pageHeight ?? info.height) : info.height;
    const original = encoded(data, format_, info.width, outHeight);

    // The preview: the first frame, within 640x640 for attachments; for
    // profile pictures, a still of the same size (or the picture itself).
    let preview: EncodedImage;
    if (kind === "attachment") {
      const still = await sharp(data, { limitInputPixels: pixelLimit })
        .resize(PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE, { fit: "inside", withoutEnlargement: true })
        .webp({ quality: 80 })
        .timeout({ seconds: TIMEOUT_SECONDS })
        .toBuffer({ resolveWithObject: true });
      preview = encoded(still.data, "webp", still.info.width, still.info.height);
    } else if (animated) {
      const still = await sharp(data, { limitInputPixels: pixelLimit }).webp({ quality: 90 }).timeout({ seconds: TIMEOUT_SECONDS }).toBuffer({ resolveWithObject: true });
      preview = encoded(still.data, "webp", still.info.width, still.info.height);
    } else {
      preview = original;
    }
    const blurhash = await blurhashOf(preview.data);
    return { original, preview, blurhash, source: { width, height, format }, animated };
  } catch (error) {
    if (error instanceof MediaError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/pixel limit/i.test(message)) throw new MediaError("File dimensions are not supported");
    if (format === "heic") throw new MediaError("File HEIC images are not supported; please upload JPEG, PNG, WebP or AVIF");
    throw new MediaError("File could not be processed as an image");
  }
}
