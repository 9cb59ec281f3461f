/**
 * Small media files built byte by byte for tests: just enough container
 * structure (MP4 boxes, Matroska elements, Ogg pages, MP3 frames, WAV
 * chunks, FLAC STREAMINFO) for sniffing and probing, and the PNG "bomb"
 * whose header claims far more pixels than it holds.
 */
import { crc32 } from "node:zlib";
import sharp from "sharp";

const u8 = (...values: number[]) => Buffer.from(values);
function u16be(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}
function u32be(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}
function u32le(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}
function u16le(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}

// ------------------------------------------------------------------ MP4

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u32be(body.length + 8), Buffer.from(type, "latin1"), body]);
}

const IDENTITY = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
const QUARTER_TURN = [0, 0x00010000, 0, 0xffff0000, 0, 0, 0, 0, 0x40000000];

function matrix(values: number[]): Buffer {
  return Buffer.concat(values.map(u32be));
}

function track(handler: "vide" | "soun", options: { width: number; height: number; rotated: boolean; frames: number; seconds: number }): Buffer {
  const timescale = 600;
  const tkhd = box(
    "tkhd",
    u32be(0x00000003), u32be(0), u32be(0), u32be(handler === "vide" ? 1 : 2), u32be(0), u32be(options.seconds * 1000),
    Buffer.alloc(8), u16be(0), u16be(0), u16be(handler === "soun" ? 0x0100 : 0), u16be(0),
    matrix(options.rotated ? QUARTER_TURN : IDENTITY),
    u32be(handler === "vide" ? options.width * 65536 : 0), u32be(handler === "vide" ? options.height * 65536 : 0),
  );
  const mdhd = box("mdhd", u32be(0), u32be(0), u32be(0), u32be(timescale), u32be(options.seconds * timescale), u16be(0x55c4), u16be(0));
  const hdlr = box("hdlr", u32be(0), u32be(0), Buffer.from(handler, "latin1"), Buffer.alloc(12), u8(0));
  const delta = Math.round((options.seconds * timescale) / options.frames);
  const stts = box("stts", u32be(0), u32be(1), u32be(options.frames), u32be(delta));
  const minf = box("minf", box("stbl", stts));
  return box("trak", tkhd, box("mdia", mdhd, hdlr, minf));
}

/** An MP4 (or QuickTime with `brand: "qt  "`) whose moov describes the given tracks; the media data is filler. */
export function mp4(options: {
  brand?: string;
  width?: number;
  height?: number;
  seconds?: number;
  fps?: number;
  rotated?: boolean;
  video?: boolean;
  audio?: boolean;
  moovFirst?: boolean;
} = {}): Buffer {
  const { brand = "isom", width = 640, height = 360, seconds = 5, fps = 30, rotated = false, video = true, audio = true } = options;
  const ftyp = box("ftyp", Buffer.from(brand, "latin1"), u32be(0x200), Buffer.from("isomiso2avc1mp41", "latin1"));
  const mvhd = box(
    "mvhd",
    u32be(0), u32be(0), u32be(0), u32be(1000), u32be(seconds * 1000), u32be(0x00010000), u16be(0x0100), Buffer.alloc(10),
    matrix(IDENTITY), Buffer.alloc(24), u32be(3),
  );
  const tracks: Buffer[] = [];
  if (video) tracks.push(track("vide", { width, height, rotated, frames: fps * seconds, seconds }));
  if (audio) tracks.push(track("soun", { width: 0, height: 0, rotated: false, frames: 43 * seconds, seconds }));
  const moov = box("moov", mvhd, ...tracks);
  const mdat = box("mdat", Buffer.alloc(2048, 0x11));
  return options.moovFirst === false ? Buffer.concat([ftyp, mdat, moov]) : Buffer.concat([ftyp, moov, mdat]);
}

// ------------------------------------------------------------------ Matroska / WebM

function ebmlSize(length: number): Buffer {
  if (length < 0x7f) return u8(0x80 | length);
  const b = Buffer.alloc(8);
  b[0] = 0x01;
  b.writeUIntBE(length, 2, 6);
  return b;
}

function element(id: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const idBytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) idBytes.unshift(v & 0xff);
  return Buffer.concat([Buffer.from(idBytes), ebmlSize(body.length), body]);
}

function uint(value: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(value, 0, bytes);
  return b;
}

function float64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(value);
  return b;
}

/** A WebM (or Matroska) with one video track (unless `video: false`) and a cluster of filler. */
export function webm(options: { docType?: string; width?: number; height?: number; seconds?: number; fps?: number; video?: boolean } = {}): Buffer {
  const { docType = "webm", width = 640, height = 360, seconds = 4, fps = 25, video = true } = options;
  const header = element(0x1a45dfa3, element(0x4286, u8(1)), element(0x4282, Buffer.from(docType, "latin1")));
  const info = element(0x1549a966, element(0x2ad7b1, uint(1_000_000, 3)), element(0x4489, float64(seconds * 1000)));
  const entries: Buffer[] = [];
  if (video) {
    entries.push(element(
      0xae,
      element(0xd7, u8(1)),
      element(0x83, u8(1)),
      element(0x23e383, uint(Math.round(1e9 / fps), 4)),
      element(0xe0, element(0xb0, uint(width, 2)), element(0xba, uint(height, 2))),
    ));
  }
  entries.push(element(0xae, element(0xd7, u8(2)), element(0x83, u8(2))));
  const tracks = element(0x1654ae6b, ...entries);
  const cluster = element(0x1f43b675, element(0xe7, u8(0)), Buffer.alloc(1024, 0x22));
  return Buffer.concat([header, element(0x18538067, info, tracks, cluster)]);
}

