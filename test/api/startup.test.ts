/**
 * What clients fetch when they start: every such endpoint answers 200 with
 * a body of Mastodon's shape on a fresh instance (a 404 there makes some
 * clients give up), asks for the scopes Mastodon asks for, and still
 * answers in shape once there is data to show.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { updateProfile } from "../../src/core/profile.ts";
import { eq } from "drizzle-orm";
import { accounts, domainBlocks, follows, oauthTokens, statusTags, statuses, tags } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

/** An endpoint a client may call at start-up, and what it answers with. */
interface Endpoint {
  path: string;
  /** The Mastodon schema of the body, or of each item when `array`. */
  schema?: string;
  array?: boolean;
  /** The scope a token needs; null: public; "": any user token. */
  scope: string | null;
}

const STARTUP: Endpoint[] = [
  { path: "/api/v1/instance", schema: "V1Instance", scope: null },
  { path: "/api/v2/instance", schema: "Instance", scope: null },
  { path: "/api/v1/instance/peers", scope: null },
  { path: "/api/v1/instance/activity", scope: null },
  { path: "/api/v1/instance/rules", schema: "Rule", array: true, scope: null },
  { path: "/api/v1/instance/extended_description", schema: "ExtendedDescription", scope: null },
  { path: "/api/v1/instance/translation_languages", scope: null },
  { path: "/api/v1/instance/privacy_policy", schema: "PrivacyPolicy", scope: null },
  { path: "/api/v1/instance/domain_blocks", schema: "DomainBlock", array: true, scope: null },
  { path: "/api/v1/custom_emojis", schema: "CustomEmoji", array: true, scope: null },
  { path: "/api/v1/trends/tags", schema: "Tag", array: true, scope: null },
  { path: "/api/v1/trends", schema: "Tag", array: true, scope: null },
  { path: "/api/v1/trends/statuses", schema: "Status", array: true, scope: null },
  { path: "/api/v1/trends/links", schema: "TrendsLink", array: true, scope: null },
  { path: "/api/v1/directory", schema: "Account", array: true, scope: null },
  { path: "/api/v1/preferences", schema: "Preferences", scope: "read:accounts" },
  { path: "/api/v1/lists", schema: "List", array: true, scope: "read:lists" },
  { path: "/api/v1/followed_tags", schema: "Tag", array: true, scope: "read:follows" },
  { path: "/api/v1/announcements", schema: "Announcement", array: true, scope: "" },
  { path: "/api/v2/suggestions", schema: "Suggestion", array: true, scope: "read" },
  { path: "/api/v1/suggestions", schema: "Account", array: true, scope: "read" },
  { path: "/api/v1/endorsements", schema: "Account", array: true, scope: "read:accounts" },
  { path: "/api/v1/featured_tags", schema: "FeaturedTag", array: true, scope: "read:accounts" },
  { path: "/api/v1/featured_tags/suggestions", schema: "Tag", array: true, scope: "read:accounts" },
  { path: "/api/v1/domain_blocks", scope: "read:blocks" },
];

function assertShape(endpoint: Endpoint, body: unknown): void {
  if (endpoint.schema == null) return;
  if (endpoint.array) {
    assert.ok(Array.isArray(body), `${endpoint.path} answers an array`);
    for (const item of body) assertMatchesSchema(endpoint.schema, item);
  } else {
    assertMatchesSchema(endpoint.schema, body);
  }
}

let remoteCounter = 0;

async function remoteAccount(instance: TestInstance, username: string, domain: string): Promise<Account> {
  remoteCounter++;
  return await insertRemoteAccount(instance.islet.core, username, {
    domain,
    displayName: `Remote ${username}`,
    note: "<p>Hello</p>",
    followersCount: remoteCounter,
    publishedAt: new Date("2024-01-01T00:00:00Z"),
  });
}

