/**
 * Who a streaming request is from. As Mastodon's streaming server, every
 * stream needs a user token, public ones included: from the Authorization
 * header, the `access_token` parameter or, for WebSockets, the
 * Sec-WebSocket-Protocol header (browsers cannot set other headers).
 */
import { findToken } from "../core/oauth.ts";
import type { CoreContext } from "../core/context.ts";
import { StreamError, type StreamViewer } from "./streams.ts";

export interface StreamingCredentials {
  authorization: string | null;
  accessToken: string | null;
  protocol: string | null;
}

/** The token a request presents, or null. */
export function presentedToken(credentials: StreamingCredentials): string | null {
  if (credentials.authorization != null && credentials.authorization !== "") {
    return credentials.authorization.replace(/^Bearer\s+/i, "").trim() || null;
  }
  if (credentials.accessToken != null && credentials.accessToken !== "") return credentials.accessToken;
  const protocol = credentials.protocol?.split(",")[0]?.trim();
  return protocol == null || protocol === "" ? null : protocol;
}

/** The viewer, or a 401 {@link StreamError} worded as Mastodon words it. */
export async function authenticateStreaming(ctx: CoreContext, credentials: StreamingCredentials): Promise<StreamViewer & { tokenId: bigint }> {
  const token = presentedToken(credentials);
  if (token == null) throw new StreamError(401, "Missing access token");
  const info = await findToken(ctx, token);
  // Application tokens have no user, and there is nothing of theirs to stream.
  if (info?.accountId == null) throw new StreamError(401, "Invalid access token");
  return { accountId: info.accountId, scopes: info.scopes, tokenId: info.tokenId };
}
