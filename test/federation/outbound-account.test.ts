/**
 * Profile changes and blocks reach the remote side: Update(Person) to
 * followers, Block and Undo(Block) to the blocked account.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";

for (const kind of databaseKinds()) {
  describe(`outgoing account activities (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;
    let token: string;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startRemote("watcher")]);
      token = await ownerToken(islet);
      const response = await remote.post(`${islet.origin}/inbox`, followActivity(remote, `${islet.origin}/users/owner`));
      assert.equal(response.status, 202);
      await eventually(async () => remote.received.find((r) => r.body.type === "Accept"), "the Accept");
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("a profile change is sent to followers as Update(Person)", async () => {
      const form = new FormData();
      form.set("display_name", "Renamed Owner");
      const updated = await api(islet, "PATCH", "/api/v1/accounts/update_credentials", { token, body: form });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      const update = await eventually(async () => remote.received.find((r) => r.body.type === "Update"), "the Update");
      const object = update.body.object as { type: string; name: string; id: string };
      assert.equal(object.type, "Person");
      assert.equal(object.name, "Renamed Owner");
      assert.equal(object.id, `${islet.origin}/users/owner`);
      assert.ok(await remote.verify(update));
    });

    test("the avatar's description travels as the picture's name", async () => {
      const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#2266aa" } }).png().toBuffer();
      const form = new FormData();
      form.set("avatar", new Blob([new Uint8Array(png)], { type: "image/png" }), "avatar.png");
      form.set("avatar_description", "A blue square");
      const updated = await api(islet, "PATCH", "/api/v1/profile", { token, body: form });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.avatar_description, "A blue square");
      const update = await eventually(async () => remote.received.find((r) => r.body.type === "Update" && (r.body.object as { icon?: unknown }).icon != null), "the Update with the avatar");
      const icon = (update.body.object as { icon: { type: string; name?: string; url: string } }).icon;
      assert.equal(icon.type, "Image");
      assert.equal(icon.name, "A blue square");
      const actor = await fetch(`${islet.url}/users/owner`, { headers: { Accept: "application/activity+json" } });
      assert.equal(((await actor.json()) as { icon: { name?: string } }).icon.name, "A blue square");
    });

    test("blocking sends Block, unblocking sends Undo of it", async () => {
      const account = (await findAccountByUri(islet.islet.core, remote.actorId))!;
      assert.equal((await api(islet, "POST", `/api/v1/accounts/${account.id}/block`, { token })).status, 200);
      const block = await eventually(async () => remote.received.find((r) => r.body.type === "Block"), "the Block");
      assert.equal(block.body.object, remote.actorId);
      assert.equal((await api(islet, "POST", `/api/v1/accounts/${account.id}/unblock`, { token })).status, 200);
      const undo = await eventually(async () => remote.received.find((r) => r.body.type === "Undo" && (r.body.object as { type?: string }).type === "Block"), "the Undo");
      assert.equal((undo.body.object as { id: string }).id, block.body.id);
    });
  });
}
