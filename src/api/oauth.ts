/**
 * OAuth 2 as Mastodon clients expect it, and the owner's sign-in on the
 * browser:
 *
 * - `POST /api/v1/apps`, `GET /api/v1/apps/verify_credentials`, `POST /api/v1/accounts` (sign-up: closed)
 * - `GET|POST /oauth/authorize` (sign-in form, consent page, decision)
 * - `GET|POST /auth/sign_in`, `POST /auth/sign_out`
 * - `POST /oauth/token` (authorization_code with PKCE S256, client_credentials)
 * - `POST /oauth/revoke`, `GET|POST /oauth/userinfo`
 * - `GET /.well-known/oauth-authorization-server` (RFC 8414)
 *
 * Browser forms are protected by CSRF tokens and the owner's session lives
 * in a cookie: see src/web/browser.ts.
 */
import { Hono, type Context } from "hono";
import { getCookie } from "hono/cookie";
import { findAccountById, getOwner, type Owner } from "../core/accounts.ts";
import { completeTwoFactorSignIn, createTwoFactorChallenge } from "../core/two-factor.ts";
import {
  applicationRegistrationWait,
  applicationScopes,
  AuthorizationError,
  describeOAuthError,
  authenticateClient,
  checkAuthorizationRequest,
  createAuthorizationCode,
  createWebSession,
  endWebSession,
  exchangeAuthorizationCode,
  findApplicationByClientId,
  findApplicationById,
  issueClientCredentialsToken,
  OAuthError,
  OOB_REDIRECT_URI,
  registerApplication,
  revokeToken,
  signIn,
  type AuthorizationParams,
  type AuthorizationRequest,
  type IssuedToken,
  type OAuthApplication,
} from "../core/oauth.ts";
import { BrowserState } from "../web/browser.ts";
import { vapidPublicKey } from "../push/vapid.ts";
import { clientIp, rateLimitKey } from "../web/client-ip.ts";
import {
  AUTH_PAGE_HEADERS,
  codePage,
  consentPage,
  deniedPage,
  errorPage,
  signInPage,
  tooManyAttemptsPage,
  twoFactorPage,
} from "../web/authorize.ts";
import { bearerToken, findToken, requireUser, type ApiEnv } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, unprocessable } from "./errors.ts";
import { bodyParams, read, type Params } from "./params.ts";
import { GRANULAR_SCOPES, parseScopes, scopeAllows, TOP_SCOPES } from "../core/scopes.ts";

/** Mastodon's Application entity (no secrets). */
export function serializeApplication(application: OAuthApplication, vapidKey: string) {
  return {
    id: application.id.toString(),
    name: application.name,
    website: application.website,
    scopes: applicationScopes(application),
    redirect_uri: application.redirectUris.join("\n"),
    redirect_uris: application.redirectUris,
    vapid_key: vapidKey,
  };
}

/** Mastodon's CredentialApplication entity: the Application with its client credentials. */
export function serializeCredentialApplication(application: OAuthApplication, vapidKey: string) {
  return {
    ...serializeApplication(application, vapidKey),
    client_id: application.clientId,
    client_secret: application.clientSecret,
    client_secret_expires_at: 0,
  };
}

/** Mastodon's Token entity. */
export function serializeToken(issued: IssuedToken) {
  return {
    access_token: issued.token,
    token_type: "Bearer",
    scope: issued.scopes.join(" "),
    created_at: Math.floor(issued.createdAt.getTime() / 1000),
  };
}

/** The RFC 8414 metadata, as Mastodon publishes it. */
export function authorizationServerMetadata(origin: string) {
  return {
    issuer: `${origin}/`,
    service_documentation: "https://docs.joinmastodon.org/",
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    app_registration_endpoint: `${origin}/api/v1/apps`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    userinfo_endpoint: `${origin}/oauth/userinfo`,
    scopes_supported: [...TOP_SCOPES, ...GRANULAR_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment"],
    code_challenge_methods_supported: ["S256"],
    grant_types_supported: ["authorization_code", "client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
  };
}

// ---------------------------------------------------------------------------
// Request helpers

/** A parameter as a non-empty string; a list or object is malformed. */
function oauthParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value == null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  throw new OAuthError("invalid_request", `The ${name} parameter must be a string.`);
}

/** The body and query of an OAuth endpoint; unreadable is `invalid_request`. */
async function oauthParams(c: Context): Promise<Params> {
  try {
    return await bodyParams(c);
  } catch (error) {
    if (error instanceof ApiError) throw new OAuthError("invalid_request", error.message);
    throw error;
  }
}

/** The string fields of a browser form (and the query); an unreadable form reads as empty. */
async function formFields(c: Context): Promise<Record<string, string>> {
  let params: Params;
  try {
    params = await bodyParams(c);
  } catch {
    params = {};
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "string" && value !== "") fields[key] = value;
  }
  return fields;
}

