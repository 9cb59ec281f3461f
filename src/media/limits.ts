/**
 * Size and dimension limits for uploaded media. They are the numbers
 * Mastodon uses, and the ones `/api/v1/instance` and `/api/v2/instance`
 * advertise to clients (a test checks the two stay equal).
 */
import { sniff } from "./sniff.ts";

export const MEDIA_LIMITS = {
  /** Largest image upload, in bytes. */
  imageSizeLimit: 16 * 1024 * 1024,
  /** Most pixels an uploaded image may have (7680x4320); larger is refused before decoding. */
  imageMatrixLimit: 33_177_600,
  /** Largest video or audio upload, in bytes. */
  videoSizeLimit: 99 * 1024 * 1024,
  /** Highest video frame rate accepted, when the file tells it. */
  videoFrameRateLimit: 120,
  /** Most pixels a video frame may have (3840x2160). */
  videoMatrixLimit: 8_294_400,
  /** Longest image description, in characters. */
  descriptionLimit: 1500,
} as const;

/**
 * Stored originals are scaled down to at most this many pixels (3840x2160
 * worth), as Mastodon does: uploads up to {@link MEDIA_LIMITS.imageMatrixLimit}
 * are accepted, but nobody needs a 33-megapixel file in a timeline.
 */
export const ORIGINAL_MAX_PIXELS = 8_294_400;

/** The small preview fits inside this box. */
export const PREVIEW_MAX_SIDE = 640;

/**
 * An animated image's frames together may have at most this many pixels;
 * libvips decodes them as one tall strip.
 */
export const ANIMATION_MAX_PIXELS = 4 * MEDIA_LIMITS.imageMatrixLimit;

/** The size limit for an upload whose first bytes are `head`: images have the smaller one. */
export function uploadSizeLimit(head: Uint8Array): number {
  return sniff(head)?.kind === "image" ? MEDIA_LIMITS.imageSizeLimit : MEDIA_LIMITS.videoSizeLimit;
}
