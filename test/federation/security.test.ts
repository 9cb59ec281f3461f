/**
 * What the inbox and the documents refuse: spoofed actors, objects from
 * another origin, tampered bodies, stale signatures, oversized bodies,
 * suspended domains, fetches of private addresses, and unsigned fetches
 * under AUTHORIZED_FETCH. Each is refused without a 500.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { blockDomain } from "../../src/core/server-domain-blocks.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { guardInboxRequest, MAX_INBOX_BODY_BYTES } from "../../src/federation/inbox-limit.ts";
import { backfillOutbox } from "../../src/federation/backfill.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { databaseKinds } from "../helpers/database.ts";
import { activityGet, createNote, signedPost } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";
import { queueSettled } from "../helpers/settle.ts";


for (const kind of databaseKinds()) {
  describe(`federation security (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;
    let other: RemoteServer;
    let inbox: string;
    let owner: string;

    before(async () => {
      [islet, remote, other] = await Promise.all([startInstance(kind), startRemote("sender"), startRemote("other")]);
      inbox = `${islet.url}/users/owner/inbox`;
      owner = `${islet.origin}/users/owner`;
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close(), other?.close()]);
    });

    test("a Create naming another actor than the signer is refused with 401", async () => {
      const forged = { ...createNote(other, { tag: [{ type: "Mention", href: owner }] }) };
      const response = await signedPost(remote, inbox, forged);
      assert.equal(response.status, 401);
      await queueSettled(islet.islet.core);
      assert.equal(await findStatusByUri(islet.islet.core, (forged.object as { id: string }).id), null);
    });

    test("a Create whose object lives on another origin is accepted but not stored", async () => {
      const foreignId = `${other.origin}/notes/${crypto.randomUUID()}`;
      const activity = createNote(remote, { tag: [{ type: "Mention", href: owner }] }, foreignId);
      const response = await signedPost(remote, inbox, activity);
      assert.equal(response.status, 202);
      // A genuine mention sent after it arrives, so the first was processed and dropped.
      const genuine = createNote(remote, { tag: [{ type: "Mention", href: owner }] });
      assert.equal((await signedPost(remote, inbox, genuine)).status, 202);
      await eventually(() => findStatusByUri(islet.islet.core, (genuine.object as { id: string }).id), "the genuine post");
      assert.equal(await findStatusByUri(islet.islet.core, foreignId), null);
    });

    test("a tampered body is refused with 401", async () => {
      const signed = createNote(remote, { tag: [{ type: "Mention", href: owner }] });
      const tampered = JSON.stringify({ ...signed, object: { ...(signed.object as object), content: "<p>changed</p>" } });
      const response = await remote.post(inbox, signed, { sendBody: tampered });
      assert.equal(response.status, 401);
    });

    test("a signature two hours old is refused with 401", async () => {
      const activity = createNote(remote, { tag: [{ type: "Mention", href: owner }] });
      const response = await signedPost(remote, inbox, activity, { at: new Date(Date.now() - 2 * 60 * 60 * 1000) });
      assert.equal(response.status, 401);
      await queueSettled(islet.islet.core);
      assert.equal(await findStatusByUri(islet.islet.core, (activity.object as { id: string }).id), null);
    });

    test("an activity nested deeper than any real one is refused with 400 before JSON-LD sees it", async () => {
      let nested: unknown = "bottom";
      for (let i = 0; i < 2000; i++) nested = { inner: [nested] };
      const deep = createNote(remote, { content: "<p>deep</p>", attachment: [nested] });
      const response = await signedPost(remote, inbox, deep);
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: "The activity is nested too deeply" });
      // Ordinary nesting passes the guard.
      const ordinary = await guardInboxRequest(islet.islet.core, new Request(`${islet.origin}/inbox`, { method: "POST", body: JSON.stringify(createNote(remote, { content: "<p>x</p>" })) }));
      assert.ok(ordinary instanceof Request);
    });

    test("a body over 1 MiB is refused with 413 before it is read", async () => {
      const big = createNote(remote, { content: `<p>${"a".repeat(MAX_INBOX_BODY_BYTES)}</p>`, tag: [{ type: "Mention", href: owner }] });
      const response = await signedPost(remote, inbox, big);
      assert.equal(response.status, 413);
      // Answered before the body was read: the connection is not used again.
      assert.equal(response.headers.get("connection"), "close");
      assert.deepEqual(await response.json(), { error: "Payload too large" });
      await queueSettled(islet.islet.core);
      assert.equal(await findStatusByUri(islet.islet.core, (big.object as { id: string }).id), null);
    });

    test("a streamed body without Content-Length is cut off at the limit", async () => {
      let pulled = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          if (pulled > 100) controller.close();
          else controller.enqueue(new Uint8Array(64 * 1024));
        },
      });
      const request = new Request(`${islet.origin}/inbox`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
      const result = await guardInboxRequest(islet.islet.core, request);
      assert.ok(result instanceof Response);
      assert.equal(result.status, 413);
      assert.ok(pulled < 100, `stopped reading after ${pulled} chunks`);
      // Small bodies, and other paths, pass.
      const small = await guardInboxRequest(islet.islet.core, new Request(`${islet.origin}/inbox`, { method: "POST", body: "{}" }));
      assert.ok(small instanceof Request);
      assert.equal(await small.text(), "{}");
      const get = new Request(`${islet.origin}/users/owner`);
      assert.equal(await guardInboxRequest(islet.islet.core, get), get);
    });

    test("activities from a suspended domain are refused with 403 and nothing is kept", async () => {
      const blocked = await startRemote("blocked");
      try {
        await blockDomain(islet.islet.core, new URL(blocked.origin).host);
        const response = await blocked.post(inbox, followActivity(blocked, owner));
        assert.equal(response.status, 403);
        assert.deepEqual(await response.json(), { error: "This domain is blocked" });
        // Signed by another server's key but naming the blocked actor: refused too.
        const relayed = await signedPost(remote, inbox, { ...followActivity(blocked, owner), actor: blocked.actorId });
        assert.equal(relayed.status, 403);
        await queueSettled(islet.islet.core);
        assert.equal(await findAccountByUri(islet.islet.core, blocked.actorId), null);
        // Nor is anything fetched from it on request.
        await assert.rejects(resolveAccount(islet.islet.federation, islet.islet.core, blocked.actorId), { name: "CoreError" });
        await assert.rejects(
          resolveAccount(islet.islet.federation, islet.islet.core, `@blocked@${new URL(blocked.origin).host}`),
          { name: "CoreError" },
        );
        assert.equal(blocked.received.length, 0);
      } finally {
        await blocked.close();
      }
    });

    test("a signed GET from a suspended domain is refused", async () => {
      const blocked = await startRemote("getter");
      try {
        await blockDomain(islet.islet.core, new URL(blocked.origin).host);
        const response = await activityGet(blocked, `${islet.url}/users/owner/outbox`);
        assert.equal(response.status, 401);
      } finally {
        await blocked.close();
      }
    });
  });

  describe(`private addresses (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;
    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind, { env: { ALLOW_PRIVATE_ADDRESS: "false" } }), startRemote("loopback")]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("without ALLOW_PRIVATE_ADDRESS nothing is fetched from loopback", async () => {
      assert.equal(islet.islet.config.allowPrivateAddress, false);
      await assert.rejects(resolveAccount(islet.islet.federation, islet.islet.core, remote.actorId), { name: "CoreError" });
      // Nor is a key fetched from there to verify an activity.
      const response = await remote.post(`${islet.url}/users/owner/inbox`, followActivity(remote, `${islet.origin}/users/owner`));
      assert.equal(response.status, 401);
      assert.equal(await findAccountByUri(islet.islet.core, remote.actorId), null);
    });
  });

  describe(`AUTHORIZED_FETCH (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;
    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind, { env: { AUTHORIZED_FETCH: "true" } }), startRemote("fetcher")]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("unsigned GETs of collections and posts are refused; signed ones are answered", async () => {
      const status = await createStatus(islet.islet.core, islet.owner!.account, { text: "secure" });
      const path = new URL(status.uri).pathname;
      for (const url of [`${islet.url}/users/owner/outbox`, `${islet.url}/users/owner/followers`, `${islet.url}${path}`]) {
        const unsigned = await activityGet(null, url);
        assert.equal(unsigned.status, 401, `unsigned ${url}`);
        const signed = await activityGet(remote, url);
        assert.equal(signed.status, 200, `signed ${url}`);
      }
    });

    test("another Islet reads a secure instance's outbox by signing its fetches", async () => {
      const reader = await startInstance(kind, { username: "reader" });
      try {
        const account = await resolveAccount(reader.islet.federation, reader.islet.core, `${islet.origin}/users/owner`);
        const ctx = reader.islet.federation.createContext(new URL(reader.origin), undefined);
        const stored = await backfillOutbox(reader.islet.core, ctx, account);
        assert.ok(stored >= 1, `read ${stored} posts`);
        const secure = await createStatus(islet.islet.core, islet.owner!.account, { text: "fetched by URL" });
        const { fetchReplies } = await import("../../src/federation/backfill.ts");
        await fetchReplies(reader.islet.core, ctx, secure.uri);
        // The post itself was readable (its replies collection was asked for).
      } finally {
        await reader.close();
      }
    });

    test("the actor stays readable unsigned, reduced to what key fetching needs", async () => {
      const unsigned = await activityGet(null, `${islet.url}/users/owner`);
      assert.equal(unsigned.status, 200);
      const reduced = await unsigned.json() as Record<string, unknown>;
      assert.equal(reduced.id, `${islet.origin}/users/owner`);
      assert.ok(reduced.publicKey, "the key is there");
      assert.equal(reduced.inbox, `${islet.origin}/users/owner/inbox`);
      assert.equal(reduced.outbox, undefined);
      const signed = await (await activityGet(remote, `${islet.url}/users/owner`)).json() as Record<string, unknown>;
      assert.equal(signed.outbox, `${islet.origin}/users/owner/outbox`);
    });
  });
}
