/**
 * OAuth 2 as Mastodon does it: client applications registered through the
 * API, authorization codes (single use, short-lived, optionally bound to a
 * PKCE S256 challenge), bearer tokens for the owner or for an app alone, and
 * the owner's browser sessions that the authorize page signs in with.
 *
 * Every secret handed out (code, token, session id) is stored only as its
 * SHA-256 hash. Failures are {@link OAuthError}s carrying the RFC 6749 error
 * code, or {@link CoreError}s for application registration (422s).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/db.ts";
import { hashToken } from "./token-hash.ts";
import { parseScopes, scopesWithin, unknownScopes } from "./scopes.ts";
import { oauthApplications, oauthAuthorizationCodes, oauthTokens, users, webSessions } from "../db/schema.ts";
import { noteTokenUsed } from "./authorized-apps.ts";
import { getOwner, type Owner } from "./accounts.ts";
import { CoreError, type CoreContext } from "./context.ts";
import { newId } from "./ids.ts";
import { MAX_PASSWORD_LENGTH, verifyPassword } from "./passwords.ts";
import { admitSignInAttempt, signInAttemptFailed, signInAttemptSucceeded } from "./sign-in-limits.ts";
import { requiresTwoFactor } from "./two-factor.ts";

export type OAuthApplication = typeof oauthApplications.$inferSelect;

/** The redirect URI that asks for the code to be shown instead of redirected. */
export const OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob";
/** How long an authorization code can be exchanged. */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
/** How long the owner stays signed in on a browser. */
export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
/** Scopes granted when a request names none, as Mastodon does. */
export const DEFAULT_SCOPES: readonly string[] = ["read"];
export const MAX_APP_NAME_LENGTH = 60;
export const MAX_URI_LENGTH = 2000;
export const MAX_REDIRECT_URIS = 20;
/** App registrations allowed per client address within {@link APP_REGISTRATION_WINDOW_MS}. */
export const APP_REGISTRATION_MAX = 100;
export const APP_REGISTRATION_WINDOW_MS = 10 * 60 * 1000;
/** Password reset requests (and tries of reset links) allowed per client address within {@link PASSWORD_RESET_WINDOW_MS}. */
export const PASSWORD_RESET_MAX = 5;
export const PASSWORD_RESET_WINDOW_MS = 15 * 60 * 1000;

/** RFC 6749 error codes (and RFC 7009's `unauthorized_client` for revocation). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_redirect_uri"
  | "access_denied";

const DESCRIPTIONS: Record<OAuthErrorCode, string> = {
  invalid_request: "The request lacks a required parameter, has a malformed or unsupported value, or cannot be read.",
  invalid_client: "The client could not be authenticated: the client_id is unknown, the client_secret is wrong, or neither was sent.",
  invalid_grant: "The authorization code is unknown, has expired or was used already, or belongs to another client or redirect URI.",
  unauthorized_client: "This token was not issued to this client, so the client cannot revoke it.",
  unsupported_grant_type: "Only the authorization_code and client_credentials grant types are supported.",
  unsupported_response_type: "Only the code response type is supported.",
  invalid_scope: "A requested scope is unknown, malformed, or beyond the scopes the application registered.",
  invalid_redirect_uri: "The redirect URI is malformed or is not one the application registered.",
  access_denied: "The owner of the account denied the request.",
};

/** The standard sentence for an OAuth error code. */
export function describeOAuthError(code: OAuthErrorCode): string {
  return DESCRIPTIONS[code];
}

/** An OAuth failure: `code` is the RFC 6749 error, `description` a sentence for people. */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;
  constructor(code: OAuthErrorCode, description: string = DESCRIPTIONS[code]) {
    super(`${code}: ${description}`);
    this.name = "OAuthError";
    this.code = code;
    this.description = description;
  }
}

/** A random secret of 256 bits, URL-safe. */
export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares two secrets in constant time. */
function secretsEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

// ---------------------------------------------------------------------------
// Applications

const FORBIDDEN_SCHEMES = new Set(["javascript:", "data:", "vbscript:", "file:", "blob:", "about:"]);

