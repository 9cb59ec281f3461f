/**
 * Idempotency-Key: a client that retries a post with the same key within an
 * hour gets the post it made the first time. The mapping lives in the
 * kv_entries table with a one-hour lifetime.
 */
import type { KvKey } from "@fedify/fedify";
import { DatabaseKvStore } from "../../db/kv-store.ts";
import type { CoreContext } from "../context.ts";

/** What a key led to: a status, or a scheduled status. */
export interface IdempotentResult {
  kind: "status" | "scheduled";
  id: string;
}

const TTL = { hours: 1 };

function keyOf(accountId: bigint, key: string): KvKey {
  return ["islet", "idempotency", accountId.toString(), key] as const;
}

export async function recallIdempotent(ctx: CoreContext, accountId: bigint, key: string | null | undefined): Promise<IdempotentResult | null> {
  if (key == null || key === "") return null;
  const value = await new DatabaseKvStore(ctx.database).get<IdempotentResult>(keyOf(accountId, key));
  return value ?? null;
}

export async function rememberIdempotent(
  ctx: CoreContext,
  accountId: bigint,
  key: string | null | undefined,
  result: IdempotentResult,
): Promise<void> {
  if (key == null || key === "") return;
  await new DatabaseKvStore(ctx.database).set(keyOf(accountId, key), result, { ttl: TTL });
}