for (const kind of databaseKinds()) {
  describe(`start-up endpoints on a fresh instance (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    withOwnerInstance(kind, (started, ownerAccess) => {
      instance = started;
      token = ownerAccess;
    });

    for (const endpoint of STARTUP) {
      test(`GET ${endpoint.path} answers 200 with JSON`, async () => {
        const response = await api(instance, "GET", endpoint.path, { token });
        assert.equal(response.status, 200, `${endpoint.path}: ${JSON.stringify(response.body)}`);
        assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
        assert.ok(typeof response.body === "object" && response.body != null, `${endpoint.path} answers a JSON object or array`);
      });
    }

    test("every body has Mastodon's shape", { skip: skipContract }, async () => {
      for (const endpoint of STARTUP) {
        const response = await api(instance, "GET", endpoint.path, { token });
        assertShape(endpoint, response.body);
      }
    });

    test("lists, followed tags, announcements, endorsements and domain blocks start empty", async () => {
      for (const path of ["/api/v1/lists", "/api/v1/followed_tags", "/api/v1/announcements", "/api/v1/endorsements", "/api/v1/domain_blocks", "/api/v1/custom_emojis", "/api/v1/featured_tags"]) {
        const response = await api(instance, "GET", path, { token });
        assert.deepEqual(response.body, [], path);
      }
    });

    test("preferences have Mastodon's defaults", async () => {
      const response = await api(instance, "GET", "/api/v1/preferences", { token });
      assert.equal(response.body["posting:default:visibility"], "public");
      assert.equal(response.body["posting:default:sensitive"], false);
      assert.equal(response.body["posting:default:language"], null);
      assert.equal(response.body["reading:expand:media"], "default");
      assert.equal(response.body["reading:expand:spoilers"], false);
    });

    test("instance activity covers twelve weeks, newest first, Mondays at midnight UTC, as strings", async () => {
      const response = await api(instance, "GET", "/api/v1/instance/activity");
      assert.equal(response.status, 200);
      assert.equal(response.body.length, 12);
      const weeks = response.body.map((week: Record<string, string>) => {
        for (const key of ["week", "statuses", "logins", "registrations"]) {
          assert.equal(typeof week[key], "string", key);
          assert.match(week[key], /^\d+$/, key);
        }
        return Number(week.week);
      });
      for (const week of weeks) {
        const date = new Date(week * 1000);
        assert.equal(date.getUTCDay(), 1, `${date.toISOString()} is a Monday`);
        assert.equal(date.getUTCHours() + date.getUTCMinutes() + date.getUTCSeconds(), 0);
      }
      for (let i = 1; i < weeks.length; i++) assert.equal(weeks[i - 1] - weeks[i], 7 * 86_400);
      assert.ok(Date.now() / 1000 - weeks[0] < 7 * 86_400, "the first week is this week");
      // The owner was made just now: one registration this week.
      assert.equal(response.body[0].registrations, "1");
    });

    test("the extended description and privacy policy name the owner", async () => {
      const description = await api(instance, "GET", "/api/v1/instance/extended_description");
      assert.match(description.body.content, /@owner@/);
      assert.ok(!Number.isNaN(Date.parse(description.body.updated_at)));
      const policy = await api(instance, "GET", "/api/v1/instance/privacy_policy");
      assert.match(policy.body.content, /@owner@/);
    });

    test("no terms of service: a JSON 404, as Mastodon answers", async () => {
      for (const path of ["/api/v1/instance/terms_of_service", "/api/v1/instance/terms_of_service/2025-01-01"]) {
        const response = await api(instance, "GET", path);
        assert.equal(response.status, 404, path);
        assert.equal(typeof response.body.error, "string");
      }
    });

    test("translation languages: none", async () => {
      const response = await api(instance, "GET", "/api/v1/instance/translation_languages");
      assert.deepEqual(response.body, {});
    });

    test("public endpoints answer without a token", async () => {
      for (const endpoint of STARTUP.filter((e) => e.scope === null)) {
        const response = await api(instance, "GET", endpoint.path);
        assert.equal(response.status, 200, endpoint.path);
      }
    });

    test("the others want a token: 401 without one", async () => {
      for (const endpoint of STARTUP.filter((e) => e.scope !== null)) {
        const response = await api(instance, "GET", endpoint.path);
        assert.equal(response.status, 401, endpoint.path);
        assert.equal(typeof response.body.error, "string", endpoint.path);
      }
    });

    test("a bad token is a 401 even on public endpoints", async () => {
      const response = await api(instance, "GET", "/api/v1/custom_emojis", { token: "not-a-token" });
      assert.equal(response.status, 401);
    });

    test("each wants its scope: 403 with another, 200 with exactly it", async () => {
      const pushOnly = await ownerToken(instance, "push");
      for (const endpoint of STARTUP.filter((e) => e.scope !== null && e.scope !== "")) {
        const refused = await api(instance, "GET", endpoint.path, { token: pushOnly });
        assert.equal(refused.status, 403, `${endpoint.path} with push only`);
        const exact = await ownerToken(instance, endpoint.scope!);
        const allowed = await api(instance, "GET", endpoint.path, { token: exact });
        assert.equal(allowed.status, 200, `${endpoint.path} with ${endpoint.scope}`);
      }
      // Announcements take any user token.
      assert.equal((await api(instance, "GET", "/api/v1/announcements", { token: pushOnly })).status, 200);
    });

    test("the follow scope covers domain blocks", async () => {
      const follow = await ownerToken(instance, "follow");
      assert.equal((await api(instance, "GET", "/api/v1/domain_blocks", { token: follow })).status, 200);
    });

    test("announcements: dismissing or reacting to an unknown one is a 404", async () => {
      const dismiss = await api(instance, "POST", "/api/v1/announcements/123/dismiss", { token });
      assert.equal(dismiss.status, 404);
      for (const method of ["PUT", "DELETE"]) {
        const reaction = await api(instance, method, "/api/v1/announcements/123/reactions/%F0%9F%91%8D", { token });
        assert.equal(reaction.status, 404, method);
      }
      assert.equal((await api(instance, "POST", "/api/v1/announcements/123/dismiss")).status, 401);
      const readOnly = await ownerToken(instance, "read");
      assert.equal((await api(instance, "POST", "/api/v1/announcements/123/dismiss", { token: readOnly })).status, 403);
      assert.equal((await api(instance, "PUT", "/api/v1/announcements/123/reactions/x", { token: readOnly })).status, 403);
    });

    test("trends and the directory reject a malformed offset, clamp the limit", async () => {
      for (const path of ["/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links", "/api/v1/directory"]) {
        assert.equal((await api(instance, "GET", `${path}?offset=abc`)).status, 422, path);
        assert.equal((await api(instance, "GET", `${path}?offset=-1`)).status, 422, path);
        assert.equal((await api(instance, "GET", `${path}?limit=1000`)).status, 200, path);
      }
    });

    test("the directory lists the discoverable owner", async () => {
      const response = await api(instance, "GET", "/api/v1/directory?local=true");
      assert.deepEqual(response.body.map((a: { acct: string }) => a.acct), ["owner"]);
    });
  });

  describe(`start-up endpoints with data (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let fan: Account;
    let friend: Account;
    let hidden: Account;
    let trendingPost: bigint;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      const core = instance.islet.core;
      const ownerId = instance.owner!.account.id;
      fan = await remoteAccount(instance, "fan", "fans.example");
      friend = await remoteAccount(instance, "friend", "friends.example");
      hidden = await remoteAccount(instance, "shy", "quiet.example");
      await core.db.update(accounts).set({ discoverable: false }).where(eq(accounts.id, hidden.id));
      await remoteAccount(instance, "bad", "blocked.example");
      await core.db.insert(domainBlocks).values({ domain: "blocked.example", severity: "suspend", comment: "private note" });
      // fan follows the owner; the owner and friend follow each other.
      await core.db.insert(follows).values([
        { id: newId(), accountId: fan.id, targetAccountId: ownerId, state: "accepted" },
        { id: newId(), accountId: friend.id, targetAccountId: ownerId, state: "accepted" },
        { id: newId(), accountId: ownerId, targetAccountId: friend.id, state: "accepted" },
      ]);
      // A public post of fan's with #Fediverse, one of the owner's with #Islet.
      const fediverse = { id: newId(), name: "fediverse", displayName: "Fediverse" };
      const islet = { id: newId(), name: "islet", displayName: "Islet" };
      await core.db.insert(tags).values([fediverse, islet]);
      const fanPost = newId();
      const ownPost = newId();
      await core.db.insert(statuses).values([
        { id: fanPost, accountId: fan.id, uri: `https://fans.example/statuses/${fanPost}`, content: "<p>#Fediverse</p>", visibility: "public" },
        { id: ownPost, accountId: ownerId, uri: `${instance.origin}/statuses/${ownPost}`, content: "<p>#Islet</p>", visibility: "public" },
      ]);
      await core.db.insert(statusTags).values([{ statusId: fanPost, tagId: fediverse.id }, { statusId: ownPost, tagId: islet.id }]);
      await core.db.update(statuses).set({ favouritesCount: 2 }).where(eq(statuses.id, fanPost));
      trendingPost = fanPost;
      await api(instance, "POST", "/api/v1/featured_tags", { token, body: { name: "Islet" } });
      await api(instance, "POST", "/api/v1/tags/Fediverse/follow", { token });
      await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Friends" } });
      await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain: "spam.example" } });
    });
    after(async () => {
      await instance?.close();
    });

    test("every body still has Mastodon's shape", { skip: skipContract }, async () => {
      for (const endpoint of STARTUP) {
        const response = await api(instance, "GET", endpoint.path, { token });
        assert.equal(response.status, 200, endpoint.path);
        assertShape(endpoint, response.body);
      }
    });

    test("peers: the remote domains, not the suspended one", async () => {
      const response = await api(instance, "GET", "/api/v1/instance/peers");
      assert.deepEqual(response.body, ["fans.example", "friends.example", "quiet.example"]);
    });

    test("moderated servers are listed with a digest, without the private comment", async () => {
      const response = await api(instance, "GET", "/api/v1/instance/domain_blocks");
      assert.equal(response.body.length, 1);
      const [block] = response.body;
      assert.equal(block.domain, "blocked.example");
      assert.equal(block.severity, "suspend");
      assert.match(block.digest, /^[0-9a-f]{64}$/);
      assert.equal(block.comment, null);
    });

    test("trending tags: both tags with a week of history", async () => {
      const response = await api(instance, "GET", "/api/v1/trends/tags", { token });
      const names = response.body.map((tag: { name: string }) => tag.name).sort();
      assert.deepEqual(names, ["Fediverse", "Islet"]);
      const fediverse = response.body.find((tag: { name: string }) => tag.name === "Fediverse");
      assert.equal(fediverse.history.length, 7);
      assert.deepEqual(fediverse.history[0].uses, "1");
      assert.deepEqual(fediverse.history[0].accounts, "1");
      assert.equal(fediverse.following, true);
      assert.equal(fediverse.url, `${instance.origin}/tags/fediverse`);
      const limited = await api(instance, "GET", "/api/v1/trends/tags?limit=1&offset=1");
      assert.equal(limited.body.length, 1);
      assert.equal(limited.body[0].following, undefined, "no viewer, no following");
    });

    test("preferences follow the profile's posting defaults", async () => {
      await updateProfile(instance.islet.core, instance.owner!.account.id, { privacy: "unlisted", sensitive: true, language: "de" });
      const response = await api(instance, "GET", "/api/v1/preferences", { token });
      assert.equal(response.body["posting:default:visibility"], "unlisted");
      assert.equal(response.body["posting:default:sensitive"], true);
      assert.equal(response.body["posting:default:language"], "de");
      assert.equal(response.body["reading:expand:media"], "default");
      if (!skipContract) assertMatchesSchema("Preferences", response.body);
    });

    test("trending posts: public posts with favourites, boosts or replies", async () => {
      const response = await api(instance, "GET", "/api/v1/trends/statuses");
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.map((status: { id: string }) => status.id), [trendingPost.toString()]);
      assert.equal(response.body[0].account.acct, "fan@fans.example");
      assert.deepEqual((await api(instance, "GET", "/api/v1/trends/statuses?offset=1")).body, []);
    });

    test("suggestions: followers the owner does not follow back", async () => {
      const v2 = await api(instance, "GET", "/api/v2/suggestions", { token });
      assert.deepEqual(v2.body.map((s: { account: { acct: string } }) => s.account.acct), ["fan@fans.example"]);
      assert.ok(Array.isArray(v2.body[0].sources));
      const v1 = await api(instance, "GET", "/api/v1/suggestions", { token });
      assert.deepEqual(v1.body.map((a: { acct: string }) => a.acct), ["fan@fans.example"]);
    });

    test("a dismissed suggestion stays away; unknown ids are fine", async () => {
      assert.equal((await api(instance, "DELETE", "/api/v1/suggestions/999999", { token })).status, 200);
      assert.equal((await api(instance, "DELETE", "/api/v1/suggestions/nope", { token })).status, 200);
      assert.equal((await api(instance, "DELETE", `/api/v1/suggestions/${fan.id}`)).status, 401);
      const dismissed = await api(instance, "DELETE", `/api/v1/suggestions/${fan.id}`, { token });
      assert.equal(dismissed.status, 200);
      assert.deepEqual(dismissed.body, {});
      assert.deepEqual((await api(instance, "GET", "/api/v2/suggestions", { token })).body, []);
    });

    test("the directory: discoverable accounts, local ones alone on request, newest profiles with order=new", async () => {
      const all = await api(instance, "GET", "/api/v1/directory?order=new");
      const accts = all.body.map((a: { acct: string }) => a.acct);
      assert.ok(accts.includes("owner"));
      assert.ok(accts.includes("fan@fans.example"));
      assert.ok(!accts.includes("shy@quiet.example"), "not discoverable");
      assert.ok(!accts.includes("bad@blocked.example"), "on a blocked server");
      assert.equal(accts[0], "owner", "the owner's profile is the newest");
      const local = await api(instance, "GET", "/api/v1/directory?local=true");
      assert.deepEqual(local.body.map((a: { acct: string }) => a.acct), ["owner"]);
      const active = await api(instance, "GET", "/api/v1/directory?limit=2");
      assert.equal(active.body.length, 2);
      const offset = await api(instance, "GET", "/api/v1/directory?limit=2&offset=1");
      assert.equal(offset.body[0].id, active.body[1].id);
    });

    test("the owner's post this week shows in the activity", async () => {
      const response = await api(instance, "GET", "/api/v1/instance/activity");
      assert.equal(response.body[0].statuses, "1");
    });

    test("a login this week shows in the activity", async () => {
      await instance.islet.core.db.update(oauthTokens).set({ lastUsedAt: new Date() });
      const response = await api(instance, "GET", "/api/v1/instance/activity");
      assert.equal(response.body[0].logins, "1");
    });
  });
}
