/**
 * OAuth 2 as Mastodon clients use it: app registration, the browser flow
 * (sign-in, consent, code in the redirect or shown out of band), the token
 * endpoint with PKCE and client credentials, revocation, the server
 * metadata, and the defences around them (CSRF, sign-in rate limit,
 * single-use and expiring codes, redirect URI checks). Also the client
 * address logic of src/web/client-ip.ts.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { hashToken } from "../../src/core/token-hash.ts";
import { oauthAuthorizationCodes, oauthTokens, webSessions } from "../../src/db/schema.ts";
import { APP_REGISTRATION_MAX, RateLimiter } from "../../src/core/oauth.ts";
import { ipInRange, parseIp, rateLimitKey, resolveClientIp } from "../../src/web/client-ip.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { Browser, formFields } from "../web/browser.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

const PASSWORD = "a long test password";
const OOB = "urn:ietf:wg:oauth:2.0:oob";
const CALLBACK = "https://client.example/callback";

type Json = Record<string, any>;

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

interface App {
  id: string;
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

async function registerApp(instance: TestInstance, redirectUris: string | string[] = CALLBACK, scopes = "read write follow push"): Promise<App> {
  const response = await api(instance, "POST", "/api/v1/apps", {
    body: { client_name: "Test App", redirect_uris: redirectUris, scopes, website: "https://client.example" },
  });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as App;
}

function authorizePath(app: App, options: { redirectUri?: string; scope?: string; state?: string; challenge?: string; extra?: Record<string, string> } = {}): string {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: app.client_id,
    redirect_uri: options.redirectUri ?? app.redirect_uris[0],
    scope: options.scope ?? "read write follow push",
  });
  if (options.state != null) query.set("state", options.state);
  if (options.challenge != null) {
    query.set("code_challenge", options.challenge);
    query.set("code_challenge_method", "S256");
  }
  for (const [key, value] of Object.entries(options.extra ?? {})) query.set(key, value);
  return `/oauth/authorize?${query}`;
}

/** Signs the browser in from the sign-in page `html` (which came from GET `path`). */
async function signIn(browser: Browser, html: string, login = "owner", password = PASSWORD) {
  const fields = formFields(html, "/auth/sign_in");
  return await browser.post("/auth/sign_in", { ...fields, login, password });
}

/** Goes through sign-in (if needed) and consent; returns the decision's response. */
async function authorize(browser: Browser, path: string, decision: "authorize" | "deny" = "authorize") {
  let page = await browser.get(path);
  assert.equal(page.response.status, 200, page.text.slice(0, 500));
  if (page.text.includes('action="/auth/sign_in"')) {
    const signedIn = await signIn(browser, page.text);
    assert.equal(signedIn.response.status, 303, signedIn.text.slice(0, 500));
    page = await browser.get(signedIn.response.headers.get("location")!);
    assert.equal(page.response.status, 200);
  }
  const fields = formFields(page.text, "/oauth/authorize");
  return await browser.post("/oauth/authorize", { ...fields, decision });
}

function codeFrom(response: Response, redirectUri = CALLBACK): URL {
  assert.equal(response.status, 302);
  const location = response.headers.get("location");
  assert.ok(location != null && location.startsWith(`${redirectUri}?`), `redirected to ${location}`);
  return new URL(location);
}

async function token(instance: TestInstance, body: Record<string, string>, options: { form?: boolean; headers?: Record<string, string> } = {}) {
  return await api(instance, "POST", "/oauth/token", {
    body: options.form ? new URLSearchParams(body) : body,
    headers: options.headers,
  });
}

let ipCounter = 0;
/** A distinct documentation-range address per browser, so rate limits do not leak across tests. */
function nextIp(): string {
  ipCounter++;
  return `198.51.100.${ipCounter}`;
}

