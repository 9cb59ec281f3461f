/**
 * A short-lived cache of the documents other servers fetch most: the
 * owner's actor and WebFinger answers. Building the actor means JSON-LD
 * compaction and key encoding on every request, several milliseconds of
 * CPU; the answer changes only when the profile does.
 */

interface Entry {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
  expiresAt: number;
}

const CACHEABLE = /^\/(\.well-known\/webfinger|users\/[^/]+)$/;

export class DocumentCache {
  #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: { ttlMs?: number; maxEntries?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 256;
  }

  /** The cache key of a request, or null when it must not be cached. */
  keyOf(request: Request): string | null {
    if (request.method !== "GET" && request.method !== "HEAD") return null;
    const url = new URL(request.url);
    if (!CACHEABLE.test(url.pathname)) return null;
    const accept = request.headers.get("Accept") ?? "";
    return `${request.method} ${url.pathname}${url.search} ${accept}`;
  }

  get(key: string): Response | null {
    const entry = this.#entries.get(key);
    if (entry == null) return null;
    if (entry.expiresAt < Date.now()) {
      this.#entries.delete(key);
      return null;
    }
    return new Response(entry.body.byteLength === 0 ? null : entry.body.slice(0), { status: entry.status, headers: entry.headers });
  }

  /** Keeps a successful answer; returns a response to send in its place. */
  async put(key: string, response: Response): Promise<Response> {
    if (response.status !== 200) return response;
    const body = await response.arrayBuffer();
    const headers = [...response.headers.entries()];
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest != null) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { status: response.status, headers, body, expiresAt: Date.now() + this.#ttlMs });
    return new Response(body.slice(0), { status: response.status, headers });
  }

  clear(): void {
    this.#entries.clear();
  }
}
