/**
 * Two Islet instances on loopback: one follows the other by actor URL, the
 * Follow is accepted, both sides store it, and an unfollow reaches the other
 * side. Every activity travels through the real inboxes and the queue, signed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { countFollows, findFollow, follow, removeFollow } from "../../src/core/follows.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

for (const kind of databaseKinds()) {
  describe(`follow between two instances (${kind})`, () => {
    let alice: TestInstance;
    let bob: TestInstance;

    before(async () => {
      [alice, bob] = await Promise.all([
        startInstance(kind, { username: "alice" }),
        startInstance(kind, { username: "bob" }),
      ]);
    });
    after(async () => {
      await Promise.all([alice?.close(), bob?.close()]);
    });

    test("alice follows bob by actor URL; bob accepts; both store it", async () => {
      const bobUri = `${bob.origin}/users/bob`;
      const bobAtAlice = await resolveAccount(alice.islet.federation, alice.islet.core, bobUri);
      assert.equal(bobAtAlice.uri, bobUri);
      assert.equal(bobAtAlice.username, "bob");
      assert.equal(bobAtAlice.inboxUrl, `${bob.origin}/users/bob/inbox`);
      assert.equal(bobAtAlice.sharedInboxUrl, `${bob.origin}/inbox`);

      const pending = await follow(alice.islet.core, alice.owner!.account, bobAtAlice);
      assert.equal(pending.state, "pending");

      // Bob's inbox verified Alice's signature, stored her and sent an Accept.
      const aliceAtBob = await eventually(
        () => findAccountByUri(bob.islet.core, `${alice.origin}/users/alice`),
        "alice to be known at bob",
      );
      const incoming = await eventually(
        () => findFollow(bob.islet.core, aliceAtBob.id, bob.owner!.account.id),
        "the follow to be stored at bob",
      );
      assert.equal(incoming.state, "accepted");
      assert.equal(incoming.uri, pending.uri);

      // Alice's inbox verified Bob's signed Accept.
      const accepted = await eventually(async () => {
        const row = await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id);
        return row?.state === "accepted" ? row : undefined;
      }, "the Accept to reach alice");
      assert.equal(accepted.id, pending.id);
      assert.equal(await countFollows(bob.islet.core, bob.owner!.account.id, "followers"), 1);
      assert.equal(await countFollows(alice.islet.core, alice.owner!.account.id, "following"), 1);

      // Bob's followers collection lists Alice.
      const response = await fetch(`${bob.url}/users/bob/followers?cursor=`, {
        headers: { Accept: "application/activity+json" },
      });
      assert.equal(response.status, 200);
      const page = await response.json() as { orderedItems: string[] };
      assert.deepEqual(page.orderedItems, [`${alice.origin}/users/alice`]);
    });

    test("alice unfollows; the Undo removes the follow at bob", async () => {
      const bobAtAlice = (await findAccountByUri(alice.islet.core, `${bob.origin}/users/bob`))!;
      const row = (await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id))!;
      await removeFollow(alice.islet.core, row, "unfollowed");
      assert.equal(await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id), null);
      await eventually(
        async () => await countFollows(bob.islet.core, bob.owner!.account.id, "followers") === 0,
        "the Undo to reach bob",
      );
    });

    test("a locked account keeps the follow pending", async () => {
      const carol = await startInstance(kind, { username: "carol", locked: true });
      try {
        const carolAtAlice = await resolveAccount(alice.islet.federation, alice.islet.core, `${carol.origin}/users/carol`);
        assert.equal(carolAtAlice.locked, true);
        await follow(alice.islet.core, alice.owner!.account, carolAtAlice);
        const aliceAtCarol = await eventually(
          () => findAccountByUri(carol.islet.core, `${alice.origin}/users/alice`),
          "alice to be known at carol",
        );
        const request = await eventually(
          () => findFollow(carol.islet.core, aliceAtCarol.id, carol.owner!.account.id),
          "the follow request at carol",
        );
        assert.equal(request.state, "pending");
        assert.equal(await countFollows(carol.islet.core, carol.owner!.account.id, "followers"), 0);
        // Nothing came back: Alice's side stays pending too.
        const mine = await findFollow(alice.islet.core, alice.owner!.account.id, carolAtAlice.id);
        assert.equal(mine?.state, "pending");
      } finally {
        await carol.close();
      }
    });
  });
}