describe("client addresses (src/web/client-ip.ts)", () => {
  test("parses IPv4, IPv6 and IPv4-mapped IPv6", () => {
    assert.deepEqual(parseIp("192.0.2.1"), { version: 4, value: 0xc0000201n });
    assert.deepEqual(parseIp("::ffff:192.0.2.1"), { version: 4, value: 0xc0000201n });
    assert.deepEqual(parseIp("[2001:db8::1]"), { version: 6, value: (0x20010db8n << 96n) | 1n });
    assert.deepEqual(parseIp("fe80::1%eth0"), { version: 6, value: (0xfe80n << 112n) | 1n });
    assert.equal(parseIp("not an address"), null);
    assert.equal(parseIp("256.1.1.1"), null);
  });

  test("matches addresses against CIDR ranges", () => {
    assert.equal(ipInRange("10.1.2.3", "10.0.0.0/8"), true);
    assert.equal(ipInRange("11.1.2.3", "10.0.0.0/8"), false);
    assert.equal(ipInRange("192.168.1.200", "192.168.1.128/25"), true);
    assert.equal(ipInRange("192.168.1.100", "192.168.1.128/25"), false);
    assert.equal(ipInRange("192.0.2.7", "192.0.2.7"), true);
    assert.equal(ipInRange("192.0.2.8", "192.0.2.7"), false);
    assert.equal(ipInRange("::ffff:10.9.9.9", "10.0.0.0/8"), true);
    assert.equal(ipInRange("2001:db8:1::5", "2001:db8::/32"), true);
    assert.equal(ipInRange("2001:db9::5", "2001:db8::/32"), false);
    assert.equal(ipInRange("10.0.0.1", "2001:db8::/32"), false);
    assert.equal(ipInRange("1.2.3.4", "0.0.0.0/0"), true);
    assert.equal(ipInRange("1.2.3.4", "10.0.0.0/33"), false);
  });

  test("X-Forwarded-For counts only behind a trusted proxy, read from the nearest hop", () => {
    const trusted = ["127.0.0.1", "10.0.0.0/8"];
    // The peer is not a proxy: the header is anyone's invention.
    assert.equal(resolveClientIp("203.0.113.9", "198.51.100.1", trusted), "203.0.113.9");
    // Behind the proxy: the hop it appended.
    assert.equal(resolveClientIp("127.0.0.1", "6.6.6.6, 198.51.100.1", trusted), "198.51.100.1");
    // Behind two proxies: skip the inner trusted one.
    assert.equal(resolveClientIp("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.5", trusted), "198.51.100.1");
    // Every hop trusted: the farthest.
    assert.equal(resolveClientIp("127.0.0.1", "10.0.0.7, 10.0.0.5", trusted), "10.0.0.7");
    // Ports and brackets are stripped; mapped addresses are shown as IPv4.
    assert.equal(resolveClientIp("::ffff:127.0.0.1", "[2001:db8::7]:443", trusted), "2001:db8::7");
    assert.equal(resolveClientIp("127.0.0.1", "198.51.100.1:5555", trusted), "198.51.100.1");
    // Garbage where the proxy's hop should be: the proxy itself.
    assert.equal(resolveClientIp("127.0.0.1", "nonsense", trusted), "127.0.0.1");
    assert.equal(resolveClientIp("127.0.0.1", null, trusted), "127.0.0.1");
    assert.equal(resolveClientIp(null, "198.51.100.1", trusted), null);
  });

  test("the rate limiter counts within a sliding window", () => {
    const limiter = new RateLimiter(3, 60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfter("a", t0 + i * 1000), 0);
      limiter.record("a", t0 + i * 1000);
    }
    assert.equal(limiter.retryAfter("a", t0 + 2500), 58, "waits until the oldest counted event leaves the window");
    assert.equal(limiter.retryAfter("b", t0 + 2500), 0, "other keys are free");
    assert.equal(limiter.retryAfter("a", t0 + 60_001), 0, "the window slides");
    limiter.record("a", t0 + 60_001);
    assert.ok(limiter.retryAfter("a", t0 + 60_002) > 0);
    limiter.reset("a");
    assert.equal(limiter.retryAfter("a", t0 + 60_002), 0);
  });

  test("IPv6 clients are limited per /64", () => {
    assert.equal(rateLimitKey("2001:db8:1:2:aaaa::1"), rateLimitKey("2001:db8:1:2:bbbb::9"));
    assert.notEqual(rateLimitKey("2001:db8:1:2::1"), rateLimitKey("2001:db8:1:3::1"));
    assert.equal(rateLimitKey("192.0.2.1"), "192.0.2.1");
  });
});

