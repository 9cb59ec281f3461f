/**
 * A remote account deleting itself: a signed Delete of the actor removes
 * the account with its posts; when the actor is already gone from its
 * server (404/410, so its key cannot be fetched), a Delete of that actor
 * is still taken, but only when the key lived on the actor's own origin.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signRequest } from "@fedify/fedify";
import { eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";
import { queueSettled } from "../helpers/settle.ts";

const AS = "https://www.w3.org/ns/activitystreams";

function deleteOf(actorId: string) {
  return { "@context": AS, id: `${actorId}#delete-${crypto.randomUUID()}`, type: "Delete", actor: actorId, object: actorId, to: [`${AS}#Public`] };
}

for (const kind of databaseKinds()) {
  describe(`remote accounts deleting themselves (${kind})`, () => {
    let islet: TestInstance;
    let remote: DocumentServer;
    let elsewhere: DocumentServer;

    before(async () => {
      [islet, remote, elsewhere] = await Promise.all([startInstance(kind), startDocumentServer(), startDocumentServer()]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close(), elsewhere?.close()]);
    });

    async function known(id: string, name: string) {
      const core = islet.islet.core;
      const account = await insertRemoteAccount(core, name, { uri: id, domain: new URL(id).host, inboxUrl: `${id}/inbox` });
      await insertTestStatus(core, account, { content: `<p>a post by ${name}</p>` });
      return account;
    }

    test("a signed Delete of the actor removes the account and its posts", async () => {
      const core = islet.islet.core;
      const gone = await remote.addActor("leaving");
      const account = await known(gone.id, "leaving");
      const response = await gone.post(`${islet.url}/inbox`, deleteOf(gone.id));
      assert.equal(response.status, 202);
      await eventually(async () => (await findAccountByUri(core, gone.id)) == null, "the account deleted");
      assert.equal((await core.db.select().from(statuses).where(eq(statuses.accountId, account.id))).length, 0);
    });

    test("a Delete of an actor whose server already answers 404 is taken", async () => {
      const core = islet.islet.core;
      const gone = await remote.addActor("vanished");
      await known(gone.id, "vanished");
      remote.documents.delete(new URL(gone.id).pathname);
      const response = await gone.post(`${islet.url}/inbox`, deleteOf(gone.id));
      assert.equal(response.status, 202);
      assert.equal(await findAccountByUri(core, gone.id), null);
    });

    test("an unverifiable Delete signed with a key from another origin changes nothing", async () => {
      const core = islet.islet.core;
      const target = await remote.addActor("target");
      await known(target.id, "target");
      const forger = await elsewhere.addActor("forger");
      elsewhere.documents.delete(new URL(forger.id).pathname);
      const request = new Request(`${islet.url}/inbox`, {
        method: "POST",
        body: JSON.stringify(deleteOf(target.id)),
        headers: { "Content-Type": "application/activity+json" },
      });
      const signed = await signRequest(request, forger.keyPair.privateKey, new URL(forger.keyId), { spec: "draft-cavage-http-signatures-12" });
      const response = await fetch(signed);
      assert.equal(response.status, 401);
      assert.notEqual(await findAccountByUri(core, target.id), null);
    });

    test("a Delete of another actor, signed by a real key, deletes nobody", async () => {
      const core = islet.islet.core;
      const victim = await remote.addActor("victim");
      await known(victim.id, "victim");
      const mallory = await elsewhere.addActor("mallory");
      // Mallory signs, but the activity claims to be the victim's.
      const response = await mallory.post(`${islet.url}/inbox`, deleteOf(victim.id));
      assert.ok(response.status === 401 || response.status === 202, `answered ${response.status}`);
      await queueSettled(core);
      assert.notEqual(await findAccountByUri(core, victim.id), null);
    });
  });
}
