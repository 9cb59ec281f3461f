/**
 * Recognises uploaded files by their first bytes ("magic numbers"), never by
 * their name or the type the client declared: an upload is only as trusted
 * as its content.
 */

export type ImageFormat = "jpeg" | "png" | "gif" | "webp" | "avif" | "heic";
export type AvFormat = "mp4" | "mov" | "m4a" | "webm" | "mkv" | "ogg" | "mp3" | "wav" | "flac";
export type MediaFormat = ImageFormat | AvFormat;

export interface Sniffed {
  format: MediaFormat;
  /** What the bytes look like; a video container may still turn out to hold only sound. */
  kind: "image" | "video" | "audio";
}

/** How many leading bytes {@link sniff} wants to see (it copes with fewer). */
export const SNIFF_BYTES = 4096;

/** The MIME type and file extension each format is stored and served with. */
export const FORMATS: Readonly<Record<MediaFormat, { contentType: string; ext: string }>> = {
  jpeg: { contentType: "image/jpeg", ext: "jpg" },
  png: { contentType: "image/png", ext: "png" },
  gif: { contentType: "image/gif", ext: "gif" },
  webp: { contentType: "image/webp", ext: "webp" },
  avif: { contentType: "image/avif", ext: "avif" },
  heic: { contentType: "image/heic", ext: "heic" },
  mp4: { contentType: "video/mp4", ext: "mp4" },
  mov: { contentType: "video/quicktime", ext: "mov" },
  m4a: { contentType: "audio/mp4", ext: "m4a" },
  webm: { contentType: "video/webm", ext: "webm" },
  mkv: { contentType: "video/x-matroska", ext: "mkv" },
  ogg: { contentType: "audio/ogg", ext: "ogg" },
  mp3: { contentType: "audio/mpeg", ext: "mp3" },
  wav: { contentType: "audio/wav", ext: "wav" },
  flac: { contentType: "audio/flac", ext: "flac" },
};

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (start + length > bytes.length) return "";
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((byte, i) => bytes[at + i] === byte);
}

const HEIC_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx"]);
const GENERIC_HEIF_BRANDS = new Set(["mif1", "msf1", "heif"]);
const AVIF_BRANDS = new Set(["avif", "avis"]);
const AUDIO_MP4_BRANDS = new Set(["M4A ", "M4B ", "M4P ", "F4A ", "F4B "]);
const VIDEO_MP4_BRAND = /^(iso[m2-9]|mp4[12]|avc1|dash|3gp[4-9]|3g2[a-c]|M4V[ HP]?|MSNV|XAVC|mmp4|f4v |NDAS|isml|piff)$/;

/** An ISO base media file (MP4, QuickTime, HEIF, AVIF), told apart by its `ftyp` brands. */
function sniffIsoBmff(bytes: Uint8Array): Sniffed | null {
  if (ascii(bytes, 4, 4) !== "ftyp") return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) return null;
  const boxSize = view.getUint32(0);
  if (boxSize < 16 || boxSize > 4096) return null;
  const major = ascii(bytes, 8, 4);
  const brands = [major];
  for (let at = 16; at + 4 <= Math.min(boxSize, bytes.length); at += 4) brands.push(ascii(bytes, at, 4));
  const has = (set: Set<string>) => brands.some((brand) => set.has(brand));
  if (AVIF_BRANDS.has(major)) return { format: "avif", kind: "image" };
  if (HEIC_BRANDS.has(major)) return { format: "heic", kind: "image" };
  if (GENERIC_HEIF_BRANDS.has(major)) {
    if (has(AVIF_BRANDS)) return { format: "avif", kind: "image" };
    return { format: "heic", kind: "image" };
  }
  if (major === "qt  ") return { format: "mov", kind: "video" };
  if (AUDIO_MP4_BRANDS.has(major)) return { format: "m4a", kind: "audio" };
  if (VIDEO_MP4_BRAND.test(major) || brands.some((brand) => VIDEO_MP4_BRAND.test(brand))) return { format: "mp4", kind: "video" };
  return null;
}

