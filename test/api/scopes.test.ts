/**
 * OAuth scopes, route by route, as Mastodon's documentation gives them
 * (docs.joinmastodon.org, each method's "OAuth:" line; the community
 * OpenAPI description carries the same as each operation's `security`).
 *
 * The table below names every route Islet serves under /api/ and /oauth/.
 * For a route that takes a token with a scope, a token holding every scope
 * but that scope's family (the scope itself, `read` or `write` above it,
 * `follow` for blocks, follows and mutes) is refused with 403 and Mastodon's
 * error; a token holding exactly the scope is not refused. The routes are
 * read from the app itself, so a new route without a row fails here.
 *
 * When ../shared/mastodon-openapi is present the table is also compared with
 * the OpenAPI description's operations.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { hashToken } from "../../src/core/token-hash.ts";
import { scopeAllows } from "../../src/core/scopes.ts";
import { oauthTokens } from "../../src/db/schema.ts";
import { createApp } from "../../src/server.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { OPENAPI_SCHEMA_PATH } from "../helpers/openapi.ts";

const SCOPE_ERROR = "This action is outside the authorized scopes";
const TOKEN_ERROR = "The access token is invalid";
const STREAM_SCOPE_ERROR = "Access token does not have the required scopes";

// --- Mastodon's scopes and their hierarchy, from docs/api/oauth-scopes. ---

const GRANULAR = [
  "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters", "read:follows",
  "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
  "write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
  "write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications",
  "write:reports", "write:statuses",
];
/** Every scope a token may carry; the admin ones grant nothing here. */
const ALL_SCOPES = ["read", "write", "follow", "push", "profile", "admin:read", "admin:write", ...GRANULAR];
/** The deprecated `follow` still grants these. */
const FOLLOW_GRANTS = ["read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"];

/** The scopes that grant `scope`: itself, `read`/`write` above a granular one, `follow` for its six. */
function grantors(scope: string): Set<string> {
  const found = new Set([scope]);
  const top = /^(read|write):/.exec(scope)?.[1];
  if (top != null) found.add(top);
  if (FOLLOW_GRANTS.includes(scope)) found.add("follow");
  return found;
}

/** Every scope except those granting any of `scopes`. */
function allScopesBut(scopes: readonly string[]): string[] {
  const family = new Set(scopes.flatMap((scope) => [...grantors(scope)]));
  return ALL_SCOPES.filter((scope) => !family.has(scope));
}

// --- The table. ---

/**
 * - `public`: no token needed, and a token's scopes are not looked at.
 * - `optional`: no token needed, but a token must carry one of `scopes`.
 * - `user`: a user's token with one of `scopes` (none listed: any scope).
 * - `token`: any token, an app's (client credentials) or a user's, with one of `scopes`.
 * - `client`: OAuth endpoints; the client authenticates with its id and
 *   secret, or the owner with a browser session, never with a bearer token.
 * - `stream`: the streaming API; Mastodon's streaming server answers a
 *   missing scope with 401, per stream (see `probes`).
 */
type Need = "public" | "optional" | "user" | "token" | "client" | "stream";

interface Row {
  method: string;
  /** As registered in Hono, without parameter patterns. */
  path: string;
  need: Need;
  scopes: string[];
  /** Where Islet's table deliberately differs from the OpenAPI description, what that says and why. */
  openapi?: { scopes: string[] | null; why: string };
  /** For `stream` rows: concrete paths and the scope each needs. */
  probes?: Array<[path: string, scope: string]>;
}

const row = (need: Need) => (method: string, path: string, ...scopes: string[]): Row => ({ method, path, need, scopes });
const pub = row("public");
const optional = row("optional");
const user = row("user");
const anyToken = row("token");
const client = row("client");

