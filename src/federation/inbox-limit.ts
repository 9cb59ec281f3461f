/**
 * What an inbox POST must pass before Fedify parses or verifies it: a body
 * of at most {@link MAX_INBOX_BODY_BYTES} (413 otherwise, read no further),
 * that is JSON nested at most {@link MAX_INBOX_NESTING} deep (400), and a
 * sender whose domain this server has not suspended (403, as Mastodon
 * answers a signature from a blocked domain; no key is fetched).
 */
import type { CoreContext } from "../core/context.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";

/** 1 MiB: the limit Mastodon puts on ActivityPub documents it reads. */
export const MAX_INBOX_BODY_BYTES = 1024 * 1024;

/**
 * Deeper nesting than any real activity has; JSON-LD processing of a
 * document nested thousands deep exhausts the stack.
 */
export const MAX_INBOX_NESTING = 64;

/** How deeply the arrays and objects of a JSON value nest. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item == null || typeof item !== "object") continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, level]);
  }
  return deepest;
}

const INBOX_PATH = /^\/(users\/[^/]+\/)?inbox\/?$/;

/** Whether a request is a POST to the shared inbox or an actor's inbox. */
export function isInboxPost(request: Request): boolean {
  return request.method === "POST" && INBOX_PATH.test(new URL(request.url).pathname);
}

function refusal(status: number, error: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { "Content-Type": "application/json", ...headers } });
}

/**
 * A body too large is answered before it is read to its end: the
 * connection cannot carry another request after it, and says so, so that
 * the client does not send its next one there.
 */
function tooLarge(): Response {
  return refusal(413, "Payload too large", { Connection: "close" });
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
  if (!isInboxPost(request)) return request;
  const declared = Number(request.headers.get("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) return tooLarge();
  const keyId = signatureKeyId(request.headers);
  if (keyId != null && (await isUrlSuspended(core, keyId))) return refusal(403, "This domain is blocked");
  const body = request.body == null ? new Uint8Array(new ArrayBuffer(0)) : await readLimited(request.body, limit);
  if (body == null) return tooLarge();
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return refusal(400, "The body is not JSON");
  }
  if (jsonDepth(parsed) > MAX_INBOX_NESTING) return refusal(400, "The activity is nested too deeply");
  // The actor named in the body, when it differs from the key's server.
  const named = parsed != null && typeof parsed === "object" ? (parsed as { actor?: unknown }).actor : null;
  const actor = typeof named === "string" ? named : typeof named === "object" && named != null ? (named as { id?: unknown }).id : null;
  if (typeof actor === "string" && (await isUrlSuspended(core, actor))) return refusal(403, "This domain is blocked");
  return new Request(request.url, { method: "POST", headers: request.headers, body });
}
