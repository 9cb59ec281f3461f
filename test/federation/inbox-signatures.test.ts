/**
 * The inbox takes activities signed with RFC 9421 or draft-cavage HTTP
 * signatures, and refuses unsigned, tampered and wrongly signed ones with
 * 401 without storing anything.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { countFollows, findFollow } from "../../src/core/follows.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";
import { queueSettled } from "../helpers/settle.ts";

for (const kind of databaseKinds()) {
  describe(`inbox signatures (${kind})`, () => {
    let islet: TestInstance;
    let modern: RemoteServer;
    let cavage: RemoteServer;
    let owner: string;

    before(async () => {
      [islet, modern, cavage] = await Promise.all([startInstance(kind), startRemote("modern"), startRemote("cavage")]);
      owner = `${islet.origin}/users/owner`;
    });
    after(async () => {
      await Promise.all([islet?.close(), modern?.close(), cavage?.close()]);
    });

    test("an RFC 9421 signed Follow is stored and answered with a signed Accept", async () => {
      const follow = followActivity(modern, owner);
      const response = await modern.post(`${islet.origin}/users/owner/inbox`, follow, { spec: "rfc9421" });
      assert.equal(response.status, 202);
      const follower = await eventually(() => findAccountByUri(islet.islet.core, modern.actorId), "the follower to be stored");
      // The account is stored before the follow: wait for the follow itself.
      const row = await eventually(() => findFollow(islet.islet.core, follower.id, islet.owner!.account.id), "the follow to be stored");
      assert.equal(row?.state, "accepted");
      assert.equal(row?.uri, follow.id);

      const accept = await eventually(async () => modern.received.find((r) => r.body.type === "Accept"), "the Accept");
      assert.equal(accept.body.actor, owner);
      const object = accept.body.object as Record<string, unknown>;
      assert.equal(object.id, follow.id);
      assert.equal(object.actor, modern.actorId);
      // The Accept is signed by the owner's key.
      assert.ok(accept.headers["signature-input"] ?? accept.headers.signature, "the Accept carries a signature");
    });

    test("a draft-cavage signed Follow is accepted too", async () => {
      const response = await cavage.post(`${islet.origin}/inbox`, followActivity(cavage, owner), {
        spec: "draft-cavage-http-signatures-12",
      });
      assert.equal(response.status, 202);
      await eventually(async () => await countFollows(islet.islet.core, islet.owner!.account.id, "followers") === 2, "two followers");
    });

    test("Islet's outgoing RFC 9421 signature verifies against the owner's key", async () => {
      const accept = modern.received.find((r) => r.body.type === "Accept");
      assert.ok(accept);
      assert.equal(accept.spec, "rfc9421");
      const keyId = await modern.verify(accept);
      assert.ok(keyId?.startsWith(`${owner}#`), `signed with the owner's key, got ${keyId}`);
    });

    test("to a server that takes only draft-cavage, Islet signs with draft-cavage", async () => {
      const old = await startRemote("old");
      old.acceptSpecs = new Set(["draft-cavage-http-signatures-12"]);
      try {
        // RFC 9421 from `old` (Islet verifies both); the Accept back must
        // fall back to draft-cavage after old's 401.
        const response = await old.post(`${islet.origin}/users/owner/inbox`, followActivity(old, owner));
        assert.equal(response.status, 202);
        const accept = await eventually(async () => old.received.find((r) => r.body.type === "Accept"), "the Accept at old");
        assert.equal(accept.spec, "draft-cavage-http-signatures-12");
        const keyId = await old.verify(accept);
        assert.ok(keyId?.startsWith(`${owner}#`), `signed with the owner's key, got ${keyId}`);
        // A tampered copy does not verify.
        assert.equal(await old.verify({ ...accept, rawBody: Buffer.from(JSON.stringify({ ...accept.body, actor: "x" })) }), null);
      } finally {
        await old.close();
      }
    });

    test("an unsigned POST is refused with 401 and nothing is stored", async () => {
      const stranger = await startRemote("stranger");
      try {
        const response = await stranger.post(`${islet.origin}/users/owner/inbox`, followActivity(stranger, owner), { unsigned: true });
        assert.equal(response.status, 401);
        await queueSettled(islet.islet.core);
        assert.equal(await findAccountByUri(islet.islet.core, stranger.actorId), null);
      } finally {
        await stranger.close();
      }
    });

    test("a tampered body is refused with 401", async () => {
      const stranger = await startRemote("tampered");
      try {
        const signed = followActivity(stranger, owner);
        const tampered = JSON.stringify({ ...signed, object: `${islet.origin}/users/someone-else` });
        const response = await stranger.post(`${islet.origin}/users/owner/inbox`, signed, { sendBody: tampered });
        assert.equal(response.status, 401);
        assert.equal(await findAccountByUri(islet.islet.core, stranger.actorId), null);
      } finally {
        await stranger.close();
      }
    });

    test("a Follow claiming another actor, signed with the sender's own key, is refused", async () => {
      const spoofer = await startRemote("spoofer");
      try {
        // The spoofer signs with its own key but names `modern` as the actor.
        const forged = { ...followActivity(spoofer, owner), actor: cavage.actorId };
        const response = await spoofer.post(`${islet.origin}/users/owner/inbox`, forged);
        assert.equal(response.status, 401);
      } finally {
        await spoofer.close();
      }
    });

    test("an Undo of the Follow from its actor removes the follower", async () => {
      const follower = (await findAccountByUri(islet.islet.core, modern.actorId))!;
      const row = (await findFollow(islet.islet.core, follower.id, islet.owner!.account.id))!;
      const undo = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${modern.origin}/undo/${crypto.randomUUID()}`,
        type: "Undo",
        actor: modern.actorId,
        object: { id: row.uri, type: "Follow", actor: modern.actorId, object: owner },
      };
      const response = await modern.post(`${islet.origin}/users/owner/inbox`, undo);
      assert.equal(response.status, 202);
      await eventually(async () => await findFollow(islet.islet.core, follower.id, islet.owner!.account.id) == null, "the follow to be removed");
      assert.equal(await countFollows(islet.islet.core, islet.owner!.account.id, "followers"), 2);
    });
  });
}
