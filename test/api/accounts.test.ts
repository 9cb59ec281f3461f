/**
 * The owner's profile (verify_credentials, update_credentials with fields,
 * preferences and pictures) and reading accounts: by id, lookup, search,
 * their statuses (visibility, filters, paging), followers and following.
 * Shapes are checked against the Mastodon OpenAPI description when present.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { getPreferences } from "../../src/core/profile.ts";
import { follows, statusPins, statuses, statusTags, tags } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkUrl, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { insertTestStatus, type StatusFixture } from "../helpers/statuses.ts";

type StatusRow = typeof statuses.$inferSelect;
const skipContract = !openApiSchema() && "../shared/mastodon-openapi absent";

async function remoteAccount(core: CoreContext, username: string, extra: { displayName?: string; domain?: string } = {}): Promise<Account> {
  const domain = extra.domain ?? "remote.example";
  return await insertRemoteAccount(core, username, {
    domain,
    displayName: extra.displayName ?? username,
    // Deliveries to it fail at once (nothing listens on port 9).
    inboxUrl: "http://127.0.0.1:9/inbox",
    followersCount: 3,
    followingCount: 4,
    statusesCount: 5,
  });
}

async function insertStatus(core: CoreContext, account: Account, options: StatusFixture & { tag?: string } = {}): Promise<StatusRow> {
  const row = await insertTestStatus(core, account, options);
  if (options.tag != null) {
    const tagId = newId();
    await core.db.insert(tags).values({ id: tagId, name: options.tag, displayName: options.tag }).onConflictDoNothing();
    const [tag] = await core.db.select().from(tags).where(eq(tags.name, options.tag));
    await core.db.insert(statusTags).values({ statusId: row.id, tagId: tag.id });
  }
  return row;
}

const ids = (list: { id: string }[]) => list.map((item) => item.id);

for (const kind of databaseKinds()) {
  describe(`accounts API (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;

    withOwnerInstance(kind, (started, ownerAccess) => {
      instance = started;
      core = started.islet.core;
      owner = started.owner!.account;
      token = ownerAccess;
    }, "read write follow");

    describe("verify_credentials", () => {
      test("answers the owner as a CredentialAccount", async () => {
        const response = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
        assert.equal(response.status, 200);
        assert.equal(response.body.id, owner.id.toString());
        assert.equal(response.body.username, "owner");
        assert.equal(response.body.acct, "owner");
        assert.deepEqual(response.body.source.fields, []);
        assert.equal(response.body.source.privacy, "public");
        assert.equal(response.body.source.follow_requests_count, 0);
        assert.equal(typeof response.body.role.permissions, "string");
      });

      test("matches the CredentialAccount schema", { skip: skipContract }, async () => {
        const response = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
        assertMatchesSchema("CredentialAccount", response.body);
      });

      test("takes the profile scope alone, refuses others", async () => {
        const profile = await ownerToken(instance, "profile");
        assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token: profile })).status, 200);
        const granular = await ownerToken(instance, "read:accounts");
        assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token: granular })).status, 200);
        const wrong = await ownerToken(instance, "write:statuses");
        const refused = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token: wrong });
        assert.equal(refused.status, 403);
        assert.equal(typeof refused.body.error, "string");
        const anonymous = await api(instance, "GET", "/api/v1/accounts/verify_credentials");
        assert.equal(anonymous.status, 401);
      });
    });

    describe("update_credentials", () => {
      test("changes the profile and the preferences (JSON), and emits account.updated", async () => {
        const updated: bigint[] = [];
        const off = core.events.on("account.updated", ({ accountId }) => {
          updated.push(accountId);
        });
        try {
          const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", {
            token,
            body: {
              display_name: "The Owner",
              note: "Hello <b>world</b>\nsecond line\n\nSee https://example.com/page",
              locked: false,
              bot: true,
              discoverable: false,
              indexable: false,
              hide_collections: false,
              fields_attributes: [{ name: "Web", value: "https://example.com" }, { name: "Pronouns", value: "they/them" }],
              source: { privacy: "unlisted", sensitive: true, language: "de" },
            },
          });
          assert.equal(response.status, 200);
          const body = response.body;
          assert.equal(body.display_name, "The Owner");
          assert.equal(body.bot, true);
          assert.equal(body.discoverable, false);
          assert.equal(body.indexable, false);
          assert.match(body.note, /^<p>Hello &lt;b&gt;world&lt;\/b&gt;<br \/>second line<\/p><p>See <a href="https:\/\/example.com\/page"/);
          assert.equal(body.source.note, "Hello <b>world</b>\nsecond line\n\nSee https://example.com/page");
          assert.deepEqual(body.fields.map((f: { name: string }) => f.name), ["Web", "Pronouns"]);
          assert.match(body.fields[0].value, /<a href="https:\/\/example.com" [^>]*rel="[^"]*\bme\b/);
          assert.equal(body.fields[1].value, "they/them");
          assert.deepEqual(body.source.fields.map((f: { value: string }) => f.value), ["https://example.com", "they/them"]);
          assert.equal(body.source.privacy, "unlisted");
          assert.equal(body.source.sensitive, true);
          assert.equal(body.source.language, "de");
          assert.deepEqual(updated, [owner.id]);
          const preferences = await getPreferences(core, owner.id);
          assert.deepEqual([preferences.privacy, preferences.sensitive, preferences.language], ["unlisted", true, "de"]);
        } finally {
          off();
        }
      });

      test("the answer matches the CredentialAccount schema", { skip: skipContract }, async () => {
        const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: { display_name: "Owner" } });
        assert.equal(response.status, 200);
        assertMatchesSchema("CredentialAccount", response.body);
      });

      test("takes a form with fields_attributes[n][...] and source[...]", async () => {
        const form = new URLSearchParams();
        form.set("display_name", "Form Owner");
        form.set("fields_attributes[1][name]", "Second");
        form.set("fields_attributes[1][value]", "2");
        form.set("fields_attributes[0][name]", "First");
        form.set("fields_attributes[0][value]", "1");
        form.set("source[privacy]", "private");
        form.set("locked", "true");
        form.set("hide_collections", "1");
        const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: form });
        assert.equal(response.status, 200);
        assert.equal(response.body.display_name, "Form Owner");
        assert.deepEqual(response.body.fields.map((f: { name: string; value: string }) => [f.name, f.value]), [["First", "1"], ["Second", "2"]]);
        assert.equal(response.body.source.privacy, "private");
        assert.equal(response.body.locked, true);
        assert.equal(response.body.hide_collections, true);
        assert.equal(response.body.source.hide_collections, true);
        // Fields with neither name nor value are dropped; others left as they are.
        const cleared = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", {
          token,
          body: { fields_attributes: { "0": { name: "", value: "" } }, locked: false, hide_collections: false },
        });
        assert.equal(cleared.status, 200);
        assert.deepEqual(cleared.body.fields, []);
        assert.equal(cleared.body.display_name, "Form Owner");
        assert.equal(cleared.body.source.privacy, "private");
      });

      test("stores an avatar and a header sent as multipart files, and removes them", async () => {
        const png = await sharp({ create: { width: 600, height: 300, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
        const form = new FormData();
        form.set("avatar", new Blob([new Uint8Array(png)], { type: "image/png" }), "avatar.png");
        form.set("header", new Blob([new Uint8Array(png)], { type: "image/png" }), "header.png");
        form.set("display_name", "Pictured");
        const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: form });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(response.body.display_name, "Pictured");
        const avatar: string = response.body.avatar;
        assert.ok(avatar.startsWith(`${instance.origin}/system/`), avatar);
        assert.ok(response.body.header.startsWith(`${instance.origin}/system/`), response.body.header);
        const file = await fetch(`${instance.url}${new URL(avatar).pathname}`);
        assert.equal(file.status, 200);
        const meta = await sharp(Buffer.from(await file.arrayBuffer())).metadata();
        assert.equal(meta.width, meta.height, "the avatar is cropped square");

        const removed = await api(instance, "DELETE", "/api/v1/profile/avatar", { token });
        assert.equal(removed.status, 200);
        assert.match(removed.body.avatar, /missing\.png$/);
        assert.equal((await fetch(`${instance.url}${new URL(avatar).pathname}`)).status, 404, "the old file is deleted");
        const header = await api(instance, "DELETE", "/api/v1/profile/header", { token });
        assert.match(header.body.header, /missing\.png$/);
      });

      test("ignores empty file parts, as a form sends for a picture left unchanged", async () => {
        const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 90, b: 30 } } }).png().toBuffer();
        const pictured = new FormData();
        pictured.set("avatar", new Blob([new Uint8Array(png)], { type: "image/png" }), "avatar.png");
        const first = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: pictured });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        const form = new FormData();
        form.set("avatar", new Blob([], { type: "application/octet-stream" }), "");
        form.set("header", new Blob([], { type: "application/octet-stream" }), "");
        form.set("display_name", "Unchanged Pictures");
        const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: form });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(response.body.display_name, "Unchanged Pictures");
        assert.equal(response.body.avatar, first.body.avatar, "the avatar stays");
      });

      test("refuses a file that is not an image", async () => {
        const form = new FormData();
        form.set("avatar", new Blob([new TextEncoder().encode("not a picture at all")], { type: "image/png" }), "a.png");
        const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: form });
        assert.equal(response.status, 422);
        assert.equal(typeof response.body.error, "string");
      });

      const bad: [string, Record<string, unknown>][] = [
        ["a display name over 30 characters", { display_name: "x".repeat(31) }],
        ["a note over 500 characters", { note: "x".repeat(501) }],
        ["five fields", { fields_attributes: Array.from({ length: 5 }, (_, i) => ({ name: `n${i}`, value: "v" })) }],
        ["a field name over 255 characters", { fields_attributes: [{ name: "n".repeat(256), value: "v" }] }],
        ["a field value over 255 characters", { fields_attributes: [{ name: "n", value: "v".repeat(256) }] }],
        ["fields that are not objects", { fields_attributes: "web" }],
        ["an unknown privacy", { source: { privacy: "everyone" } }],
        ["direct as default privacy", { source: { privacy: "direct" } }],
        ["a language that is no code", { source: { language: "english" } }],
        ["a flag that is no boolean", { locked: "perhaps" }],
        ["a display name that is no string", { display_name: 42 }],
      ];
      for (const [what, body] of bad) {
        test(`refuses ${what} with 422`, async () => {
          const response = await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body });
          assert.equal(response.status, 422, JSON.stringify(response.body));
          assert.equal(typeof response.body.error, "string");
        });
      }

      test("needs write:accounts", async () => {
        const read = await ownerToken(instance, "read");
        assert.equal((await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token: read, body: { display_name: "x" } })).status, 403);
        assert.equal((await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { body: { display_name: "x" } })).status, 401);
        assert.equal((await api(instance, "DELETE", "/api/v1/profile/avatar", { token: read })).status, 403);
      });
    });

    describe("reading accounts", () => {
      let alice: Account;
      let bob: Account;

      before(async () => {
        alice = await remoteAccount(core, "alice", { displayName: "Alice Liddell" });
        bob = await remoteAccount(core, "bob", { displayName: "Robert", domain: "other.example" });
      });

      test("GET /api/v1/accounts/:id answers owner and remote accounts, without a token too", async () => {
        const mine = await api(instance, "GET", `/api/v1/accounts/${owner.id}`);
        assert.equal(mine.status, 200);
        assert.equal(mine.body.acct, "owner");
        const theirs = await api(instance, "GET", `/api/v1/accounts/${alice.id}`, { token });
        assert.equal(theirs.status, 200);
        assert.equal(theirs.body.acct, "alice@remote.example");
        assert.equal(theirs.body.followers_count, 3);
        assert.equal(theirs.body.display_name, "Alice Liddell");
      });

      test("accounts match the Account schema", { skip: skipContract }, async () => {
        for (const id of [owner.id, alice.id]) assertMatchesSchema("Account", (await api(instance, "GET", `/api/v1/accounts/${id}`)).body);
      });

      test("an unknown or malformed id is a 404", async () => {
        for (const id of ["1", "99999999999999", "abc"]) {
          const response = await api(instance, "GET", `/api/v1/accounts/${id}`, { token });
          assert.equal(response.status, 404, id);
          assert.equal(typeof response.body.error, "string");
        }
      });

      test("GET /api/v1/accounts?id[]= answers the known ones in order", async () => {
        const response = await api(instance, "GET", `/api/v1/accounts?id[]=${bob.id}&id[]=1&id[]=${alice.id}`);
        assert.equal(response.status, 200);
        assert.deepEqual(ids(response.body), [bob.id.toString(), alice.id.toString()]);
      });

      test("lookup finds by username and by handle", async () => {
        const host = new URL(instance.origin).host;
        for (const acct of ["owner", "@owner", `owner@${host}`]) {
          const response = await api(instance, "GET", `/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}`);
          assert.equal(response.status, 200, acct);
          assert.equal(response.body.id, owner.id.toString(), acct);
        }
        const remote = await api(instance, "GET", "/api/v1/accounts/lookup?acct=ALICE@remote.example", { token });
        assert.equal(remote.body.id, alice.id.toString());
        assert.equal((await api(instance, "GET", "/api/v1/accounts/lookup?acct=nobody@remote.example")).status, 404);
        assert.equal((await api(instance, "GET", "/api/v1/accounts/lookup?acct=alice")).status, 404, "alice is not local");
        assert.equal((await api(instance, "GET", "/api/v1/accounts/lookup")).status, 422);
      });

      test("search finds by handle prefix and by display name; following narrows", async () => {
        const byName = await api(instance, "GET", "/api/v1/accounts/search?q=liddell", { token });
        assert.equal(byName.status, 200);
        assert.deepEqual(ids(byName.body), [alice.id.toString()]);
        const byHandle = await api(instance, "GET", "/api/v1/accounts/search?q=%40bob%40other", { token });
        assert.deepEqual(ids(byHandle.body), [bob.id.toString()]);
        const exactFirst = await api(instance, "GET", "/api/v1/accounts/search?q=alice", { token });
        assert.equal(exactFirst.body[0].id, alice.id.toString());
        assert.deepEqual((await api(instance, "GET", "/api/v1/accounts/search?q=", { token })).body, []);
        assert.deepEqual((await api(instance, "GET", "/api/v1/accounts/search?q=alice&following=true", { token })).body, []);
        await core.db.insert(follows).values({ id: newId(), accountId: owner.id, targetAccountId: alice.id, state: "accepted" });
        try {
          const followed = await api(instance, "GET", "/api/v1/accounts/search?q=a&following=true", { token });
          assert.deepEqual(ids(followed.body), [alice.id.toString()]);
        } finally {
          await core.db.delete(follows).where(eq(follows.targetAccountId, alice.id));
        }
        const limited = await api(instance, "GET", "/api/v1/accounts/search?q=o&limit=1", { token });
        assert.equal(limited.body.length, 1);
        const offset = await api(instance, "GET", "/api/v1/accounts/search?q=o&limit=1&offset=1", { token });
        assert.equal(offset.body.length, 1);
        assert.notEqual(offset.body[0].id, limited.body[0].id);
      });

      test("search with resolve=true on an unreachable handle answers what is known", async () => {
        const response = await api(instance, "GET", "/api/v1/accounts/search?q=%40ghost%40nowhere.invalid&resolve=true", { token });
        assert.equal(response.status, 200);
        assert.deepEqual(response.body, []);
      });

      test("search needs a user token with read:accounts; bad numbers are 422", async () => {
        assert.equal((await api(instance, "GET", "/api/v1/accounts/search?q=a")).status, 401);
        const wrong = await ownerToken(instance, "read:statuses");
        assert.equal((await api(instance, "GET", "/api/v1/accounts/search?q=a", { token: wrong })).status, 403);
        assert.equal((await api(instance, "GET", "/api/v1/accounts/search?q=a&limit=lots", { token })).status, 422);
        assert.equal((await api(instance, "GET", "/api/v1/accounts/search?q=a&offset=-1", { token })).status, 422);
      });
    });

    describe("an account's statuses", () => {
      let carol: Account;
      const posts: Record<string, StatusRow> = {};

      before(async () => {
        carol = await remoteAccount(core, "carol");
        posts.ownPublic = await insertStatus(core, owner, { tag: "cats" });
        posts.ownUnlisted = await insertStatus(core, owner, { visibility: "unlisted" });
        posts.ownPrivate = await insertStatus(core, owner, { visibility: "private" });
        posts.ownDirect = await insertStatus(core, owner, { visibility: "direct", mentions: [carol] });
        posts.carolPublic = await insertStatus(core, carol, { media: true });
        posts.carolPrivate = await insertStatus(core, carol, { visibility: "private" });
        posts.carolDirectToOwner = await insertStatus(core, carol, { visibility: "direct", mentions: [owner] });
        posts.carolDirectElse = await insertStatus(core, carol, { visibility: "direct" });
        posts.carolReply = await insertStatus(core, carol, { inReplyTo: posts.ownPublic });
        posts.carolSelfReply = await insertStatus(core, carol, { inReplyTo: posts.carolPublic, tag: "cats" });
        posts.carolBoost = await insertStatus(core, carol, { reblogOf: posts.ownPublic });
        await core.db.insert(statusPins).values({ id: newId(), accountId: carol.id, statusId: posts.carolSelfReply.id });
      });

      const path = (account: Account, query = "") => `/api/v1/accounts/${account.id}/statuses${query}`;
      const expect = (...names: string[]) => names.map((name) => posts[name].id.toString()).sort().reverse();

      test("anyone sees the owner's public and unlisted posts; the owner sees all its own", async () => {
        const anonymous = await api(instance, "GET", path(owner));
        assert.equal(anonymous.status, 200);
        assert.deepEqual(ids(anonymous.body), expect("ownPublic", "ownUnlisted"));
        const mine = await api(instance, "GET", path(owner), { token });
        assert.deepEqual(ids(mine.body), expect("ownPublic", "ownUnlisted", "ownPrivate", "ownDirect"));
      });

      test("private posts of a remote account only once the owner follows it", async () => {
        const before = await api(instance, "GET", path(carol), { token });
        assert.deepEqual(ids(before.body), expect("carolPublic", "carolDirectToOwner", "carolReply", "carolSelfReply", "carolBoost"));
        await core.db.insert(follows).values({ id: newId(), accountId: owner.id, targetAccountId: carol.id, state: "accepted" });
        const after = await api(instance, "GET", path(carol), { token });
        assert.deepEqual(ids(after.body), expect("carolPublic", "carolPrivate", "carolDirectToOwner", "carolReply", "carolSelfReply", "carolBoost"));
        const anonymous = await api(instance, "GET", path(carol));
        assert.deepEqual(ids(anonymous.body), expect("carolPublic", "carolReply", "carolSelfReply", "carolBoost"));
      });

      test("exclude_replies keeps replies to oneself; exclude_reblogs, only_media, pinned and tagged filter", async () => {
        const noReplies = await api(instance, "GET", path(carol, "?exclude_replies=true"));
        assert.deepEqual(ids(noReplies.body), expect("carolPublic", "carolSelfReply", "carolBoost"));
        const noBoosts = await api(instance, "GET", path(carol, "?exclude_reblogs=true&exclude_replies=true"));
        assert.deepEqual(ids(noBoosts.body), expect("carolPublic", "carolSelfReply"));
        const media = await api(instance, "GET", path(carol, "?only_media=1"));
        assert.deepEqual(ids(media.body), expect("carolPublic"));
        const pinned = await api(instance, "GET", path(carol, "?pinned=true"));
        assert.deepEqual(ids(pinned.body), expect("carolSelfReply"));
        const tagged = await api(instance, "GET", path(carol, "?tagged=Cats"));
        assert.deepEqual(ids(tagged.body), expect("carolSelfReply"));
        const boost = (await api(instance, "GET", path(carol))).body.find((s: { id: string }) => s.id === posts.carolBoost.id.toString());
        assert.equal(boost.reblog.id, posts.ownPublic.id.toString());
      });

      test("pages with max_id, since_id and min_id, and a Link header", async () => {
        const first = await api(instance, "GET", path(carol, "?limit=2"), { token });
        const all = expect("carolPublic", "carolPrivate", "carolDirectToOwner", "carolReply", "carolSelfReply", "carolBoost");
        assert.deepEqual(ids(first.body), all.slice(0, 2));
        const link = first.headers.get("link") ?? "";
        const next = linkUrl(link, "next");
        assert.ok(next?.startsWith(instance.origin), link);
        assert.equal(new URL(next!).searchParams.get("limit"), "2");
        const second = await api(instance, "GET", `${new URL(next!).pathname}${new URL(next!).search}`, { token });
        assert.deepEqual(ids(second.body), all.slice(2, 4));
        const newer = await api(instance, "GET", path(carol, `?min_id=${all[3]}&limit=2`), { token });
        assert.deepEqual(ids(newer.body), all.slice(1, 3));
        const since = await api(instance, "GET", path(carol, `?since_id=${all[3]}&limit=2`), { token });
        assert.deepEqual(ids(since.body), all.slice(0, 2));
        const none = await api(instance, "GET", path(carol, `?max_id=${all[all.length - 1]}`), { token });
        assert.deepEqual(none.body, []);
        assert.equal(none.headers.get("link"), null);
        const clamped = await api(instance, "GET", path(carol, "?limit=500"), { token });
        assert.equal(clamped.body.length, all.length);
      });

      test("statuses match the Status schema", { skip: skipContract }, async () => {
        const response = await api(instance, "GET", path(carol), { token });
        assert.ok(response.body.length > 0);
        for (const status of response.body) assertMatchesSchema("Status", status);
      });

      test("bad input and scopes", async () => {
        assert.equal((await api(instance, "GET", path(carol, "?limit=x"))).status, 422);
        assert.equal((await api(instance, "GET", path(carol, "?pinned=maybe"))).status, 422);
        assert.equal((await api(instance, "GET", "/api/v1/accounts/1/statuses")).status, 404);
        const wrong = await ownerToken(instance, "read:accounts");
        assert.equal((await api(instance, "GET", path(carol), { token: wrong })).status, 403);
      });
    });

    describe("followers and following", () => {
      const followers: Account[] = [];

      before(async () => {
        for (let i = 0; i < 3; i++) {
          const account = await remoteAccount(core, `fan${i}`);
          followers.push(account);
          await core.db.insert(follows).values({ id: newId(), accountId: account.id, targetAccountId: owner.id, state: "accepted" });
        }
        // A pending request is not a follower.
        const pending = await remoteAccount(core, "hopeful");
        await core.db.insert(follows).values({ id: newId(), accountId: pending.id, targetAccountId: owner.id, state: "pending" });
      });

      test("lists followers newest first, paged by follow", async () => {
        const first = await api(instance, "GET", `/api/v1/accounts/${owner.id}/followers?limit=2`);
        assert.equal(first.status, 200);
        assert.deepEqual(ids(first.body), [followers[2].id.toString(), followers[1].id.toString()]);
        const next = linkUrl(first.headers.get("link"), "next");
        assert.ok(next != null);
        const second = await api(instance, "GET", `${new URL(next).pathname}${new URL(next).search}`);
        assert.deepEqual(ids(second.body), [followers[0].id.toString()]);
        const prev = linkUrl(second.headers.get("link"), "prev");
        const back = await api(instance, "GET", `${new URL(prev!).pathname}${new URL(prev!).search}`);
        assert.deepEqual(ids(back.body), [followers[2].id.toString(), followers[1].id.toString()]);
        const fans = await api(instance, "GET", `/api/v1/accounts/${followers[0].id}/following`);
        assert.deepEqual(ids(fans.body), [owner.id.toString()]);
      });

      test("hide_collections hides them from others, not from the owner", async () => {
        await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: { hide_collections: true } });
        try {
          assert.deepEqual((await api(instance, "GET", `/api/v1/accounts/${owner.id}/followers`)).body, []);
          assert.equal((await api(instance, "GET", `/api/v1/accounts/${owner.id}/followers`, { token })).body.length, 3);
          const account = await api(instance, "GET", `/api/v1/accounts/${owner.id}`);
          assert.equal(account.body.hide_collections, true);
        } finally {
          await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: { hide_collections: false } });
        }
      });

      test("unknown accounts are 404; bad limits 422", async () => {
        assert.equal((await api(instance, "GET", "/api/v1/accounts/1/followers")).status, 404);
        assert.equal((await api(instance, "GET", `/api/v1/accounts/${owner.id}/following?limit=ten`)).status, 422);
      });
    });
  });
}
