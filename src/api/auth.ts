/**
 * Bearer-token authentication for the Mastodon API, and per-endpoint scope
 * checks. Tokens are stored as SHA-256 hashes.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { noteTokenUsed } from "../core/authorized-apps.ts";
import type { CoreContext } from "../core/context.ts";
import { oauthTokens } from "../db/schema.ts";
import { hashToken } from "../core/token-hash.ts";
import { ApiError } from "./errors.ts";
import { scopeAllows } from "./scopes.ts";

export interface TokenInfo {
  tokenId: bigint;
  applicationId: bigint;
  /** The owner's account; null for a client-credentials token. */
  accountId: bigint | null;
  scopes: string[];
}

export type ApiEnv = { Variables: { token: TokenInfo | null } };

/** The bearer token of a request: Authorization header or access_token parameter. */
export function bearerToken(c: Context): string | null {
  const header = c.req.header("Authorization");
  if (header != null) {
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    return match?.[1] ?? null;
  }
  return c.req.query("access_token") ?? null;
}

/** Looks a token up (noting that it was used); null when unknown or revoked. */
export async function findToken(core: CoreContext, token: string): Promise<TokenInfo | null> {
  const rows = await core.db
    .select()
    .from(oauthTokens)
    .where(and(eq(oauthTokens.tokenHash, hashToken(token)), isNull(oauthTokens.revokedAt)))
    .limit(1);
  const row = rows[0];
  if (row == null) return null;
  await noteTokenUsed(core, row.id, row.lastUsedAt);
  return { tokenId: row.id, applicationId: row.applicationId, accountId: row.accountId, scopes: row.scopes.split(" ") };
}

/** Reads the token, if any, into `c.var.token`; a bad token is a 401. */
export function authenticate(core: CoreContext): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    if (token == null) {
      c.set("token", null);
      return await next();
    }
    const info = await findToken(core, token);
    if (info == null) throw new ApiError(401, "The access token is invalid");
    c.set("token", info);
    await next();
  };
}

/**
 * Requires a user token allowing `scope` (any one of several scopes).
 * Returns the owner's account id.
 */
export function requireUser(c: Context<ApiEnv>, ...scopes: string[]): bigint {
  const token = c.get("token");
  if (token == null) throw new ApiError(401, "The access token is invalid");
  if (token.accountId == null) throw new ApiError(422, "This method requires an authenticated user");
  if (scopes.length > 0 && !scopes.some((scope) => scopeAllows(token.scopes, scope))) {
    throw new ApiError(403, "This action is outside the authorized scopes");
  }
  return token.accountId;
}

/**
 * The viewer's account id when a user token is present, null otherwise.
 * Any token presented, an app's too, must allow `scope` (any one of several).
 */
export function optionalUser(c: Context<ApiEnv>, ...scopes: string[]): bigint | null {
  const token = c.get("token");
  if (token == null) return null;
  if (scopes.length > 0 && !scopes.some((scope) => scopeAllows(token.scopes, scope))) {
    throw new ApiError(403, "This action is outside the authorized scopes");
  }
  return token.accountId;
}
