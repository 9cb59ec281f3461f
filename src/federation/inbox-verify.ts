/**
 * The inbox checks an activity's HTTP signature (draft-cavage or RFC 9421)
 * before anything reads it as JSON-LD. Fedify tries Linked Data Signatures
 * and Object Integrity Proofs first, and expanding the activity for those
 * fetches every context it names: done on an unsigned request, that let
 * anyone make Islet download any URL. Here a request whose signature does
 * not verify gets 401 and nothing but the signer's key is fetched (its
 * document read with preloaded contexts only). The key is kept where
 * Fedify's own key cache looks, so its second check costs no fetch.
 */
import { verifyRequestDetailed, type Federation, type KvStore } from "@fedify/fedify";
import { CryptographicKey, Multikey } from "@fedify/vocab";
import type { DocumentLoader } from "@fedify/vocab-runtime";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { preloadedContextLoader, withRemoteContexts } from "./contexts.ts";
import { isInboxPost } from "./inbox-limit.ts";

type KeyCache = NonNullable<NonNullable<Parameters<typeof verifyRequestDetailed>[1]>["keyCache"]>;
type Key = CryptographicKey | Multikey;

/** Where Fedify keeps the public keys it fetched (its default KV prefix). */
const PUBLIC_KEY_PREFIX = ["_fedify", "publicKey"] as const;

/**
 * A key cache over the KV store, in the same entries as Fedify's: a key
 * serialised as JSON-LD under the key IRI, null for one that could not be
 * fetched.
 */
class SharedKeyCache implements KeyCache {
  readonly #kv: KvStore;
  readonly #loaders: { documentLoader: DocumentLoader; contextLoader: DocumentLoader };

  constructor(kv: KvStore, documentLoader: DocumentLoader) {
    this.#kv = kv;
    this.#loaders = { documentLoader, contextLoader: preloadedContextLoader };
  }

  async get(keyId: URL): Promise<Key | null | undefined> {
    const stored = await this.#kv.get([...PUBLIC_KEY_PREFIX, keyId.href]);
    if (stored === undefined) return undefined;
    if (stored === null) return null;
    try {
      return await CryptographicKey.fromJsonLd(stored, this.#loaders);
    } catch {
      try {
        return await Multikey.fromJsonLd(stored, this.#loaders);
      } catch {
        return undefined;
      }
    }
  }

  async set(keyId: URL, key: Key | null): Promise<void> {
    const entry = [...PUBLIC_KEY_PREFIX, keyId.href] as const;
    // A key that could not be fetched is left for Fedify to look up and
    // remember itself: its handler for unverified activities needs to know
    // why (a gone actor's Delete is taken), which a remembered null hides.
    if (key == null) return;
    await this.#kv.set(entry, await key.toJsonLd(this.#loaders));
  }
}

interface Verification {
  kv: KvStore;
  keyLoader: DocumentLoader;
}

const verifications = new WeakMap<Federation<void>, Verification>();

/**
 * Makes {@link verifyInboxRequest} check inbox POSTs for `federation`,
 * keeping keys in `kv` and fetching them with `keyLoader`, which should
 * not cache: a key that no longer verifies is fetched afresh (a rotation).
 */
export function registerInboxVerification(federation: Federation<void>, kv: KvStore, keyLoader: DocumentLoader): void {
  verifications.set(federation, { kv, keyLoader });
}

function unauthorized(): Response {
  return new Response(JSON.stringify({ error: "The request's signature could not be verified" }), {
    status: 401,
    headers: { "Content-Type": "application/json" },
  });
}

/**
 * What became of an inbox POST's signature: verified (or not an inbox
 * POST), refused with the 401 to answer, or signed with a key whose server
 * now answers 404 or 410, which Fedify's handler for unverified activities
 * takes up (a Delete of an actor that is gone): it is read with the
 * preloaded contexts only.
 */
export type InboxVerdict = { verdict: "verified" } | { verdict: "refused"; response: Response } | { verdict: "key-gone" };

/** Checks an inbox POST's HTTP signature (its body already buffered). */
export async function verifyInboxRequest(federation: Federation<void>, request: Request): Promise<InboxVerdict> {
  const verification = verifications.get(federation);
  if (verification == null || !isInboxPost(request)) return { verdict: "verified" };
  const { kv, keyLoader } = verification;
  const result = await withRemoteContexts(false, () =>
    verifyRequestDetailed(request, {
      documentLoader: keyLoader,
      contextLoader: preloadedContextLoader,
      keyCache: new SharedKeyCache(kv, keyLoader),
    }),
  ).catch((error: unknown) => {
    // The database being down is no verdict on the signature: 503, not 401.
    if (isDatabaseUnavailable(error)) throw error;
    return null;
  });
  if (result?.verified === true) return { verdict: "verified" };
  const reason = result?.reason;
  if (reason?.type === "keyFetchError" && "status" in reason.result && (reason.result.status === 404 || reason.result.status === 410)) {
    return { verdict: "key-gone" };
  }
  return { verdict: "refused", response: unauthorized() };
}
