/**
 * A push service on loopback, and the user agent behind a subscription: it
 * holds the subscription's private key and auth secret, records what Islet
 * posts, checks the VAPID signature (RFC 8292) and decrypts the message
 * itself from the RFCs (8291 with 8188's aes128gcm, or the older aesgcm
 * draft), so nothing of the sending side is trusted.
 */
import assert from "node:assert/strict";
import {
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  hkdfSync,
  randomBytes,
  verify,
  type ECDH,
} from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { closeHttpServer } from "../helpers/http-server.ts";

/** A scripted "status" that never answers. */
export const HANG = -1;

export interface PushRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The status answered. */
  status: number;
}

export interface UserAgentKeys {
  ecdh: ECDH;
  /** The public key, base64url (what `subscription[keys][p256dh]` carries). */
  p256dh: string;
  auth: Buffer;
}

export interface PushService {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** An endpoint URL on this service (a new path each call unless named). */
  endpoint(name?: string): string;
  requests: PushRequest[];
  /**
   * Statuses for the next requests to an endpoint URL, in order; then
   * `defaultStatus`. {@link HANG} holds the request unanswered.
   */
  script(endpoint: string, ...statuses: number[]): void;
  defaultStatus: number;
  close(): Promise<void>;
}

export async function startPushService(): Promise<PushService> {
  const scripts = new Map<string, number[]>();
  const held: ServerResponse[] = [];
  const service: PushService = {
    origin: "",
    endpoint: (name = randomBytes(8).toString("hex")) => `${service.origin}/push/${name}`,
    requests: [],
    script(endpoint, ...statuses) {
      const path = new URL(endpoint).pathname;
      scripts.set(path, [...(scripts.get(path) ?? []), ...statuses]);
    },
    defaultStatus: 201,
    async close() {
      await closeHttpServer(server, held);
    },
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const status = scripts.get(new URL(req.url ?? "/", service.origin).pathname)?.shift() ?? service.defaultStatus;
    service.requests.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks), status });
    if (status === HANG) held.push(res);
    else res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  service.origin = `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`;
  return service;
}

/** A fresh key pair and auth secret, as a browser makes them for a subscription. */
export function userAgentKeys(): UserAgentKeys {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { ecdh, p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16) };
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  assert.equal(typeof value, "string", `a ${name} header`);
  return value as string;
}

/** `a=1;b=2` (and `, `-separated) parameters of Crypto-Key / Encryption. */
function parameters(value: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const part of value.split(/[;,]/)) {
    const match = /^\s*([a-z0-9]+)=(.*?)\s*$/i.exec(part);
    if (match != null) result.set(match[1].toLowerCase(), match[2].replace(/^"|"$/g, ""));
  }
  return result;
}

/**
 * Checks a VAPID JWT: ES256 signed by `serverKey` (base64url point), for
 * this endpoint's origin, not expired nor valid for more than a day, with a
 * mailto: or https: subject. Returns the claims.
 */
export function verifyVapidJwt(jwt: string, serverKey: string, endpoint: string): { aud: string; exp: number; sub: string } {
  const parts = jwt.split(".");
  assert.equal(parts.length, 3, "a JWT has three parts");
  const [headerPart, claimsPart, signaturePart] = parts;
  const jwtHeader = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
  assert.equal(jwtHeader.alg, "ES256");
  const point = Buffer.from(serverKey, "base64url");
  assert.equal(point.length, 65);
  const key = createPublicKey({
    key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
    format: "jwk",
  });
  const signature = Buffer.from(signaturePart, "base64url");
  assert.equal(signature.length, 64, "an ES256 signature is r || s, 64 bytes");
  assert.ok(
    verify("sha256", Buffer.from(`${headerPart}.${claimsPart}`), { key, dsaEncoding: "ieee-p1363" }, signature),
    "the JWT is signed with the server's VAPID key",
  );
  const claims = JSON.parse(Buffer.from(claimsPart, "base64url").toString("utf8"));
  assert.equal(claims.aud, new URL(endpoint).origin, "aud is the push service's origin");
  const now = Math.floor(Date.now() / 1000);
  assert.ok(claims.exp > now && claims.exp <= now + 24 * 60 * 60, `exp within a day: ${claims.exp - now} s`);
  assert.match(claims.sub, /^(mailto:|https:)/);
  return claims;
}

