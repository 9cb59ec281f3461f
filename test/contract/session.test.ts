/**
 * A whole client session, and every JSON answer checked against the
 * Mastodon OpenAPI description of that operation and status: app, sign-in
 * and consent, token, media, posts with a poll, a reply, a favourite,
 * timeline pages, notifications, filters, lists, markers and search, and
 * quote posts (quoting, the quotes of a post, the interaction policy, revoking).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { upsertRemoteAccount } from "../../src/core/accounts.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { receiveQuoteRequest } from "../../src/core/quotes.ts";
import { receiveStatus } from "../../src/core/remote-statuses.ts";
import { findStatus } from "../../src/core/statuses.ts";
import { newId } from "../../src/core/ids.ts";
import { follows } from "../../src/db/schema.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { openApiSchema, validateResponse } from "../helpers/openapi.ts";
import { asDescribed, numericIds, unsafeIntegers } from "../helpers/string-ids.ts";

const schema = openApiSchema();
const skip = !schema && "../shared/mastodon-openapi absent";

interface Checked {
  status: number;
  headers: Headers;
  body: any;
}

/** Calls the API and checks the JSON answer against the description. */
async function call(instance: TestInstance, method: string, path: string, options: { token?: string; body?: unknown; form?: FormData } = {}): Promise<Checked> {
  const headers: Record<string, string> = {};
  if (options.token != null) headers.Authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined;
  if (options.form != null) body = options.form;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${instance.url}${path}`, { method, headers, body });
  const type = response.headers.get("Content-Type") ?? "";
  assert.match(type, /^application\/json/, `${method} ${path} answered ${type}`);
  const text = await response.text();
  const parsed = JSON.parse(text);
  // Every id, nested ones included, is a string; no integer in the text loses precision in JavaScript.
  assert.deepEqual(numericIds(parsed), [], `${method} ${path} has ids that are numbers`);
  assert.deepEqual(unsafeIntegers(text), [], `${method} ${path} has integers past 2^53`);
  // null: the description gives no schema for this answer (e.g. preferences, a free-form map).
  const problems = validateResponse(method, path, response.status, asDescribed(parsed)) ?? [];
  assert.deepEqual(problems, [], `${method} ${path} ${response.status} does not match the description:\n${problems.join("\n")}`);
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The browser part of OAuth: sign in and consent; returns the code. */
async function authorizeInBrowser(instance: TestInstance, authorizePath: string): Promise<string> {
  const cookies = new Map<string, string>();
  const request = async (method: string, path: string, form?: Record<string, string>) => {
    const response = await fetch(`${instance.url}${path}`, {
      method,
      headers: { Accept: "text/html", Cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
      body: form == null ? undefined : new URLSearchParams(form),
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return { response, text: await response.text() };
  };
  const hidden = (html: string, action: string) => {
    const form = [...html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].find((m) => m[1].replace(/&amp;/g, "&") === action);
    assert.ok(form, `a form to ${action}`);
    return Object.fromEntries([...form[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replace(/&amp;/g, "&")]));
  };
  let page = await request("GET", authorizePath);
  const signedIn = await request("POST", "/auth/sign_in", { ...hidden(page.text, "/auth/sign_in"), login: "owner@example.com", password: "a long test password" });
  assert.equal(signedIn.response.status, 303);
  page = await request("GET", signedIn.response.headers.get("location")!);
  const decided = await request("POST", "/oauth/authorize", { ...hidden(page.text, "/oauth/authorize"), decision: "authorize" });
  const location = decided.response.headers.get("location");
  assert.ok(location, decided.text.slice(0, 300));
  const code = new URL(location).searchParams.get("code");
  assert.ok(code);
  return code;
}

describe("the contract oracle", { skip }, () => {
  test("finds the operation by its path template and catches a malformed answer", () => {
    assert.deepEqual(validateResponse("GET", "/api/v1/statuses/123", 404, { error: "Record not found" }), []);
    const problems = validateResponse("GET", "/api/v1/statuses/123?x=1", 200, { id: 5 });
    assert.ok(problems != null && problems.length > 0, "a Status without its fields is caught");
    // The literal path wins over the templated one.
    const relationships = validateResponse("GET", "/api/v1/accounts/relationships", 200, [{ id: "1" }]);
    assert.ok(relationships != null && relationships.some((line) => /following/.test(line)), relationships?.join("\n"));
  });
});

for (const kind of databaseKinds()) {
  describe(`a client session against the Mastodon description (${kind})`, { skip }, () => {
    let instance: TestInstance;
    let token: string;

    before(async () => {
      instance = await startInstance(kind);
    });
    after(async () => {
      await instance?.close();
    });

    test("register, authorize with PKCE, get a token", async () => {
      const app = await call(instance, "POST", "/api/v1/apps", {
        body: { client_name: "Contract", redirect_uris: "https://client.example/cb", scopes: "read write follow push" },
      });
      const verifier = randomBytes(32).toString("base64url");
      const challenge = createHash("sha256").update(verifier).digest("base64url");
      const query = new URLSearchParams({
        response_type: "code", client_id: app.body.client_id, redirect_uri: "https://client.example/cb",
        scope: "read write follow push", code_challenge: challenge, code_challenge_method: "S256",
      });
      const code = await authorizeInBrowser(instance, `/oauth/authorize?${query}`);
      const issued = await call(instance, "POST", "/oauth/token", {
        body: {
          grant_type: "authorization_code", code, client_id: app.body.client_id, client_secret: app.body.client_secret,
          redirect_uri: "https://client.example/cb", code_verifier: verifier,
        },
      });
      token = issued.body.access_token;
      await call(instance, "GET", "/api/v1/apps/verify_credentials", { token });
      await call(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
      await call(instance, "GET", "/api/v2/instance");
      await call(instance, "GET", "/api/v1/instance");
    });

    test("post with media and a poll, reply, favourite, page the home timeline", async () => {
      const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3366cc" } }).png().toBuffer();
      const form = new FormData();
      form.set("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "picture.png");
      form.set("description", "A blue rectangle");
      const media = await call(instance, "POST", "/api/v2/media", { token, form });
      const withMedia = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "A picture #contract", media_ids: [media.body.id] } });
      assert.equal(withMedia.body.media_attachments.length, 1);
      const withPoll = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "Which?", poll: { options: ["A", "B"], expires_in: 600 } } });
      const reply = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "Replying", in_reply_to_id: withMedia.body.id } });
      await call(instance, "POST", `/api/v1/statuses/${withPoll.body.id}/favourite`, { token });
      await call(instance, "GET", `/api/v1/statuses/${withMedia.body.id}/context`, { token });
      await call(instance, "GET", `/api/v1/polls/${withPoll.body.poll.id}`, { token });
      const first = await call(instance, "GET", "/api/v1/timelines/home?limit=2", { token });
      assert.deepEqual(first.body.map((s: { id: string }) => s.id), [reply.body.id, withPoll.body.id]);
      const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get("Link") ?? "")?.[1];
      assert.ok(next, "a next link");
      const second = await call(instance, "GET", new URL(next).pathname + new URL(next).search, { token });
      assert.deepEqual(second.body.map((s: { id: string }) => s.id), [withMedia.body.id]);
      await call(instance, "GET", "/api/v1/timelines/public?local=true", { token });
      await call(instance, "GET", "/api/v1/timelines/tag/contract", { token });
    });

    test("notifications, filters, lists, markers, search and the start-up reads", async () => {
      const follower = await upsertRemoteAccount(instance.islet.core, {
        uri: "https://remote.example/users/fan", username: "fan", domain: "remote.example", url: "https://remote.example/@fan",
        actorType: "Person", displayName: "Fan", note: "", avatarUrl: null, headerUrl: null, inboxUrl: null, sharedInboxUrl: null,
        outboxUrl: null, followersUrl: null, followingUrl: null, featuredUrl: null, locked: false, bot: false, discoverable: true,
        indexable: true, fields: [], alsoKnownAs: [], followersCount: 0, followingCount: 0, statusesCount: 0, publishedAt: null,
      });
      await receiveFollow(instance.islet.core, follower, instance.owner!.account, null);
      const notifications = await call(instance, "GET", "/api/v1/notifications", { token });
      assert.equal(notifications.body[0].type, "follow");
      await call(instance, "GET", "/api/v2/notifications", { token });
      await call(instance, "GET", "/api/v1/notifications/unread_count", { token });
      const filter = await call(instance, "POST", "/api/v2/filters", {
        token, body: { title: "Spoilers", context: ["home"], filter_action: "warn", keywords_attributes: [{ keyword: "spoiler" }] },
      });
      await call(instance, "GET", "/api/v2/filters", { token });
      await call(instance, "GET", `/api/v2/filters/${filter.body.id}`, { token });
      const list = await call(instance, "POST", "/api/v1/lists", { token, body: { title: "Friends" } });
      await call(instance, "GET", "/api/v1/lists", { token });
      await call(instance, "GET", `/api/v1/lists/${list.body.id}/accounts`, { token });
      await call(instance, "POST", "/api/v1/markers", { token, body: { home: { last_read_id: "1" } } });
      await call(instance, "GET", "/api/v1/markers?timeline[]=home&timeline[]=notifications", { token });
      const found = await call(instance, "GET", "/api/v2/search?q=fan", { token });
      assert.equal(found.body.accounts[0].acct, "fan@remote.example");
      for (const path of [
        "/api/v1/preferences", "/api/v1/custom_emojis", "/api/v1/followed_tags", "/api/v1/follow_requests",
        "/api/v1/announcements", "/api/v1/trends/tags", "/api/v2/suggestions", "/api/v1/instance/peers",
        "/api/v1/instance/activity", "/api/v1/instance/rules", "/api/v1/bookmarks", "/api/v1/favourites",
        "/api/v1/blocks", "/api/v1/mutes", "/api/v1/conversations", "/api/v1/scheduled_statuses", "/api/v1/featured_tags",
      ]) {
        const result = await call(instance, "GET", path, { token });
        assert.equal(result.status, 200, path);
      }
    });

    test("scheduled posts, the profile resource and the small answers clients expect", async () => {
      const parent = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "A parent" } });
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const scheduled = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "Later", in_reply_to_id: parent.body.id, scheduled_at: later } });
      assert.equal(scheduled.body.params.in_reply_to_id, parent.body.id);
      assert.equal(typeof scheduled.body.params.application_id, "string");
      const listed = await call(instance, "GET", "/api/v1/scheduled_statuses", { token });
      assert.equal(listed.body[0].params.application_id, scheduled.body.params.application_id);
      await call(instance, "GET", `/api/v1/scheduled_statuses/${scheduled.body.id}`, { token });

      const profile = await call(instance, "GET", "/api/v1/profile", { token });
      assert.equal(profile.body.avatar, null);
      const updated = await call(instance, "PATCH", "/api/v1/profile", { token, body: { avatar_description: "A lighthouse", header_description: "The sea", show_featured: false } });
      assert.equal(updated.body.avatar_description, "A lighthouse");
      assert.equal(updated.body.header_description, "The sea");
      assert.equal(updated.body.show_featured, false);
      assert.equal((await call(instance, "GET", "/api/v1/profile", { token })).body.avatar_description, "A lighthouse");

      const link = await call(instance, "GET", `/api/v1/timelines/link?url=${encodeURIComponent("https://news.example/article")}`, { token });
      assert.deepEqual(link.body, []);
      const confirmation = await call(instance, "POST", "/api/v1/emails/confirmations", { token });
      assert.equal(confirmation.status, 403);

      const accepted = await call(instance, "POST", "/api/v1/notifications/requests/accept", { token, body: { id: ["1", "2"] } });
      assert.equal(accepted.status, 200);
      assert.equal((await call(instance, "POST", "/api/v1/notifications/requests/dismiss", { token, body: { id: ["1"] } })).status, 200);
      assert.equal((await call(instance, "GET", "/api/v1/notifications/requests/1", { token })).status, 404);

      const fan = (await call(instance, "GET", "/api/v1/accounts/lookup?acct=fan@remote.example", { token })).body;
      const notFollowed = await call(instance, "POST", `/api/v1/accounts/${fan.id}/endorse`, { token });
      assert.equal(notFollowed.status, 422);
      // The owner follows the fan back (accepted, as the fan's server would answer).
      await instance.islet.core.db.insert(follows).values({ id: newId(), accountId: instance.owner!.account.id, targetAccountId: BigInt(fan.id), state: "accepted" });
      assert.equal((await call(instance, "POST", `/api/v1/accounts/${fan.id}/endorse`, { token })).body.endorsed, true);
      assert.equal((await call(instance, "GET", "/api/v1/endorsements", { token })).body[0].id, fan.id);
      assert.equal((await call(instance, "POST", `/api/v1/accounts/${fan.id}/unendorse`, { token })).body.endorsed, false);
      await call(instance, "GET", `/api/v1/accounts/${instance.owner!.account.id}/endorsements`, { token });
    });

    test("quote posts: quoting, the quotes of a post, its interaction policy, revoking", async () => {
      const core = instance.islet.core;
      const original = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "Quotable", quote_approval_policy: "public" } });
      const quoting = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "Quoting", quoted_status_id: original.body.id } });
      assert.equal(quoting.body.quote.quoted_status.id, original.body.id);
      const policy = await call(instance, "PUT", `/api/v1/statuses/${original.body.id}/interaction_policy`, { token, body: { quote_approval_policy: "followers" } });
      assert.deepEqual(policy.body.quote_approval.automatic, ["followers"]);
      await call(instance, "PUT", `/api/v1/statuses/${original.body.id}/interaction_policy`, { token, body: { quote_approval_policy: "public" } });
      // A remote account's quote, approved as its QuoteRequest would be.
      const quoter = await upsertRemoteAccount(core, {
        uri: "https://remote.example/users/quoter", username: "quoter", domain: "remote.example", url: "https://remote.example/@quoter",
        actorType: "Person", displayName: "Quoter", note: "", avatarUrl: null, headerUrl: null, inboxUrl: null, sharedInboxUrl: null,
        outboxUrl: null, followersUrl: null, followingUrl: null, featuredUrl: null, locked: false, bot: false, discoverable: true,
        indexable: true, fields: [], alsoKnownAs: [], followersCount: 0, followingCount: 0, statusesCount: 0, publishedAt: null,
      });
      const remote = await receiveStatus(core, quoter, {
        uri: "https://remote.example/users/quoter/statuses/1", url: null, content: "<p>Quoted you</p>", spoilerText: "", sensitive: false,
        visibility: "public", language: "en", inReplyToUri: null, tagNames: [], attachments: [], poll: null, published: new Date(), updated: null,
      }, []);
      await receiveQuoteRequest(core, quoter, (await findStatus(core, BigInt(original.body.id)))!, remote, "https://remote.example/users/quoter#quote-requests/1");
      const quotes = await call(instance, "GET", `/api/v1/statuses/${original.body.id}/quotes`, { token });
      assert.deepEqual(quotes.body.map((s: { id: string }) => s.id), [remote.id.toString(), quoting.body.id]);
      const notified = await call(instance, "GET", "/api/v1/notifications?types[]=quote", { token });
      assert.equal(notified.body[0].status.id, remote.id.toString());
      await call(instance, "GET", "/api/v2/notifications?types[]=quote", { token });
      const revoked = await call(instance, "POST", `/api/v1/statuses/${original.body.id}/quotes/${remote.id}/revoke`, { token });
      assert.equal(revoked.body.quote.state, "revoked");
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const scheduled = await call(instance, "POST", "/api/v1/statuses", {
        token, body: { status: "Quote later", quoted_status_id: original.body.id, quote_approval_policy: "nobody", scheduled_at: later },
      });
      assert.equal(scheduled.body.params.quoted_status_id, original.body.id);
      assert.equal(scheduled.body.params.quote_approval_policy, "nobody");
    });

    test("errors have Mastodon's shape", async () => {
      const unknown = await call(instance, "GET", "/api/v1/statuses/1234", { token });
      assert.equal(unknown.status, 404);
      const noToken = await call(instance, "GET", "/api/v1/timelines/home");
      assert.equal(noToken.status, 401);
      const invalid = await call(instance, "POST", "/api/v1/statuses", { token, body: { status: "" } });
      assert.equal(invalid.status, 422);
    });
  });
}