function queryFields(c: Context): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) {
    if (value !== "" && !(key in fields)) fields[key] = value;
  }
  return fields;
}

function authorizationParams(fields: Record<string, string | undefined>): AuthorizationParams {
  return {
    responseType: fields.response_type,
    clientId: fields.client_id,
    redirectUri: fields.redirect_uri,
    scope: fields.scope,
    state: fields.state,
    codeChallenge: fields.code_challenge,
    codeChallengeMethod: fields.code_challenge_method,
    responseMode: fields.response_mode,
  };
}

function truthy(value: string | undefined): boolean {
  return value != null && ["true", "1", "yes", "on", "t"].includes(value.toLowerCase());
}

/** The GET /oauth/authorize URL of a request, without `force_login`, as a local path. */
function authorizePath(fields: Readonly<Record<string, string | null | undefined>>): string {
  const search = new URLSearchParams();
  for (const name of ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "response_mode", "lang"]) {
    const value = fields[name];
    if (value != null) search.set(name, value);
  }
  return `/oauth/authorize?${search}`;
}

/** Appends parameters to a redirect URI as it was registered, in its query or fragment. */
export function redirectWithParams(uri: string, params: Record<string, string | null | undefined>, mode: "query" | "fragment" = "query"): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value != null) search.append(key, value);
  if (mode === "fragment") return `${uri}#${search}`;
  return `${uri}${uri.includes("?") ? "&" : "?"}${search}`;
}

/** A local path to return to after signing in or out; anything else becomes `/`. */
function safeReturnTo(value: string | undefined, origin: string): string {
  if (value == null || !/^\/(?![/\\])/.test(value) || /[\u0000-\u001f\s\\]/.test(value)) return "/";
  try {
    const url = new URL(value, origin);
    if (url.origin !== origin) return "/";
    return `${url.pathname}${url.search}`;
  } catch {
    return "/";
  }
}

// ---------------------------------------------------------------------------
// Pages

function html(c: Context, body: string, status: 200 | 400 | 403 | 422 | 429 = 200, headers: Record<string, string> = {}): Response {
  return c.html(body, status, { ...AUTH_PAGE_HEADERS, ...headers });
}

// ---------------------------------------------------------------------------
// Routes

