/**
 * JSON-LD contexts: the ones real servers use come from a preloaded set;
 * any other is fetched only when remote contexts are allowed (never while
 * an incoming request's signature is unverified), once however many
 * activities ask at the same time, within a size cap and a deadline, and
 * then kept for a day.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { preloadedContexts, type DocumentLoader, type RemoteDocument } from "@fedify/vocab-runtime";

/**
 * Pleroma and Akkoma publish their context at `/schemas/litepub-0.1.jsonld`
 * on every instance: the same terms everywhere, so it is known in advance
 * rather than fetched from each server.
 */
const LITEPUB_PATH = "/schemas/litepub-0.1.jsonld";

const litepubTerms = {
  litepub: "http://litepub.social/ns#",
  toot: "http://joinmastodon.org/ns#",
  schema: "http://schema.org#",
  ostatus: "http://ostatus.org#",
  Emoji: "toot:Emoji",
  Hashtag: "as:Hashtag",
  PropertyValue: "schema:PropertyValue",
  value: "schema:value",
  EmojiReact: "litepub:EmojiReact",
  ChatMessage: "litepub:ChatMessage",
  sensitive: "as:sensitive",
  manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
  quoteUrl: "as:quoteUrl",
  conversation: "ostatus:conversation",
  directMessage: "litepub:directMessage",
  listMessage: { "@id": "litepub:listMessage", "@type": "@id" },
  oauthRegistrationEndpoint: { "@id": "litepub:oauthRegistrationEndpoint", "@type": "@id" },
  capabilities: "litepub:capabilities",
  acceptsChatMessages: "litepub:acceptsChatMessages",
  invisible: "litepub:invisible",
  discoverable: "toot:discoverable",
  contentMap: { "@id": "as:content", "@container": "@language" },
};

const LITEPUB = {
  "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", litepubTerms],
};

/** Contexts known without fetching, beyond Fedify's set. */
const ISLET_CONTEXTS: Record<string, unknown> = {
  // The same vocabulary, named over http by a few servers.
  "http://www.w3.org/ns/activitystreams": preloadedContexts["https://www.w3.org/ns/activitystreams"],
  "https://www.w3.org/ns/activitystreams.jsonld": preloadedContexts["https://www.w3.org/ns/activitystreams"],
  "http://w3id.org/security/v1": preloadedContexts["https://w3id.org/security/v1"],
  "https://joinmastodon.org/ns": preloadedContexts["http://joinmastodon.org/ns"],
  "https://schema.org/": preloadedContexts["http://schema.org/"],
  "https://schema.org": preloadedContexts["http://schema.org/"],
  "http://schema.org": preloadedContexts["http://schema.org/"],
};

/** The preloaded context at `url`, if there is one. */
export function preloadedContext(url: string): unknown {
  if (Object.hasOwn(preloadedContexts, url)) return preloadedContexts[url];
  if (Object.hasOwn(ISLET_CONTEXTS, url)) return ISLET_CONTEXTS[url];
  try {
    const parsed = new URL(url);
    if (parsed.pathname === LITEPUB_PATH && parsed.search === "") return LITEPUB;
  } catch {
    // Not a URL: not preloaded.
  }
  return undefined;
}

/** The preloaded context as a loaded document, or null. */
function preloadedDocument(url: string): RemoteDocument | null {
  const document = preloadedContext(url);
  return document === undefined ? null : { contextUrl: null, documentUrl: url, document };
}

const remoteContexts = new AsyncLocalStorage<boolean>();

/**
 * Runs `work` with remote contexts allowed or not. Outside any such call
 * (lookups, the queue) they are allowed: only what an unverified request
 * triggers runs with them refused.
 */
export function withRemoteContexts<T>(allowed: boolean, work: () => Promise<T>): Promise<T> {
  return remoteContexts.run(allowed, work);
}

/** Whether remote contexts may be fetched here. */
export function remoteContextsAllowed(): boolean {
  return remoteContexts.getStore() ?? true;
}

/**
 * A loader of preloaded contexts only. Any other context reads as empty:
 * enough to read a key document (its terms come from the preloaded
 * security context), and nothing is fetched.
 */
export const preloadedContextLoader: DocumentLoader = async (url) =>
  preloadedDocument(url) ?? { contextUrl: null, documentUrl: url, document: { "@context": {} } };

interface Cached {
  document: RemoteDocument | null;
  error: unknown;
  expiresAt: number;
}

export interface ContextLoaderOptions {
  /** Downloads one context (the guarded fetcher with its caps). */
  fetch: DocumentLoader;
  /** How long a context is kept (default a day). */
  ttlMs?: number;
  /** How long a failure is remembered, so a bad context is not asked for again at once (default five minutes). */
  failureTtlMs?: number;
  /** Contexts kept at most (default 128). */
  maxEntries?: number;
}

/**
 * The context loader: preloaded contexts first; then, where remote contexts
 * are allowed, one shared download per URL, kept for `ttlMs`; where they
 * are not, an empty context.
 */
export function createContextLoader(options: ContextLoaderOptions): DocumentLoader {
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const failureTtlMs = options.failureTtlMs ?? 5 * 60 * 1000;
  const maxEntries = options.maxEntries ?? 128;
  const cache = new Map<string, Cached>();
  const inFlight = new Map<string, Promise<RemoteDocument>>();

  const remember = (url: string, entry: Cached) => {
    cache.delete(url);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest != null) cache.delete(oldest);
    }
    cache.set(url, entry);
  };

  return async (url) => {
    const preloaded = preloadedDocument(url);
    if (preloaded != null) return preloaded;
    if (!remoteContextsAllowed()) return await preloadedContextLoader(url);
    const cached = cache.get(url);
    if (cached != null && cached.expiresAt > Date.now()) {
      if (cached.document == null) throw cached.error;
      return cached.document;
    }
    const pending = inFlight.get(url);
    if (pending != null) return await pending;
    // Not tied to the first caller's signal: others may be waiting on it.
    const download = options.fetch(url).then(
      (document) => {
        remember(url, { document, error: null, expiresAt: Date.now() + ttlMs });
        return document;
      },
      (error: unknown) => {
        remember(url, { document: null, error, expiresAt: Date.now() + failureTtlMs });
        throw error;
      },
    );
    inFlight.set(url, download);
    try {
      return await download;
    } finally {
      inFlight.delete(url);
    }
  };
}
