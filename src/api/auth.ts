/**
 * Bearer-token authentication for the Mastodon API, and per-endpoint scope
 * checks. Tokens are stored as SHA-256 hashes.
 */
import type { Context, MiddlewareHandler } from "hono";
import { noteTokenUsed } from "../core/authorized-apps.ts";
import type { CoreContext } from "../core/context.ts";
import { findToken, type TokenInfo } from "../core/oauth.ts";
import { ApiError } from "./errors.ts";
import { scopeAllows } from "../core/scopes.ts";

export { findToken, type TokenInfo };

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