// ------------------------------------------------------------------ Audio

/** A mono 16-bit PCM WAV of `seconds` of silence at 8 kHz. */
export function wav(seconds = 2): Buffer {
  const rate = 8000;
  const data = Buffer.alloc(rate * 2 * seconds);
  const fmt = Buffer.concat([u16le(1), u16le(1), u32le(rate), u32le(rate * 2), u16le(2), u16le(16)]);
  const body = Buffer.concat([Buffer.from("WAVE"), Buffer.from("fmt "), u32le(fmt.length), fmt, Buffer.from("data"), u32le(data.length), data]);
  return Buffer.concat([Buffer.from("RIFF"), u32le(body.length), body]);
}

/** A FLAC stream header saying `seconds` at 44.1 kHz, followed by filler. */
export function flac(seconds = 3): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0);
  info.writeUInt16BE(4096, 2);
  const packed = (44100n << 44n) | (1n << 41n) | (15n << 36n) | BigInt(44100 * seconds);
  info.writeBigUInt64BE(packed, 10);
  return Buffer.concat([Buffer.from("fLaC"), u8(0x80, 0, 0, 34), info, Buffer.alloc(512, 0x33)]);
}

/** `frames` MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz (417 bytes each), after an ID3v2 tag if asked. */
export function mp3(frames = 100, options: { id3?: boolean } = {}): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  const parts: Buffer[] = [];
  if (options.id3) {
    const tag = Buffer.alloc(10 + 100);
    tag.write("ID3", 0, "latin1");
    tag.set([4, 0, 0, 0, 0, 0, 100], 3);
    parts.push(tag);
  }
  for (let i = 0; i < frames; i++) parts.push(frame);
  return Buffer.concat(parts);
}

function oggPage(headerType: number, granule: bigint, sequence: number, packet: Buffer): Buffer {
  const header = Buffer.alloc(27);
  header.write("OggS", 0, "latin1");
  header[5] = headerType;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(1234, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = 1;
  return Buffer.concat([header, u8(packet.length), packet]);
}

/** An Ogg Opus stream `seconds` long: an OpusHead page and a last page with the final granule position. */
export function oggOpus(seconds = 3): Buffer {
  const preSkip = 312;
  const head = Buffer.concat([Buffer.from("OpusHead"), u8(1, 2), u16le(preSkip), u32le(48000), u16le(0), u8(0)]);
  return Buffer.concat([
    oggPage(2, 0n, 0, head),
    oggPage(0, 0n, 1, Buffer.concat([Buffer.from("OpusTags"), Buffer.alloc(8)])),
    oggPage(4, BigInt(preSkip + 48000 * seconds), 2, Buffer.alloc(10, 0x44)),
  ]);
}

// ------------------------------------------------------------------ Images

/** A PNG whose header claims `width`x`height` pixels; it holds one. Metadata readers believe it. */
export async function pngBomb(width = 20000, height = 20000): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: "#000" } }).png().toBuffer());
  // IHDR data starts at 16: width, height; its CRC covers type and data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A solid picture with a gradient-free colour, in the given format. */
export async function picture(format: "png" | "jpeg" | "webp" | "gif" | "avif", width: number, height: number, colour = "#3a7"): Promise<Buffer> {
  return await sharp({ create: { width, height, channels: 3, background: colour } }).toFormat(format).toBuffer();
}

/** A JPEG carrying EXIF orientation 6 (turn a quarter clockwise), camera data and a GPS position. */
export async function jpegWithExif(width = 300, height = 200): Promise<Buffer> {
  // The left half red and the right half blue, to see the rotation.
  const left = await sharp({ create: { width: width / 2, height, channels: 3, background: "#f00" } }).png().toBuffer();
  return await sharp({ create: { width, height, channels: 3, background: "#00f" } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: "IsletTestCam", Model: "SerialX123", Copyright: "SECRET-OWNER" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 2400/100", GPSLongitudeRef: "E", GPSLongitude: "2/1 21/1 300/100" },
    })
    .toBuffer();
}

/** An animated GIF of `frames` frames of alternating colours. */
export async function animatedGif(width = 40, height = 30, frames = 3): Promise<Buffer> {
  const colours = ["#f00", "#0f0", "#00f"];
  const strips = await Promise.all(
    Array.from({ length: frames }, (_, i) => sharp({ create: { width, height, channels: 3, background: colours[i % 3] } }).png().toBuffer()),
  );
  return await sharp(strips, { join: { animated: true } }).gif().toBuffer();
}
