/**
 * The actor and WebFinger answers are cached until the profile changes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { accounts } from "../../src/db/schema.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";

async function actorName(instance: TestInstance): Promise<string> {
  const response = await fetch(`${instance.url}/users/owner`, { headers: { Accept: "application/activity+json" } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("Content-Type") ?? "", /activity\+json/);
  return (await response.json() as { name: string }).name;
}

for (const kind of databaseKinds()) {
  describe(`federation document cache (${kind})`, () => {
    let instance: TestInstance;
    before(async () => {
      instance = await startInstance(kind);
    });
    after(async () => {
      await instance?.close();
    });

    test("a profile change shows in the actor once account.updated is emitted", async () => {
      const core = instance.islet.core;
      const id = instance.owner!.account.id;
      await core.db.update(accounts).set({ displayName: "First" }).where(eq(accounts.id, id));
      await core.events.emit("account.updated", { accountId: id });
      assert.equal(await actorName(instance), "First");
      // Changed behind the cache's back: the cached answer stands.
      await core.db.update(accounts).set({ displayName: "Second" }).where(eq(accounts.id, id));
      assert.equal(await actorName(instance), "First");
      await core.events.emit("account.updated", { accountId: id });
      assert.equal(await actorName(instance), "Second");
    });

    test("unknown actors are not cached as found", async () => {
      const first = await fetch(`${instance.url}/users/nobody`, { headers: { Accept: "application/activity+json" } });
      assert.equal(first.status, 404);
      const finger = await fetch(`${instance.url}/.well-known/webfinger?resource=acct:nobody@${new URL(instance.origin).host}`);
      assert.equal(finger.status, 404);
    });

    test("a cached WebFinger answer is the same document with the same type", async () => {
      const resource = `acct:owner@${new URL(instance.origin).host}`;
      const a = await fetch(`${instance.url}/.well-known/webfinger?resource=${resource}`);
      const b = await fetch(`${instance.url}/.well-known/webfinger?resource=${resource}`);
      assert.equal(a.status, 200);
      assert.deepEqual(await a.json(), await b.json());
      assert.equal(b.headers.get("Content-Type"), a.headers.get("Content-Type"));
    });
  });
}
