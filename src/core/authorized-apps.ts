/**
 * The apps that hold access to the owner's account, and the owner's
 * browser sessions: what the settings page and `islet apps` list and
 * revoke. An app is "authorized" while it has a live token of the owner;
 * revoking it revokes every such token and emits `oauth.tokens_revoked`,
 * on which streaming closes the tokens' open connections and push removes
 * their subscriptions.
 *
 * Tokens and sessions note when they were last used, at most once a
 * minute each (one small UPDATE then, none in between).
 */
import { and, asc, desc, eq, gt, isNull, lt, or } from "drizzle-orm";
import { oauthApplications, oauthTokens, webSessions } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { hashToken } from "./token-hash.ts";

/** How stale a last-used time may get before it is written again. */
export const LAST_USED_RESOLUTION_MS = 60 * 1000;

export interface AuthorizedApp {
  id: bigint;
  name: string;
  website: string | null;
  /** Every scope its live tokens hold. */
  scopes: string[];
  /** When the first of its live tokens was issued. */
  authorizedAt: Date;
  /** When one of its tokens was last used; null: never. */
  lastUsedAt: Date | null;
  /** How many live tokens it has (one per sign-in in the app). */
  tokens: number;
}

/** The apps with live tokens of `accountId`, most recently used first. */
export async function listAuthorizedApps(ctx: CoreContext, accountId: bigint): Promise<AuthorizedApp[]> {
  const rows = await ctx.db
    .select({
      applicationId: oauthTokens.applicationId,
      name: oauthApplications.name,
      website: oauthApplications.website,
      scopes: oauthTokens.scopes,
      createdAt: oauthTokens.createdAt,
      lastUsedAt: oauthTokens.lastUsedAt,
    })
    .from(oauthTokens)
    .innerJoin(oauthApplications, eq(oauthApplications.id, oauthTokens.applicationId))
    .where(and(eq(oauthTokens.accountId, accountId), isNull(oauthTokens.revokedAt)))
    .orderBy(asc(oauthTokens.createdAt));
  const apps = new Map<bigint, AuthorizedApp>();
  for (const row of rows) {
    let app = apps.get(row.applicationId);
    if (app == null) {
      app = { id: row.applicationId, name: row.name, website: row.website, scopes: [], authorizedAt: row.createdAt, lastUsedAt: null, tokens: 0 };
      apps.set(row.applicationId, app);
    }
    app.tokens += 1;
    for (const scope of row.scopes.split(" ")) if (scope !== "" && !app.scopes.includes(scope)) app.scopes.push(scope);
    if (row.lastUsedAt != null && (app.lastUsedAt == null || row.lastUsedAt > app.lastUsedAt)) app.lastUsedAt = row.lastUsedAt;
  }
  const time = (app: AuthorizedApp) => (app.lastUsedAt ?? app.authorizedAt).getTime();
  return [...apps.values()].sort((a, b) => time(b) - time(a));
}

/**
 * Revokes every live token `accountId` gave the app `applicationId`;
 * returns how many. Their streams close and push subscriptions go (through
 * `oauth.tokens_revoked`).
 */
export async function revokeAuthorizedApp(ctx: CoreContext, accountId: bigint, applicationId: bigint): Promise<number> {
  const revoked = await ctx.db
    .update(oauthTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(oauthTokens.accountId, accountId), eq(oauthTokens.applicationId, applicationId), isNull(oauthTokens.revokedAt)))
    .returning({ id: oauthTokens.id });
  if (revoked.length > 0) {
    await ctx.events.emit("oauth.tokens_revoked", { tokenIds: revoked.map((row) => row.id) });
    ctx.log.info(`application ${applicationId}: ${revoked.length} access token(s) revoked`);
  }
  return revoked.length;
}

/** Notes that a token was used now, unless that was noted within the last minute. */
export async function noteTokenUsed(ctx: CoreContext, tokenId: bigint, lastUsedAt: Date | null, now = new Date()): Promise<void> {
  if (lastUsedAt != null && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  await ctx.db
    .update(oauthTokens)
    .set({ lastUsedAt: now })
    .where(and(eq(oauthTokens.id, tokenId), or(isNull(oauthTokens.lastUsedAt), lt(oauthTokens.lastUsedAt, stale))));
}

// ---------------------------------------------------------------------------
// Browser sessions

export interface BrowserSession {
  /** The first characters of the stored hash: enough to tell sessions apart, useless to sign in. */
  key: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
  /** Whether this is the session the list was asked from. */
  current: boolean;
}

/** The live browser sessions of `accountId`, the newest first; `currentId` marks the asking one. */
export async function listBrowserSessions(ctx: CoreContext, accountId: bigint, currentId: string | null): Promise<BrowserSession[]> {
  const currentHash = currentId == null ? null : hashToken(currentId);
  const rows = await ctx.db
    .select()
    .from(webSessions)
    .where(and(eq(webSessions.accountId, accountId), gt(webSessions.expiresAt, new Date())))
    .orderBy(desc(webSessions.createdAt));
  return rows.map((row) => ({
    key: row.idHash.slice(0, 12),
    userAgent: row.userAgent,
    ip: row.ip,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    expiresAt: row.expiresAt,
    current: row.idHash === currentHash,
  }));
}

/** Ends every browser session of `accountId` but `keepId`'s (null: all); returns how many ended. */
export async function endOtherBrowserSessions(ctx: CoreContext, accountId: bigint, keepId: string | null): Promise<number> {
  const keepHash = keepId == null ? null : hashToken(keepId);
  const all = await ctx.db.select({ idHash: webSessions.idHash }).from(webSessions).where(eq(webSessions.accountId, accountId));
  let ended = 0;
  for (const row of all) {
    if (row.idHash === keepHash) continue;
    const gone = await ctx.db.delete(webSessions).where(eq(webSessions.idHash, row.idHash)).returning({ idHash: webSessions.idHash });
    ended += gone.length;
  }
  return ended;
}

/** Notes that a session was used now, unless that was noted within the last minute. */
export async function noteSessionUsed(ctx: CoreContext, id: string, lastUsedAt: Date | null, now = new Date()): Promise<void> {
  if (lastUsedAt != null && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  await ctx.db
    .update(webSessions)
    .set({ lastUsedAt: now })
    .where(and(eq(webSessions.idHash, hashToken(id)), or(isNull(webSessions.lastUsedAt), lt(webSessions.lastUsedAt, stale))));
}