/** RFC 8291 + RFC 8188: the plaintext of an aes128gcm body. */
export function decryptAes128gcm(body: Buffer, keys: UserAgentKeys): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20];
  const senderPublic = body.subarray(21, 21 + idLength);
  assert.equal(idLength, 65, "the key id is the sender's P-256 public key");
  const records = body.subarray(21 + idLength);
  assert.ok(records.length <= recordSize, "one record");

  const sharedSecret = keys.ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), keys.ecdh.getPublicKey(), senderPublic]);
  // HKDF with the auth secret as salt: the input keying material.
  const prkKey = createHmac("sha256", keys.auth).update(sharedSecret).digest();
  const ikm = createHmac("sha256", prkKey).update(Buffer.concat([keyInfo, Buffer.from([1])])).digest();
  // HKDF with the message's salt: the content key and nonce.
  const prk = createHmac("sha256", salt).update(ikm).digest();
  const cek = createHmac("sha256", prk).update(Buffer.from("Content-Encoding: aes128gcm\0\x01")).digest().subarray(0, 16);
  const nonce = createHmac("sha256", prk).update(Buffer.from("Content-Encoding: nonce\0\x01")).digest().subarray(0, 12);

  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 2, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  assert.equal(padded[end], 2, "the last record's delimiter");
  return padded.subarray(0, end);
}

function lengthPrefixed(key: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(key.length);
  return Buffer.concat([length, key]);
}

/** The older aesgcm draft (draft-ietf-webpush-encryption-04): salt and key in headers. */
export function decryptAesgcm(body: Buffer, headers: IncomingHttpHeaders, keys: UserAgentKeys): Buffer {
  const salt = Buffer.from(parameters(header(headers, "encryption")).get("salt") ?? "", "base64url");
  assert.equal(salt.length, 16, "a 16-byte salt");
  const senderPublic = Buffer.from(parameters(header(headers, "crypto-key")).get("dh") ?? "", "base64url");
  assert.equal(senderPublic.length, 65, "the sender's key in Crypto-Key dh=");
  const sharedSecret = keys.ecdh.computeSecret(senderPublic);
  const ikm = Buffer.from(hkdfSync("sha256", sharedSecret, keys.auth, Buffer.from("Content-Encoding: auth\0"), 32));
  const context = Buffer.concat([Buffer.from("P-256\0"), lengthPrefixed(keys.ecdh.getPublicKey()), lengthPrefixed(senderPublic)]);
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.concat([Buffer.from("Content-Encoding: aesgcm\0"), context]), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.concat([Buffer.from("Content-Encoding: nonce\0"), context]), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(body.subarray(body.length - 16));
  const padded = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
  const padding = padded.readUInt16BE(0);
  return padded.subarray(2 + padding);
}

export interface OpenedPush {
  /** The JSON text, as sent. */
  text: string;
  payload: Record<string, unknown>;
  /** `notification_id` with all its digits, read from the text. */
  notificationId: string;
  claims: { aud: string; exp: number; sub: string };
}

/**
 * Checks a received push request as a push service and a browser would:
 * headers, the VAPID signature against `serverKey`, and the encrypted body
 * (aes128gcm when `standard`, aesgcm otherwise). Returns the payload.
 */
export function openPush(request: PushRequest, keys: UserAgentKeys, serverKey: string, endpoint: string, standard: boolean): OpenedPush {
  const { headers } = request;
  assert.ok(Number(header(headers, "ttl")) > 0, "a TTL");
  assert.match(header(headers, "urgency"), /^(very-low|low|normal|high)$/);
  assert.equal(header(headers, "content-type"), "application/octet-stream");
  let plaintext: Buffer;
  let claims: OpenedPush["claims"];
  if (standard) {
    assert.equal(header(headers, "content-encoding"), "aes128gcm");
    const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header(headers, "authorization"));
    assert.ok(match != null, `a "vapid t=…, k=…" Authorization: ${headers.authorization}`);
    assert.equal(match[2], serverKey, "k= is the server's public key");
    claims = verifyVapidJwt(match[1], serverKey, endpoint);
    plaintext = decryptAes128gcm(request.body, keys);
  } else {
    assert.equal(header(headers, "content-encoding"), "aesgcm");
    const match = /^WebPush (\S+)$/.exec(header(headers, "authorization"));
    assert.ok(match != null, `a "WebPush …" Authorization: ${headers.authorization}`);
    assert.equal(parameters(header(headers, "crypto-key")).get("p256ecdsa"), serverKey, "p256ecdsa= is the server's public key");
    claims = verifyVapidJwt(match[1], serverKey, endpoint);
    plaintext = decryptAesgcm(request.body, headers, keys);
  }
  const text = plaintext.toString("utf8");
  const idMatch = /"notification_id":(\d+)/.exec(text);
  assert.ok(idMatch != null, `notification_id is a number: ${text}`);
  return { text, payload: JSON.parse(text), notificationId: idMatch[1], claims };
}
