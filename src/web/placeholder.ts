/**
 * Plain PNG images made in memory: the default avatar, header and instance
 * thumbnail that clients expect at a URL even when none was uploaded.
 */
import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A `width`×`height` PNG of one RGB colour. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(pixels)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

let cache: Record<string, Buffer> | undefined;

/** The placeholder images by path. */
export function placeholders(): Record<string, Buffer> {
  cache ??= {
    "/avatars/original/missing.png": solidPng(120, 120, [0x8c, 0x8d, 0xff]),
    "/headers/original/missing.png": solidPng(300, 100, [0x28, 0x2c, 0x37]),
    "/instance/thumbnail.png": solidPng(400, 210, [0x28, 0x2c, 0x37]),
  };
  return cache;
}
