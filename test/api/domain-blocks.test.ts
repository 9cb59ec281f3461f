/**
 * User-level domain blocks: blocking and unblocking (idempotent, with
 * normalised names), paging through them, and what a block cuts: follows
 * both ways, list memberships, notifications from there.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { IsletEvents } from "../../src/core/events.ts";
import { newId } from "../../src/core/ids.ts";
import { follows, listAccounts, notifications } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkPath, ownerToken, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";

async function remoteAccount(instance: TestInstance, username: string, domain: string): Promise<Account> {
  return await insertRemoteAccount(instance.islet.core, username, {
    domain,
    // Deliveries of the Undo and Reject fail fast here, harmlessly.
    inboxUrl: "http://127.0.0.1:9/inbox",
    indexable: false,
  });
}

for (const kind of databaseKinds()) {
  describe(`domain blocks (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    withOwnerInstance(kind, (started, ownerAccess) => {
      instance = started;
      token = ownerAccess;
    });

    const blocked = async () => (await api(instance, "GET", "/api/v1/domain_blocks?limit=200", { token })).body as string[];

    test("block, list, block again, unblock", async () => {
      const response = await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain: "annoying.example" } });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, {});
      assert.deepEqual(await blocked(), ["annoying.example"]);
      assert.equal((await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain: "annoying.example" } })).status, 200);
      assert.deepEqual(await blocked(), ["annoying.example"]);
      const unblocked = await api(instance, "DELETE", "/api/v1/domain_blocks", { token, body: { domain: "annoying.example" } });
      assert.equal(unblocked.status, 200);
      assert.deepEqual(unblocked.body, {});
      assert.deepEqual(await blocked(), []);
      assert.equal((await api(instance, "DELETE", "/api/v1/domain_blocks", { token, body: { domain: "never.example" } })).status, 200);
    });

    test("form bodies and query strings work too", async () => {
      const form = new URLSearchParams({ domain: "form.example" });
      assert.equal((await api(instance, "POST", "/api/v1/domain_blocks", { token, body: form })).status, 200);
      assert.deepEqual(await blocked(), ["form.example"]);
      assert.equal((await api(instance, "DELETE", "/api/v1/domain_blocks?domain=form.example", { token })).status, 200);
      assert.deepEqual(await blocked(), []);
    });

    test("domains are stored lower-cased, in punycode", async () => {
      await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain: "  LOUD.Example. " } });
      await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain: "bücher.example" } });
      assert.deepEqual([...await blocked()].sort(), ["loud.example", "xn--bcher-kva.example"]);
      await api(instance, "DELETE", "/api/v1/domain_blocks", { token, body: { domain: "Loud.example" } });
      await api(instance, "DELETE", "/api/v1/domain_blocks", { token, body: { domain: "xn--bcher-kva.example" } });
      assert.deepEqual(await blocked(), []);
    });

    test("bad domains are 422s", async () => {
      const own = new URL(instance.origin).hostname;
      for (const body of [{}, { domain: "" }, { domain: "  " }, { domain: "has space.example" }, { domain: "https://site.example/" }, { domain: "a..b" }, { domain: 7 }, { domain: own }]) {
        const response = await api(instance, "POST", "/api/v1/domain_blocks", { token, body });
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.equal(typeof response.body.error, "string");
      }
      for (const body of [{}, { domain: "" }, { domain: "has space.example" }]) {
        assert.equal((await api(instance, "DELETE", "/api/v1/domain_blocks", { token, body })).status, 422, JSON.stringify(body));
      }
      assert.deepEqual(await blocked(), []);
    });

    test("pages, newest block first, with Link headers", async () => {
      for (const domain of ["a.example", "b.example", "c.example"]) {
        await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain } });
      }
      const first = await api(instance, "GET", "/api/v1/domain_blocks?limit=2", { token });
      assert.deepEqual(first.body, ["c.example", "b.example"]);
      const next = linkPath(first.headers.get("link"), "next");
      assert.ok(next != null);
      const second = await api(instance, "GET", next, { token });
      assert.deepEqual(second.body, ["a.example"]);
      const prev = linkPath(second.headers.get("link"), "prev");
      assert.deepEqual((await api(instance, "GET", prev!, { token })).body, ["c.example", "b.example"]);
      for (const domain of ["a.example", "b.example", "c.example"]) {
        await api(instance, "DELETE", "/api/v1/domain_blocks", { token, body: { domain } });
      }
    });

    test("a block ends follows both ways, list memberships and notifications from there", async () => {
      const core = instance.islet.core;
      const ownerId = instance.owner!.account.id;
      const followed = await remoteAccount(instance, "followed", "gone.example");
      const follower = await remoteAccount(instance, "follower", "gone.example");
      const bystander = await remoteAccount(instance, "bystander", "stays.example");
      await core.db.insert(follows).values([
        { id: newId(), accountId: ownerId, targetAccountId: followed.id, state: "accepted", uri: `${instance.origin}/follows/1` },
        { id: newId(), accountId: follower.id, targetAccountId: ownerId, state: "accepted", uri: "https://gone.example/follows/2" },
        { id: newId(), accountId: ownerId, targetAccountId: bystander.id, state: "accepted", uri: `${instance.origin}/follows/3` },
      ]);
      const list = (await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Mixed" } })).body;
      await api(instance, "POST", `/api/v1/lists/${list.id}/accounts`, { token, body: { account_ids: [followed.id.toString(), bystander.id.toString()] } });
      await core.db.insert(notifications).values([
        { id: newId(), accountId: ownerId, fromAccountId: follower.id, type: "follow", groupKey: "follow-1" },
        { id: newId(), accountId: ownerId, fromAccountId: bystander.id, type: "mention", groupKey: "mention-1" },
      ]);
      const removed: IsletEvents["follow.removed"][] = [];
      const stop = core.events.on("follow.removed", (payload) => {
        removed.push(payload);
      });
      try {
        const response = await api(instance, "POST", "/api/v1/domain_blocks", { token, body: { domain: "GONE.example" } });
        assert.equal(response.status, 200);
      } finally {
        stop();
      }

      const remaining = await core.db.select().from(follows);
      assert.deepEqual(remaining.map((f) => f.targetAccountId), [bystander.id]);
      assert.deepEqual(
        removed.map((r) => [r.accountId, r.targetAccountId, r.reason]).sort(),
        [[ownerId, followed.id, "unfollowed"], [follower.id, ownerId, "rejected"]].sort(),
      );
      const members = await core.db.select().from(listAccounts).where(eq(listAccounts.listId, BigInt(list.id)));
      assert.deepEqual(members.map((m) => m.accountId), [bystander.id]);
      const left = await core.db.select().from(notifications).where(and(eq(notifications.accountId, ownerId)));
      assert.deepEqual(left.map((n) => n.fromAccountId), [bystander.id]);
      assert.deepEqual(await blocked(), ["gone.example"]);
    });

    test("scopes: read:blocks / write:blocks, or follow", async () => {
      const body = { domain: "scoped.example" };
      assert.equal((await api(instance, "GET", "/api/v1/domain_blocks")).status, 401);
      assert.equal((await api(instance, "POST", "/api/v1/domain_blocks", { body })).status, 401);
      assert.equal((await api(instance, "DELETE", "/api/v1/domain_blocks", { body })).status, 401);
      const readOnly = await ownerToken(instance, "read");
      assert.equal((await api(instance, "POST", "/api/v1/domain_blocks", { token: readOnly, body })).status, 403);
      assert.equal((await api(instance, "DELETE", "/api/v1/domain_blocks", { token: readOnly, body })).status, 403);
      const writeBlocks = await ownerToken(instance, "write:blocks");
      assert.equal((await api(instance, "GET", "/api/v1/domain_blocks", { token: writeBlocks })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/domain_blocks", { token: writeBlocks, body })).status, 200);
      const follow = await ownerToken(instance, "follow");
      assert.equal((await api(instance, "DELETE", "/api/v1/domain_blocks", { token: follow, body })).status, 200);
      assert.equal((await api(instance, "GET", "/api/v1/domain_blocks", { token: follow })).status, 200);
      assert.equal((await api(instance, "GET", "/api/v1/domain_blocks", { token: readOnly })).status, 200);
    });
  });
}