/** Why a redirect URI cannot be registered, or null when it can. */
export function redirectUriProblem(uri: string): string | null {
  if (uri === OOB_REDIRECT_URI) return null;
  if (uri.length > MAX_URI_LENGTH) return `Redirect URI is too long (maximum is ${MAX_URI_LENGTH} characters)`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "Redirect URI must be an absolute URI.";
  }
  if (uri.includes("#")) return "Redirect URI cannot contain a fragment.";
  if (FORBIDDEN_SCHEMES.has(url.protocol.toLowerCase())) return "Redirect URI uses a forbidden scheme.";
  if ((url.protocol === "http:" || url.protocol === "https:") && url.hostname === "") return "Redirect URI must be an absolute URI.";
  return null;
}

function loopbackWithoutPort(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" || (url.hostname !== "127.0.0.1" && url.hostname !== "[::1]")) return null;
  return `${url.protocol}//${url.hostname}${url.pathname}${url.search}`;
}

/**
 * Whether `requested` is one of the app's redirect URIs: exactly, or for a
 * loopback IP redirect (`http://127.0.0.1/…`, `http://[::1]/…`) with any port,
 * as RFC 8252 §7.3 asks of servers for native apps.
 */
export function isRegisteredRedirectUri(application: Pick<OAuthApplication, "redirectUris">, requested: string): boolean {
  if (application.redirectUris.includes(requested)) return true;
  const loopback = loopbackWithoutPort(requested);
  return loopback != null && application.redirectUris.some((uri) => loopbackWithoutPort(uri) === loopback);
}

export interface NewApplication {
  name: string;
  redirectUris: string[];
  /** Empty for the default (`read`). */
  scopes: string[];
  website?: string | null;
}

/** Seconds until `clientKey` may register another app (0: now). */
export function applicationRegistrationWait(ctx: CoreContext, clientKey: string): number {
  return rateLimiters(ctx).appRegistration.retryAfter(clientKey);
}

/**
 * Registers a client application; a CoreError("invalid") names what is
 * wrong. With a `clientKey`, the registration counts towards that client
 * address's limit (see {@link applicationRegistrationWait}).
 */
export async function registerApplication(ctx: CoreContext, input: NewApplication, clientKey?: string): Promise<OAuthApplication> {
  const name = input.name.trim();
  if (name === "") throw new CoreError("invalid", "Name can't be blank");
  if ([...name].length > MAX_APP_NAME_LENGTH) throw new CoreError("invalid", `Name is too long (maximum is ${MAX_APP_NAME_LENGTH} characters)`);

  const redirectUris = [...new Set(input.redirectUris)];
  if (redirectUris.length === 0) throw new CoreError("invalid", "Redirect URI can't be blank");
  if (redirectUris.length > MAX_REDIRECT_URIS) throw new CoreError("invalid", `Redirect URI: at most ${MAX_REDIRECT_URIS} may be registered`);
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri);
    if (problem != null) throw new CoreError("invalid", problem);
  }

  const scopes = input.scopes.length === 0 ? [...DEFAULT_SCOPES] : [...new Set(input.scopes)];
  const unknown = unknownScopes(scopes);
  if (unknown.length > 0) throw new CoreError("invalid", `Scopes include unknown scopes: ${unknown.join(", ")}`);

  let website: string | null = input.website?.trim() || null;
  if (website != null) {
    if (website.length > MAX_URI_LENGTH) throw new CoreError("invalid", `Website is too long (maximum is ${MAX_URI_LENGTH} characters)`);
    let url: URL | null;
    try {
      url = new URL(website);
    } catch {
      url = null;
    }
    if (url == null || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
      throw new CoreError("invalid", "Website is invalid");
    }
  }

  const rows = await ctx.db
    .insert(oauthApplications)
    .values({
      id: newId(),
      name,
      website,
      redirectUris,
      scopes: scopes.join(" "),
      clientId: randomSecret(),
      clientSecret: randomSecret(),
    })
    .returning();
  if (clientKey != null) rateLimiters(ctx).appRegistration.record(clientKey);
  return rows[0];
}

