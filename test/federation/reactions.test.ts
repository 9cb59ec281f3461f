/**
 * Emoji reactions as Misskey, Pleroma and Akkoma send them: EmojiReact
 * (Unicode or custom emoji) and Misskey's Like with an emoji; each Undo
 * takes its reaction back.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { listReactions } from "../../src/core/reactions.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { favourites } from "../../src/db/schema.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";

const AS = "https://www.w3.org/ns/activitystreams";

for (const kind of databaseKinds()) {
  describe(`emoji reactions (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;
    let inbox: string;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startRemote("reactor")]);
      inbox = `${islet.origin}/users/owner/inbox`;
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    const undo = (object: Record<string, unknown>) => ({
      "@context": AS,
      id: `${object.id as string}/undo`,
      type: "Undo",
      actor: remote.actorId,
      object,
    });

    test("an EmojiReact is stored and its Undo removes it", async () => {
      const core = islet.islet.core;
      const status = await createStatus(core, islet.owner!.account, { text: "react to me" });
      const react = {
        "@context": [AS, { litepub: "http://litepub.social/ns#", EmojiReact: "litepub:EmojiReact" }],
        id: `${remote.origin}/reactions/${crypto.randomUUID()}`,
        type: "EmojiReact",
        actor: remote.actorId,
        object: status.uri,
        content: "🔥",
      };
      assert.equal((await remote.post(inbox, react)).status, 202);
      const [reaction] = await eventually(async () => {
        const rows = await listReactions(core, status.id);
        return rows.length > 0 ? rows : undefined;
      }, "the reaction");
      const reactor = (await findAccountByUri(core, remote.actorId))!;
      assert.equal(reaction!.name, "🔥");
      assert.equal(reaction!.accountId, reactor.id);
      assert.equal(reaction!.uri, react.id);
      assert.equal(reaction!.emojiUrl, null);

      assert.equal((await remote.post(inbox, undo(react))).status, 202);
      await eventually(async () => (await listReactions(core, status.id)).length === 0, "the reaction to go");
    });

    test("a custom emoji keeps its image", async () => {
      const core = islet.islet.core;
      const status = await createStatus(core, islet.owner!.account, { text: "custom" });
      const react = {
        "@context": [AS, { toot: "http://joinmastodon.org/ns#", Emoji: "toot:Emoji", litepub: "http://litepub.social/ns#", EmojiReact: "litepub:EmojiReact" }],
        id: `${remote.origin}/reactions/${crypto.randomUUID()}`,
        type: "EmojiReact",
        actor: remote.actorId,
        object: status.uri,
        content: ":blobcat:",
        tag: [{
          id: `${remote.origin}/emoji/blobcat`,
          type: "Emoji",
          name: ":blobcat:",
          icon: { type: "Image", mediaType: "image/png", url: `${remote.origin}/emoji/blobcat.png` },
        }],
      };
      assert.equal((await remote.post(inbox, react)).status, 202);
      const [reaction] = await eventually(async () => {
        const rows = await listReactions(core, status.id);
        return rows.length > 0 ? rows : undefined;
      }, "the reaction");
      assert.equal(reaction!.name, ":blobcat:");
      assert.equal(reaction!.emojiUrl, `${remote.origin}/emoji/blobcat.png`);
    });

    test("Misskey's Like with an emoji is a favourite and a reaction; its Undo removes both", async () => {
      const core = islet.islet.core;
      const status = await createStatus(core, islet.owner!.account, { text: "like me" });
      const like = {
        "@context": [AS, { misskey: "https://misskey-hub.net/ns#", _misskey_reaction: "misskey:_misskey_reaction" }],
        id: `${remote.origin}/likes/${crypto.randomUUID()}`,
        type: "Like",
        actor: remote.actorId,
        object: status.uri,
        content: "🎉",
        _misskey_reaction: "🎉",
      };
      assert.equal((await remote.post(inbox, like)).status, 202);
      const reactor = await eventually(() => findAccountByUri(core, remote.actorId), "the reactor");
      await eventually(async () => (await listReactions(core, status.id)).length === 1, "the reaction");
      const favourited = await core.db.select().from(favourites).where(and(eq(favourites.statusId, status.id), eq(favourites.accountId, reactor.id)));
      assert.equal(favourited.length, 1);

      assert.equal((await remote.post(inbox, undo(like))).status, 202);
      await eventually(async () => (await listReactions(core, status.id)).length === 0, "the reaction to go");
      await eventually(async () => (await core.db.select().from(favourites).where(eq(favourites.statusId, status.id))).length === 0, "the favourite to go");
    });

    test("a plain Like is a favourite only", async () => {
      const core = islet.islet.core;
      const status = await createStatus(core, islet.owner!.account, { text: "plain" });
      const like = { "@context": AS, id: `${remote.origin}/likes/${crypto.randomUUID()}`, type: "Like", actor: remote.actorId, object: status.uri };
      assert.equal((await remote.post(inbox, like)).status, 202);
      await eventually(async () => (await core.db.select().from(favourites).where(eq(favourites.statusId, status.id))).length === 1, "the favourite");
      assert.equal((await listReactions(core, status.id)).length, 0);
    });
  });
}
