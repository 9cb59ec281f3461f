/**
 * The address a request came from: the socket's peer, or, when that peer is
 * a reverse proxy listed in TRUSTED_PROXY_IP, the address the proxy saw
 * (the nearest untrusted hop of X-Forwarded-For). Used for rate limits, for
 * recording where a sign-in came from, and in the mail about a newly
 * authorized app.
 *
 * The client's address is the only thing Islet takes from a proxy. Scheme
 * and host are never read from the request (nor from X-Forwarded-Proto or
 * X-Forwarded-Host): URLs, redirects and the cookies' Secure attribute
 * follow the configured origin (config.origin), so a proxy that reaches
 * Islet over plain HTTP or passes another Host changes nothing.
 */
import { isIP } from "node:net";
import type { Context } from "hono";

/** An IP address as a number, with its family. IPv4-mapped IPv6 counts as IPv4. */
export interface ParsedIp {
  version: 4 | 6;
  value: bigint;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const byte = Number(part);
    if (byte > 255) return null;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  let rest = text;
  // An embedded IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
  let tail: bigint | null = null;
  const lastColon = rest.lastIndexOf(":");
  if (rest.includes(".", lastColon)) {
    tail = parseIpv4(rest.slice(lastColon + 1));
    if (tail == null) return null;
    rest = `${rest.slice(0, lastColon + 1)}0:0`;
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groupsOf(halves[0]);
  const back = halves.length === 2 ? groupsOf(halves[1]) : [];
  const missing = 8 - head.length - back.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...back];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  if (tail != null) value = (value & ~0xffffffffn) | tail;
  return value;
}

/** Parses an IPv4 or IPv6 address (brackets and a zone id are allowed); null when it is none. */
export function parseIp(text: string): ParsedIp | null {
  let address = text.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  const version = isIP(address);
  if (version === 4) {
    const value = parseIpv4(address);
    return value == null ? null : { version: 4, value };
  }
  if (version === 6) {
    const value = parseIpv6(address);
    if (value == null) return null;
    if (value >> 32n === 0xffffn) return { version: 4, value: value & 0xffffffffn };
    return { version: 6, value };
  }
  return null;
}

/** The canonical text of an address: IPv4 dotted, IPv6 compressed lower case. */
export function formatIp(ip: ParsedIp): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  }
  const groups = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  // Compress the longest run of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/**
 * Whether `address` lies in `range`: an address (exact match) or a CIDR block
 * such as `10.0.0.0/8` or `fd00::/8`. IPv4-mapped IPv6 addresses match
 * IPv4 ranges. A malformed range matches nothing.
 */
export function ipInRange(address: string | ParsedIp, range: string): boolean {
  const ip = typeof address === "string" ? parseIp(address) : address;
  if (ip == null) return false;
  const [base, prefixText, ...extra] = range.trim().split("/");
  if (extra.length > 0) return false;
  const network = parseIp(base);
  if (network == null) return false;
  // A range written as a mapped address (`::ffff:10.0.0.0/104`) is an IPv4 range.
  const bits = network.version === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText != null) {
    if (!/^\d{1,3}$/.test(prefixText)) return false;
    prefix = Number(prefixText);
    const written6 = isIP(base.replace(/^\[|\]$/g, "").split("%")[0]) === 6;
    if (written6 && network.version === 4) prefix -= 96;
    if (prefix < 0 || prefix > bits) return false;
  }
  if (ip.version !== network.version) return false;
  const shift = BigInt(bits - prefix);
  return ip.value >> shift === network.value >> shift;
}

/** Whether `address` is one of the trusted proxies (addresses or CIDR blocks). */
export function isTrustedProxy(address: string | ParsedIp, trusted: readonly string[]): boolean {
  return trusted.some((range) => ipInRange(address, range));
}

/** Strips a port from one X-Forwarded-For entry (`192.0.2.1:8080`, `[2001:db8::1]:443`). */
function hopAddress(hop: string): ParsedIp | null {
  const text = hop.trim().replace(/^"|"$/g, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed != null) return parseIp(bracketed[1]);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  if (withPort != null) return parseIp(withPort[1]);
  return parseIp(text);
}

/**
 * The client's address from the socket peer and the X-Forwarded-For header.
 * The header is believed only when the peer is a trusted proxy; then hops
 * are read from the right (nearest first), skipping trusted proxies, and the
 * first other one is the client. If every hop is a trusted proxy, the
 * farthest is. A malformed hop ends the walk at the last trusted address.
 */
export function resolveClientIp(remoteAddress: string | null | undefined, forwardedFor: string | null | undefined, trusted: readonly string[]): string | null {
  if (remoteAddress == null) return null;
  const remote = parseIp(remoteAddress);
  if (remote == null) return remoteAddress;
  if (forwardedFor == null || forwardedFor.trim() === "" || !isTrustedProxy(remote, trusted)) return formatIp(remote);
  const hops = forwardedFor.split(",");
  let current = remote;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]);
    if (hop == null) return formatIp(current);
    current = hop;
    if (!isTrustedProxy(hop, trusted)) return formatIp(hop);
  }
  return formatIp(current);
}

interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/** The client's address for a request served by @hono/node-server; null when unknown (no socket). */
export function clientIp(c: Context, trustedProxyIps: readonly string[]): string | null {
  const env = c.env as NodeBindings | undefined;
  const remote = env?.incoming?.socket?.remoteAddress ?? null;
  return resolveClientIp(remote, c.req.header("X-Forwarded-For"), trustedProxyIps);
}

/**
 * The key to count attempts under: the address itself for IPv4, its /64
 * network for IPv6 (one subscriber usually holds a whole /64).
 */
export function rateLimitKey(address: string | null): string {
  if (address == null) return "unknown";
  const ip = parseIp(address);
  if (ip == null) return address;
  if (ip.version === 4) return formatIp(ip);
  return `${formatIp({ version: 6, value: (ip.value >> 64n) << 64n })}/64`;
}
