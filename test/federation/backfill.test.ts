/**
 * Filling in what was not delivered: a newly followed account's recent
 * posts (bounded), missing parents of a reply, and the replies of a remote
 * post when its thread is opened.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { statuses } from "../../src/db/schema.ts";
import { backfillOutbox } from "../../src/federation/backfill.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;

for (const kind of databaseKinds()) {
  describe(`backfill (${kind})`, () => {
    let islet: TestInstance;
    let remote: DocumentServer;
    let poster: RemoteActorHandle;
    let replier: RemoteActorHandle;

    /** Publishes a Note at /notes/NAME; `replies` lists the IRIs of its replies. */
    function note(name: string, author: RemoteActorHandle, extra: Record<string, unknown> = {}, replies: string[] = []) {
      const id = `${remote.origin}/notes/${name}`;
      const document = {
        "@context": AS,
        id,
        type: "Note",
        attributedTo: author.id,
        content: `<p>${name}</p>`,
        published: new Date().toISOString(),
        to: [PUBLIC],
        cc: [`${author.id}/followers`],
        replies: `${id}/replies`,
        ...extra,
      };
      remote.documents.set(`/notes/${name}`, document);
      remote.documents.set(`/notes/${name}/replies`, { "@context": AS, id: `${id}/replies`, type: "OrderedCollection", totalItems: replies.length, orderedItems: replies });
      return document;
    }

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      poster = await remote.addActor("poster");
      replier = await remote.addActor("replier");
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("a followed account's outbox is read, up to the limit", async () => {
      const core = islet.islet.core;
      const items = [];
      for (let i = 0; i < 25; i++) {
        const object = note(`outbox-${i}`, poster);
        items.push({ id: `${object.id}/activity`, type: "Create", actor: poster.id, object, to: [PUBLIC] });
      }
      // A post claiming another author is skipped.
      items.unshift({ id: `${remote.origin}/forged/activity`, type: "Create", actor: poster.id, object: { ...note("forged", replier), id: `${remote.origin}/notes/forged` }, to: [PUBLIC] });
      remote.documents.set("/users/poster/outbox", { "@context": AS, id: `${poster.id}/outbox`, type: "OrderedCollection", totalItems: items.length, orderedItems: items });
      const account = await resolveAccount(islet.islet.federation, core, poster.id);
      const ctx = islet.islet.federation.createContext(new URL(islet.origin), undefined);
      assert.equal(await backfillOutbox(core, ctx, account, 20), 20);
      assert.equal((await core.db.select().from(statuses).where(eq(statuses.accountId, account.id))).length, 20);
      assert.equal(await findStatusByUri(core, `${remote.origin}/notes/forged`), null);
      // Again: nothing new.
      assert.equal(await backfillOutbox(core, ctx, account, 20), 0);
    });

    test("a reply's missing parent is fetched", async () => {
      const core = islet.islet.core;
      const parent = note("parent", poster);
      const reply = note("reply-to-parent", replier, { inReplyTo: parent.id, tag: [{ type: "Mention", href: `${islet.origin}/users/owner` }], cc: [`${islet.origin}/users/owner`] });
      const create = { "@context": AS, id: `${reply.id}/activity`, type: "Create", actor: replier.id, object: reply, to: [PUBLIC] };
      assert.equal((await replier.post(`${islet.origin}/users/owner/inbox`, create)).status, 202);
      const stored = await eventually(() => findStatusByUri(core, reply.id), "the reply");
      const storedParent = await findStatusByUri(core, parent.id);
      assert.ok(storedParent, "the parent was fetched");
      assert.equal(stored.inReplyToId, storedParent.id);
    });

    test("opening a remote post's thread fetches its replies, and theirs", async () => {
      const core = islet.islet.core;
      const token = await ownerToken(islet);
      const deep = note("deep-reply", poster, { inReplyTo: `${remote.origin}/notes/first-reply` });
      const first = note("first-reply", replier, { inReplyTo: `${remote.origin}/notes/root` }, [deep.id]);
      // A reply listed under the wrong post is not taken.
      const stray = note("stray", replier, { inReplyTo: `${remote.origin}/notes/elsewhere` });
      const root = note("root", poster, {}, [first.id, stray.id]);
      const account = await resolveAccount(islet.islet.federation, core, poster.id);
      const ctx = islet.islet.federation.createContext(new URL(islet.origin), undefined);
      const { storePost } = await import("../../src/federation/inbox-statuses.ts");
      const { Note } = await import("@fedify/vocab");
      const rootStatus = (await storePost(ctx, core, account, await Note.fromJsonLd(root), 0, true))!;

      const descendants = await eventually(async () => {
        const response = await api(islet, "GET", `/api/v1/statuses/${rootStatus.id}/context`, { token });
        assert.equal(response.status, 200);
        const found = (response.body.descendants as { uri: string }[]).map((s) => s.uri);
        return found.length === 2 ? found : undefined;
      }, "the replies in the thread");
      assert.deepEqual(descendants, [first.id, deep.id]);
      assert.equal(await findStatusByUri(core, stray.id), null);
    });
  });
}
