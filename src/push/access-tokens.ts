/**
 * The access token a push message carries. Mastodon puts the subscribing
 * token in every payload (clients use it to tell accounts apart and to fetch
 * the notification), but Islet stores tokens only as hashes. So the token is
 * kept, when a client subscribes, sealed with AES-256-GCM under a key
 * derived from SECRET_KEY_BASE: a copy of the database alone does not
 * reveal it.
 */
import type { KvKey } from "@fedify/fedify";
import type { CoreContext } from "../core/context.ts";
import { seal, unseal } from "../core/sealing.ts";
import { DatabaseKvStore } from "../db/kv-store.ts";

function keyOf(tokenId: bigint): KvKey {
  return ["push_access_token", tokenId.toString()];
}

/** What the tokens are sealed for (see core/sealing.ts). */
const SEALED_FOR = "access tokens carried in push messages";

/** `iv.ciphertext.tag`, each base64url. */
export function sealAccessToken(secretKeyBase: string, token: string): string {
  return seal(secretKeyBase, SEALED_FOR, token);
}

/** The token, or null when the text was sealed under another key or damaged. */
export function openAccessToken(secretKeyBase: string, sealed: string): string | null {
  return unseal(secretKeyBase, SEALED_FOR, sealed);
}

/** Keeps the token of `tokenId` for its push messages. */
export async function keepAccessToken(ctx: CoreContext, tokenId: bigint, token: string): Promise<void> {
  await new DatabaseKvStore(ctx.database).set(keyOf(tokenId), sealAccessToken(ctx.config.secretKeyBase, token));
}

/** The kept token of `tokenId`, or null. */
export async function keptAccessToken(ctx: CoreContext, tokenId: bigint): Promise<string | null> {
  const sealed = await new DatabaseKvStore(ctx.database).get<string>(keyOf(tokenId));
  return typeof sealed === "string" ? openAccessToken(ctx.config.secretKeyBase, sealed) : null;
}

export async function forgetAccessToken(ctx: CoreContext, tokenId: bigint): Promise<void> {
  await new DatabaseKvStore(ctx.database).delete(keyOf(tokenId));
}