export async function findApplicationByClientId(ctx: CoreContext, clientId: string): Promise<OAuthApplication | null> {
  const rows = await ctx.db.select().from(oauthApplications).where(eq(oauthApplications.clientId, clientId)).limit(1);
  return rows[0] ?? null;
}

export async function findApplicationById(ctx: CoreContext, id: bigint): Promise<OAuthApplication | null> {
  const rows = await ctx.db.select().from(oauthApplications).where(eq(oauthApplications.id, id)).limit(1);
  return rows[0] ?? null;
}

/** The application whose id and secret these are; `invalid_client` otherwise. */
export async function authenticateClient(
  ctx: CoreContext,
  clientId: string | null | undefined,
  clientSecret: string | null | undefined,
): Promise<OAuthApplication> {
  if (clientId == null || clientId === "" || clientSecret == null || clientSecret === "") throw new OAuthError("invalid_client");
  const application = await findApplicationByClientId(ctx, clientId);
  // Compare even for an unknown client, so that timing tells nothing.
  const matches = secretsEqual(application?.clientSecret ?? "", clientSecret);
  if (application == null || !matches) throw new OAuthError("invalid_client");
  return application;
}

/** The scopes of an app as a list. */
export function applicationScopes(application: Pick<OAuthApplication, "scopes">): string[] {
  return parseScopes(application.scopes);
}

/**
 * The scopes a request may have: the requested ones (space- or
 * plus-separated; default `read`), all known and within the app's.
 */
export function grantableScopes(application: Pick<OAuthApplication, "scopes">, requested: string | null | undefined): string[] {
  const scopes = parseScopes(requested);
  const wanted = scopes.length === 0 ? [...DEFAULT_SCOPES] : scopes;
  if (unknownScopes(wanted).length > 0 || !scopesWithin(wanted, applicationScopes(application))) throw new OAuthError("invalid_scope");
  return wanted;
}

// ---------------------------------------------------------------------------
// Authorization requests and codes

/** The parameters of GET /oauth/authorize as received (absent or empty: undefined). */
export interface AuthorizationParams {
  responseType?: string;
  clientId?: string;
  redirectUri?: string;
  scope?: string;
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  responseMode?: string;
}

/** A checked authorization request. */
export interface AuthorizationRequest {
  application: OAuthApplication;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: "S256" | null;
  responseMode: "query" | "fragment";
}

/**
 * A failed authorization request. With `redirect` set, the client is told
 * at its (verified) redirect URI; without, the error is shown to the person
 * (unknown client, unregistered redirect URI: never redirect there).
 */
export class AuthorizationError extends OAuthError {
  readonly redirect: { uri: string; state: string | null; responseMode: "query" | "fragment" } | null;
  constructor(code: OAuthErrorCode, description: string | undefined, redirect: AuthorizationError["redirect"]) {
    super(code, description);
    this.name = "AuthorizationError";
    this.redirect = redirect;
  }
}

const CODE_CHALLENGE_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
const CODE_VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;