for (const kind of databaseKinds()) {
  describe(`OAuth (${kind})`, () => {
    let instance: TestInstance;

    before(async () => {
      instance = await startInstance(kind, { env: { TRUSTED_PROXY_IP: "127.0.0.0/8,::1" } });
    });
    after(async () => {
      await instance?.close();
    });

    // -- POST /api/v1/apps ---------------------------------------------------

    test("registering an app returns a CredentialApplication", async () => {
      const response = await api(instance, "POST", "/api/v1/apps", {
        body: { client_name: "Elk-like", redirect_uris: [CALLBACK, OOB], scopes: "read write push", website: "https://client.example" },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const app = response.body as Json;
      assert.equal(app.name, "Elk-like");
      assert.equal(app.website, "https://client.example");
      assert.deepEqual(app.scopes, ["read", "write", "push"]);
      assert.deepEqual(app.redirect_uris, [CALLBACK, OOB]);
      assert.equal(app.redirect_uri, `${CALLBACK}\n${OOB}`);
      assert.equal(app.client_secret_expires_at, 0);
      // The server's VAPID public key: an uncompressed P-256 point, base64url.
      assert.equal(app.vapid_key, instance.islet.config.vapid.publicKey);
      assert.equal(Buffer.from(app.vapid_key, "base64url").length, 65);
      assert.match(app.id, /^\d+$/);
      assert.equal(typeof app.client_id, "string");
      assert.ok(app.client_id.length >= 32 && app.client_secret.length >= 32);
      assert.notEqual(app.client_id, app.client_secret);
    });

    test("the registered app matches the Mastodon CredentialApplication schema", { skip: skipContract }, async () => {
      const response = await api(instance, "POST", "/api/v1/apps", { body: { client_name: "Schema", redirect_uris: OOB } });
      assert.equal(response.status, 200);
      assertMatchesSchema("CredentialApplication", response.body);
    });

    test("apps can be registered with a form, newline-separated URIs, or query parameters", async () => {
      const form = new URLSearchParams({ client_name: "Form app", redirect_uris: `${CALLBACK}\nmyapp://oauth`, scopes: "read+write" });
      const viaForm = await api(instance, "POST", "/api/v1/apps", { body: form });
      assert.equal(viaForm.status, 200, JSON.stringify(viaForm.body));
      assert.deepEqual(viaForm.body.redirect_uris, [CALLBACK, "myapp://oauth"]);
      assert.deepEqual(viaForm.body.scopes, ["read", "write"]);

      const multi = new URLSearchParams();
      multi.append("client_name", "Array form app");
      multi.append("redirect_uris[]", CALLBACK);
      multi.append("redirect_uris[]", OOB);
      const viaArray = await api(instance, "POST", "/api/v1/apps", { body: multi });
      assert.equal(viaArray.status, 200, JSON.stringify(viaArray.body));
      assert.deepEqual(viaArray.body.redirect_uris, [CALLBACK, OOB]);
      assert.deepEqual(viaArray.body.scopes, ["read"], "scopes default to read");

      const query = new URLSearchParams({ client_name: "Query app", redirect_uris: OOB });
      const viaQuery = await api(instance, "POST", `/api/v1/apps?${query}`);
      assert.equal(viaQuery.status, 200, JSON.stringify(viaQuery.body));
      assert.equal(viaQuery.body.name, "Query app");
      assert.equal(viaQuery.body.website, null);
    });

    test("registering an app with bad input is a 422", async () => {
      const cases: [string, Json][] = [
        ["missing name", { redirect_uris: CALLBACK }],
        ["blank name", { client_name: "  ", redirect_uris: CALLBACK }],
        ["missing redirect_uris", { client_name: "x" }],
        ["relative redirect URI", { client_name: "x", redirect_uris: "/callback" }],
        ["not a URI", { client_name: "x", redirect_uris: "not a uri" }],
        ["javascript: redirect URI", { client_name: "x", redirect_uris: "javascript:alert(1)" }],
        ["redirect URI with a fragment", { client_name: "x", redirect_uris: `${CALLBACK}#frag` }],
        ["unknown scope", { client_name: "x", redirect_uris: CALLBACK, scopes: "read launch:missiles" }],
        ["invalid website", { client_name: "x", redirect_uris: CALLBACK, website: "not a website" }],
        ["name too long", { client_name: "x".repeat(61), redirect_uris: CALLBACK }],
      ];
      for (const [what, body] of cases) {
        const response = await api(instance, "POST", "/api/v1/apps", { body });
        assert.equal(response.status, 422, `${what}: ${response.status} ${JSON.stringify(response.body)}`);
        assert.equal(typeof response.body.error, "string", what);
      }
    });

    test("app registrations are rate-limited per address", async () => {
      const headers = { "X-Forwarded-For": "203.0.113.77" };
      const body = { client_name: "Flood", redirect_uris: OOB };
      for (let i = 0; i < APP_REGISTRATION_MAX; i++) {
        const response = await api(instance, "POST", "/api/v1/apps", { body, headers });
        assert.equal(response.status, 200, `registration ${i + 1}`);
      }
      const limited = await api(instance, "POST", "/api/v1/apps", { body, headers });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error, "Too many requests");
      assert.ok(Number(limited.headers.get("retry-after")) > 0);
      const elsewhere = await api(instance, "POST", "/api/v1/apps", { body, headers: { "X-Forwarded-For": "203.0.113.78" } });
      assert.equal(elsewhere.status, 200);
    });

    test("GET /api/v1/apps/verify_credentials needs a token", async () => {
      const none = await api(instance, "GET", "/api/v1/apps/verify_credentials");
      assert.equal(none.status, 401);
      const bad = await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: "nonsense" });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error, "The access token is invalid");
    });

    // -- The browser flow ------------------------------------------------------

    test("full flow: register, sign in, consent, code with PKCE, token, API calls", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const { verifier, challenge } = pkce();
      const path = authorizePath(app, { state: "xyz 123", challenge });

      const signInPage = await browser.get(path);
      assert.equal(signInPage.response.status, 200);
      assert.match(signInPage.response.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(signInPage.text, /Test App/);
      assert.match(signInPage.response.headers.get("x-frame-options") ?? "", /deny/i);
      const csrfCookie = browser.jar.lastSetCookie.find((line) => line.startsWith("islet_csrf="));
      assert.ok(csrfCookie != null, "a CSRF cookie is set");
      assert.match(csrfCookie, /HttpOnly/i);
      assert.match(csrfCookie, /SameSite=Lax/i);
      assert.doesNotMatch(csrfCookie, /Secure/i, "not Secure on an http origin");

      const signedIn = await signIn(browser, signInPage.text);
      assert.equal(signedIn.response.status, 303, signedIn.text.slice(0, 300));
      const back = signedIn.response.headers.get("location")!;
      assert.ok(back.startsWith("/oauth/authorize?"), back);
      const sessionCookie = browser.jar.lastSetCookie.find((line) => line.startsWith("islet_session="));
      assert.ok(sessionCookie != null, "a session cookie is set");
      assert.match(sessionCookie, /HttpOnly/i);
      assert.match(sessionCookie, /SameSite=Lax/i);
      // Only the session's hash is stored.
      const sessionId = browser.jar.cookies.get("islet_session")!;
      const stored = await instance.islet.core.db.select().from(webSessions).where(eq(webSessions.idHash, hashToken(sessionId)));
      assert.equal(stored.length, 1);
      assert.equal(stored[0].ip, browser.ip, "the address comes from X-Forwarded-For behind the trusted proxy");

      const consent = await browser.get(back);
      assert.equal(consent.response.status, 200);
      assert.match(consent.text, /Authorize Test App\?/);
      for (const scope of ["read", "write", "follow", "push"]) assert.match(consent.text, new RegExp(`<code>${scope}</code>`));
      assert.match(consent.text, /client\.example/);
      const fields = formFields(consent.text, "/oauth/authorize");
      assert.equal(fields.state, "xyz 123");
      assert.equal(fields.code_challenge, challenge);

      const decided = await browser.post("/oauth/authorize", { ...fields, decision: "authorize" });
      const redirect = codeFrom(decided.response);
      const code = redirect.searchParams.get("code")!;
      assert.ok(code.length >= 32);
      assert.equal(redirect.searchParams.get("state"), "xyz 123");
      const codeRows = await instance.islet.core.db.select().from(oauthAuthorizationCodes).where(eq(oauthAuthorizationCodes.codeHash, hashToken(code)));
      assert.equal(codeRows.length, 1, "only the code's hash is stored");

      const issued = await token(instance, {
        grant_type: "authorization_code",
        client_id: app.client_id,
        client_secret: app.client_secret,
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body.token_type, "Bearer");
      assert.equal(issued.body.scope, "read write follow push");
      assert.ok(Number.isInteger(issued.body.created_at));
      assert.ok(Math.abs(issued.body.created_at - Date.now() / 1000) < 120, "created_at is in seconds");
      assert.match(issued.headers.get("cache-control") ?? "", /no-store/);
      const accessToken = issued.body.access_token as string;
      const tokenRows = await instance.islet.core.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, hashToken(accessToken)));
      assert.equal(tokenRows.length, 1);
      assert.equal(tokenRows[0].accountId, instance.owner!.account.id, "the token is the owner's");

      const verified = await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: accessToken });
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      assert.equal(verified.body.name, "Test App");
      assert.equal(verified.body.id, app.id);
      assert.equal("client_secret" in verified.body, false);
      assert.equal("client_id" in verified.body, false);

      const instanceInfo = await api(instance, "GET", "/api/v2/instance", { token: accessToken });
      assert.equal(instanceInfo.status, 200);

      // userinfo needs `profile`, which `read` does not grant (as on Mastodon).
      const userinfo = await api(instance, "GET", "/oauth/userinfo", { token: accessToken });
      assert.equal(userinfo.status, 403, JSON.stringify(userinfo.body));

      // A second authorization reuses the session: straight to the consent page.
      const again = await browser.get(authorizePath(app));
      assert.equal(again.response.status, 200);
      assert.match(again.text, /Authorize Test App\?/);
      assert.doesNotMatch(again.text, /action="\/auth\/sign_in"/);
    });

    test("Token and Application match the Mastodon schemas", { skip: skipContract }, async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const { verifier, challenge } = pkce();
      const code = codeFrom((await authorize(browser, authorizePath(app, { challenge }))).response).searchParams.get("code")!;
      const issued = await token(instance, {
        grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: CALLBACK, code_verifier: verifier,
      });
      assert.equal(issued.status, 200);
      assertMatchesSchema("Token", issued.body);
      const verified = await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: issued.body.access_token });
      assertMatchesSchema("Application", verified.body);
      const failure = await token(instance, {
        grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: CALLBACK, code_verifier: verifier,
      });
      assertMatchesSchema("Error", failure.body);
    });

    test("sign-up through POST /api/v1/accounts is closed: 401 without a token, 403 with one", async () => {
      const form = { username: "newcomer", email: "new@example.com", password: "a long password", agreement: "true", locale: "en" };
      const none = await api(instance, "POST", "/api/v1/accounts", { body: form });
      assert.equal(none.status, 401);
      assert.equal(typeof none.body.error, "string");
      const app = await registerApp(instance, CALLBACK, "read write");
      const appToken = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope: "read write" });
      assert.equal(appToken.status, 200, JSON.stringify(appToken.body));
      const closed = await api(instance, "POST", "/api/v1/accounts", { body: form, token: appToken.body.access_token });
      assert.equal(closed.status, 403);
      assert.deepEqual(closed.body, { error: "This action is not allowed" });
      const readOnly = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope: "read" });
      const outside = await api(instance, "POST", "/api/v1/accounts", { body: form, token: readOnly.body.access_token });
      assert.equal(outside.status, 403);
      assert.match(outside.body.error, /outside the authorized scopes/);
      // The instance says the same.
      const described = await api(instance, "GET", "/api/v2/instance");
      assert.equal(described.body.registrations.enabled, false);
    });

    test("out of band: the code is shown, and exchanged with HTTP Basic and a form body", async () => {
      const app = await registerApp(instance, OOB, "read");
      const browser = new Browser(instance.url, nextIp());
      const decided = await authorize(browser, authorizePath(app, { scope: "read" }));
      assert.equal(decided.response.status, 200);
      assert.equal(decided.response.headers.get("location"), null);
      const match = /<p class="code" id="code">([^<]+)<\/p>/.exec(decided.text);
      assert.ok(match != null, "the page shows the code");
      const basic = Buffer.from(`${app.client_id}:${app.client_secret}`).toString("base64");
      const issued = await token(instance, { grant_type: "authorization_code", code: match[1], redirect_uri: OOB }, {
        form: true,
        headers: { Authorization: `Basic ${basic}` },
      });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body.scope, "read");
      const verified = await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: issued.body.access_token });
      assert.equal(verified.status, 200);
    });

    test("an unregistered redirect URI or unknown client is shown an error, never redirected", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const wrong = await browser.get(authorizePath(app, { redirectUri: "https://evil.example/callback" }));
      assert.equal(wrong.response.status, 400);
      assert.equal(wrong.response.headers.get("location"), null);
      assert.match(wrong.response.headers.get("content-type") ?? "", /^text\/html/);
      // A registered URI with something added is not the registered URI.
      const extended = await browser.get(authorizePath(app, { redirectUri: `${CALLBACK}/../evil` }));
      assert.equal(extended.response.status, 400);
      assert.equal(extended.response.headers.get("location"), null);

      const unknown = await browser.get(authorizePath({ ...app, client_id: "no-such-client" }));
      assert.equal(unknown.response.status, 400);
      assert.equal(unknown.response.headers.get("location"), null);
      const missing = await browser.get(`/oauth/authorize?response_type=code&client_id=${encodeURIComponent(app.client_id)}`);
      assert.equal(missing.response.status, 400);
    });

    test("errors after the redirect URI is verified go back to the app", async () => {
      const app = await registerApp(instance, CALLBACK, "read");
      const browser = new Browser(instance.url, nextIp());
      const scope = await browser.get(authorizePath(app, { scope: "read write", state: "s1" }));
      const scopeError = new URL(scope.response.headers.get("location")!);
      assert.equal(scope.response.status, 302);
      assert.equal(`${scopeError.origin}${scopeError.pathname}`, CALLBACK);
      assert.equal(scopeError.searchParams.get("error"), "invalid_scope");
      assert.equal(scopeError.searchParams.get("state"), "s1");

      const type = await browser.get(authorizePath(app, { scope: "read", extra: { response_type: "token" } }));
      assert.equal(new URL(type.response.headers.get("location")!).searchParams.get("error"), "unsupported_response_type");

      const plain = await browser.get(authorizePath(app, { scope: "read", extra: { code_challenge: "a".repeat(43), code_challenge_method: "plain" } }));
      assert.equal(new URL(plain.response.headers.get("location")!).searchParams.get("error"), "invalid_request");
    });

    test("loopback redirect URIs may use any port (RFC 8252); nothing else may differ", async () => {
      const app = await registerApp(instance, "http://127.0.0.1/callback");
      const browser = new Browser(instance.url, nextIp());
      const anyPort = await browser.get(authorizePath(app, { redirectUri: "http://127.0.0.1:54321/callback" }));
      assert.equal(anyPort.response.status, 200);
      assert.match(anyPort.text, /action="\/auth\/sign_in"/);
      const otherPath = await browser.get(authorizePath(app, { redirectUri: "http://127.0.0.1:54321/other" }));
      assert.equal(otherPath.response.status, 400);
      const otherHost = await browser.get(authorizePath(app, { redirectUri: "http://localhost:54321/callback" }));
      assert.equal(otherHost.response.status, 400);
    });

    test("response_mode=fragment puts the code in the fragment", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const decided = await authorize(browser, authorizePath(app, { state: "f", extra: { response_mode: "fragment" } }));
      assert.equal(decided.response.status, 302);
      const location = decided.response.headers.get("location")!;
      assert.ok(location.startsWith(`${CALLBACK}#`), location);
      const fragment = new URLSearchParams(location.slice(location.indexOf("#") + 1));
      assert.ok((fragment.get("code") ?? "").length >= 32);
      assert.equal(fragment.get("state"), "f");
    });

    test("denying sends access_denied (with the state) to the app", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const denied = await authorize(browser, authorizePath(app, { state: "keep-me" }), "deny");
      assert.equal(denied.response.status, 302);
      const location = new URL(denied.response.headers.get("location")!);
      assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
      assert.equal(location.searchParams.get("error"), "access_denied");
      assert.equal(location.searchParams.get("state"), "keep-me");
      assert.equal(location.searchParams.get("code"), null);
    });

    test("a code works once; reusing it fails and revokes the token issued from it", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const code = codeFrom((await authorize(browser, authorizePath(app))).response).searchParams.get("code")!;
      const body = { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: CALLBACK };
      const first = await token(instance, body);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal((await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: first.body.access_token })).status, 200);

      const second = await token(instance, body);
      assert.equal(second.status, 400);
      assert.equal(second.body.error, "invalid_grant");
      assert.equal(typeof second.body.error_description, "string");
      assert.equal((await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: first.body.access_token })).status, 401);
    });

    test("an expired code fails", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const code = codeFrom((await authorize(browser, authorizePath(app))).response).searchParams.get("code")!;
      await instance.islet.core.db
        .update(oauthAuthorizationCodes)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(oauthAuthorizationCodes.codeHash, hashToken(code)));
      const response = await token(instance, { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: CALLBACK });
      assert.equal(response.status, 400);
      assert.equal(response.body.error, "invalid_grant");
    });

    test("codes expire after ten minutes", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const before = Date.now();
      const code = codeFrom((await authorize(browser, authorizePath(app))).response).searchParams.get("code")!;
      const [row] = await instance.islet.core.db.select().from(oauthAuthorizationCodes).where(eq(oauthAuthorizationCodes.codeHash, hashToken(code)));
      const lifetime = row.expiresAt.getTime() - before;
      assert.ok(lifetime > 9 * 60_000 && lifetime <= 10 * 60_000 + 5_000, `lifetime ${lifetime} ms`);
    });

    test("PKCE: a wrong verifier, a missing one, or one without a challenge fails", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const { verifier, challenge } = pkce();
      const code = codeFrom((await authorize(browser, authorizePath(app, { challenge }))).response).searchParams.get("code")!;
      const base = { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: CALLBACK };

      const wrong = await token(instance, { ...base, code_verifier: pkce().verifier });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error, "invalid_grant");
      const missing = await token(instance, base);
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error, "invalid_grant");
      // Failed attempts do not burn the code for its rightful holder.
      const right = await token(instance, { ...base, code_verifier: verifier });
      assert.equal(right.status, 200, JSON.stringify(right.body));

      const plainCode = codeFrom((await authorize(browser, authorizePath(app))).response).searchParams.get("code")!;
      const downgrade = await token(instance, { ...base, code: plainCode, code_verifier: verifier });
      assert.equal(downgrade.status, 400);
      assert.equal(downgrade.body.error, "invalid_grant");
    });

    test("the code must come back with its redirect URI and its client", async () => {
      const app = await registerApp(instance, [CALLBACK, "https://client.example/other"]);
      const other = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const code = codeFrom((await authorize(browser, authorizePath(app))).response).searchParams.get("code")!;
      const base = { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code };
      const otherUri = await token(instance, { ...base, redirect_uri: "https://client.example/other" });
      assert.equal(otherUri.body.error, "invalid_grant");
      const noUri = await token(instance, base);
      assert.equal(noUri.status, 400);
      assert.equal(noUri.body.error, "invalid_request");
      const otherClient = await token(instance, { ...base, client_id: other.client_id, client_secret: other.client_secret, redirect_uri: CALLBACK });
      assert.equal(otherClient.body.error, "invalid_grant");
      const unknown = await token(instance, { ...base, code: "not-a-code", redirect_uri: CALLBACK });
      assert.equal(unknown.body.error, "invalid_grant");
    });

    test("a wrong client secret is invalid_client (401)", async () => {
      const app = await registerApp(instance);
      const viaBody = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: "wrong" });
      assert.equal(viaBody.status, 401);
      assert.equal(viaBody.body.error, "invalid_client");
      assert.equal(typeof viaBody.body.error_description, "string");

      const basic = Buffer.from(`${app.client_id}:wrong`).toString("base64");
      const viaBasic = await token(instance, { grant_type: "client_credentials" }, { form: true, headers: { Authorization: `Basic ${basic}` } });
      assert.equal(viaBasic.status, 401);
      assert.equal(viaBasic.body.error, "invalid_client");
      assert.match(viaBasic.headers.get("www-authenticate") ?? "", /^Basic/);

      const noSecret = await token(instance, { grant_type: "client_credentials", client_id: app.client_id });
      assert.equal(noSecret.status, 401);
      const unknownClient = await token(instance, { grant_type: "client_credentials", client_id: "nobody", client_secret: app.client_secret });
      assert.equal(unknownClient.status, 401);
    });

    test("grant types: missing is invalid_request, others are unsupported", async () => {
      const app = await registerApp(instance);
      const missing = await token(instance, { client_id: app.client_id, client_secret: app.client_secret });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error, "invalid_request");
      for (const grant of ["password", "refresh_token", "implicit"]) {
        const response = await token(instance, { grant_type: grant, client_id: app.client_id, client_secret: app.client_secret, username: "owner", password: PASSWORD });
        assert.equal(response.status, 400, grant);
        assert.equal(response.body.error, "unsupported_grant_type", grant);
      }
      const badJson = await api(instance, "POST", "/oauth/token", { body: "{not json", headers: { "Content-Type": "application/json" } });
      assert.equal(badJson.status, 400);
      assert.equal(badJson.body.error, "invalid_request");
    });

    test("client credentials: an app token, not a user's", async () => {
      const app = await registerApp(instance, CALLBACK, "read write");
      const issued = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope: "read" }, { form: true });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body.scope, "read");
      const [row] = await instance.islet.core.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, hashToken(issued.body.access_token)));
      assert.equal(row.accountId, null);

      const verified = await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: issued.body.access_token });
      assert.equal(verified.status, 200);
      assert.equal(verified.body.id, app.id);
      const user = await api(instance, "GET", "/oauth/userinfo", { token: issued.body.access_token });
      assert.equal(user.status, 422);
      assert.equal(user.body.error, "This method requires an authenticated user");

      const defaulted = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret });
      assert.equal(defaulted.body.scope, "read", "scope defaults to read");
    });

    test("a scope beyond the app's is invalid_scope", async () => {
      const app = await registerApp(instance, CALLBACK, "read");
      for (const scope of ["write", "read push", "admin:read", "nonsense"]) {
        const response = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope });
        assert.equal(response.status, 400, scope);
        assert.equal(response.body.error, "invalid_scope", scope);
      }
      const granular = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope: "read:statuses" });
      assert.equal(granular.status, 200, "a granular scope within a broad one is fine");
    });

    test("revoking a token: 200 {}, and the token no longer works", async () => {
      const app = await registerApp(instance);
      const issued = await token(instance, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret });
      const accessToken = issued.body.access_token as string;
      assert.equal((await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: accessToken })).status, 200);

      const other = await registerApp(instance);
      const foreign = await api(instance, "POST", "/oauth/revoke", { body: { client_id: other.client_id, client_secret: other.client_secret, token: accessToken } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.body.error, "unauthorized_client");
      const wrongSecret = await api(instance, "POST", "/oauth/revoke", { body: { client_id: app.client_id, client_secret: "wrong", token: accessToken } });
      assert.equal(wrongSecret.status, 401);
      assert.equal((await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: accessToken })).status, 200, "still valid");

      const revoked = await api(instance, "POST", "/oauth/revoke", {
        body: new URLSearchParams({ client_id: app.client_id, client_secret: app.client_secret, token: accessToken }),
      });
      assert.equal(revoked.status, 200);
      assert.deepEqual(revoked.body, {});
      const after = await api(instance, "GET", "/api/v1/apps/verify_credentials", { token: accessToken });
      assert.equal(after.status, 401);
      const instanceCall = await api(instance, "GET", "/api/v1/instance", { token: accessToken });
      assert.equal(instanceCall.status, 401, "a revoked token is refused everywhere under /api");

      const again = await api(instance, "POST", "/oauth/revoke", { body: { client_id: app.client_id, client_secret: app.client_secret, token: accessToken } });
      assert.equal(again.status, 200, "revoking is idempotent");
      const unknown = await api(instance, "POST", "/oauth/revoke", { body: { client_id: app.client_id, client_secret: app.client_secret, token: "never-issued" } });
      assert.equal(unknown.status, 200);
    });

    test("GET /oauth/userinfo needs a user token with the profile scope", async () => {
      const none = await api(instance, "GET", "/oauth/userinfo");
      assert.equal(none.status, 401);
      const writeOnly = await api(instance, "GET", "/oauth/userinfo", { token: await ownerToken(instance, "write") });
      assert.equal(writeOnly.status, 403);
      const profile = await api(instance, "POST", "/oauth/userinfo", { token: await ownerToken(instance, "profile") });
      assert.equal(profile.status, 200);
      assert.equal(profile.body.preferred_username, "owner");
      assert.equal(profile.body.profile, `${instance.origin}/@owner`);
      assert.equal(profile.body.sub, `${instance.origin}/users/owner`);
      assert.equal(profile.body.iss, `${instance.origin}/`);
    });

    // -- Sign-in and CSRF ----------------------------------------------------------

    test("a wrong password is refused, and five failures from one address bring a 429", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const page = await browser.get(authorizePath(app));
      for (let attempt = 1; attempt <= 5; attempt++) {
        const failed = await signIn(browser, page.text, "owner", `wrong password ${attempt}`);
        assert.equal(failed.response.status, 422, `attempt ${attempt}`);
        assert.match(failed.text, /Wrong email, username or password/);
        assert.equal(browser.jar.cookies.has("islet_session"), false);
      }
      const limited = await signIn(browser, page.text);
      assert.equal(limited.response.status, 429, "even the right password waits");
      const retryAfter = Number(limited.response.headers.get("retry-after"));
      assert.ok(retryAfter > 0 && retryAfter <= 300, `Retry-After ${retryAfter}`);
      assert.equal(browser.jar.cookies.has("islet_session"), false);

      // Another address is not affected.
      const elsewhere = new Browser(instance.url, nextIp());
      const otherPage = await elsewhere.get(authorizePath(app));
      const ok = await signIn(elsewhere, otherPage.text, "owner@example.com");
      assert.equal(ok.response.status, 303, "signing in with the email works");
    });

    test("parallel sign-in attempts are counted too", async () => {
      const browser = new Browser(instance.url, nextIp());
      const page = await browser.get("/auth/sign_in");
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => signIn(browser, page.text, "owner", `wrong ${i}`)));
      const statuses = results.map((r) => r.response.status).sort();
      assert.deepEqual(statuses, [422, 422, 422, 422, 422, 429, 429, 429]);
    });

    test("the sign-in form needs its CSRF token and cookie", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const page = await browser.get(authorizePath(app));
      const fields = formFields(page.text, "/auth/sign_in");

      const missing = await browser.post("/auth/sign_in", { return_to: fields.return_to, login: "owner", password: PASSWORD });
      assert.equal(missing.response.status, 403);
      const forged = await browser.post("/auth/sign_in", { ...fields, authenticity_token: "forged", login: "owner", password: PASSWORD });
      assert.equal(forged.response.status, 403);

      // A token lifted from another browser does not fit this browser's cookie.
      const attacker = new Browser(instance.url, nextIp());
      const attackerFields = formFields((await attacker.get(authorizePath(app))).text, "/auth/sign_in");
      const victim = new Browser(instance.url, browser.ip);
      await victim.get(authorizePath(app));
      const crossed = await victim.post("/auth/sign_in", { ...attackerFields, login: "owner", password: PASSWORD });
      assert.equal(crossed.response.status, 403);
      assert.equal(victim.jar.cookies.has("islet_session"), false);

      const noCookie = new Browser(instance.url, nextIp());
      const noCookieResult = await noCookie.post("/auth/sign_in", { ...fields, login: "owner", password: PASSWORD });
      assert.equal(noCookieResult.response.status, 403);
      assert.equal(noCookie.jar.cookies.has("islet_session"), false);

      const ok = await browser.post("/auth/sign_in", { ...fields, login: "owner", password: PASSWORD });
      assert.equal(ok.response.status, 303);
    });

    test("the consent form needs a CSRF token bound to the session", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const page = await browser.get(authorizePath(app));
      await signIn(browser, page.text);
      const consent = await browser.get(authorizePath(app));
      const fields = formFields(consent.text, "/oauth/authorize");

      const { authenticity_token: _, ...withoutToken } = fields;
      const missing = await browser.post("/oauth/authorize", { ...withoutToken, decision: "authorize" });
      assert.equal(missing.response.status, 403);
      assert.equal(missing.response.headers.get("location"), null);
      const forged = await browser.post("/oauth/authorize", { ...fields, authenticity_token: "forged", decision: "authorize" });
      assert.equal(forged.response.status, 403);
      // The sign-in form's token is for another purpose.
      const signInToken = formFields(page.text, "/auth/sign_in").authenticity_token;
      const wrongPurpose = await browser.post("/oauth/authorize", { ...fields, authenticity_token: signInToken, decision: "authorize" });
      assert.equal(wrongPurpose.response.status, 403);

      // After signing in again (new session), the old page's token is stale.
      const forced = await browser.get(authorizePath(app, { extra: { force_login: "true" } }));
      assert.match(forced.text, /action="\/auth\/sign_in"/, "force_login shows the sign-in form despite the session");
      assert.equal((await signIn(browser, forced.text)).response.status, 303);
      const stale = await browser.post("/oauth/authorize", { ...fields, decision: "authorize" });
      assert.equal(stale.response.status, 403);

      const fresh = formFields((await browser.get(authorizePath(app))).text, "/oauth/authorize");
      const ok = await browser.post("/oauth/authorize", { ...fresh, decision: "authorize" });
      codeFrom(ok.response);
    });

    test("deciding without a session leads to the sign-in form, not a code", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const response = await browser.post("/oauth/authorize", {
        response_type: "code", client_id: app.client_id, redirect_uri: CALLBACK, scope: "read", decision: "authorize",
      });
      assert.equal(response.response.status, 200);
      assert.equal(response.response.headers.get("location"), null);
      assert.match(response.text, /action="\/auth\/sign_in"/);
    });

    test("signing out ends the session", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, nextIp());
      const consent = await authorizeConsentPage(browser, authorizePath(app));
      const fields = formFields(consent, "/auth/sign_out");
      const sessionId = browser.jar.cookies.get("islet_session")!;
      const out = await browser.post("/auth/sign_out", fields);
      assert.equal(out.response.status, 303);
      assert.equal(browser.jar.cookies.has("islet_session"), false);
      const rows = await instance.islet.core.db.select().from(webSessions).where(eq(webSessions.idHash, hashToken(sessionId)));
      assert.equal(rows.length, 0);
      const next = await browser.get(authorizePath(app));
      assert.match(next.text, /action="\/auth\/sign_in"/);
    });

    test("sign-in returns only to local paths", async () => {
      for (const returnTo of ["https://evil.example/", "//evil.example/x", "/\\evil.example"]) {
        const browser = new Browser(instance.url, nextIp());
        const page = await browser.get("/auth/sign_in");
        assert.equal(page.response.status, 200);
        const fields = formFields(page.text, "/auth/sign_in");
        const result = await browser.post("/auth/sign_in", { ...fields, return_to: returnTo, login: "owner", password: PASSWORD });
        assert.equal(result.response.status, 303);
        assert.equal(result.response.headers.get("location"), "/", returnTo);
      }
    });

    // -- Metadata -------------------------------------------------------------------

    test("GET /.well-known/oauth-authorization-server describes the server", async () => {
      const response = await fetch(`${instance.url}/.well-known/oauth-authorization-server`, { headers: { Origin: "https://client.example" } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("access-control-allow-origin"), "*");
      const body = await response.json() as Json;
      assert.equal(body.issuer, `${instance.origin}/`);
      assert.equal(body.authorization_endpoint, `${instance.origin}/oauth/authorize`);
      assert.equal(body.token_endpoint, `${instance.origin}/oauth/token`);
      assert.equal(body.revocation_endpoint, `${instance.origin}/oauth/revoke`);
      assert.equal(body.app_registration_endpoint, `${instance.origin}/api/v1/apps`);
      assert.deepEqual(body.response_types_supported, ["code"]);
      assert.deepEqual(body.code_challenge_methods_supported, ["S256"]);
      assert.deepEqual(body.grant_types_supported, ["authorization_code", "client_credentials"]);
      assert.ok(body.token_endpoint_auth_methods_supported.includes("client_secret_basic"));
      assert.ok(body.token_endpoint_auth_methods_supported.includes("client_secret_post"));
      for (const scope of ["read", "write", "follow", "push", "profile", "read:statuses"]) assert.ok(body.scopes_supported.includes(scope), scope);
    });

    test("the metadata matches the Mastodon schema", { skip: skipContract }, async () => {
      const response = await api(instance, "GET", "/.well-known/oauth-authorization-server");
      assertMatchesSchema("DiscoverOauthServerConfigurationResponse", response.body);
    });
  });

  describe(`OAuth on an https origin (${kind})`, () => {
    let instance: TestInstance;

    before(async () => {
      instance = await startInstance(kind, { env: { LOCAL_DOMAIN: "islet.example" } });
    });
    after(async () => {
      await instance?.close();
    });

    test("cookies are Secure with the __Host- prefix, and the flow still works", async () => {
      const app = await registerApp(instance);
      const browser = new Browser(instance.url, "127.0.0.1");
      const page = await browser.get(authorizePath(app));
      const csrf = browser.jar.lastSetCookie.find((line) => line.startsWith("__Host-islet_csrf="));
      assert.ok(csrf != null, browser.jar.lastSetCookie.join("\n"));
      assert.match(csrf, /;\s*Secure/i);
      assert.match(csrf, /;\s*Path=\//i);
      const signedIn = await signIn(browser, page.text);
      assert.equal(signedIn.response.status, 303);
      const session = browser.jar.lastSetCookie.find((line) => line.startsWith("__Host-islet_session="));
      assert.ok(session != null);
      assert.match(session, /;\s*Secure/i);
      assert.match(session, /HttpOnly/i);
      const consent = await browser.get(signedIn.response.headers.get("location")!);
      const decided = await browser.post("/oauth/authorize", { ...formFields(consent.text, "/oauth/authorize"), decision: "authorize" });
      codeFrom(decided.response);
      const metadata = await api(instance, "GET", "/.well-known/oauth-authorization-server");
      assert.equal(metadata.body.issuer, "https://islet.example/");
    });
  });
}

/** Signs in if needed and returns the consent page's HTML. */
async function authorizeConsentPage(browser: Browser, path: string): Promise<string> {
  const page = await browser.get(path);
  if (!page.text.includes('action="/auth/sign_in"')) return page.text;
  const signedIn = await signIn(browser, page.text);
  assert.equal(signedIn.response.status, 303);
  return (await browser.get(signedIn.response.headers.get("location")!)).text;
}
