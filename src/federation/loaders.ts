/**
 * Fedify's document, context and signed document loaders, all fetching
 * through the guarded fetcher (src/net/fetcher.ts): the address rule on the
 * connected address, redirects checked, a body cap and a deadline. What
 * Fedify's own loaders do otherwise is kept: the Accept header and user
 * agent, `Link` and HTML alternate discovery (through Fedify's
 * getRemoteDocument), unsigned documents cached five minutes in the KV
 * store, signatures tried RFC 9421 first and draft-cavage on refusal.
 */
import { kvCache, signRequest, type KvStore } from "@fedify/fedify";
import {
  createActivityPubRequest,
  getRemoteDocument,
  type AuthenticatedDocumentLoaderFactory,
  type DocumentLoader,
  type DocumentLoaderFactory,
  type DocumentLoaderOptions,
  type RemoteDocument,
} from "@fedify/vocab-runtime";
import { guardedFetch, type FetchedResponse, type NetworkPolicy } from "../net/fetcher.ts";
import { createContextLoader } from "./contexts.ts";

/** 1 MiB: the most Mastodon reads of an ActivityPub document. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
/** 256 KiB: far more than any real context (schema.org's, the largest, is preloaded). */
export const MAX_CONTEXT_BYTES = 256 * 1024;
/** The longest one fetch (redirects and body included) may take. */
export const FETCH_TIMEOUT_MS = 15_000;

export interface LoaderSettings {
  policy: NetworkPolicy;
  userAgent: string;
  kv: KvStore;
  documentMaxBytes?: number;
  contextMaxBytes?: number;
  timeoutMs?: number;
}

export interface IsletLoaders {
  /** Fetches afresh, past the document cache: for a signer's key, which the key cache keeps. */
  keyLoader: DocumentLoader;
  documentLoaderFactory: DocumentLoaderFactory;
  contextLoaderFactory: DocumentLoaderFactory;
  authenticatedDocumentLoaderFactory: AuthenticatedDocumentLoaderFactory;
}

type Spec = "rfc9421" | "draft-cavage-http-signatures-12";

/** A fetched answer as the Response getRemoteDocument reads (its URL passed beside it). */
function asResponse(fetched: FetchedResponse): Response {
  const empty = fetched.body.byteLength === 0 || fetched.status === 204 || fetched.status === 304;
  return new Response(empty ? null : fetched.body, { status: fetched.status, headers: fetched.headers });
}

type Load = (url: string, options: DocumentLoaderOptions | undefined, depth: number) => Promise<RemoteDocument>;

/** A loader for alternates a document points to: one hop, no more. */
function alternateOnce(load: Load, options: DocumentLoaderOptions | undefined, depth: number): DocumentLoader {
  return async (url) => {
    if (depth >= 1) throw new Error(`${url}: an alternate of an alternate is not followed`);
    return await load(url, options, depth + 1);
  };
}

export function createLoaders(settings: LoaderSettings): IsletLoaders {
  const timeoutMs = settings.timeoutMs ?? FETCH_TIMEOUT_MS;
  const documentMaxBytes = settings.documentMaxBytes ?? MAX_DOCUMENT_BYTES;
  const headers = (url: string) => Object.fromEntries(createActivityPubRequest(url, { userAgent: settings.userAgent }).headers);

  const load: Load = async (url, options, depth) => {
    const fetched = await guardedFetch(url, {
      policy: settings.policy,
      timeoutMs,
      maxBytes: documentMaxBytes,
      headersFor: async (hop) => headers(hop.href),
      signal: options?.signal,
    });
    return await getRemoteDocument(fetched.url, asResponse(fetched), alternateOnce(load, options, depth));
  };
  const documentLoader = kvCache({ loader: (url, options) => load(url, options, 0), kv: settings.kv, kind: "object" });

  const contextLoader = createContextLoader({
    fetch: async (url) => {
      const fetched = await guardedFetch(url, {
        policy: settings.policy,
        timeoutMs,
        maxBytes: settings.contextMaxBytes ?? MAX_CONTEXT_BYTES,
        headers: { Accept: "application/ld+json, application/json", "User-Agent": settings.userAgent },
      });
      return await getRemoteDocument(fetched.url, asResponse(fetched), async (alternate) => {
        throw new Error(`${url}: a context is not looked for at ${alternate}`);
      });
    },
  });

  // The scheme each origin took last, tried first next time.
  const specs = new Map<string, Spec>();
  const rememberSpec = (origin: string, spec: Spec) => {
    specs.delete(origin);
    if (specs.size >= 1000) specs.delete(specs.keys().next().value!);
    specs.set(origin, spec);
  };

  const authenticated: AuthenticatedDocumentLoaderFactory = (identity) => {
    const fetchSigned = (url: string, spec: Spec, signal: AbortSignal | undefined) =>
      guardedFetch(url, {
        policy: settings.policy,
        timeoutMs,
        maxBytes: documentMaxBytes,
        // Each request signed for its own URL, redirects included.
        headersFor: async (hop) => {
          const signed = await signRequest(createActivityPubRequest(hop.href, { userAgent: settings.userAgent }), identity.privateKey, identity.keyId, { spec });
          return signed.headers;
        },
        signal,
      });
    const loadSigned: Load = async (url, options, depth) => {
      const origin = new URL(url).origin;
      const first = specs.get(origin) ?? "rfc9421";
      let spec = first;
      let fetched = await fetchSigned(url, spec, options?.signal);
      if (fetched.status === 400 || fetched.status === 401 || fetched.status === 403) {
        spec = first === "rfc9421" ? "draft-cavage-http-signatures-12" : "rfc9421";
        fetched = await fetchSigned(url, spec, options?.signal);
      }
      if (fetched.status >= 200 && fetched.status < 300) rememberSpec(origin, spec);
      return await getRemoteDocument(fetched.url, asResponse(fetched), alternateOnce(loadSigned, options, depth));
    };
    return (url, options) => loadSigned(url, options, 0);
  };

  return {
    keyLoader: (url, options) => load(url, options, 0),
    documentLoaderFactory: () => documentLoader,
    contextLoaderFactory: () => contextLoader,
    authenticatedDocumentLoaderFactory: authenticated,
  };
}