const TABLE: Row[] = [
  // Instance and discovery: public.
  pub("GET", "/api/v1/instance"),
  pub("GET", "/api/v2/instance"),
  pub("GET", "/api/v1/instance/peers"),
  pub("GET", "/api/oembed"),
  pub("GET", "/api/v1/instance/activity"),
  pub("GET", "/api/v1/instance/rules"),
  pub("GET", "/api/v1/instance/extended_description"),
  pub("GET", "/api/v1/instance/translation_languages"),
  pub("GET", "/api/v1/instance/privacy_policy"),
  pub("GET", "/api/v1/instance/terms_of_service"),
  pub("GET", "/api/v1/instance/terms_of_service/:date"),
  {
    ...pub("GET", "/api/v1/instance/domain_blocks"),
    openapi: { scopes: [], why: "Mastodon asks for a user token only when the admin shows the list to users alone; Islet shows it to all" },
  },
  pub("GET", "/api/v1/custom_emojis"),
  pub("GET", "/api/v1/directory"),
  pub("GET", "/api/v1/trends"),
  pub("GET", "/api/v1/trends/tags"),
  pub("GET", "/api/v1/trends/statuses"),
  pub("GET", "/api/v1/trends/links"),
  {
    ...pub("GET", "/api/v1/tags/:name"),
    openapi: { scopes: [], why: "the documentation says \"Public, or user token\"; Mastodon checks no scope" },
  },

  // OAuth and applications.
  pub("POST", "/api/v1/apps"),
  anyToken("GET", "/api/v1/apps/verify_credentials"),
  anyToken("POST", "/api/v1/accounts", "write:accounts"),
  client("GET", "/oauth/authorize"),
  client("POST", "/oauth/authorize"),
  client("POST", "/oauth/token"),
  client("POST", "/oauth/revoke"),
  user("GET", "/oauth/userinfo", "profile"),
  user("POST", "/oauth/userinfo", "profile"),

  // Accounts.
  user("GET", "/api/v1/accounts/verify_credentials", "profile", "read:accounts"),
  user("PATCH", "/api/v1/accounts/update_credentials", "write:accounts"),
  user("GET", "/api/v1/profile", "profile", "read:accounts"),
  user("PATCH", "/api/v1/profile", "write:accounts"),
  {
    ...user("POST", "/api/v1/emails/confirmations", "write:accounts"),
    openapi: { scopes: [], why: "the description lists no scope; Mastodon's controller checks write:accounts" },
  },
  user("DELETE", "/api/v1/profile/avatar", "write:accounts"),
  user("DELETE", "/api/v1/profile/header", "write:accounts"),
  user("GET", "/api/v1/accounts/relationships", "read:follows"),
  user("GET", "/api/v1/accounts/familiar_followers", "read:follows"),
  optional("GET", "/api/v1/accounts/lookup", "read:accounts"),
  user("GET", "/api/v1/accounts/search", "read:accounts"),
  optional("GET", "/api/v1/accounts", "read:accounts"),
  optional("GET", "/api/v1/accounts/:id", "read:accounts"),
  optional("GET", "/api/v1/accounts/:id/statuses", "read:statuses"),
  optional("GET", "/api/v1/accounts/:id/followers", "read:accounts"),
  optional("GET", "/api/v1/accounts/:id/following", "read:accounts"),
  optional("GET", "/api/v1/accounts/:id/endorsements", "read:accounts"),
  user("POST", "/api/v1/accounts/:id/endorse", "write:accounts"),
  user("POST", "/api/v1/accounts/:id/unendorse", "write:accounts"),
  user("POST", "/api/v1/accounts/:id/pin", "write:accounts"),
  user("POST", "/api/v1/accounts/:id/unpin", "write:accounts"),
  pub("GET", "/api/v1/accounts/:id/featured_tags"),
  user("GET", "/api/v1/accounts/:id/lists", "read:lists"),
  user("POST", "/api/v1/accounts/:id/follow", "write:follows"),
  user("POST", "/api/v1/accounts/:id/unfollow", "write:follows"),
  user("POST", "/api/v1/accounts/:id/remove_from_followers", "write:follows"),
  user("POST", "/api/v1/accounts/:id/block", "write:blocks"),
  user("POST", "/api/v1/accounts/:id/unblock", "write:blocks"),
  user("POST", "/api/v1/accounts/:id/mute", "write:mutes"),
  user("POST", "/api/v1/accounts/:id/unmute", "write:mutes"),
  user("POST", "/api/v1/accounts/:id/note", "write:accounts"),
  user("GET", "/api/v1/follow_requests", "read:follows"),
  user("POST", "/api/v1/follow_requests/:account_id/authorize", "write:follows"),
  user("POST", "/api/v1/follow_requests/:account_id/reject", "write:follows"),
  user("GET", "/api/v1/mutes", "read:mutes"),
  user("GET", "/api/v1/blocks", "read:blocks"),
  user("GET", "/api/v1/domain_blocks", "read:blocks"),
  user("POST", "/api/v1/domain_blocks", "write:blocks"),
  user("DELETE", "/api/v1/domain_blocks", "write:blocks"),
  user("GET", "/api/v1/endorsements", "read:accounts"),
  user("GET", "/api/v1/featured_tags", "read:accounts"),
  user("POST", "/api/v1/featured_tags", "write:accounts"),
  user("DELETE", "/api/v1/featured_tags/:id", "write:accounts"),
  user("GET", "/api/v1/featured_tags/suggestions", "read:accounts"),
  user("GET", "/api/v1/preferences", "read:accounts"),
  // Mastodon's documentation and controllers ask for `read` itself, which no
  // granular scope grants; dismissing a suggestion too, as it only hides one.
  user("GET", "/api/v1/suggestions", "read"),
  user("GET", "/api/v2/suggestions", "read"),
  user("DELETE", "/api/v1/suggestions/:account_id", "read"),
  user("POST", "/api/v1/reports", "write:reports"),

  // Search.
  optional("GET", "/api/v2/search", "read:search"),

  // Statuses.
  user("POST", "/api/v1/statuses", "write:statuses"),
  optional("GET", "/api/v1/statuses", "read:statuses"),
  optional("GET", "/api/v1/statuses/:id", "read:statuses"),
  user("PUT", "/api/v1/statuses/:id", "write:statuses"),
  user("DELETE", "/api/v1/statuses/:id", "write:statuses"),
  optional("GET", "/api/v1/statuses/:id/context", "read:statuses"),
  optional("GET", "/api/v1/statuses/:id/history", "read:statuses"),
  anyToken("GET", "/api/v1/statuses/:id/source", "read:statuses"),
  anyToken("POST", "/api/v1/statuses/:id/translate", "read:statuses"),
  optional("GET", "/api/v1/statuses/:id/reblogged_by", "read:statuses"),
  optional("GET", "/api/v1/statuses/:id/favourited_by", "read:statuses"),
  user("POST", "/api/v1/statuses/:id/favourite", "write:favourites"),
  user("POST", "/api/v1/statuses/:id/unfavourite", "write:favourites"),
  user("POST", "/api/v1/statuses/:id/bookmark", "write:bookmarks"),
  user("POST", "/api/v1/statuses/:id/unbookmark", "write:bookmarks"),
  user("POST", "/api/v1/statuses/:id/pin", "write:accounts"),
  user("POST", "/api/v1/statuses/:id/unpin", "write:accounts"),
  user("POST", "/api/v1/statuses/:id/mute", "write:mutes"),
  user("POST", "/api/v1/statuses/:id/unmute", "write:mutes"),
  user("POST", "/api/v1/statuses/:id/reblog", "write:statuses"),
  user("POST", "/api/v1/statuses/:id/unreblog", "write:statuses"),
  user("GET", "/api/v1/statuses/:id/quotes", "read:statuses"),
  user("POST", "/api/v1/statuses/:id/quotes/:quoting_status_id/revoke", "write:statuses"),
  user("PUT", "/api/v1/statuses/:id/interaction_policy", "write:statuses"),
  optional("GET", "/api/v1/polls/:id", "read:statuses"),
  user("POST", "/api/v1/polls/:id/votes", "write:statuses"),
  user("GET", "/api/v1/scheduled_statuses", "read:statuses"),
  user("GET", "/api/v1/scheduled_statuses/:id", "read:statuses"),
  user("PUT", "/api/v1/scheduled_statuses/:id", "write:statuses"),
  user("DELETE", "/api/v1/scheduled_statuses/:id", "write:statuses"),
  user("GET", "/api/v1/bookmarks", "read:bookmarks"),
  user("GET", "/api/v1/favourites", "read:favourites"),
  user("POST", "/api/v1/media", "write:media"),
  user("POST", "/api/v2/media", "write:media"),
  user("GET", "/api/v1/media/:id", "write:media"),
  user("PUT", "/api/v1/media/:id", "write:media"),
  user("DELETE", "/api/v1/media/:id", "write:media"),

  // Timelines, conversations, markers.
  user("GET", "/api/v1/timelines/home", "read:statuses"),
  optional("GET", "/api/v1/timelines/public", "read:statuses"),
  optional("GET", "/api/v1/timelines/tag/:hashtag", "read:statuses"),
  user("GET", "/api/v1/timelines/list/:list_id", "read:lists"),
  user("GET", "/api/v1/timelines/direct", "read:statuses"),
  user("GET", "/api/v1/timelines/link", "read:statuses"),
  user("GET", "/api/v1/conversations", "read:statuses"),
  user("POST", "/api/v1/conversations/:id/read", "write:conversations"),
  user("DELETE", "/api/v1/conversations/:id", "write:conversations"),
  user("GET", "/api/v1/markers", "read:statuses"),
  user("POST", "/api/v1/markers", "write:statuses"),

  // Notifications.
  user("GET", "/api/v1/notifications", "read:notifications"),
  user("GET", "/api/v1/notifications/unread_count", "read:notifications"),
  user("POST", "/api/v1/notifications/clear", "write:notifications"),
  user("GET", "/api/v1/notifications/:id", "read:notifications"),
  user("POST", "/api/v1/notifications/:id/dismiss", "write:notifications"),
  user("POST", "/api/v1/notifications/dismiss", "write:notifications"),
  user("GET", "/api/v1/notifications/policy", "read:notifications"),
  user("PUT", "/api/v1/notifications/policy", "write:notifications"),
  user("GET", "/api/v1/notifications/requests", "read:notifications"),
  user("GET", "/api/v1/notifications/requests/merged", "read:notifications"),
  user("GET", "/api/v1/notifications/requests/:id", "read:notifications"),
  user("POST", "/api/v1/notifications/requests/:id/accept", "write:notifications"),
  user("POST", "/api/v1/notifications/requests/:id/dismiss", "write:notifications"),
  user("POST", "/api/v1/notifications/requests/accept", "write:notifications"),
  user("POST", "/api/v1/notifications/requests/dismiss", "write:notifications"),
  user("GET", "/api/v2/notifications", "read:notifications"),
  user("GET", "/api/v2/notifications/unread_count", "read:notifications"),
  user("GET", "/api/v2/notifications/policy", "read:notifications"),
  user("PATCH", "/api/v2/notifications/policy", "write:notifications"),
  user("GET", "/api/v2/notifications/:group_key", "read:notifications"),
  {
    ...user("GET", "/api/v2/notifications/:group_key/accounts", "read:notifications", "write:notifications"),
    openapi: { scopes: ["write:notifications"], why: "the documentation says write:notifications, Mastodon's controller checks read:notifications: either is accepted" },
  },
  user("POST", "/api/v2/notifications/:group_key/dismiss", "write:notifications"),
  user("POST", "/api/v1/push/subscription", "push"),
  user("GET", "/api/v1/push/subscription", "push"),
  user("PUT", "/api/v1/push/subscription", "push"),
  user("DELETE", "/api/v1/push/subscription", "push"),
  user("GET", "/api/v1/announcements"),
  user("POST", "/api/v1/announcements/:id/dismiss", "write:accounts"),
  user("PUT", "/api/v1/announcements/:id/reactions/:name", "write:favourites"),
  user("DELETE", "/api/v1/announcements/:id/reactions/:name", "write:favourites"),

  // Filters.
  user("GET", "/api/v1/filters", "read:filters"),
  user("POST", "/api/v1/filters", "write:filters"),
  user("GET", "/api/v1/filters/:id", "read:filters"),
  user("PUT", "/api/v1/filters/:id", "write:filters"),
  user("DELETE", "/api/v1/filters/:id", "write:filters"),
  user("GET", "/api/v2/filters", "read:filters"),
  user("POST", "/api/v2/filters", "write:filters"),
  user("GET", "/api/v2/filters/:id", "read:filters"),
  user("PUT", "/api/v2/filters/:id", "write:filters"),
  user("DELETE", "/api/v2/filters/:id", "write:filters"),
  user("GET", "/api/v2/filters/:filter_id/keywords", "read:filters"),
  user("POST", "/api/v2/filters/:filter_id/keywords", "write:filters"),
  user("GET", "/api/v2/filters/keywords/:id", "read:filters"),
  user("PUT", "/api/v2/filters/keywords/:id", "write:filters"),
  user("DELETE", "/api/v2/filters/keywords/:id", "write:filters"),
  user("GET", "/api/v2/filters/:filter_id/statuses", "read:filters"),
  user("POST", "/api/v2/filters/:filter_id/statuses", "write:filters"),
  user("GET", "/api/v2/filters/statuses/:id", "read:filters"),
  user("DELETE", "/api/v2/filters/statuses/:id", "write:filters"),

  // Lists and tags.
  user("GET", "/api/v1/lists", "read:lists"),
  user("POST", "/api/v1/lists", "write:lists"),
  user("GET", "/api/v1/lists/:id", "read:lists"),
  user("PUT", "/api/v1/lists/:id", "write:lists"),
  user("DELETE", "/api/v1/lists/:id", "write:lists"),
  user("GET", "/api/v1/lists/:id/accounts", "read:lists"),
  user("POST", "/api/v1/lists/:id/accounts", "write:lists"),
  user("DELETE", "/api/v1/lists/:id/accounts", "write:lists"),
  user("POST", "/api/v1/tags/:name/follow", "write:follows"),
  user("POST", "/api/v1/tags/:name/unfollow", "write:follows"),
  user("POST", "/api/v1/tags/:name/feature", "write:accounts"),
  user("POST", "/api/v1/tags/:name/unfeature", "write:accounts"),
  user("GET", "/api/v1/followed_tags", "read:follows"),

  // Streaming (the server-sent events side; the WebSocket has tests of its own).
  pub("GET", "/api/v1/streaming/health"),
  { method: "GET", path: "/api/v1/streaming", need: "stream", scopes: [], probes: [] },
  {
    method: "GET",
    path: "/api/v1/streaming/*",
    need: "stream",
    scopes: [],
    probes: [
      ["/api/v1/streaming/user", "read:statuses"],
      ["/api/v1/streaming/user/notification", "read:notifications"],
      ["/api/v1/streaming/public", "read:statuses"],
      ["/api/v1/streaming/hashtag?tag=islet", "read:statuses"],
      ["/api/v1/streaming/direct", "read:statuses"],
    ],
  },
];

