/**
 * Reads what clients want to know about a video or audio file (duration,
 * frame size, frame rate) straight from its container: MP4/QuickTime boxes,
 * Matroska/WebM elements, Ogg pages, MP3 frames, WAV chunks and FLAC's
 * STREAMINFO. No decoding and no external program: only a bounded part of
 * the file is read, and a malformed file yields less information, never an
 * exception.
 */
import { open, type FileHandle } from "node:fs/promises";
import { id3Length, mp3FrameHeader, readVint, type AvFormat } from "./sniff.ts";

export interface AvInfo {
  /** "video" when the file holds a picture track, else "audio". */
  kind: "video" | "audio";
  /** Seconds. */
  duration?: number;
  width?: number;
  height?: number;
  /** Frames per second. */
  frameRate?: number;
  /** Bits per second over the whole file. */
  bitrate?: number;
}

/** The most of a file read into memory to find its header structures. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(Math.max(0, length));
  if (length <= 0) return buffer;
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fourcc(bytes: Uint8Array, at: number): string {
  return at + 4 <= bytes.length ? String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]) : "";
}

const positive = (value: number | undefined): number | undefined =>
  value != null && Number.isFinite(value) && value > 0 ? value : undefined;

// ---------------------------------------------------------------- MP4 / QuickTime

interface Box {
  type: string;
  /** Where the payload starts and ends, in the buffer. */
  start: number;
  end: number;
}

