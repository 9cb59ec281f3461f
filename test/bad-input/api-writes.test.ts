/**
 * Every write endpoint of the Mastodon API (each POST, PUT, PATCH and
 * DELETE route in src/api) fed wrong types, missing and oversized fields,
 * bodies that are not objects, and unknown or malformed ids. Each answer is
 * a 2xx (for input an endpoint may ignore) or a 4xx with `{"error": ...}`;
 * never a 5xx. Unknown and malformed ids are always a 4xx.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";

/** Method and path of every write route; `:id` marks an id in the path. */
const ROUTES: [string, string][] = [
  ["DELETE", "/api/v1/conversations/:id"],
  ["DELETE", "/api/v1/domain_blocks"],
  ["DELETE", "/api/v1/featured_tags/:id"],
  ["DELETE", "/api/v1/filters/:id"],
  ["DELETE", "/api/v1/lists/:id"],
  ["DELETE", "/api/v1/lists/:id/accounts"],
  ["DELETE", "/api/v1/media/:id"],
  ["DELETE", "/api/v1/scheduled_statuses/:id"],
  ["DELETE", "/api/v1/statuses/:id"],
  ["DELETE", "/api/v1/suggestions/:id"],
  ["DELETE", "/api/v2/filters/:id"],
  ["DELETE", "/api/v2/filters/keywords/:id"],
  ["DELETE", "/api/v2/filters/statuses/:id"],
  ["DELETE", "/api/v1/profile/avatar"],
  ["DELETE", "/api/v1/profile/header"],
  ["DELETE", "/api/v1/announcements/:id/reactions/smile"],
  ["PUT", "/api/v1/announcements/:id/reactions/smile"],
  ["PATCH", "/api/v1/accounts/update_credentials"],
  ["PATCH", "/api/v2/notifications/policy"],
  ["POST", "/api/v1/announcements/:id/dismiss"],
  ["POST", "/api/v1/apps"],
  ["POST", "/api/v1/conversations/:id/read"],
  ["POST", "/api/v1/domain_blocks"],
  ["POST", "/api/v1/featured_tags"],
  ["POST", "/api/v1/filters"],
  ["POST", "/api/v1/follow_requests/:id/authorize"],
  ["POST", "/api/v1/follow_requests/:id/reject"],
  ["POST", "/api/v1/lists"],
  ["POST", "/api/v1/lists/:id/accounts"],
  ["POST", "/api/v1/markers"],
  ["POST", "/api/v1/media"],
  ["POST", "/api/v2/media"],
  ["POST", "/api/v1/notifications/:id/dismiss"],
  ["POST", "/api/v1/notifications/clear"],
  ["POST", "/api/v1/notifications/dismiss"],
  ["POST", "/api/v1/polls/:id/votes"],
  ["POST", "/api/v1/reports"],
  ["POST", "/api/v1/statuses"],
  ["POST", "/api/v1/statuses/:id/reblog"],
  ["POST", "/api/v1/statuses/:id/translate"],
  ...["favourite", "unfavourite", "bookmark", "unbookmark", "pin", "unpin", "mute", "unmute", "unreblog"].map((action): [string, string] => ["POST", `/api/v1/statuses/:id/${action}`]),
  ...["follow", "unfollow", "remove_from_followers", "block", "unblock", "mute", "unmute", "note"].map((action): [string, string] => ["POST", `/api/v1/accounts/:id/${action}`]),
  ["POST", "/api/v1/tags/islet/feature"],
  ["POST", "/api/v1/tags/islet/follow"],
  ["POST", "/api/v1/tags/islet/unfeature"],
  ["POST", "/api/v1/tags/islet/unfollow"],
  ["POST", "/api/v2/filters"],
  ["POST", "/api/v2/filters/:id/keywords"],
  ["POST", "/api/v2/filters/:id/statuses"],
  ["POST", "/api/v2/notifications/:id/dismiss"],
  ["POST", "/oauth/revoke"],
  ["POST", "/oauth/token"],
  ["PUT", "/api/v1/filters/:id"],
  ["PUT", "/api/v1/lists/:id"],
  ["PUT", "/api/v1/media/:id"],
  ["PUT", "/api/v1/notifications/policy"],
  ["PUT", "/api/v1/scheduled_statuses/:id"],
  ["PUT", "/api/v1/statuses/:id"],
  ["PUT", "/api/v2/filters/:id"],
  ["PUT", "/api/v2/filters/keywords/:id"],
];

/** The parameters these endpoints read, by their Mastodon names. */
const FIELDS = [
  "status", "spoiler_text", "visibility", "media_ids", "poll", "in_reply_to_id", "sensitive", "language", "scheduled_at",
  "title", "replies_policy", "exclusive", "account_ids", "context", "phrase", "whole_word", "expires_in", "irreversible",
  "filter_action", "keywords_attributes", "keyword", "status_id", "comment", "category", "rule_ids", "forward", "domain",
  "name", "home", "notifications", "last_read_id", "choices", "display_name", "note", "fields_attributes", "locked", "bot",
  "discoverable", "indexable", "hide_collections", "source", "client_name", "redirect_uris", "scopes", "website",
  "description", "focus", "reblogs", "notify", "languages", "duration", "grant_type", "code", "client_id",
  "client_secret", "redirect_uri", "token", "code_verifier", "id", "for_not_following", "for_not_followers",
  "for_new_accounts", "for_private_mentions", "for_limited_accounts", "comment", "lang",
];