/** Reads an EBML variable-length integer; null when malformed. */
export function readVint(bytes: Uint8Array, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | null {
  if (at >= bytes.length) return null;
  const first = bytes[at];
  if (first === 0) return null;
  let length = 1;
  while ((first & (0x80 >> (length - 1))) === 0) length++;
  if (length > 8 || at + length > bytes.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = (first & (0xff >> length)) === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[at + i];
    if (bytes[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

/** Matroska or WebM: the EBML header names the document type. */
function sniffMatroska(bytes: Uint8Array): Sniffed | null {
  if (!startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return null;
  const size = readVint(bytes, 4, false);
  if (size == null) return null;
  const end = Math.min(bytes.length, 4 + size.length + size.value);
  let at = 4 + size.length;
  while (at < end) {
    const id = readVint(bytes, at, true);
    if (id == null) return null;
    const length = readVint(bytes, at + id.length, false);
    if (length == null) return null;
    const dataAt = at + id.length + length.length;
    if (id.value === 0x4282) {
      const docType = ascii(bytes, dataAt, Math.min(length.value, 16)).replace(/\0+$/, "");
      if (docType === "webm") return { format: "webm", kind: "video" };
      if (docType === "matroska") return { format: "mkv", kind: "video" };
      return null;
    }
    at = dataAt + length.value;
  }
  return null;
}

export interface Mp3FrameHeader {
  /** 1 for MPEG-1, 2 for MPEG-2, 2.5 for MPEG-2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  bitrateKbps: number;
  sampleRate: number;
  padding: boolean;
  channels: 1 | 2;
  frameLength: number;
  samplesPerFrame: number;
}

const BITRATES: Record<string, readonly number[]> = {
  "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-3": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<string, readonly number[]> = {
  "1": [44100, 48000, 32000],
  "2": [22050, 24000, 16000],
  "2.5": [11025, 12000, 8000],
};

/** Parses an MPEG audio frame header at `at`; null when there is none. */
export function mp3FrameHeader(bytes: Uint8Array, at: number): Mp3FrameHeader | null {
  if (at + 4 > bytes.length) return null;
  const b1 = bytes[at + 1], b2 = bytes[at + 2], b3 = bytes[at + 3];
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const bitrateKbps = BITRATES[`${version === 1 ? 1 : 2}-${layer}`][bitrateIndex];
  const sampleRate = SAMPLE_RATES[String(version)][rateIndex];
  const padding = ((b2 >> 1) & 1) === 1;
  const channels = (b3 >> 6) === 3 ? 1 : 2;
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && version !== 1 ? 576 : 1152;
  const frameLength = layer === 1
    ? (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0)) * 4
    : Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0);
  if (frameLength < 24) return null;
  return { version, layer, bitrateKbps, sampleRate, padding, channels, frameLength, samplesPerFrame };
}

/** The length of a leading ID3v2 tag, or 0. */
export function id3Length(bytes: Uint8Array): number {
  if (ascii(bytes, 0, 3) !== "ID3" || bytes.length < 10) return 0;
  const syncsafe = [bytes[6], bytes[7], bytes[8], bytes[9]];
  if (syncsafe.some((byte) => byte >= 0x80)) return 0;
  const size = (syncsafe[0] << 21) | (syncsafe[1] << 14) | (syncsafe[2] << 7) | syncsafe[3];
  const footer = (bytes[5] & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

function sniffMp3(bytes: Uint8Array): Sniffed | null {
  if (ascii(bytes, 0, 3) === "ID3" && id3Length(bytes) > 0) return { format: "mp3", kind: "audio" };
  // Without a tag, ask for two consecutive valid frame headers: one alone
  // is eleven set bits, too easy to meet by chance.
  const first = mp3FrameHeader(bytes, 0);
  if (first == null) return null;
  const second = mp3FrameHeader(bytes, first.frameLength);
  if (second == null && bytes.length > first.frameLength + 4) return null;
  if (second != null && (second.version !== first.version || second.layer !== first.layer)) return null;
  return { format: "mp3", kind: "audio" };
}

/** What `head` (the first bytes of a file) is, or null when it is nothing we take. */
export function sniff(head: Uint8Array): Sniffed | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { format: "jpeg", kind: "image" };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: "png", kind: "image" };
  const six = ascii(head, 0, 6);
  if (six === "GIF87a" || six === "GIF89a") return { format: "gif", kind: "image" };
  if (ascii(head, 0, 4) === "RIFF") {
    const form = ascii(head, 8, 4);
    if (form === "WEBP") return { format: "webp", kind: "image" };
    if (form === "WAVE") return { format: "wav", kind: "audio" };
    return null;
  }
  const iso = sniffIsoBmff(head);
  if (iso != null) return iso;
  const matroska = sniffMatroska(head);
  if (matroska != null) return matroska;
  if (ascii(head, 0, 4) === "OggS") return { format: "ogg", kind: "audio" };
  if (ascii(head, 0, 4) === "fLaC") return { format: "flac", kind: "audio" };
  return sniffMp3(head);
}
