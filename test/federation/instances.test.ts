/**
 * Three Islet instances on loopback, every activity through the real
 * inboxes and the durable queue: a follow request to a locked account
 * (authorized, then the account's recent posts fetched), a move to another
 * instance (the follower's follow moves along), and a block and its undo.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountById, findAccountByUri } from "../../src/core/accounts.ts";
import { authorizeFollowRequest, findFollow, follow } from "../../src/core/follows.ts";
import { block, unblock } from "../../src/core/relationships.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { changeAlias, moveOwnerTo } from "../../src/cli/account.ts";
import { blocks, notifications } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote } from "../helpers/remote.ts";
import { queueSettled } from "../helpers/settle.ts";

for (const kind of databaseKinds()) {
  describe(`three instances (${kind})`, () => {
    let alice: TestInstance;
    let bob: TestInstance;
    let carol: TestInstance;
    let bobUri: string;
    let carolUri: string;
    let aliceUri: string;

    before(async () => {
      [alice, bob, carol] = await Promise.all([
        startInstance(kind, { username: "alice" }),
        startInstance(kind, { username: "bob", locked: true }),
        startInstance(kind, { username: "carol" }),
      ]);
      aliceUri = `${alice.origin}/users/alice`;
      bobUri = `${bob.origin}/users/bob`;
      carolUri = `${carol.origin}/users/carol`;
    });
    after(async () => {
      await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
    });

    test("a request to a locked account waits, is authorized, and brings its recent posts", async () => {
      const earlier = await createStatus(bob.islet.core, bob.owner!.account, { text: "posted before you followed" });
      const bobAtAlice = await resolveAccount(alice.islet.federation, alice.islet.core, bobUri);
      await follow(alice.islet.core, alice.owner!.account, bobAtAlice);
      const aliceAtBob = await eventually(() => findAccountByUri(bob.islet.core, aliceUri), "alice known at bob");
      const request = await eventually(() => findFollow(bob.islet.core, aliceAtBob.id, bob.owner!.account.id), "the request at bob");
      assert.equal(request.state, "pending");
      assert.equal((await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id))?.state, "pending");

      await authorizeFollowRequest(bob.islet.core, bob.owner!.account.id, aliceAtBob.id);
      await eventually(async () => (await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id))?.state === "accepted", "the Accept at alice");
      // The outbox was read: bob's earlier post is at alice.
      const copied = await eventually(() => findStatusByUri(alice.islet.core, earlier.uri), "bob's earlier post at alice");
      assert.equal(copied.accountId, bobAtAlice.id);
    });

    test("bob moves to carol: alice now follows carol and is told", async () => {
      // Carol says she is also bob; without that the move is refused.
      const carolAtBob = await resolveAccount(bob.islet.federation, bob.islet.core, carolUri);
      await assert.rejects(moveOwnerTo(bob.islet, carolUri), /alias/);
      assert.equal(carolAtBob.alsoKnownAs.length, 0);
      const aliases = await changeAlias(carol.islet, "add", bobUri);
      assert.deepEqual(aliases, [bobUri]);

      await moveOwnerTo(bob.islet, carolUri);
      const bobAtAlice = (await findAccountByUri(alice.islet.core, bobUri))!;
      const carolAtAlice = await eventually(() => findAccountByUri(alice.islet.core, carolUri), "carol known at alice");
      const moved = await eventually(async () => {
        const row = await findFollow(alice.islet.core, alice.owner!.account.id, carolAtAlice.id);
        return row?.state === "accepted" ? row : undefined;
      }, "alice's follow of carol accepted");
      assert.ok(moved);
      assert.equal(await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id), null);
      assert.equal((await findAccountById(alice.islet.core, bobAtAlice.id))?.movedToAccountId, carolAtAlice.id);
      const notified = await alice.islet.core.db.select().from(notifications).where(and(
        eq(notifications.accountId, alice.owner!.account.id), eq(notifications.type, "move"),
      ));
      assert.equal(notified.length, 1);
      assert.equal(notified[0]!.fromAccountId, bobAtAlice.id);
      // Bob's side: alice's follow is undone; carol has alice as a follower.
      const aliceAtBob = (await findAccountByUri(bob.islet.core, aliceUri))!;
      await eventually(async () => (await findFollow(bob.islet.core, aliceAtBob.id, bob.owner!.account.id)) == null, "the Undo at bob");
      const aliceAtCarol = (await findAccountByUri(carol.islet.core, aliceUri))!;
      assert.equal((await findFollow(carol.islet.core, aliceAtCarol.id, carol.owner!.account.id))?.state, "accepted");
      // Bob's actor now names where he went.
      const actor = await (await fetch(`${bob.url}/users/bob`, { headers: { Accept: "application/activity+json" } })).json() as Record<string, unknown>;
      assert.equal(actor.movedTo, carolUri);
    });

    test("a Move to an account that does not list the mover is ignored", async () => {
      const remote = await startRemote("mover");
      try {
        const moverAtAlice = await resolveAccount(alice.islet.federation, alice.islet.core, remote.actorId);
        await follow(alice.islet.core, alice.owner!.account, moverAtAlice);
        await eventually(async () => remote.received.find((r) => r.body.type === "Follow"), "the Follow at the mover");
        const move = {
          "@context": "https://www.w3.org/ns/activitystreams",
          id: `${remote.origin}/moves/1`,
          type: "Move",
          actor: remote.actorId,
          object: remote.actorId,
          target: bobUri,
        };
        assert.equal((await remote.post(`${alice.origin}/users/alice/inbox`, move)).status, 202);
        // A later activity from the same sender has been processed once this holds.
        const later = { "@context": "https://www.w3.org/ns/activitystreams", id: `${remote.origin}/likes/x`, type: "Like", actor: remote.actorId, object: `${alice.origin}/users/alice/statuses/1` };
        assert.equal((await remote.post(`${alice.origin}/users/alice/inbox`, later)).status, 202);
        await queueSettled(alice.islet.core);
        assert.ok(await findFollow(alice.islet.core, alice.owner!.account.id, moverAtAlice.id), "still following the mover");
        assert.equal((await findAccountById(alice.islet.core, moverAtAlice.id))?.movedToAccountId, null);
        const bobAtAlice = (await findAccountByUri(alice.islet.core, bobUri))!;
        assert.equal(await findFollow(alice.islet.core, alice.owner!.account.id, bobAtAlice.id), null);
      } finally {
        await remote.close();
      }
    });

    test("carol blocks alice: the follow ends on both sides; the unblock lifts the block", async () => {
      const aliceAtCarol = (await findAccountByUri(carol.islet.core, aliceUri))!;
      const carolAtAlice = (await findAccountByUri(alice.islet.core, carolUri))!;
      await block(carol.islet.core, carol.owner!.account, aliceAtCarol);
      const stored = await eventually(async () => (await alice.islet.core.db.select().from(blocks).where(and(
        eq(blocks.accountId, carolAtAlice.id), eq(blocks.targetAccountId, alice.owner!.account.id),
      )))[0], "the block at alice");
      assert.ok(stored.uri?.startsWith(carol.origin));
      assert.equal(await findFollow(alice.islet.core, alice.owner!.account.id, carolAtAlice.id), null);
      assert.equal(await findFollow(carol.islet.core, aliceAtCarol.id, carol.owner!.account.id), null);

      await unblock(carol.islet.core, carol.owner!.account.id, aliceAtCarol.id);
      await eventually(async () => (await alice.islet.core.db.select().from(blocks).where(eq(blocks.accountId, carolAtAlice.id))).length === 0, "the unblock at alice");
    });
  });
}
