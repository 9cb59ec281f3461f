/**
 * AUTHORIZED_FETCH, as Mastodon's secure mode: ActivityPub documents are
 * served only to signed requests from servers that are not suspended. The
 * actor document stays readable without a signature (reduced to what
 * verifying a signature needs), or no one could fetch the key to sign with.
 */
import type { RequestContext } from "@fedify/fedify";
import type { CoreContext } from "../core/context.ts";
import { isUrlSuspended } from "../core/server-domain-blocks.ts";
import { signatureKeyId } from "./inbox-limit.ts";

/**
 * Whether a request may read a document. A signature naming a key on a
 * suspended domain is refused (and its key never fetched). Without
 * AUTHORIZED_FETCH anyone else may read; with it, only a valid signature.
 */
export async function mayFetch(core: CoreContext, ctx: RequestContext<void>): Promise<boolean> {
  const keyId = signatureKeyId(ctx.request.headers);
  if (keyId != null && (await isUrlSuspended(core, keyId))) return false;
  if (!core.config.authorizedFetch) return true;
  if (keyId == null) return false;
  const key = await ctx.getSignedKey().catch(() => null);
  return key != null;
}