export function oauthRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const core = deps.core;
  const origin = core.config.origin;
  const browser = new BrowserState(core);
  const app = new Hono<ApiEnv>();

  // -- Applications ----------------------------------------------------------

  app.post("/api/v1/apps", async (c) => {
    const clientKey = rateLimitKey(clientIp(c, core.config.trustedProxyIps));
    const wait = applicationRegistrationWait(core, clientKey);
    if (wait > 0) return c.json({ error: "Too many requests" }, 429, { "Retry-After": String(wait) });
    const params = await bodyParams(c);
    const rawUris = params.redirect_uris ?? params.redirect_uri;
    let redirectUris: string[] = [];
    if (typeof rawUris === "string") redirectUris = rawUris.split(/\s+/);
    else if (Array.isArray(rawUris) && rawUris.every((uri) => typeof uri === "string")) redirectUris = rawUris.flatMap((uri: string) => uri.split(/\s+/));
    else if (rawUris != null) throw unprocessable("redirect_uris must be a string or a list of strings");
    const rawScopes = params.scopes;
    let scopes: string[] = [];
    if (typeof rawScopes === "string") scopes = parseScopes(rawScopes);
    else if (Array.isArray(rawScopes) && rawScopes.every((scope) => typeof scope === "string")) scopes = parseScopes(rawScopes.join(" "));
    else if (rawScopes != null) throw unprocessable("scopes must be a string");
    const application = await registerApplication(core, {
      name: read.string(params, "client_name") ?? "",
      redirectUris: redirectUris.filter((uri) => uri !== ""),
      scopes,
      website: read.string(params, "website") ?? null,
    }, clientKey);
    return c.json(serializeCredentialApplication(application, vapidPublicKey(core.config)));
  });

  app.get("/api/v1/apps/verify_credentials", async (c) => {
    const token = c.get("token");
    if (token == null) throw new ApiError(401, "The access token is invalid");
    const application = await findApplicationById(core, token.applicationId);
    if (application == null) throw new ApiError(401, "The access token is invalid");
    return c.json(serializeApplication(application, vapidPublicKey(core.config)));
  });

  // Sign-up: one person's server has none (`registrations: false` in the
  // instance answers), and says so as Mastodon does with registrations closed.
  app.post("/api/v1/accounts", (c) => {
    const token = c.get("token");
    if (token == null) throw new ApiError(401, "The access token is invalid");
    if (!scopeAllows(token.scopes, "write:accounts")) throw new ApiError(403, "This action is outside the authorized scopes");
    throw new ApiError(403, "This action is not allowed");
  });

  // Resending a confirmation e-mail is for accounts awaiting one; the
  // owner's account is confirmed from the start.
  app.post("/api/v1/emails/confirmations", (c) => {
    requireUser(c, "write:accounts");
    throw new ApiError(403, "This method is only available while the e-mail is awaiting confirmation");
  });

  // -- Authorization (browser) -------------------------------------------------

  /** An authorization error: told to the app at its redirect URI, or shown. */
  const authorizationFailure = (c: Context, error: AuthorizationError): Response => {
    if (error.redirect != null && error.redirect.uri !== OOB_REDIRECT_URI) {
      const target = redirectWithParams(
        error.redirect.uri,
        { error: error.code, error_description: error.description, state: error.redirect.state },
        error.redirect.responseMode,
      );
      c.header("Cache-Control", "no-store");
      return c.redirect(target, 302);
    }
    return html(c, errorPage("Authorization failed", `${error.description} (${error.code})`), 400);
  };

  const showSignIn = async (
    c: Context,
    options: { returnTo: string; error?: string; login?: string; status?: 200 | 403 | 422 },
  ): Promise<Response> => {
    let appName: string | null = null;
    if (options.returnTo.startsWith("/oauth/authorize?")) {
      const clientId = new URLSearchParams(options.returnTo.slice("/oauth/authorize?".length)).get("client_id");
      if (clientId != null) appName = (await findApplicationByClientId(core, clientId))?.name ?? null;
    }
    return html(c, signInPage({
      action: "/auth/sign_in",
      returnTo: options.returnTo,
      csrfToken: browser.csrfToken(c, "sign_in", null),
      login: options.login,
      error: options.error ?? null,
      appName,
      domain: core.config.localDomain,
    }), options.status ?? 200);
  };

  const showConsent = async (c: Context, request: AuthorizationRequest, sessionId: string): Promise<Response> => {
    const owner = await getOwner(core);
    const handle = owner == null ? core.config.localDomain : `@${owner.account.username}@${core.config.localDomain}`;
    const fields = {
      response_type: "code",
      client_id: request.application.clientId,
      redirect_uri: request.redirectUri,
      scope: request.scopes.join(" "),
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: request.codeChallengeMethod,
      response_mode: request.responseMode === "query" ? null : request.responseMode,
    };
    return html(c, consentPage({
      appName: request.application.name,
      website: request.application.website,
      scopes: request.scopes,
      redirectTarget: request.redirectUri === OOB_REDIRECT_URI ? null : request.redirectUri,
      handle,
      action: "/oauth/authorize",
      fields,
      csrfToken: browser.csrfToken(c, "authorize", sessionId),
      signOutAction: "/auth/sign_out",
      signOutReturnTo: authorizePath(fields),
      signOutCsrfToken: browser.csrfToken(c, "sign_out", sessionId),
    }));
  };

  app.get("/oauth/authorize", async (c) => {
    const query = queryFields(c);
    let request: AuthorizationRequest;
    try {
      request = await checkAuthorizationRequest(core, authorizationParams(query));
    } catch (error) {
      if (error instanceof AuthorizationError) return authorizationFailure(c, error);
      throw error;
    }
    const current = truthy(query.force_login) ? null : await browser.session(c);
    if (current == null) return await showSignIn(c, { returnTo: authorizePath(query) });
    return await showConsent(c, request, current.id);
  });

  app.post("/oauth/authorize", async (c) => {
    const form = await formFields(c);
    const current = await browser.session(c);
    if (current == null) {
      return await showSignIn(c, { returnTo: authorizePath(form), error: "Your session has ended. Sign in again to continue." });
    }
    if (!browser.checkCsrf(c, "authorize", form.authenticity_token, current.id)) {
      return html(c, errorPage(
        "Request not accepted",
        "The form had expired or was not sent from this site, so nothing was authorized.",
        { href: authorizePath(form), text: "Start again" },
      ), 403);
    }
    let request: AuthorizationRequest;
    try {
      request = await checkAuthorizationRequest(core, authorizationParams(form));
    } catch (error) {
      if (error instanceof AuthorizationError) return authorizationFailure(c, error);
      throw error;
    }
    const oob = request.redirectUri === OOB_REDIRECT_URI;
    if (form.decision === "deny") {
      if (oob) return html(c, deniedPage(request.application.name));
      c.header("Cache-Control", "no-store");
      return c.redirect(redirectWithParams(request.redirectUri, {
        error: "access_denied",
        error_description: describeOAuthError("access_denied"),
        state: request.state,
      }, request.responseMode), 302);
    }
    if (form.decision !== "authorize") {
      return html(c, errorPage("Request not understood", "Choose Authorize or Deny."), 400);
    }
    const code = await createAuthorizationCode(core, request, current.session.accountId, { ip: clientIp(c, core.config.trustedProxyIps) });
    if (oob) return html(c, codePage(request.application.name, code));
    c.header("Cache-Control", "no-store");
    return c.redirect(redirectWithParams(request.redirectUri, { code, state: request.state }, request.responseMode), 302);
  });

  // -- Signing in and out --------------------------------------------------------

  app.get("/auth/sign_in", async (c) => {
    const returnTo = safeReturnTo(c.req.query("return_to"), origin);
    if (await browser.session(c) != null) return c.redirect(returnTo, 303);
    return await showSignIn(c, { returnTo });
  });

  app.post("/auth/sign_in", async (c) => {
    const form = await formFields(c);
    const returnTo = safeReturnTo(form.return_to, origin);
    if (!browser.checkCsrf(c, "sign_in", form.authenticity_token, null)) {
      return await showSignIn(c, {
        returnTo,
        login: form.login,
        error: "The form had expired or was not sent from this site. Try again.",
        status: 403,
      });
    }
    const ip = clientIp(c, core.config.trustedProxyIps);
    const showCode = (challenge: string, error: string | null, status: 200 | 422) => html(c, twoFactorPage({
      action: "/auth/sign_in",
      returnTo,
      csrfToken: browser.csrfToken(c, "sign_in", null),
      challenge,
      error,
    }), status);
    let owner: Owner;
    if (form.challenge != null) {
      // The second step: the code for a sign-in whose password was right.
      const second = await completeTwoFactorSignIn(core, { challenge: form.challenge, code: form.otp_attempt ?? "", clientKey: rateLimitKey(ip), ip });
      if (!second.ok) {
        if (second.reason === "throttled") {
          return html(c, tooManyAttemptsPage(second.retryAfterSeconds, second.limit), 429, { "Retry-After": String(second.retryAfterSeconds) });
        }
        if (second.reason === "expired") {
          return await showSignIn(c, { returnTo, error: "That took too long. Sign in again.", status: 422 });
        }
        return showCode(form.challenge, "Wrong or already used code.", 422);
      }
      owner = second.owner;
    } else {
      const result = await signIn(core, { login: form.login ?? "", password: form.password ?? "", clientKey: rateLimitKey(ip), ip });
      if (!result.ok) {
        if (result.reason === "throttled") {
          return html(c, tooManyAttemptsPage(result.retryAfterSeconds, result.limit), 429, { "Retry-After": String(result.retryAfterSeconds) });
        }
        return await showSignIn(c, { returnTo, login: form.login, error: "Wrong email, username or password.", status: 422 });
      }
      if (result.secondFactor) return showCode(await createTwoFactorChallenge(core, result.owner), null, 200);
      owner = result.owner;
    }
    // A new session id at every sign-in: a planted cookie is never promoted.
    await endWebSession(core, getCookie(c, browser.sessionCookie));
    const session = await createWebSession(core, {
      accountId: owner.account.id,
      userAgent: c.req.header("User-Agent") ?? null,
      ip,
    });
    browser.setSession(c, session.id);
    c.header("Cache-Control", "no-store");
    return c.redirect(returnTo, 303);
  });

  app.post("/auth/sign_out", async (c) => {
    const form = await formFields(c);
    const returnTo = safeReturnTo(form.return_to, origin);
    const current = await browser.session(c);
    if (current != null) {
      if (!browser.checkCsrf(c, "sign_out", form.authenticity_token, current.id)) {
        return html(c, errorPage("Request not accepted", "The form had expired or was not sent from this site, so you are still signed in."), 403);
      }
      await endWebSession(core, current.id);
    }
    browser.clearSession(c);
    return c.redirect(returnTo, 303);
  });

  // -- Tokens ----------------------------------------------------------------------

  const oauthFailure = (c: Context, error: OAuthError, basic: boolean): Response => {
    const status = error.code === "invalid_client" ? 401 : error.code === "unauthorized_client" ? 403 : 400;
    const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };
    if (status === 401 && basic) headers["WWW-Authenticate"] = `Basic realm="${core.config.localDomain}", charset="UTF-8"`;
    return c.json({ error: error.code, error_description: error.description }, status, headers);
  };

  /** Client credentials from HTTP Basic (RFC 6749 §2.3.1) or from the body. */
  const clientCredentials = (c: Context, params: Params): { clientId?: string; clientSecret?: string; basic: boolean } => {
    const header = c.req.header("Authorization");
    if (header != null && /^basic\s/i.test(header.trim())) {
      const match = /^basic\s+([A-Za-z0-9+/=_-]+)$/i.exec(header.trim());
      const decoded = match == null ? "" : Buffer.from(match[1], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return { basic: true };
      const unescape = (text: string) => {
        try {
          return decodeURIComponent(text.replace(/\+/g, " "));
        } catch {
          return text;
        }
      };
      return { clientId: unescape(decoded.slice(0, colon)), clientSecret: unescape(decoded.slice(colon + 1)), basic: true };
    }
    return { clientId: oauthParam(params, "client_id"), clientSecret: oauthParam(params, "client_secret"), basic: false };
  };

  app.post("/oauth/token", async (c) => {
    let basic = false;
    try {
      const params = await oauthParams(c);
      const grantType = oauthParam(params, "grant_type");
      if (grantType == null) throw new OAuthError("invalid_request", "The grant_type parameter is missing.");
      if (grantType !== "authorization_code" && grantType !== "client_credentials") throw new OAuthError("unsupported_grant_type");
      const credentials = clientCredentials(c, params);
      basic = credentials.basic;
      const application = await authenticateClient(core, credentials.clientId, credentials.clientSecret);
      const issued = grantType === "authorization_code"
        ? await exchangeAuthorizationCode(core, application, {
          code: oauthParam(params, "code"),
          redirectUri: oauthParam(params, "redirect_uri"),
          codeVerifier: oauthParam(params, "code_verifier"),
        })
        : await issueClientCredentialsToken(core, application, oauthParam(params, "scope"));
      return c.json(serializeToken(issued), 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
    } catch (error) {
      if (error instanceof OAuthError) return oauthFailure(c, error, basic);
      throw error;
    }
  });

  app.post("/oauth/revoke", async (c) => {
    let basic = false;
    try {
      const params = await oauthParams(c);
      const credentials = clientCredentials(c, params);
      basic = credentials.basic;
      const application = await authenticateClient(core, credentials.clientId, credentials.clientSecret);
      const token = oauthParam(params, "token");
      if (token == null) throw new OAuthError("unauthorized_client");
      await revokeToken(core, application, token);
      return c.json({}, 200, { "Cache-Control": "no-store" });
    } catch (error) {
      if (error instanceof OAuthError) return oauthFailure(c, error, basic);
      throw error;
    }
  });

  const userinfo = async (c: Context) => {
    const raw = bearerToken(c);
    const token = raw == null ? null : await findToken(core, raw);
    if (token == null) throw new ApiError(401, "The access token is invalid");
    if (token.accountId == null) throw new ApiError(422, "This method requires an authenticated user");
    if (!scopeAllows(token.scopes, "profile")) throw new ApiError(403, "This action is outside the authorized scopes");
    const account = await findAccountById(core, token.accountId);
    if (account == null) throw new ApiError(401, "The access token is invalid");
    c.header("Cache-Control", "no-store");
    return c.json({
      iss: `${origin}/`,
      sub: account.uri,
      name: account.displayName || account.username,
      preferred_username: account.username,
      profile: account.url ?? `${origin}/@${account.username}`,
      picture: account.avatarUrl ?? `${origin}/avatars/original/missing.png`,
    });
  };
  app.get("/oauth/userinfo", userinfo);
  app.post("/oauth/userinfo", userinfo);

  app.get("/.well-known/oauth-authorization-server", (c) => {
    return c.json(authorizationServerMetadata(origin), 200, {
      "Access-Control-Allow-Origin": "*",
      "Cache-Control": "public, max-age=3600",
    });
  });

  return app;
}
