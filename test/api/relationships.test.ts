/**
 * Relations with other accounts through the API: relationships, follow and
 * unfollow (across two instances, with a locked account's requests
 * authorized and rejected), blocks (which end follows both ways), mutes,
 * notes, removing followers, and the lists of follow requests, mutes and
 * blocks with their paging.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq, or } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { newId } from "../../src/core/ids.ts";
import { blocks, follows, mutes } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkPath, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const skipContract = !openApiSchema() && "../shared/mastodon-openapi absent";

async function remoteAccount(core: CoreContext, username: string): Promise<Account> {
  return await insertRemoteAccount(core, username, {
    // Deliveries to it fail at once (nothing listens on port 9).
    inboxUrl: "http://127.0.0.1:9/inbox",
  });
}

async function relationship(instance: TestInstance, token: string, id: bigint | string): Promise<Record<string, any>> {
  const response = await api(instance, "GET", `/api/v1/accounts/relationships?id[]=${id}`, { token });
  assert.equal(response.status, 200);
  return response.body[0];
}

for (const kind of databaseKinds()) {
  describe(`relationships API (${kind})`, () => {
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

    test("relationships of several accounts, unknown ids left out", async () => {
      const a = await remoteAccount(core, "rel-a");
      const b = await remoteAccount(core, "rel-b");
      await core.db.insert(follows).values({ id: newId(), accountId: b.id, targetAccountId: owner.id, state: "accepted" });
      const response = await api(instance, "GET", `/api/v1/accounts/relationships?id[]=${a.id}&id[]=1&id[]=${b.id}&id[]=${a.id}`, { token });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.map((r: { id: string }) => r.id), [a.id.toString(), b.id.toString()]);
      const [ra, rb] = response.body;
      assert.deepEqual(
        Object.fromEntries(Object.entries(ra).filter(([, v]) => v === true)),
        {},
        "no relationship yet",
      );
      assert.equal(ra.note, "");
      assert.equal(rb.followed_by, true);
      assert.equal(rb.following, false);
      const single = await api(instance, "GET", `/api/v1/accounts/relationships?id=${b.id}`, { token });
      assert.deepEqual(single.body.map((r: { id: string }) => r.id), [b.id.toString()]);
      assert.deepEqual((await api(instance, "GET", "/api/v1/accounts/relationships", { token })).body, []);
    });

    test("relationships match the Relationship schema", { skip: skipContract }, async () => {
      const a = await remoteAccount(core, "rel-a");
      const response = await api(instance, "GET", `/api/v1/accounts/relationships?id[]=${a.id}&id[]=${owner.id}`, { token });
      for (const item of response.body) assertMatchesSchema("Relationship", item);
    });

    test("relationships need read:follows (follow grants it)", async () => {
      assert.equal((await api(instance, "GET", "/api/v1/accounts/relationships?id[]=1")).status, 401);
      const wrong = await ownerToken(instance, "read:accounts");
      assert.equal((await api(instance, "GET", "/api/v1/accounts/relationships?id[]=1", { token: wrong })).status, 403);
      const follow = await ownerToken(instance, "follow");
      assert.equal((await api(instance, "GET", "/api/v1/accounts/relationships?id[]=1", { token: follow })).status, 200);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/relationships?id[]=abc", { token })).status, 422);
    });

    test("following a remote account: requested until accepted; options change; unfollow withdraws", async () => {
      const target = await remoteAccount(core, "followee");
      const created: bigint[] = [];
      const off = core.events.on("follow.created", ({ targetAccountId }) => {
        created.push(targetAccountId);
      });
      try {
        const first = await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, { token });
        assert.equal(first.status, 200);
        assert.equal(first.body.requested, true);
        assert.equal(first.body.following, false);
        assert.equal(first.body.showing_reblogs, true);
        assert.equal(first.body.notifying, false);
        const again = await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, {
          token,
          body: { reblogs: false, notify: true, languages: ["en", "DE"] },
        });
        assert.equal(again.status, 200);
        assert.equal(again.body.showing_reblogs, false);
        assert.equal(again.body.notifying, true);
        assert.deepEqual(again.body.languages, ["en", "de"]);
        assert.deepEqual(created, [target.id], "one Follow is sent, not two");
        const unfollowed = await api(instance, "POST", `/api/v1/accounts/${target.id}/unfollow`, { token });
        assert.equal(unfollowed.status, 200);
        assert.equal(unfollowed.body.requested, false);
        assert.equal(unfollowed.body.following, false);
      } finally {
        off();
      }
    });

    test("following: not oneself (404), not a blocked account (403), bad options (422)", async () => {
      const target = await remoteAccount(core, "unwanted");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${owner.id}/follow`, { token })).status, 404);
      assert.equal((await api(instance, "POST", "/api/v1/accounts/1/follow", { token })).status, 404);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, { token, body: { reblogs: "sometimes" } })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, { token, body: { languages: ["english"] } })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, { token, body: { languages: { a: 1 } } })).status, 422);
      await core.db.insert(blocks).values({ id: newId(), accountId: target.id, targetAccountId: owner.id });
      const blockedBy = await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, { token });
      assert.equal(blockedBy.status, 403);
      assert.equal(typeof blockedBy.body.error, "string");
      assert.equal((await relationship(instance, token, target.id)).blocked_by, true);
      const read = await ownerToken(instance, "read");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`, { token: read })).status, 403);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/follow`)).status, 401);
    });

    test("blocking ends follows both ways, is listed, and unblocking lifts it", async () => {
      const target = await remoteAccount(core, "blockee");
      await core.db.insert(follows).values([
        { id: newId(), accountId: target.id, targetAccountId: owner.id, state: "accepted" },
        { id: newId(), accountId: owner.id, targetAccountId: target.id, state: "accepted", uri: `${instance.origin}/follows/x` },
      ]);
      const events: string[] = [];
      const offs = [
        core.events.on("account.blocked", () => void events.push("blocked")),
        core.events.on("account.unblocked", () => void events.push("unblocked")),
        core.events.on("follow.removed", ({ reason }) => void events.push(`removed:${reason}`)),
      ];
      try {
        const blocked = await api(instance, "POST", `/api/v1/accounts/${target.id}/block`, { token });
        assert.equal(blocked.status, 200);
        assert.equal(blocked.body.blocking, true);
        assert.equal(blocked.body.following, false);
        assert.equal(blocked.body.followed_by, false);
        const left = await core.db.select().from(follows).where(or(eq(follows.accountId, target.id), eq(follows.targetAccountId, target.id)));
        assert.deepEqual(left, []);
        assert.deepEqual(events.sort(), ["blocked", "removed:rejected", "removed:unfollowed"]);
        const listed = await api(instance, "GET", "/api/v1/blocks", { token });
        assert.ok(listed.body.some((account: { id: string }) => account.id === target.id.toString()));
        // Blocking again changes nothing.
        assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/block`, { token })).body.blocking, true);
        assert.equal(events.filter((e) => e === "blocked").length, 1);
        const unblocked = await api(instance, "POST", `/api/v1/accounts/${target.id}/unblock`, { token });
        assert.equal(unblocked.body.blocking, false);
        assert.ok(events.includes("unblocked"));
      } finally {
        for (const off of offs) off();
      }
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${owner.id}/block`, { token })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/accounts/1/block", { token })).status, 404);
      const wrong = await ownerToken(instance, "write:mutes");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/block`, { token: wrong })).status, 403);
    });

    test("a blocked account's Follow is not kept", async () => {
      const target = await remoteAccount(core, "pest");
      await api(instance, "POST", `/api/v1/accounts/${target.id}/block`, { token });
      await receiveFollow(core, target, owner, "https://remote.example/follows/1");
      const stored = await core.db.select().from(follows).where(and(eq(follows.accountId, target.id), eq(follows.targetAccountId, owner.id)));
      assert.deepEqual(stored, []);
    });

    test("muting, with or without notifications, for a while; mutes are listed", async () => {
      const target = await remoteAccount(core, "noisy");
      const muted = await api(instance, "POST", `/api/v1/accounts/${target.id}/mute`, { token, body: { notifications: false, duration: 3600 } });
      assert.equal(muted.status, 200);
      assert.equal(muted.body.muting, true);
      assert.equal(muted.body.muting_notifications, false);
      const expires = Date.parse(muted.body.muting_expires_at);
      assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 60_000, muted.body.muting_expires_at);
      const list = await api(instance, "GET", "/api/v1/mutes", { token });
      const entry = list.body.find((account: { id: string }) => account.id === target.id.toString());
      assert.equal(entry.mute_expires_at, muted.body.muting_expires_at);
      const form = new URLSearchParams({ notifications: "true" });
      const again = await api(instance, "POST", `/api/v1/accounts/${target.id}/mute`, { token, body: form });
      assert.equal(again.body.muting_notifications, true);
      assert.equal(again.body.muting_expires_at, null);
      const unmuted = await api(instance, "POST", `/api/v1/accounts/${target.id}/unmute`, { token });
      assert.equal(unmuted.body.muting, false);
      for (const body of [{ duration: -5 }, { duration: "soon" }, { notifications: "perhaps" }]) {
        assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/mute`, { token, body })).status, 422, JSON.stringify(body));
      }
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${owner.id}/mute`, { token })).status, 403);
      const blocksOnly = await ownerToken(instance, "write:blocks");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/mute`, { token: blocksOnly })).status, 403);
    });

    test("an expired mute no longer counts", async () => {
      const target = await remoteAccount(core, "briefly");
      await api(instance, "POST", `/api/v1/accounts/${target.id}/mute`, { token, body: { duration: 3600 } });
      assert.equal((await relationship(instance, token, target.id)).muting, true);
      // Its hour is over (set in the database: a short real wait is at the
      // mercy of a busy machine).
      await core.db.update(mutes).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(mutes.targetAccountId, target.id));
      assert.equal((await relationship(instance, token, target.id)).muting, false);
    });

    test("mutes match the MutedAccount schema", { skip: skipContract }, async () => {
      const target = await remoteAccount(core, "schema-mute");
      await api(instance, "POST", `/api/v1/accounts/${target.id}/mute`, { token, body: { duration: 60 } });
      const list = await api(instance, "GET", "/api/v1/mutes", { token });
      assert.ok(list.body.length > 0);
      for (const item of list.body) assertMatchesSchema("MutedAccount", item);
    });

    test("a private note is set, shown and cleared", async () => {
      const target = await remoteAccount(core, "noted");
      const set = await api(instance, "POST", `/api/v1/accounts/${target.id}/note`, { token, body: { comment: "met at the conference" } });
      assert.equal(set.status, 200);
      assert.equal(set.body.note, "met at the conference");
      assert.equal((await relationship(instance, token, target.id)).note, "met at the conference");
      const cleared = await api(instance, "POST", `/api/v1/accounts/${target.id}/note`, { token, body: {} });
      assert.equal(cleared.body.note, "");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/note`, { token, body: { comment: "x".repeat(2001) } })).status, 422);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${target.id}/note`, { token, body: { comment: 5 } })).status, 422);
    });

    test("remove_from_followers ends the follow with a Reject", async () => {
      const target = await remoteAccount(core, "exfan");
      await core.db.insert(follows).values({ id: newId(), accountId: target.id, targetAccountId: owner.id, state: "accepted" });
      const reasons: string[] = [];
      const off = core.events.on("follow.removed", ({ reason }) => void reasons.push(reason));
      try {
        const response = await api(instance, "POST", `/api/v1/accounts/${target.id}/remove_from_followers`, { token });
        assert.equal(response.status, 200);
        assert.equal(response.body.followed_by, false);
        assert.deepEqual(reasons, ["rejected"]);
      } finally {
        off();
      }
    });

    test("blocks and mutes page with Link headers", async () => {
      const blocked: Account[] = [];
      for (let i = 0; i < 3; i++) {
        const account = await remoteAccount(core, `paged-block-${i}`);
        blocked.push(account);
        await api(instance, "POST", `/api/v1/accounts/${account.id}/block`, { token });
        await api(instance, "POST", `/api/v1/accounts/${account.id}/mute`, { token });
      }
      for (const path of ["/api/v1/blocks", "/api/v1/mutes"]) {
        const first = await api(instance, "GET", `${path}?limit=2`, { token });
        assert.equal(first.status, 200);
        assert.deepEqual(first.body.map((a: { id: string }) => a.id), [blocked[2].id.toString(), blocked[1].id.toString()], path);
        const next = linkPath(first.headers.get("link"), "next");
        assert.ok(next != null, path);
        const second = await api(instance, "GET", next, { token });
        assert.equal(second.body[0].id, blocked[0].id.toString(), path);
      }
      assert.equal((await api(instance, "GET", "/api/v1/blocks")).status, 401);
      const mutesOnly = await ownerToken(instance, "read:mutes");
      assert.equal((await api(instance, "GET", "/api/v1/blocks", { token: mutesOnly })).status, 403);
      assert.equal((await api(instance, "GET", "/api/v1/mutes", { token: mutesOnly })).status, 200);
      assert.equal((await api(instance, "GET", "/api/v1/mutes?limit=many", { token })).status, 422);
    });

    test("follow requests of a locked owner: listed, authorized, rejected", async () => {
      await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: { locked: true } });
      const locked = (await core.db.query.accounts.findFirst({ where: (a, { eq }) => eq(a.id, owner.id) }))!;
      const first = await remoteAccount(core, "asker-1");
      const second = await remoteAccount(core, "asker-2");
      await receiveFollow(core, first, locked, "https://remote.example/follows/a1");
      await receiveFollow(core, second, locked, "https://remote.example/follows/a2");
      const credentials = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
      assert.equal(credentials.body.source.follow_requests_count, 2);
      const list = await api(instance, "GET", "/api/v1/follow_requests?limit=1", { token });
      assert.deepEqual(list.body.map((a: { id: string }) => a.id), [second.id.toString()]);
      const next = linkPath(list.headers.get("link"), "next");
      assert.deepEqual((await api(instance, "GET", next!, { token })).body.map((a: { id: string }) => a.id), [first.id.toString()]);
      assert.equal((await relationship(instance, token, first.id)).requested_by, true);

      const accepted: bigint[] = [];
      const off = core.events.on("follow.accepted", ({ accountId }) => void accepted.push(accountId));
      try {
        const authorized = await api(instance, "POST", `/api/v1/follow_requests/${first.id}/authorize`, { token });
        assert.equal(authorized.status, 200);
        assert.equal(authorized.body.followed_by, true);
        assert.equal(authorized.body.requested_by, false);
        assert.deepEqual(accepted, [first.id]);
      } finally {
        off();
      }
      const rejected = await api(instance, "POST", `/api/v1/follow_requests/${second.id}/reject`, { token });
      assert.equal(rejected.status, 200);
      assert.equal(rejected.body.followed_by, false);
      assert.equal(rejected.body.requested_by, false);
      assert.deepEqual((await api(instance, "GET", "/api/v1/follow_requests", { token })).body, []);
      assert.equal((await api(instance, "POST", `/api/v1/follow_requests/${second.id}/authorize`, { token })).status, 404);
      assert.equal((await api(instance, "POST", "/api/v1/follow_requests/1/reject", { token })).status, 404);
      const readOnly = await ownerToken(instance, "read");
      assert.equal((await api(instance, "POST", `/api/v1/follow_requests/${first.id}/authorize`, { token: readOnly })).status, 403);
      assert.equal((await api(instance, "GET", "/api/v1/follow_requests", { token: await ownerToken(instance, "write") })).status, 403);
      await api(instance, "PATCH", "/api/v1/accounts/update_credentials", { token, body: { locked: false } });
    });

    test("familiar_followers answers each account with none", async () => {
      const a = await remoteAccount(core, "familiar");
      const response = await api(instance, "GET", `/api/v1/accounts/familiar_followers?id[]=${a.id}&id[]=${owner.id}`, { token });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, [{ id: a.id.toString(), accounts: [] }, { id: owner.id.toString(), accounts: [] }]);
      if (openApiSchema()) for (const item of response.body) assertMatchesSchema("FamiliarFollowers", item);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/familiar_followers?id[]=1")).status, 401);
    });
  });

  describe(`following across two instances through the API (${kind})`, () => {
    let alice: TestInstance;
    let bob: TestInstance;
    let aliceToken: string;
    let bobToken: string;
    let bobAtAlice: string;
    let aliceAtBob: string;

    before(async () => {
      [alice, bob] = await Promise.all([startInstance(kind, { username: "alice" }), startInstance(kind, { username: "bob" })]);
      [aliceToken, bobToken] = await Promise.all([ownerToken(alice, "read write follow"), ownerToken(bob, "read write follow")]);
    });
    after(async () => {
      await Promise.all([alice?.close(), bob?.close()]);
    });

    const followersOfBob = async () =>
      (await api(bob, "GET", `/api/v1/accounts/${bob.owner!.account.id}/followers`, { token: bobToken })).body as { id: string }[];

    test("alice finds bob by actor URL and follows him; the Accept makes it following", async () => {
      const found = await api(alice, "GET", `/api/v2/search?q=${encodeURIComponent(`${bob.origin}/users/bob`)}&resolve=true&type=accounts`, { token: aliceToken });
      assert.equal(found.status, 200);
      assert.equal(found.body.accounts.length, 1);
      bobAtAlice = found.body.accounts[0].id;
      assert.equal(found.body.accounts[0].acct, `bob@${new URL(bob.origin).host}`);
      const followed = await api(alice, "POST", `/api/v1/accounts/${bobAtAlice}/follow`, { token: aliceToken });
      assert.equal(followed.status, 200);
      assert.ok(followed.body.requested || followed.body.following, JSON.stringify(followed.body));
      await eventually(async () => (await relationship(alice, aliceToken, bobAtAlice)).following, "the Accept to reach alice");
      const followers = await eventually(async () => {
        const list = await followersOfBob();
        return list.length === 1 ? list : undefined;
      }, "bob to list alice");
      aliceAtBob = followers[0].id;
      const seenByBob = await relationship(bob, bobToken, aliceAtBob);
      assert.equal(seenByBob.followed_by, true);
    });

    test("bob locks his account; alice's new request is rejected, then authorized", async () => {
      const locked = await api(bob, "PATCH", "/api/v1/accounts/update_credentials", { token: bobToken, body: { locked: true } });
      assert.equal(locked.body.locked, true);
      // Alice's profile copy of bob is refreshed by looking him up again.
      const unfollowed = await api(alice, "POST", `/api/v1/accounts/${bobAtAlice}/unfollow`, { token: aliceToken });
      assert.equal(unfollowed.body.following, false);
      await eventually(async () => (await followersOfBob()).length === 0, "the Undo to reach bob");

      await api(alice, "POST", `/api/v1/accounts/${bobAtAlice}/follow`, { token: aliceToken });
      const requests = await eventually(async () => {
        const list = (await api(bob, "GET", "/api/v1/follow_requests", { token: bobToken })).body as { id: string }[];
        return list.length === 1 ? list : undefined;
      }, "the request to reach bob");
      assert.equal(requests[0].id, aliceAtBob);
      assert.equal((await relationship(alice, aliceToken, bobAtAlice)).requested, true);
      const rejected = await api(bob, "POST", `/api/v1/follow_requests/${aliceAtBob}/reject`, { token: bobToken });
      assert.equal(rejected.status, 200);
      await eventually(async () => {
        const r = await relationship(alice, aliceToken, bobAtAlice);
        return !r.requested && !r.following;
      }, "the Reject to reach alice");

      await api(alice, "POST", `/api/v1/accounts/${bobAtAlice}/follow`, { token: aliceToken });
      await eventually(async () => (await api(bob, "GET", "/api/v1/follow_requests", { token: bobToken })).body.length === 1, "the second request");
      const authorized = await api(bob, "POST", `/api/v1/follow_requests/${aliceAtBob}/authorize`, { token: bobToken });
      assert.equal(authorized.body.followed_by, true);
      await eventually(async () => (await relationship(alice, aliceToken, bobAtAlice)).following, "the Accept to reach alice");
    });

    test("bob blocks alice: the follow ends on both sides", async () => {
      const blocked = await api(bob, "POST", `/api/v1/accounts/${aliceAtBob}/block`, { token: bobToken });
      assert.equal(blocked.body.blocking, true);
      assert.equal(blocked.body.followed_by, false);
      assert.deepEqual(await followersOfBob(), []);
      await eventually(async () => {
        const r = await relationship(alice, aliceToken, bobAtAlice);
        return !r.following && !r.requested;
      }, "alice to learn the follow ended");
    });
  });
}