// --- Paths. ---

/** A Hono path without its parameter patterns: `/a/:id{[0-9]+}` is `/a/:id`. */
function withoutPatterns(path: string): string {
  let out = "";
  for (let i = 0; i < path.length; i++) {
    out += path[i];
    if (path[i] !== ":") continue;
    while (i + 1 < path.length && /\w/.test(path[i + 1])) out += path[++i];
    if (path[i + 1] !== "{") continue;
    let depth = 0;
    do {
      i++;
      if (path[i] === "{") depth++;
      else if (path[i] === "}") depth--;
    } while (depth > 0 && i < path.length);
  }
  return out;
}

/** The shape of a path, parameters unnamed: `/a/:id` and `/a/{account_id}` are both `/a/{}`. */
function shape(path: string): string {
  return path.replace(/:\w+/g, "{}").replace(/\{\w+\}/g, "{}");
}

const SAMPLE: Record<string, string> = { name: "islet", hashtag: "islet", group_key: "ungrouped-1", date: "2025-01-01" };

/** A concrete path for a row: ids that name nothing, words for names. */
function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) => SAMPLE[name] ?? "1");
}

const key = (method: string, path: string) => `${method} ${path}`;

/** The /api/ and /oauth/ routes the running app registered (middleware left out). */
function registeredRoutes(instance: TestInstance): Set<string> {
  const found = new Set<string>();
  for (const route of createApp(instance.islet).routes) {
    if (!/^\/(api|oauth)\//.test(route.path)) continue;
    if (route.method === "ALL" && route.path.endsWith("*")) continue;
    found.add(key(route.method, withoutPatterns(route.path)));
  }
  return found;
}

/** Refused for its scopes, with Mastodon's answer. */
function assertScopeRefusal(response: { status: number; body: unknown }, what: string): void {
  assert.equal(response.status, 403, `${what}: ${JSON.stringify(response.body)}`);
  assert.deepEqual(response.body, { error: SCOPE_ERROR }, what);
}

/** Not refused for want of a token or a scope (a 404 for an id naming nothing is fine). */
function assertNotRefused(response: { status: number; body: unknown }, what: string): void {
  const body = response.body as { error?: unknown } | null;
  assert.notEqual(response.status, 401, `${what}: ${JSON.stringify(response.body)}`);
  assert.ok(!(response.status === 403 && body?.error === SCOPE_ERROR), `${what}: refused for its scopes`);
  assert.ok(response.status < 500, `${what}: ${response.status} ${JSON.stringify(response.body)}`);
}

// --- The hierarchy itself. ---

describe("scope hierarchy", () => {
  test("each scope grants what Mastodon's documentation says, and nothing more", () => {
    const wrong: string[] = [];
    for (const granted of ALL_SCOPES) {
      for (const required of ["read", "write", "follow", "push", "profile", ...GRANULAR]) {
        const expected = grantors(required).has(granted);
        if (scopeAllows([granted], required) !== expected) wrong.push(`${granted} ${expected ? "should" : "should not"} grant ${required}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});

// --- The OpenAPI description, when it is there. ---

interface Operation { security?: Array<Record<string, string[]>> }

const openApiPaths: Record<string, Record<string, Operation>> | null = existsSync(OPENAPI_SCHEMA_PATH)
  ? (JSON.parse(readFileSync(OPENAPI_SCHEMA_PATH, "utf8")) as { paths: Record<string, Record<string, Operation>> }).paths
  : null;

describe("the scope table and the OpenAPI description", () => {
  const skip = openApiPaths == null && "SKIPPED: ../shared/mastodon-openapi is absent, so the scope table was not cross-checked against Mastodon's OpenAPI description";
  if (skip) console.log(`# scopes.test.ts: ${skip}`);

  test("every route in both has the scopes the description gives", { skip }, (t) => {
    const operations = new Map<string, Operation>();
    for (const [path, methods] of Object.entries(openApiPaths!)) {
      for (const [method, operation] of Object.entries(methods)) operations.set(key(method.toUpperCase(), shape(path)), operation);
    }
    const problems: string[] = [];
    const unmatched: string[] = [];
    for (const entry of TABLE) {
      const operation = operations.get(key(entry.method, shape(entry.path)));
      if (operation == null) {
        unmatched.push(key(entry.method, entry.path));
        continue;
      }
      const security = operation.security?.[0]?.OAuth2;
      // `follow` beside a granular scope is the deprecated scope granting it.
      for (const scope of security ?? []) {
        if (scope !== "follow") continue;
        const granular = security!.filter((s) => s !== "follow");
        if (!granular.every((s) => FOLLOW_GRANTS.includes(s))) problems.push(`${key(entry.method, entry.path)}: follow listed beside ${granular.join(", ")}`);
      }
      const documented = security == null ? null : security.filter((scope) => scope !== "follow").sort();
      if (entry.openapi != null) {
        assert.deepEqual(documented, entry.openapi.scopes, `${key(entry.method, entry.path)}: the description changed (${entry.openapi.why})`);
        continue;
      }
      const name = key(entry.method, entry.path);
      if (documented == null) {
        if (!["public", "optional", "client"].includes(entry.need)) problems.push(`${name}: public in the description, ${entry.need} here`);
        continue;
      }
      if (entry.need === "public" || entry.need === "client") {
        problems.push(`${name}: the description asks for a token (${documented.join(" ") || "any scope"}), ${entry.need} here`);
        continue;
      }
      if (entry.need === "stream") continue;
      if (JSON.stringify([...entry.scopes].sort()) !== JSON.stringify(documented)) {
        problems.push(`${name}: ${documented.join(" ") || "no scope"} in the description, ${entry.scopes.join(" ") || "no scope"} here`);
      }
    }
    assert.deepEqual(problems, []);
    t.diagnostic(`${TABLE.length - unmatched.length} routes compared; not in the description: ${unmatched.join(", ")}`);
  });
});

// --- Against a running server. ---

for (const kind of databaseKinds()) {
  describe(`OAuth scopes of every API route (${kind})`, () => {
    let instance: TestInstance;
    const tokens = new Map<string, Promise<string>>();
    /** The owner's token with exactly these scopes, made once. */
    const tokenFor = (scopes: readonly string[]): Promise<string> => {
      const value = [...scopes].sort().join(" ");
      let token = tokens.get(value);
      if (token == null) {
        token = ownerToken(instance, value);
        tokens.set(value, token);
      }
      return token;
    };

    before(async () => {
      instance = await startInstance(kind);
    });
    after(async () => {
      await instance?.close();
    });

    test("every /api/ and /oauth/ route the app registers has a row, and every row a route", () => {
      const registered = registeredRoutes(instance);
      const listed = new Set(TABLE.map((entry) => key(entry.method, entry.path)));
      assert.equal(listed.size, TABLE.length, "each route once in the table");
      assert.deepEqual([...registered].filter((route) => !listed.has(route)), [], "routes missing from the scope table");
      assert.deepEqual([...listed].filter((route) => !registered.has(route)), [], "rows naming no route");
    });

    for (const entry of TABLE) {
      const name = `${entry.method} ${entry.path}: ${entry.need}${entry.scopes.length > 0 ? ` ${entry.scopes.join(" | ")}` : ""}`;
      test(name, async () => {
        const path = concrete(entry.path);
        const call = async (token: string | null) => await api(instance, entry.method, path, { token });
        switch (entry.need) {
          case "public": {
            assertNotRefused(await call(null), "without a token");
            assertNotRefused(await call(await tokenFor(["push"])), "with a token for something else");
            break;
          }
          case "client": {
            // No bearer token is asked for, and one with every scope changes nothing.
            const without = await call(null);
            assert.ok(!(without.status === 403 && (without.body as { error?: unknown })?.error === SCOPE_ERROR));
            assert.ok(without.status < 500, `${without.status}`);
            const withToken = await call(await tokenFor(ALL_SCOPES));
            assert.equal(withToken.status, without.status, JSON.stringify(withToken.body));
            break;
          }
          case "optional": {
            assertNotRefused(await call(null), "without a token");
            assertScopeRefusal(await call(await tokenFor(allScopesBut(entry.scopes))), "a token without the scope");
            for (const scope of entry.scopes) assertNotRefused(await call(await tokenFor([scope])), `a token with ${scope} alone`);
            break;
          }
          case "user":
          case "token": {
            const none = await call(null);
            assert.equal(none.status, 401, JSON.stringify(none.body));
            assert.deepEqual(none.body, { error: TOKEN_ERROR });
            if (entry.scopes.length === 0) {
              assertNotRefused(await call(await tokenFor(["push"])), "a token with any scope");
              break;
            }
            assertScopeRefusal(await call(await tokenFor(allScopesBut(entry.scopes))), "a token without the scope");
            for (const scope of entry.scopes) assertNotRefused(await call(await tokenFor([scope])), `a token with ${scope} alone`);
            break;
          }
          case "stream": {
            const open = async (probe: string, token: string | null) => {
              const controller = new AbortController();
              const response = await fetch(`${instance.url}${probe}`, {
                headers: token == null ? {} : { Authorization: `Bearer ${token}` },
                signal: controller.signal,
              });
              const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
              controller.abort();
              return { status: response.status, body };
            };
            // The bare path is the WebSocket endpoint: over plain HTTP it opens nothing.
            assert.notEqual((await open(entry.path === "/api/v1/streaming" ? entry.path : "/api/v1/streaming/user", null)).status, 200);
            for (const [probe, scope] of entry.probes ?? []) {
              const refused = await open(probe, await tokenFor(allScopesBut([scope])));
              assert.equal(refused.status, 401, `${probe} without ${scope}`);
              assert.deepEqual(refused.body, { error: STREAM_SCOPE_ERROR });
              const opened = await open(probe, await tokenFor([scope]));
              assert.equal(opened.status, 200, `${probe} with ${scope}: ${JSON.stringify(opened.body)}`);
            }
            break;
          }
        }
      });
    }

    test("an app's token on a public route is held to the same scope as a user's", async () => {
      const token = await tokenFor(["write:accounts"]);
      await instance.islet.core.db.update(oauthTokens).set({ accountId: null }).where(eq(oauthTokens.tokenHash, hashToken(token)));
      tokens.delete("write:accounts");
      const accountId = instance.owner!.account.id;
      assertScopeRefusal(await api(instance, "GET", `/api/v1/accounts/${accountId}`, { token }), "an app token without read:accounts");
      assertScopeRefusal(await api(instance, "GET", "/api/v1/timelines/public", { token }), "an app token without read:statuses");
      const readToken = await tokenFor(["read"]);
      await instance.islet.core.db.update(oauthTokens).set({ accountId: null }).where(eq(oauthTokens.tokenHash, hashToken(readToken)));
      tokens.delete("read");
      const allowed = await api(instance, "GET", `/api/v1/accounts/${accountId}`, { token: readToken });
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    });
  });
}