/** Values of the wrong type, or too large, for any of them. */
const WRONG_VALUES: [string, unknown][] = [
  ["numbers", 123],
  ["negative numbers", -1],
  ["huge numbers", 1e308],
  ["booleans", true],
  ["objects", { a: { b: 1 } }],
  ["empty arrays", []],
  ["nested arrays", [[1], [{}]]],
  ["nulls", null],
  ["oversized strings", "x".repeat(20_000)],
  ["long digit strings", "9".repeat(40)],
  ["control characters", "\u0000\u0001\u202e"],
];

const UNKNOWN_ID = "99999999999999999";

/**
 * Routes that answer 200 whatever they are given, as Mastodon's do: removing
 * a suggestion, and dismissing a notification group by its key (not an id).
 */
const ALWAYS_OK = new Set(["DELETE /api/v1/suggestions/:id", "POST /api/v2/notifications/:id/dismiss"]);

interface Outcome {
  status: number;
  body: string;
}

async function call(instance: TestInstance, token: string, method: string, path: string, body: { json?: unknown; raw?: string; form?: string }): Promise<Outcome> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | undefined;
  if (body.raw != null) {
    headers["content-type"] = "application/json";
    payload = body.raw;
  } else if (body.form != null) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    payload = body.form;
  } else if (body.json !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body.json);
  }
  const response = await fetch(`${instance.url}${path}`, { method, headers, body: payload });
  return { status: response.status, body: await response.text() };
}

/** Why an answer is wrong, or null. */
function judge(outcome: Outcome, mustFail: boolean): string | null {
  if (outcome.status >= 500) return `${outcome.status} ${outcome.body.slice(0, 200)}`;
  if (outcome.status >= 400) {
    try {
      const parsed = JSON.parse(outcome.body) as { error?: unknown };
      if (typeof parsed.error !== "string") return `${outcome.status} without "error": ${outcome.body.slice(0, 200)}`;
    } catch {
      return `${outcome.status} not JSON: ${outcome.body.slice(0, 200)}`;
    }
    return null;
  }
  return mustFail ? `${outcome.status}, expected a 4xx` : null;
}

for (const kind of databaseKinds()) {
  describe(`API write endpoints fed bad input (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    withOwnerInstance(kind, (started, ownerToken) => {
      instance = started;
      token = ownerToken;
    });

    test("unknown and malformed ids are a 4xx with an error, never a 5xx", async () => {
      const wrong: string[] = [];
      for (const [method, template] of ROUTES.filter(([, path]) => path.includes(":id"))) {
        for (const id of [UNKNOWN_ID, "abc", "-1", "1.5", "9".repeat(40), "%00"]) {
          const path = template.replace(":id", id);
          const problem = judge(await call(instance, token, method, path, { json: {} }), !ALWAYS_OK.has(`${method} ${template}`));
          if (problem != null) wrong.push(`${method} ${path}: ${problem}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    test("bodies of the wrong shape, wrong types and oversized fields are never a 5xx", async () => {
      const wrong: string[] = [];
      for (const [method, template] of ROUTES) {
        const path = template.replace(":id", UNKNOWN_ID);
        const bodies: [string, { json?: unknown; raw?: string; form?: string }][] = [
          ["no body", {}],
          ["an empty object", { json: {} }],
          ["invalid JSON", { raw: "{\"status\": " }],
          ["a JSON array", { raw: "[1, 2, 3]" }],
          ["a JSON string", { raw: "\"status\"" }],
          ["deeply nested JSON", { raw: `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}` }],
          ["a form with nested brackets", { form: "status[a][b][c]=1&media_ids[][x]=2&poll[options][][]=3&keywords_attributes[0][keyword][x]=y&fields_attributes[][name][]=z" }],
          ...WRONG_VALUES.map(([name, value]): [string, { json: unknown }] => [`every field set to ${name}`, { json: Object.fromEntries(FIELDS.map((field) => [field, value])) }]),
        ];
        for (const [name, body] of bodies) {
          const problem = judge(await call(instance, token, method, path, body), false);
          if (problem != null) wrong.push(`${method} ${path} with ${name}: ${problem}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    test("a NUL character in otherwise valid text is refused or cleaned, never a 5xx", async () => {
      const nul = "before\u0000after";
      const requests: [string, string, unknown][] = [
        ["POST", "/api/v1/statuses", { status: nul }],
        ["POST", "/api/v1/statuses", { status: "fine", spoiler_text: nul }],
        ["POST", "/api/v1/lists", { title: nul }],
        ["POST", "/api/v2/filters", { title: nul, context: ["home"] }],
        ["PATCH", "/api/v1/accounts/update_credentials", { display_name: nul }],
        ["PATCH", "/api/v1/accounts/update_credentials", { note: nul }],
        ["POST", "/api/v1/featured_tags", { name: nul }],
        ["POST", "/api/v1/domain_blocks", { domain: nul }],
        ["POST", "/api/v1/markers", { home: { last_read_id: nul } }],
        ["POST", "/api/v1/apps", { client_name: nul, redirect_uris: "urn:ietf:wg:oauth:2.0:oob" }],
      ];
      const wrong: string[] = [];
      for (const [method, path, json] of requests) {
        const problem = judge(await call(instance, token, method, path, { json }), false);
        if (problem != null) wrong.push(`${method} ${path} ${JSON.stringify(json)}: ${problem}`);
      }
      assert.deepEqual(wrong, []);
    });

    test("the server still answers normally", async () => {
      const outcome = await call(instance, token, "POST", "/api/v1/statuses", { json: { status: "still fine" } });
      assert.equal(outcome.status, 200, outcome.body);
    });
  });
}
