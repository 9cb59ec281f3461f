/**
 * What an inbox POST must pass before Fedify parses or verifies it: a body
 * of at most {@link MAX_INBOX_BODY_BYTES} (413 otherwise, read no further),
 * and a sender whose domain this server has not suspended (403, as
 * Mastodon answers a signature from a blocked domain; no key is fetched).
 */
import type { CoreContext } from "../core/context.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";

/** 1 MiB: the limit Mastodon puts on ActivityPub documents it reads. */
export const MAX_INBOX_BODY_BYTES = 1024 * 1024;

const INBOX_PATH = /^\/(users\/[^/]+\/)?inbox\/?$/;

function refusal(status: number, error: string): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { "Content-Type": "application/json" } });
}

/** The key IRI an HTTP signature names (draft-cavage `keyId`, RFC 9421 `keyid`). */
export function signatureKeyId(headers: Headers): string | null {
  const cavage = headers.get("Signature");
  const input = headers.get("Signature-Input");
  const match = (input != null ? /keyid="([^"]+)"/i.exec(input) : null) ?? (cavage != null ? /keyId="([^"]+)"/i.exec(cavage) : null);
  return match?.[1] ?? null;
}

/**
 * Reads a body up to `limit` bytes; null as soon as it is longer (the rest
 * is not read).
 */
async function readLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const whole = new Uint8Array(new ArrayBuffer(size));
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}

/**
 * Checks a request before federation handles it. Anything but a POST to an
 * inbox passes untouched. An inbox POST comes back with its body read (a
 * new Request to pass on), or as the Response to answer with.
 */
export async function guardInboxRequest(
  core: CoreContext,
  request: Request,
  limit = MAX_INBOX_BODY_BYTES,
): Promise<Request | Response> {
  if (request.method !== "POST" || !INBOX_PATH.test(new URL(request.url).pathname)) return request;
  const declared = Number(request.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) return refusal(413, "Payload too large");
  const keyId = signatureKeyId(request.headers);
  if (keyId != null && (await isUrlSuspended(core, keyId))) return refusal(403, "This domain is blocked");
  const body = request.body == null ? new Uint8Array(new ArrayBuffer(0)) : await readLimited(request.body, limit);
  if (body == null) return refusal(413, "Payload too large");
  // The actor named in the body, when it differs from the key's server.
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { actor?: unknown };
    const actor = typeof parsed.actor === "string"
      ? parsed.actor
      : typeof parsed.actor === "object" && parsed.actor != null ? (parsed.actor as { id?: unknown }).id : null;
    if (typeof actor === "string" && (await isUrlSuspended(core, actor))) return refusal(403, "This domain is blocked");
  } catch {
    // Not JSON: Fedify answers that.
  }
  return new Request(request.url, { method: "POST", headers: request.headers, body });
}