function* boxes(bytes: Uint8Array, start: number, end: number): Generator<Box> {
  const data = view(bytes);
  let at = start;
  while (at + 8 <= end) {
    let size = data.getUint32(at);
    const type = fourcc(bytes, at + 4);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = Number(data.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) return;
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

function child(bytes: Uint8Array, parent: Box, type: string): Box | undefined {
  for (const box of boxes(bytes, parent.start, parent.end)) if (box.type === type) return box;
  return undefined;
}

/** Timescale and duration from an `mvhd` or `mdhd` box. */
function timing(bytes: Uint8Array, box: Box): { timescale: number; duration: number } | null {
  const data = view(bytes);
  const version = bytes[box.start];
  const need = version === 1 ? 32 : 20;
  if (box.end - box.start < need) return null;
  const timescale = data.getUint32(box.start + (version === 1 ? 20 : 12));
  const duration = version === 1 ? Number(data.getBigUint64(box.start + 24)) : data.getUint32(box.start + 16);
  if (timescale === 0) return null;
  return { timescale, duration };
}

function parseMoov(bytes: Uint8Array, moov: Box): Omit<AvInfo, "bitrate"> {
  const data = view(bytes);
  const info: Omit<AvInfo, "bitrate"> = { kind: "audio" };
  const mvhd = child(bytes, moov, "mvhd");
  const movie = mvhd == null ? null : timing(bytes, mvhd);
  if (movie != null) info.duration = positive(movie.duration / movie.timescale);
  for (const trak of boxes(bytes, moov.start, moov.end)) {
    if (trak.type !== "trak") continue;
    const mdia = child(bytes, trak, "mdia");
    const hdlr = mdia == null ? undefined : child(bytes, mdia, "hdlr");
    const handler = hdlr == null ? "" : fourcc(bytes, hdlr.start + 8);
    if (handler !== "vide" || info.kind === "video") continue;
    info.kind = "video";
    const tkhd = child(bytes, trak, "tkhd");
    if (tkhd != null) {
      const v1 = bytes[tkhd.start] === 1;
      const matrixAt = tkhd.start + (v1 ? 52 : 40);
      const sizeAt = tkhd.start + (v1 ? 88 : 76);
      if (sizeAt + 8 <= tkhd.end) {
        let width = Math.round(data.getUint32(sizeAt) / 65536);
        let height = Math.round(data.getUint32(sizeAt + 4) / 65536);
        // A matrix with zero diagonal turns the picture a quarter: phones
        // record portrait video as landscape frames with such a matrix.
        if (data.getInt32(matrixAt) === 0 && data.getInt32(matrixAt + 16) === 0) [width, height] = [height, width];
        if (width > 0 && height > 0) {
          info.width = width;
          info.height = height;
        }
      }
    }
    const mdhd = mdia == null ? undefined : child(bytes, mdia, "mdhd");
    const media = mdhd == null ? null : timing(bytes, mdhd);
    const minf = mdia == null ? undefined : child(bytes, mdia, "minf");
    const stbl = minf == null ? undefined : child(bytes, minf, "stbl");
    const stts = stbl == null ? undefined : child(bytes, stbl, "stts");
    if (media != null && media.duration > 0 && stts != null && stts.start + 8 <= stts.end) {
      const entries = data.getUint32(stts.start + 4);
      let samples = 0;
      for (let i = 0, at = stts.start + 8; i < entries && at + 8 <= stts.end; i++, at += 8) samples += data.getUint32(at);
      info.frameRate = positive(samples / (media.duration / media.timescale));
    }
  }
  return info;
}

async function probeMp4(file: FileHandle, size: number): Promise<Omit<AvInfo, "bitrate">> {
  let at = 0;
  while (at + 8 <= size) {
    const header = await readAt(file, at, 16);
    if (header.length < 8) break;
    const data = view(header);
    let boxSize = data.getUint32(0);
    const type = fourcc(header, 4);
    let headerLength = 8;
    if (boxSize === 1) {
      if (header.length < 16) break;
      boxSize = Number(data.getBigUint64(8));
      headerLength = 16;
    } else if (boxSize === 0) {
      boxSize = size - at;
    }
    if (boxSize < headerLength) break;
    if (type === "moov") {
      const length = Math.min(boxSize, size - at, MAX_HEADER_BYTES);
      const bytes = await readAt(file, at, length);
      return parseMoov(bytes, { type, start: headerLength, end: bytes.length });
    }
    at += boxSize;
  }
  return { kind: "video" };
}

// ---------------------------------------------------------------- Matroska / WebM

const EBML = {
  segment: 0x18538067,
  info: 0x1549a966,
  timecodeScale: 0x2ad7b1,
  duration: 0x4489,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackType: 0x83,
  defaultDuration: 0x23e383,
  video: 0xe0,
  pixelWidth: 0xb0,
  pixelHeight: 0xba,
  displayWidth: 0x54b0,
  displayHeight: 0x54ba,
  cluster: 0x1f43b675,
} as const;

interface Element {
  id: number;
  start: number;
  end: number;
}

function* elements(bytes: Uint8Array, start: number, end: number): Generator<Element> {
  let at = start;
  while (at < end) {
    const id = readVint(bytes, at, true);
    if (id == null) return;
    const length = readVint(bytes, at + id.length, false);
    if (length == null) return;
    const dataAt = at + id.length + length.length;
    const dataEnd = length.unknown ? end : Math.min(end, dataAt + length.value);
    yield { id: id.value, start: dataAt, end: dataEnd };
    if (length.unknown) return;
    at = dataAt + length.value;
  }
}

function unsigned(bytes: Uint8Array, element: Element): number {
  let value = 0;
  for (let i = element.start; i < element.end && i < element.start + 8; i++) value = value * 256 + bytes[i];
  return value;
}

function float(bytes: Uint8Array, element: Element): number | undefined {
  const length = element.end - element.start;
  if (length === 4) return view(bytes).getFloat32(element.start);
  if (length === 8) return view(bytes).getFloat64(element.start);
  return undefined;
}

async function probeMatroska(file: FileHandle, size: number): Promise<Omit<AvInfo, "bitrate">> {
  const bytes = await readAt(file, 0, Math.min(size, 2 * 1024 * 1024));
  const info: Omit<AvInfo, "bitrate"> = { kind: "audio" };
  let scale = 1_000_000;
  let rawDuration: number | undefined;
  let sawTracks = false;
  for (const top of elements(bytes, 0, bytes.length)) {
    if (top.id !== EBML.segment) continue;
    for (const section of elements(bytes, top.start, top.end)) {
      if (section.id === EBML.cluster) break;
      if (section.id === EBML.info) {
        for (const item of elements(bytes, section.start, section.end)) {
          if (item.id === EBML.timecodeScale) scale = unsigned(bytes, item) || scale;
          if (item.id === EBML.duration) rawDuration = float(bytes, item);
        }
      }
      if (section.id === EBML.tracks) {
        sawTracks = true;
        for (const entry of elements(bytes, section.start, section.end)) {
          if (entry.id !== EBML.trackEntry) continue;
          let type = 0;
          let frameNs = 0;
          let width = 0, height = 0, displayWidth = 0, displayHeight = 0;
          for (const item of elements(bytes, entry.start, entry.end)) {
            if (item.id === EBML.trackType) type = unsigned(bytes, item);
            if (item.id === EBML.defaultDuration) frameNs = unsigned(bytes, item);
            if (item.id === EBML.video) {
              for (const field of elements(bytes, item.start, item.end)) {
                if (field.id === EBML.pixelWidth) width = unsigned(bytes, field);
                if (field.id === EBML.pixelHeight) height = unsigned(bytes, field);
                if (field.id === EBML.displayWidth) displayWidth = unsigned(bytes, field);
                if (field.id === EBML.displayHeight) displayHeight = unsigned(bytes, field);
              }
            }
          }
          if (type !== 1 || info.kind === "video") continue;
          info.kind = "video";
          if (width > 0 && height > 0) {
            info.width = width;
            info.height = height;
            // Display size, when given in pixels with the same aspect, is
            // what a player shows; keep the coded size otherwise.
            if (displayWidth > 0 && displayHeight > 0 && Math.abs(displayWidth / displayHeight - width / height) < 0.01) {
              info.width = displayWidth;
              info.height = displayHeight;
            }
          }
          if (frameNs > 0) info.frameRate = positive(1e9 / frameNs);
        }
      }
    }
    break;
  }
  if (!sawTracks) info.kind = "video";
  if (rawDuration != null) info.duration = positive((rawDuration * scale) / 1e9);
  return info;
}

// ---------------------------------------------------------------- Ogg

async function probeOgg(file: FileHandle, size: number): Promise<Omit<AvInfo, "bitrate">> {
  const head = await readAt(file, 0, Math.min(size, 4096));
  const info: Omit<AvInfo, "bitrate"> = { kind: "audio" };
  if (fourcc(head, 0) !== "OggS" || head.length < 28) return info;
  const segments = head[26];
  const packetAt = 27 + segments;
  const data = view(head);
  const serial = data.getUint32(14, true);
  let rate = 0;
  let preSkip = 0;
  const magic = String.fromCharCode(...head.subarray(packetAt, Math.min(head.length, packetAt + 8)));
  if (magic.startsWith("\x01vorbis") && packetAt + 16 <= head.length) {
    rate = data.getUint32(packetAt + 12, true);
  } else if (magic === "OpusHead" && packetAt + 12 <= head.length) {
    rate = 48000;
    preSkip = data.getUint16(packetAt + 10, true);
  } else if (magic.startsWith("Speex") && packetAt + 40 <= head.length) {
    rate = data.getUint32(packetAt + 36, true);
  } else if (magic.startsWith("\x7fFLAC") && packetAt + 30 <= head.length) {
    const s = packetAt + 17 + 10;
    rate = (head[s] << 12) | (head[s + 1] << 4) | (head[s + 2] >> 4);
  } else if (magic.startsWith("\x80theora")) {
    info.kind = "video";
    return info;
  }
  if (rate <= 0) return info;
  // The last page of the stream carries the position of its last sample.
  const tailLength = Math.min(size, 65536);
  const tail = await readAt(file, size - tailLength, tailLength);
  const tailData = view(tail);
  for (let at = tail.length - 27; at >= 0; at--) {
    if (tail[at] !== 0x4f || fourcc(tail, at) !== "OggS") continue;
    if (tailData.getUint32(at + 14, true) !== serial) continue;
    const granule = Number(tailData.getBigInt64(at + 6, true));
    if (granule > 0) {
      info.duration = positive((granule - preSkip) / rate);
      break;
    }
  }
  return info;
}

// ---------------------------------------------------------------- MP3, WAV, FLAC

async function probeMp3(file: FileHandle, size: number): Promise<Omit<AvInfo, "bitrate">> {
  const info: Omit<AvInfo, "bitrate"> = { kind: "audio" };
  const tagHead = await readAt(file, 0, 10);
  const start = id3Length(tagHead);
  const bytes = await readAt(file, start, Math.min(8192, Math.max(0, size - start)));
  for (let at = 0; at + 4 <= bytes.length; at++) {
    if (bytes[at] !== 0xff) continue;
    const frame = mp3FrameHeader(bytes, at);
    if (frame == null) continue;
    const next = mp3FrameHeader(bytes, at + frame.frameLength);
    if (next == null && at + frame.frameLength + 4 <= bytes.length) continue;
    const sideInfo = frame.version === 1 ? (frame.channels === 1 ? 17 : 32) : frame.channels === 1 ? 9 : 17;
    const xingAt = at + 4 + sideInfo;
    const data = view(bytes);
    const tag = fourcc(bytes, xingAt);
    let frames = 0;
    if ((tag === "Xing" || tag === "Info") && xingAt + 12 <= bytes.length && (data.getUint32(xingAt + 4) & 1) === 1) {
      frames = data.getUint32(xingAt + 8);
    } else if (fourcc(bytes, at + 36) === "VBRI" && at + 36 + 18 <= bytes.length) {
      frames = data.getUint32(at + 36 + 14);
    }
    info.duration = frames > 0
      ? positive((frames * frame.samplesPerFrame) / frame.sampleRate)
      : positive(((size - start - at) * 8) / (frame.bitrateKbps * 1000));
    break;
  }
  return info;
}

async function probeWav(file: FileHandle, size: number): Promise<Omit<AvInfo, "bitrate">> {
  const info: Omit<AvInfo, "bitrate"> = { kind: "audio" };
  const bytes = await readAt(file, 0, Math.min(size, 65536));
  const data = view(bytes);
  let byteRate = 0;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const length = data.getUint32(at + 4, true);
    if (id === "fmt " && at + 16 <= bytes.length) byteRate = data.getUint32(at + 16, true);
    if (id === "data") {
      const available = Math.min(length, size - at - 8);
      if (byteRate > 0) info.duration = positive(available / byteRate);
      break;
    }
    at += 8 + length + (length % 2);
  }
  return info;
}

async function probeFlac(file: FileHandle): Promise<Omit<AvInfo, "bitrate">> {
  const info: Omit<AvInfo, "bitrate"> = { kind: "audio" };
  const bytes = await readAt(file, 0, 42);
  if (bytes.length < 26 || (bytes[4] & 0x7f) !== 0) return info;
  const s = 8 + 10;
  const rate = (bytes[s] << 12) | (bytes[s + 1] << 4) | (bytes[s + 2] >> 4);
  const total = (bytes[s + 3] & 0x0f) * 2 ** 32 + view(bytes).getUint32(s + 4);
  if (rate > 0 && total > 0) info.duration = positive(total / rate);
  return info;
}

/** What can be told about the video or audio file at `path` without decoding it. */
export async function probeAv(path: string, format: AvFormat): Promise<AvInfo> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    let info: Omit<AvInfo, "bitrate">;
    try {
      switch (format) {
        case "mp4":
        case "mov":
        case "m4a":
          info = await probeMp4(file, size);
          break;
        case "webm":
        case "mkv":
          info = await probeMatroska(file, size);
          break;
        case "ogg":
          info = await probeOgg(file, size);
          break;
        case "mp3":
          info = await probeMp3(file, size);
          break;
        case "wav":
          info = await probeWav(file, size);
          break;
        case "flac":
          info = await probeFlac(file);
          break;
      }
    } catch (error) {
      // A RangeError from a truncated structure: say what the name says.
      if (!(error instanceof RangeError)) throw error;
      info = { kind: format === "mp4" || format === "mov" || format === "webm" || format === "mkv" ? "video" : "audio" };
    }
    const result: AvInfo = { ...info };
    if (info.duration != null) result.bitrate = Math.round((size * 8) / info.duration);
    return result;
  } finally {
    await file.close();
  }
}