/** Checks an authorization request as RFC 6749 §4.1.1 and RFC 7636 §4.3 describe. */
export async function checkAuthorizationRequest(ctx: CoreContext, params: AuthorizationParams): Promise<AuthorizationRequest> {
  if (params.clientId == null) throw new AuthorizationError("invalid_request", "The client_id parameter is missing.", null);
  const application = await findApplicationByClientId(ctx, params.clientId);
  if (application == null) throw new AuthorizationError("invalid_client", "There is no application with this client_id.", null);
  if (params.redirectUri == null) throw new AuthorizationError("invalid_request", "The redirect_uri parameter is missing.", null);
  if (!isRegisteredRedirectUri(application, params.redirectUri)) {
    throw new AuthorizationError("invalid_redirect_uri", "The redirect_uri is not one the application registered.", null);
  }
  const mode = params.responseMode ?? "query";
  if (mode !== "query" && mode !== "fragment") {
    throw new AuthorizationError("invalid_request", "Only the query and fragment response modes are supported.", null);
  }
  const state = params.state ?? null;
  const redirect = { uri: params.redirectUri, state, responseMode: mode } as const;
  const fail = (code: OAuthErrorCode, description?: string): never => {
    throw new AuthorizationError(code, description, redirect);
  };

  if (params.responseType == null) fail("invalid_request", "The response_type parameter is missing.");
  if (params.responseType !== "code") fail("unsupported_response_type");

  let scopes: string[] = [];
  try {
    scopes = grantableScopes(application, params.scope);
  } catch {
    fail("invalid_scope");
  }

  let codeChallenge: string | null = null;
  let codeChallengeMethod: "S256" | null = null;
  if (params.codeChallenge != null) {
    if (params.codeChallengeMethod !== "S256") fail("invalid_request", "Only the S256 code_challenge_method is supported.");
    if (!CODE_CHALLENGE_PATTERN.test(params.codeChallenge)) fail("invalid_request", "The code_challenge is malformed.");
    codeChallenge = params.codeChallenge;
    codeChallengeMethod = "S256";
  } else if (params.codeChallengeMethod != null) {
    fail("invalid_request", "A code_challenge_method was given without a code_challenge.");
  }

  return { application, redirectUri: params.redirectUri, scopes, state, codeChallenge, codeChallengeMethod, responseMode: mode };
}

/**
 * Issues a single-use authorization code for the owner's approval of
 * `request`, and emits `oauth.authorized` (the owner is mailed about it);
 * `ip` is the address the owner approved from, when known.
 */
export async function createAuthorizationCode(
  ctx: CoreContext,
  request: AuthorizationRequest,
  accountId: bigint,
  options: { ip?: string | null } = {},
): Promise<string> {
  const code = randomSecret();
  const now = Date.now();
  // Codes are kept until a day after they expire, to recognise a replay.
  await ctx.db.delete(oauthAuthorizationCodes).where(lt(oauthAuthorizationCodes.expiresAt, new Date(now - 24 * 60 * 60 * 1000)));
  await ctx.db.insert(oauthAuthorizationCodes).values({
    codeHash: hashToken(code),
    applicationId: request.application.id,
    accountId,
    scopes: request.scopes.join(" "),
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    expiresAt: new Date(now + AUTHORIZATION_CODE_LIFETIME_MS),
  });
  await ctx.events.emit("oauth.authorized", {
    applicationId: request.application.id,
    accountId,
    scopes: [...request.scopes],
    ip: options.ip ?? null,
    authorizedAt: new Date(now),
  });
  return code;
}

