/**
 * Featured profiles: endorse and unendorse (and the older pin/unpin)
 * accounts the owner follows, the Relationship's `endorsed`, the owner's
 * list and any account's, and the endorsement ending with the follow.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { follows } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, withOwnerInstance } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import type { TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

for (const kind of databaseKinds()) {
  describe(`featured profiles (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    withOwnerInstance(kind, (started, access) => {
      instance = started;
      token = access;
    });

    const followed = async (username: string): Promise<Account> => {
      const core = instance.islet.core;
      const account = await insertRemoteAccount(core, username, { domain: "remote.example", inboxUrl: "http://127.0.0.1:9/inbox" });
      await core.db.insert(follows).values({ id: newId(), accountId: instance.owner!.account.id, targetAccountId: account.id, state: "accepted" });
      return account;
    };

    test("endorse a followed account: Relationship says so, both lists show it; unendorse", async () => {
      const ann = await followed("ann");
      const bob = await followed("bob");
      const endorsed = await api(instance, "POST", `/api/v1/accounts/${ann.id}/endorse`, { token });
      assert.equal(endorsed.status, 200, JSON.stringify(endorsed.body));
      assert.equal(endorsed.body.endorsed, true);
      if (openApiSchema()) assertMatchesSchema("Relationship", endorsed.body);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${ann.id}/endorse`, { token })).status, 200, "twice is fine");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${bob.id}/pin`, { token })).body.endorsed, true);
      const mine = await api(instance, "GET", "/api/v1/endorsements", { token });
      assert.deepEqual(mine.body.map((account: { acct: string }) => account.acct), ["bob@remote.example", "ann@remote.example"]);
      const theirs = await api(instance, "GET", `/api/v1/accounts/${instance.owner!.account.id}/endorsements`);
      assert.equal(theirs.status, 200);
      assert.deepEqual(theirs.body.map((account: { id: string }) => account.id), [bob.id.toString(), ann.id.toString()]);
      const page = await api(instance, "GET", "/api/v1/endorsements?limit=1", { token });
      assert.equal(page.body.length, 1);
      assert.match(page.headers.get("link") ?? "", /rel="next"/);
      const relationships = await api(instance, "GET", `/api/v1/accounts/relationships?id[]=${ann.id}&id[]=${bob.id}`, { token });
      assert.deepEqual(relationships.body.map((r: { endorsed: boolean }) => r.endorsed), [true, true]);

      const removed = await api(instance, "POST", `/api/v1/accounts/${ann.id}/unendorse`, { token });
      assert.equal(removed.body.endorsed, false);
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${bob.id}/unpin`, { token })).body.endorsed, false);
      assert.deepEqual((await api(instance, "GET", "/api/v1/endorsements", { token })).body, []);
    });

    test("an account not followed cannot be featured; unfollowing ends the endorsement", async () => {
      const core = instance.islet.core;
      const stranger = await insertRemoteAccount(core, "stranger", { domain: "remote.example", inboxUrl: "http://127.0.0.1:9/inbox" });
      const refused = await api(instance, "POST", `/api/v1/accounts/${stranger.id}/endorse`, { token });
      assert.equal(refused.status, 422);
      assert.equal(typeof refused.body.error, "string");
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${instance.owner!.account.id}/endorse`, { token })).status, 422);
      assert.equal((await api(instance, "POST", "/api/v1/accounts/999999/endorse", { token })).status, 404);

      const cid = await followed("cid");
      await api(instance, "POST", `/api/v1/accounts/${cid.id}/endorse`, { token });
      const unfollowed = await api(instance, "POST", `/api/v1/accounts/${cid.id}/unfollow`, { token });
      assert.equal(unfollowed.status, 200);
      assert.equal(unfollowed.body.endorsed, false);
      assert.deepEqual((await api(instance, "GET", `/api/v1/accounts/${instance.owner!.account.id}/endorsements`)).body, []);
    });
  });
}
