/**
 * Time-sortable 64-bit IDs, as Mastodon makes them: milliseconds since the
 * Unix epoch in the high bits, a per-millisecond sequence in the low 16.
 * They travel as strings in the API and sort by creation time.
 */
let lastMillis = 0;
let sequence = 0;

/** A new ID for something created at `at` (default now). */
export function newId(at: Date | number = Date.now()): bigint {
  const millis = typeof at === "number" ? at : at.getTime();
  if (millis === lastMillis) {
    sequence = (sequence + 1) & 0xffff;
  } else {
    lastMillis = millis;
    // Start at a random point so that IDs made in two processes in the same
    // millisecond rarely collide.
    sequence = Math.floor(Math.random() * 0x8000);
  }
  return (BigInt(millis) << 16n) | BigInt(sequence);
}

/** The time an ID was made at. */
export function idTime(id: bigint): Date {
  return new Date(Number(id >> 16n));
}

/** Parses an ID from the API; null when it is not one. */
export function parseId(value: string | undefined | null): bigint | null {
  if (value == null || !/^\d{1,19}$/.test(value)) return null;
  const id = BigInt(value);
  return id <= 0x7fffffffffffffffn ? id : null;
}