/** The S256 code challenge of a PKCE verifier (RFC 7636 §4.2). */
export function s256Challenge(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A token just issued: its value is known only now. */
export interface IssuedToken {
  id: bigint;
  token: string;
  scopes: string[];
  accountId: bigint | null;
  createdAt: Date;
}

async function insertToken(
  db: Pick<CoreContext["db"], "insert">,
  applicationId: bigint,
  accountId: bigint | null,
  scopes: string[],
  createdAt: Date,
): Promise<IssuedToken> {
  const token = randomSecret();
  const id = newId(createdAt);
  await db.insert(oauthTokens).values({ id, tokenHash: hashToken(token), applicationId, accountId, scopes: scopes.join(" "), createdAt });
  return { id, token, scopes, accountId, createdAt };
}

/**
 * Tokens issued from a code are stamped with the moment the code was used;
 * a replayed code revokes them (RFC 6749 §4.1.2).
 */
async function revokeTokensFromCode(ctx: CoreContext, code: typeof oauthAuthorizationCodes.$inferSelect): Promise<void> {
  if (code.usedAt == null) return;
  const revoked = await ctx.db
    .update(oauthTokens)
    .set({ revokedAt: new Date() })
    .where(and(
      eq(oauthTokens.applicationId, code.applicationId),
      eq(oauthTokens.accountId, code.accountId),
      eq(oauthTokens.createdAt, code.usedAt),
      isNull(oauthTokens.revokedAt),
    ))
    .returning({ id: oauthTokens.id });
  if (revoked.length > 0) await ctx.events.emit("oauth.tokens_revoked", { tokenIds: revoked.map((row) => row.id) });
  ctx.log.warn(`an authorization code of application ${code.applicationId} was used twice; the token issued from it is revoked`);
}

export interface CodeExchange {
  code: string | undefined;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
}

/** Exchanges an authorization code for a token of the owner (RFC 6749 §4.1.3, RFC 7636 §4.6). */
export async function exchangeAuthorizationCode(ctx: CoreContext, application: OAuthApplication, input: CodeExchange): Promise<IssuedToken> {
  if (input.code == null) throw new OAuthError("invalid_request", "The code parameter is missing.");
  if (input.redirectUri == null) throw new OAuthError("invalid_request", "The redirect_uri parameter is missing.");
  const codeHash = hashToken(input.code);
  const rows = await ctx.db.select().from(oauthAuthorizationCodes).where(eq(oauthAuthorizationCodes.codeHash, codeHash)).limit(1);
  const row = rows[0];
  if (row == null || row.applicationId !== application.id) throw new OAuthError("invalid_grant");
  if (row.usedAt != null) {
    await revokeTokensFromCode(ctx, row);
    throw new OAuthError("invalid_grant");
  }
  if (row.expiresAt.getTime() <= Date.now()) throw new OAuthError("invalid_grant");
  if (row.redirectUri !== input.redirectUri) throw new OAuthError("invalid_grant");
  if (row.codeChallenge != null) {
    if (input.codeVerifier == null) throw new OAuthError("invalid_grant", "The code_verifier parameter is required: the authorization request had a code_challenge.");
    const valid = CODE_VERIFIER_PATTERN.test(input.codeVerifier) && secretsEqual(s256Challenge(input.codeVerifier), row.codeChallenge);
    if (!valid) throw new OAuthError("invalid_grant", "The code_verifier does not match the code_challenge.");
  } else if (input.codeVerifier != null) {
    throw new OAuthError("invalid_grant", "A code_verifier was given but the authorization request had no code_challenge.");
  }

  const usedAt = new Date();
  const issued = await ctx.db.transaction(async (tx) => {
    // Only one exchange can mark the code used, however many race.
    const claimed = await tx
      .update(oauthAuthorizationCodes)
      .set({ usedAt })
      .where(and(eq(oauthAuthorizationCodes.codeHash, codeHash), isNull(oauthAuthorizationCodes.usedAt)))
      .returning({ codeHash: oauthAuthorizationCodes.codeHash });
    if (claimed.length === 0) return null;
    return await insertToken(tx, application.id, row.accountId, parseScopes(row.scopes), usedAt);
  });
  if (issued == null) {
    const again = await ctx.db.select().from(oauthAuthorizationCodes).where(eq(oauthAuthorizationCodes.codeHash, codeHash)).limit(1);
    if (again[0] != null) await revokeTokensFromCode(ctx, again[0]);
    throw new OAuthError("invalid_grant");
  }
  return issued;
}

/** Issues an app-only token (RFC 6749 §4.4) with scopes within the app's (default `read`). */
export async function issueClientCredentialsToken(ctx: CoreContext, application: OAuthApplication, scope: string | undefined): Promise<IssuedToken> {
  const scopes = grantableScopes(application, scope);
  return await insertToken(ctx.db, application.id, null, scopes, new Date());
}

/** An access token as a request presents it: who and what it grants. */
export interface TokenInfo {
  tokenId: bigint;
  applicationId: bigint;
  /** The owner's account; null for a client-credentials token. */
  accountId: bigint | null;
  scopes: string[];
}

/** The look-up of every authenticated request, prepared once per database. */
function prepareFindToken(db: Db) {
  return db
    .select()
    .from(oauthTokens)
    .where(and(sql`${oauthTokens.tokenHash} = ${sql.placeholder("hash")}`, isNull(oauthTokens.revokedAt)))
    .limit(1)
    .prepare("islet_find_token");
}

const preparedFindToken = new WeakMap<Db, ReturnType<typeof prepareFindToken>>();

/** Looks an access token up; null when unknown or revoked. */
export async function findToken(ctx: CoreContext, token: string): Promise<TokenInfo | null> {
  let query = preparedFindToken.get(ctx.db);
  if (query == null) preparedFindToken.set(ctx.db, (query = prepareFindToken(ctx.db)));
  const rows = await query.execute({ hash: hashToken(token) });
  const row = rows[0];
  if (row == null) return null;
  await noteTokenUsed(ctx, row.id, row.lastUsedAt);
  return { tokenId: row.id, applicationId: row.applicationId, accountId: row.accountId, scopes: row.scopes.split(" ") };
}

/**
 * Revokes a token issued to `application` (RFC 7009). An unknown or already
 * revoked token is fine; another app's token is `unauthorized_client`.
 */
export async function revokeToken(ctx: CoreContext, application: OAuthApplication, token: string): Promise<void> {
  const rows = await ctx.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, hashToken(token))).limit(1);
  const row = rows[0];
  if (row == null) return;
  if (row.applicationId !== application.id) throw new OAuthError("unauthorized_client");
  if (row.revokedAt != null) return;
  const revoked = await ctx.db
    .update(oauthTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(oauthTokens.id, row.id), isNull(oauthTokens.revokedAt)))
    .returning({ id: oauthTokens.id });
  if (revoked.length > 0) await ctx.events.emit("oauth.tokens_revoked", { tokenIds: [row.id] });
}

