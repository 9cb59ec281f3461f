/**
 * Remote accounts kept current: `islet accounts refresh`, the background
 * refresh of a stale account when it is seen, and a rotated signing key
 * (fetched again once when a signature fails with the cached key).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateCryptoKeyPair, signRequest } from "@fedify/fedify";
import { eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { refreshAccounts } from "../../src/cli/accounts.ts";
import { accounts, favourites } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { runIslet } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

const AS = "https://www.w3.org/ns/activitystreams";

for (const kind of databaseKinds()) {
  describe(`remote account refresh (${kind})`, () => {
    let islet: TestInstance;
    let remote: DocumentServer;
    let dana: RemoteActorHandle;
    let eve: RemoteActorHandle;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      dana = await remote.addActor("dana", { name: "Dana" });
      eve = await remote.addActor("eve", { name: "Eve" });
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("refreshing named accounts stores what their servers say now", async () => {
      const core = islet.islet.core;
      await resolveAccount(islet.islet.federation, core, dana.id);
      await resolveAccount(islet.islet.federation, core, eve.id);
      await dana.update({ name: "Dana Renamed", summary: "<p>new bio</p>" });
      const host = new URL(remote.origin).host;
      const lines: string[] = [];
      const result = await refreshAccounts(islet.islet, { queries: [`@dana@${host}`, "@nobody@nowhere.example"] }, (line) => lines.push(line));
      assert.equal(result.refreshed, 1);
      assert.deepEqual(result.failed.map((f) => f.query), ["@nobody@nowhere.example"]);
      const stored = (await findAccountByUri(core, dana.id))!;
      assert.equal(stored.displayName, "Dana Renamed");
      assert.equal(stored.note, "<p>new bio</p>");
      assert.equal((await findAccountByUri(core, eve.id))!.displayName, "Eve");
    });

    test("--all refreshes every remote account", async () => {
      const core = islet.islet.core;
      await eve.update({ name: "Eve Again" });
      const result = await refreshAccounts(islet.islet, { all: true });
      assert.equal(result.refreshed, 2);
      assert.equal((await findAccountByUri(core, eve.id))!.displayName, "Eve Again");
    });

    test("a refreshed actor's movedTo links the account it moved to", async () => {
      const core = islet.islet.core;
      const fay = await remote.addActor("fay", { name: "Fay" });
      const gus = await remote.addActor("gus", { name: "Gus", alsoKnownAs: [fay.id] });
      await resolveAccount(islet.islet.federation, core, fay.id);
      await resolveAccount(islet.islet.federation, core, gus.id);
      assert.equal((await findAccountByUri(core, fay.id))!.movedToAccountId, null);
      await fay.update({ movedTo: gus.id });
      await refreshAccounts(islet.islet, { queries: [fay.id] });
      const moved = (await findAccountByUri(core, fay.id))!;
      const target = (await findAccountByUri(core, gus.id))!;
      assert.equal(moved.movedToAccountId, target.id);
    });

    test("an account seen a day after it was fetched is refreshed in the background", async () => {
      const core = islet.islet.core;
      const status = await createStatus(core, islet.owner!.account, { text: "like this" });
      await dana.update({ name: "Dana Stale Check" });
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
      await core.db.update(accounts).set({ fetchedAt: twoDaysAgo }).where(eq(accounts.uri, dana.id));
      const like = { "@context": AS, id: `${dana.id}/likes/1`, type: "Like", actor: dana.id, object: status.uri };
      assert.equal((await dana.post(`${islet.origin}/users/owner/inbox`, like)).status, 202);
      const refreshed = await eventually(async () => {
        const row = await findAccountByUri(core, dana.id);
        return row?.displayName === "Dana Stale Check" ? row : undefined;
      }, "the background refresh");
      assert.ok(refreshed.fetchedAt!.getTime() > twoDaysAgo.getTime());
      // A fresh account is not refreshed when seen.
      const fetchedAt = (await findAccountByUri(core, eve.id))!.fetchedAt!.getTime();
      const eveLike = { "@context": AS, id: `${eve.id}/likes/1`, type: "Like", actor: eve.id, object: status.uri };
      assert.equal((await eve.post(`${islet.origin}/users/owner/inbox`, eveLike)).status, 202);
      const eveAccount = (await findAccountByUri(core, eve.id))!;
      await eventually(async () => (await core.db.select().from(favourites).where(eq(favourites.accountId, eveAccount.id))).length === 1, "eve's favourite");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await findAccountByUri(core, eve.id))!.fetchedAt!.getTime(), fetchedAt);
    });

    test("after a key rotation the new key is fetched once and the activity accepted", async () => {
      const core = islet.islet.core;
      const status = await createStatus(core, islet.owner!.account, { text: "rotate" });
      const first = { "@context": AS, id: `${eve.id}/likes/2`, type: "Like", actor: eve.id, object: status.uri };
      assert.equal((await eve.post(`${islet.origin}/users/owner/inbox`, first)).status, 202);
      const fetchesBefore = remote.gets.get("/users/eve") ?? 0;
      await eve.rotateKey();
      const second = { "@context": AS, id: `${eve.id}/likes/3`, type: "Undo", actor: eve.id, object: first };
      assert.equal((await eve.post(`${islet.origin}/users/owner/inbox`, second)).status, 202);
      assert.equal((remote.gets.get("/users/eve") ?? 0) - fetchesBefore, 1, "the key was fetched again once");
      // A signature by a key the actor never published still fails.
      const stray = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
      const body = JSON.stringify({ ...first, id: `${eve.id}/likes/4` });
      const request = new Request(`${islet.origin}/users/owner/inbox`, { method: "POST", body, headers: { "Content-Type": "application/activity+json" } });
      const forged = await fetch(await signRequest(request, stray.privateKey, new URL(eve.keyId), { spec: "draft-cavage-http-signatures-12" }));
      assert.equal(forged.status, 401);
    });
  });
}

describe("islet account and accounts (command line)", () => {
  test("account move needs --to or --undo, and says so on one line", async () => {
    const result = await runIslet(["account", "move"]);
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split("\n").length, 1);
    assert.match(result.stderr, /--to ACCOUNT or --undo/);
  });

  test("refresh needs --all or accounts, and says so on one line", async () => {
    const result = await runIslet(["accounts", "refresh"]);
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split("\n").length, 1);
    assert.match(result.stderr, /--all or one or more accounts/);
  });
});
