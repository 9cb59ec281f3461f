/**
 * Lists: creating, reading, changing and deleting them, their members
 * (followed accounts only, as on Mastodon), paging through members, and
 * which lists hold an account.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { follows } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkPath, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

async function remoteAccount(instance: TestInstance, username: string, domain = "remote.example"): Promise<Account> {
  return await insertRemoteAccount(instance.islet.core, username, { domain, indexable: false });
}

for (const kind of databaseKinds()) {
  describe(`lists (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let followed: Account;
    let requested: Account;
    let stranger: Account;
    let third: Account;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      const ownerId = instance.owner!.account.id;
      followed = await remoteAccount(instance, "followed");
      requested = await remoteAccount(instance, "requested");
      stranger = await remoteAccount(instance, "stranger");
      third = await remoteAccount(instance, "third");
      await instance.islet.core.db.insert(follows).values([
        { id: newId(), accountId: ownerId, targetAccountId: followed.id, state: "accepted" },
        { id: newId(), accountId: ownerId, targetAccountId: requested.id, state: "pending" },
        { id: newId(), accountId: ownerId, targetAccountId: third.id, state: "accepted" },
        // stranger follows the owner, not the other way round.
        { id: newId(), accountId: stranger.id, targetAccountId: ownerId, state: "accepted" },
      ]);
    });
    after(async () => {
      await instance?.close();
    });

    test("create with defaults, read back, list all", async () => {
      const created = await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Friends" } });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.title, "Friends");
      assert.equal(created.body.replies_policy, "list");
      assert.equal(created.body.exclusive, false);
      assert.match(created.body.id, /^\d+$/);
      const one = await api(instance, "GET", `/api/v1/lists/${created.body.id}`, { token });
      assert.deepEqual(one.body, created.body);
      const all = await api(instance, "GET", "/api/v1/lists", { token });
      assert.ok(all.body.some((list: { id: string }) => list.id === created.body.id));
    });

    test("create from a form with every field; the shape is Mastodon's", async () => {
      const form = new URLSearchParams({ title: "News", replies_policy: "none", exclusive: "true" });
      const created = await api(instance, "POST", "/api/v1/lists", { token, body: form });
      assert.equal(created.status, 200);
      assert.deepEqual({ ...created.body, id: "x" }, { id: "x", title: "News", replies_policy: "none", exclusive: true });
      if (!skipContract) assertMatchesSchema("List", created.body);
    });

    test("bad input on create is a 422 with an error", async () => {
      const bad: unknown[] = [
        {},
        { title: "" },
        { title: "   " },
        { title: 42 },
        { title: "x".repeat(300) },
        { title: "ok", replies_policy: "everyone" },
        { title: "ok", exclusive: "perhaps" },
      ];
      for (const body of bad) {
        const response = await api(instance, "POST", "/api/v1/lists", { token, body });
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.equal(typeof response.body.error, "string");
      }
    });

    test("update changes only what is given", async () => {
      const created = await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Before", replies_policy: "followed" } });
      const id = created.body.id;
      const renamed = await api(instance, "PUT", `/api/v1/lists/${id}`, { token, body: { title: "After" } });
      assert.equal(renamed.status, 200);
      assert.deepEqual(renamed.body, { id, title: "After", replies_policy: "followed", exclusive: false });
      const exclusive = await api(instance, "PUT", `/api/v1/lists/${id}`, { token, body: { exclusive: true, replies_policy: "list" } });
      assert.deepEqual(exclusive.body, { id, title: "After", replies_policy: "list", exclusive: true });
      for (const body of [{ title: "" }, { replies_policy: "all" }, { exclusive: "x" }]) {
        assert.equal((await api(instance, "PUT", `/api/v1/lists/${id}`, { token, body })).status, 422, JSON.stringify(body));
      }
      assert.equal((await api(instance, "GET", `/api/v1/lists/${id}`, { token })).body.title, "After");
    });

    test("unknown or malformed ids are 404s", async () => {
      for (const path of ["/api/v1/lists/123", "/api/v1/lists/abc", "/api/v1/lists/123/accounts"]) {
        const response = await api(instance, "GET", path, { token });
        assert.equal(response.status, 404, path);
        assert.equal(response.body.error, "Record not found");
      }
      assert.equal((await api(instance, "PUT", "/api/v1/lists/123", { token, body: { title: "x" } })).status, 404);
      assert.equal((await api(instance, "DELETE", "/api/v1/lists/123", { token })).status, 404);
      assert.equal((await api(instance, "POST", "/api/v1/lists/123/accounts", { token, body: { account_ids: [followed.id.toString()] } })).status, 404);
      assert.equal((await api(instance, "DELETE", "/api/v1/lists/123/accounts", { token, body: { account_ids: [followed.id.toString()] } })).status, 404);
    });

    test("delete answers {} and the list is gone", async () => {
      const created = await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Doomed" } });
      await api(instance, "POST", `/api/v1/lists/${created.body.id}/accounts`, { token, body: { account_ids: [followed.id.toString()] } });
      const deleted = await api(instance, "DELETE", `/api/v1/lists/${created.body.id}`, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, {});
      assert.equal((await api(instance, "GET", `/api/v1/lists/${created.body.id}`, { token })).status, 404);
      const lists = await api(instance, "GET", `/api/v1/accounts/${followed.id}/lists`, { token });
      assert.ok(!lists.body.some((list: { id: string }) => list.id === created.body.id));
    });

    test("members: followed and requested accounts only", async () => {
      const list = (await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Members" } })).body;
      const path = `/api/v1/lists/${list.id}/accounts`;
      const added = await api(instance, "POST", path, { token, body: { account_ids: [followed.id.toString(), requested.id.toString()] } });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.deepEqual(added.body, {});

      const notFollowed = await api(instance, "POST", path, { token, body: { account_ids: [stranger.id.toString()] } });
      assert.equal(notFollowed.status, 422);
      assert.equal(typeof notFollowed.body.error, "string");
      const again = await api(instance, "POST", path, { token, body: { account_ids: [followed.id.toString()] } });
      assert.equal(again.status, 422, "already a member");
      const unknown = await api(instance, "POST", path, { token, body: { account_ids: ["999999"] } });
      assert.equal(unknown.status, 404);
      for (const body of [{}, { account_ids: [] }, { account_ids: ["abc"] }, { account_ids: [{}] }]) {
        assert.equal((await api(instance, "POST", path, { token, body })).status, 422, JSON.stringify(body));
      }
      // Nothing of a refused request was added.
      const mixed = await api(instance, "POST", path, { token, body: { account_ids: [third.id.toString(), stranger.id.toString()] } });
      assert.equal(mixed.status, 422);

      const members = await api(instance, "GET", path, { token });
      assert.equal(members.status, 200);
      assert.deepEqual(members.body.map((a: { acct: string }) => a.acct).sort(), ["followed@remote.example", "requested@remote.example"]);
      if (!skipContract) for (const account of members.body) assertMatchesSchema("Account", account);

      const lists = await api(instance, "GET", `/api/v1/accounts/${requested.id}/lists`, { token });
      assert.equal(lists.status, 200);
      assert.deepEqual(lists.body.map((l: { id: string }) => l.id), [list.id]);
      if (!skipContract) for (const item of lists.body) assertMatchesSchema("List", item);
      assert.deepEqual((await api(instance, "GET", `/api/v1/accounts/${stranger.id}/lists`, { token })).body, []);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/999999/lists", { token })).status, 404);

      const removed = await api(instance, "DELETE", path, { token, body: { account_ids: [followed.id.toString(), stranger.id.toString()] } });
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.body, {});
      const after = await api(instance, "GET", path, { token });
      assert.deepEqual(after.body.map((a: { acct: string }) => a.acct), ["requested@remote.example"]);
      assert.equal((await api(instance, "DELETE", path, { token, body: {} })).status, 422);
    });

    test("members from a form (account_ids[]) and removal by query string", async () => {
      const list = (await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Form" } })).body;
      const path = `/api/v1/lists/${list.id}/accounts`;
      const form = new URLSearchParams();
      form.append("account_ids[]", followed.id.toString());
      form.append("account_ids[]", third.id.toString());
      assert.equal((await api(instance, "POST", path, { token, body: form })).status, 200);
      assert.equal((await api(instance, "GET", path, { token })).body.length, 2);
      assert.equal((await api(instance, "DELETE", `${path}?account_ids[]=${third.id}`, { token })).status, 200);
      assert.deepEqual((await api(instance, "GET", path, { token })).body.map((a: { id: string }) => a.id), [followed.id.toString()]);
    });

    test("members page with Link headers; limit=0 gives them all", async () => {
      const list = (await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Paged" } })).body;
      const path = `/api/v1/lists/${list.id}/accounts`;
      const ids = [followed.id, requested.id, third.id].map(String);
      await api(instance, "POST", path, { token, body: { account_ids: ids } });
      const first = await api(instance, "GET", `${path}?limit=2`, { token });
      assert.equal(first.body.length, 2);
      const next = linkPath(first.headers.get("link"), "next");
      assert.ok(next != null, "a next link");
      assert.ok(first.headers.get("link")!.includes(instance.origin), "links on the canonical origin");
      const second = await api(instance, "GET", next, { token });
      assert.equal(second.body.length, 1);
      const seen = [...first.body, ...second.body].map((a: { id: string }) => a.id);
      assert.deepEqual([...seen].sort(), [...ids].sort());
      const prev = linkPath(second.headers.get("link"), "prev");
      assert.ok(prev != null);
      const back = await api(instance, "GET", prev, { token });
      assert.deepEqual(back.body.map((a: { id: string }) => a.id), first.body.map((a: { id: string }) => a.id));
      const all = await api(instance, "GET", `${path}?limit=0`, { token });
      assert.equal(all.body.length, 3);
      assert.equal(all.headers.get("link"), null);
      assert.equal((await api(instance, "GET", `${path}?limit=x`, { token })).status, 422);
    });

    test("at most 50 lists", async () => {
      const existing = (await api(instance, "GET", "/api/v1/lists", { token })).body.length;
      for (let i = existing; i < 50; i++) {
        const response = await api(instance, "POST", "/api/v1/lists", { token, body: { title: `List ${i}` } });
        assert.equal(response.status, 200);
      }
      const refused = await api(instance, "POST", "/api/v1/lists", { token, body: { title: "One too many" } });
      assert.equal(refused.status, 422);
    });

    test("scopes: read:lists to read, write:lists to write", async () => {
      const list = (await api(instance, "GET", "/api/v1/lists", { token })).body[0];
      const reads = ["/api/v1/lists", `/api/v1/lists/${list.id}`, `/api/v1/lists/${list.id}/accounts`, `/api/v1/accounts/${followed.id}/lists`];
      const writes: [string, string, unknown][] = [
        ["POST", "/api/v1/lists", { title: "x" }],
        ["PUT", `/api/v1/lists/${list.id}`, { title: "x" }],
        ["DELETE", `/api/v1/lists/${list.id}`, undefined],
        ["POST", `/api/v1/lists/${list.id}/accounts`, { account_ids: [followed.id.toString()] }],
        ["DELETE", `/api/v1/lists/${list.id}/accounts`, { account_ids: [followed.id.toString()] }],
      ];
      const readOnly = await ownerToken(instance, "read:lists");
      const writeOnly = await ownerToken(instance, "write:lists");
      for (const path of reads) {
        assert.equal((await api(instance, "GET", path)).status, 401, path);
        assert.equal((await api(instance, "GET", path, { token: writeOnly })).status, 403, path);
        assert.equal((await api(instance, "GET", path, { token: readOnly })).status, 200, path);
      }
      for (const [method, path, body] of writes) {
        assert.equal((await api(instance, method, path, { body })).status, 401, `${method} ${path}`);
        assert.equal((await api(instance, method, path, { token: readOnly, body })).status, 403, `${method} ${path}`);
      }
      assert.equal((await api(instance, "GET", `/api/v1/lists/${list.id}`, { token: readOnly })).status, 200, "nothing was changed");
    });
  });
}