// ---------------------------------------------------------------------------
// Signing in

/** Counts events per key (a client address) in a sliding window and says when the limit is reached. */
export class RateLimiter {
  readonly max: number;
  readonly windowMs: number;
  readonly #events = new Map<string, number[]>();

  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  #recent(key: string, now: number): number[] {
    const times = (this.#events.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length === 0) this.#events.delete(key);
    else this.#events.set(key, times);
    return times;
  }

  /** Seconds until `key` may act again; 0 when it may now. */
  retryAfter(key: string, now = Date.now()): number {
    const times = this.#recent(key, now);
    if (times.length < this.max) return 0;
    const oldestCounted = times[times.length - this.max];
    return Math.max(1, Math.ceil((oldestCounted + this.windowMs - now) / 1000));
  }

  record(key: string, now = Date.now()): void {
    const times = this.#recent(key, now);
    times.push(now);
    this.#events.set(key, times.slice(-this.max));
    if (this.#events.size > MAX_LIMITER_KEYS) this.#prune(now);
  }

  reset(key: string): void {
    this.#events.delete(key);
  }

  #prune(now: number): void {
    for (const key of [...this.#events.keys()]) this.#recent(key, now);
    // Still too many: forget the oldest keys (a Map keeps insertion order).
    for (const key of this.#events.keys()) {
      if (this.#events.size <= MAX_LIMITER_KEYS) break;
      this.#events.delete(key);
    }
  }
}

const MAX_LIMITER_KEYS = 10_000;

interface Limiters {
  appRegistration: RateLimiter;
  passwordReset: RateLimiter;
}

const limiters = new WeakMap<CoreContext, Limiters>();

/** The rate limiters of this Islet process (in memory: each process counts alone). */
export function rateLimiters(ctx: CoreContext): Limiters {
  let found = limiters.get(ctx);
  if (found == null) {
    found = {
      appRegistration: new RateLimiter(APP_REGISTRATION_MAX, APP_REGISTRATION_WINDOW_MS),
      passwordReset: new RateLimiter(PASSWORD_RESET_MAX, PASSWORD_RESET_WINDOW_MS),
    };
    limiters.set(ctx, found);
  }
  return found;
}

function loginMatches(ctx: CoreContext, owner: Owner, login: string): boolean {
  const wanted = login.trim().toLowerCase().replace(/^@/, "");
  if (wanted === "") return false;
  const username = owner.account.username.toLowerCase();
  return wanted === owner.user.email.trim().toLowerCase() ||
    wanted === username ||
    wanted === `${username}@${ctx.config.localDomain.toLowerCase()}`;
}

export type SignInResult =
  /** `secondFactor`: the password was right, and a code is needed too (src/core/two-factor.ts). */
  | { ok: true; owner: Owner; secondFactor: boolean }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "throttled"; limit: "address" | "account"; retryAfterSeconds: number };

/**
 * Checks the owner's email or username and password. Refused without
 * checking while `clientKey` has too many recent failures, or while the
 * owner's account is locked after failures from anywhere (see
 * src/core/sign-in-limits.ts); `ip` is what the owner is told the
 * failures came from. With two-factor sign-in on, a right password is
 * only the first step (see src/core/two-factor.ts).
 */
export async function signIn(
  ctx: CoreContext,
  input: { login: string; password: string; clientKey: string; ip?: string | null },
): Promise<SignInResult> {
  const owner = await getOwner(ctx);
  const admission = await admitSignInAttempt(ctx, {
    accountId: owner?.account.id ?? null,
    clientKey: input.clientKey,
    ip: input.ip ?? null,
  });
  if (!admission.ok) return { ok: false, reason: "throttled", limit: admission.limit, retryAfterSeconds: admission.retryAfterSeconds };
  let valid = false;
  if (owner != null && input.password.length > 0 && input.password.length <= MAX_PASSWORD_LENGTH && input.login.length <= 320) {
    // The password is checked even when the login is wrong: no timing hint.
    const passwordOk = await verifyPassword(input.password, owner.user.passwordHash);
    valid = passwordOk && loginMatches(ctx, owner, input.login);
  }
  if (!valid || owner == null) {
    await signInAttemptFailed(ctx, admission.attempt);
    return { ok: false, reason: "invalid" };
  }
  // With two factors the attempt stays counted until the code is right too.
  if (requiresTwoFactor(owner)) return { ok: true, owner, secondFactor: true };
  await signInAttemptSucceeded(ctx, admission.attempt);
  return { ok: true, owner, secondFactor: false };
}

// ---------------------------------------------------------------------------
// Browser sessions

export interface WebSession {
  accountId: bigint;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

/** Starts a browser session for the owner; returns the secret id for the cookie. */
export async function createWebSession(
  ctx: CoreContext,
  input: { accountId: bigint; userAgent?: string | null; ip?: string | null },
): Promise<{ id: string; expiresAt: Date }> {
  const id = randomSecret();
  const now = Date.now();
  const expiresAt = new Date(now + SESSION_LIFETIME_MS);
  await ctx.db.delete(webSessions).where(lt(webSessions.expiresAt, new Date(now)));
  await ctx.db.insert(webSessions).values({
    idHash: hashToken(id),
    accountId: input.accountId,
    userAgent: input.userAgent?.slice(0, 500) ?? null,
    ip: input.ip ?? null,
    expiresAt,
  });
  return { id, expiresAt };
}

/** The live session with this id, of the current owner; null otherwise. */
export async function findWebSession(ctx: CoreContext, id: string | null | undefined): Promise<WebSession | null> {
  if (id == null || id === "" || id.length > 200) return null;
  const rows = await ctx.db
    .select({ accountId: webSessions.accountId, expiresAt: webSessions.expiresAt, lastUsedAt: webSessions.lastUsedAt })
    .from(webSessions)
    .innerJoin(users, eq(users.accountId, webSessions.accountId))
    .where(and(eq(webSessions.idHash, hashToken(id)), gt(webSessions.expiresAt, new Date())))
    .limit(1);
  return rows[0] ?? null;
}

/** Ends a session (signing out); unknown ids are fine. */
export async function endWebSession(ctx: CoreContext, id: string | null | undefined): Promise<void> {
  if (id == null || id === "") return;
  await ctx.db.delete(webSessions).where(eq(webSessions.idHash, hashToken(id)));
}

/** Ends every browser session of an account (its password changed); returns how many were live. */
export async function endAllWebSessions(ctx: Pick<CoreContext, "db">, accountId: bigint): Promise<number> {
  const ended = await ctx.db
    .delete(webSessions)
    .where(eq(webSessions.accountId, accountId))
    .returning({ expiresAt: webSessions.expiresAt });
  const now = Date.now();
  return ended.filter((session) => session.expiresAt.getTime() > now).length;
}
