/**
 * Posts arriving in the inbox: stored when the owner follows the author or
 * is mentioned, edited, boosted, un-boosted and deleted by their author, and
 * refused when the actor is not the author.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { findAccountByUri, type Account } from "../../src/core/accounts.ts";
import { newId } from "../../src/core/ids.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { follows, mentions, statusEdits, statusTags, statuses, tags } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";

// As Mastodon sends it: Hashtag and sensitive are defined in an extra context.
const AS = ["https://www.w3.org/ns/activitystreams", { Hashtag: "as:Hashtag", sensitive: "as:sensitive", toot: "http://joinmastodon.org/ns#" }];
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

function note(remote: RemoteServer, id: string, extra: Record<string, unknown> = {}) {
  return {
    id: `${remote.origin}/notes/${id}`,
    type: "Note",
    attributedTo: remote.actorId,
    content: "<p>Hello <script>alert(1)</script><b>world</b></p>",
    published: "2026-11-20T10:00:00Z",
    to: [PUBLIC],
    cc: [`${remote.actorId}/followers`],
    ...extra,
  };
}

function create(remote: RemoteServer, object: Record<string, unknown>, actor = remote.actorId) {
  return { "@context": AS, id: `${object.id}/activity`, type: "Create", actor, object, to: object.to, cc: object.cc };
}

for (const kind of databaseKinds()) {
  describe(`incoming posts (${kind})`, () => {
    let islet: TestInstance;
    let friend: RemoteServer;
    let stranger: RemoteServer;
    let inbox: string;
    let owner: string;

    before(async () => {
      [islet, friend, stranger] = await Promise.all([startInstance(kind), startRemote("friend"), startRemote("stranger")]);
      inbox = `${islet.origin}/inbox`;
      owner = `${islet.origin}/users/owner`;
      // The owner follows `friend`.
      const account = await resolveAccount(islet.islet.federation, islet.islet.core, friend.actorId);
      await islet.islet.core.db.insert(follows).values({
        id: newId(), accountId: islet.owner!.account.id, targetAccountId: account.id, state: "accepted",
      });
    });
    after(async () => {
      await Promise.all([islet?.close(), friend?.close(), stranger?.close()]);
    });

    const stored = (uri: string) => eventually(() => findStatusByUri(islet.islet.core, uri), `${uri} to be stored`);

    test("a post from a followed account is stored with sanitised HTML, tags and mentions", async () => {
      const object = note(friend, "1", {
        content: `<p>Hi <a href="${owner}" class="u-url mention">@owner</a> #Islet <script>x()</script></p>`,
        tag: [
          { type: "Mention", href: owner, name: "@owner@localhost" },
          { type: "Hashtag", href: `${friend.origin}/tags/islet`, name: "#Islet" },
        ],
        contentMap: { de: "<p>Hallo</p>" },
      });
      assert.equal((await friend.post(inbox, create(friend, object))).status, 202);
      const status = await stored(object.id);
      assert.doesNotMatch(status.content, /script/);
      assert.match(status.content, /class="u-url mention"/);
      assert.equal(status.visibility, "public");
      const core = islet.islet.core;
      const mentioned = await core.db.select().from(mentions).where(eq(mentions.statusId, status.id));
      assert.deepEqual(mentioned.map((m) => m.accountId), [islet.owner!.account.id]);
      const tagRows = await core.db.select({ name: tags.name }).from(statusTags).innerJoin(tags, eq(tags.id, statusTags.tagId)).where(eq(statusTags.statusId, status.id));
      assert.deepEqual(tagRows.map((t) => t.name), ["islet"]);
    });

    test("followers-only and direct addressing become private and direct", async () => {
      const privateNote = note(friend, "p", { to: [`${friend.actorId}/followers`], cc: [] });
      const directNote = note(friend, "d", { to: [owner], cc: [], tag: [{ type: "Mention", href: owner }] });
      await friend.post(inbox, create(friend, privateNote));
      await friend.post(inbox, create(friend, directNote));
      assert.equal((await stored(privateNote.id)).visibility, "private");
      assert.equal((await stored(directNote.id)).visibility, "direct");
    });

    test("a reply to a post Islet lacks fetches nothing it cannot, and stores the reply", async () => {
      const reply = note(friend, "r", { inReplyTo: `${friend.origin}/notes/1` });
      await friend.post(inbox, create(friend, reply));
      const status = await stored(reply.id);
      const parent = await findStatusByUri(islet.islet.core, `${friend.origin}/notes/1`);
      assert.equal(status.inReplyToId, parent!.id);
      assert.equal(status.conversationId, parent!.conversationId);
      await eventually(async () => (await findStatusByUri(islet.islet.core, parent!.uri))!.repliesCount === 1, "the parent's reply count");
    });

    test("an edit by the author replaces the content and keeps the history", async () => {
      const updated = { ...note(friend, "1"), content: "<p>Edited</p>", updated: "2026-11-21T10:00:00Z" };
      const update = { "@context": AS, id: `${updated.id}#update1`, type: "Update", actor: friend.actorId, object: updated };
      assert.equal((await friend.post(inbox, update)).status, 202);
      await eventually(async () => (await findStatusByUri(islet.islet.core, updated.id))?.content === "<p>Edited</p>", "the edit");
      const status = (await findStatusByUri(islet.islet.core, updated.id))!;
      assert.ok(status.editedAt);
      const history = await islet.islet.core.db.select().from(statusEdits).where(eq(statusEdits.statusId, status.id));
      assert.equal(history.length, 2);
    });

    test("a boost by a followed account is stored and undone", async () => {
      const announce = {
        "@context": AS, id: `${friend.origin}/boosts/1`, type: "Announce", actor: friend.actorId,
        object: `${friend.origin}/notes/1`, to: [PUBLIC], published: "2026-11-22T10:00:00Z",
      };
      await friend.post(inbox, announce);
      const boost = await stored(announce.id);
      const original = (await findStatusByUri(islet.islet.core, `${friend.origin}/notes/1`))!;
      assert.equal(boost.reblogOfId, original.id);
      await eventually(async () => (await findStatusByUri(islet.islet.core, original.uri))!.reblogsCount === 1, "the boost count");
      await friend.post(inbox, { "@context": AS, id: `${announce.id}#undo`, type: "Undo", actor: friend.actorId, object: announce });
      await eventually(async () => (await findStatusByUri(islet.islet.core, announce.id)) == null, "the boost to be undone");
    });

    test("a post by someone the owner neither follows nor is mentioned by is not stored", async () => {
      const object = note(stranger, "s");
      assert.equal((await stranger.post(inbox, create(stranger, object))).status, 202);
      // Let the queue run, then check nothing came in.
      const marker = note(friend, "marker");
      await friend.post(inbox, create(friend, marker));
      await stored(marker.id);
      assert.equal(await findStatusByUri(islet.islet.core, object.id), null);
    });

    test("a Create whose object names another author is refused", async () => {
      // `stranger` signs a Create claiming a note by `friend`.
      const forged = { ...note(stranger, "forged"), attributedTo: friend.actorId };
      await stranger.post(inbox, create(stranger, forged));
      const marker = note(friend, "marker2");
      await friend.post(inbox, create(friend, marker));
      await stored(marker.id);
      assert.equal(await findStatusByUri(islet.islet.core, forged.id), null);
    });

    test("only its author can delete a post", async () => {
      const target = `${friend.origin}/notes/p`;
      await stranger.post(inbox, { "@context": AS, id: `${stranger.origin}/d/1`, type: "Delete", actor: stranger.actorId, object: target });
      await friend.post(inbox, { "@context": AS, id: `${friend.origin}/d/1`, type: "Delete", actor: friend.actorId, object: { id: target, type: "Tombstone" } });
      await eventually(async () => (await findStatusByUri(islet.islet.core, target)) == null, "the delete");
      const author = (await findAccountByUri(islet.islet.core, friend.actorId)) as Account;
      const left = await islet.islet.core.db.select({ id: statuses.id }).from(statuses).where(eq(statuses.accountId, author.id));
      assert.ok(left.length >= 3, "the author's other posts stay");
    });
  });
}
