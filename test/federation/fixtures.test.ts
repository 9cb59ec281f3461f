/**
 * Posts and actors in the shapes Mastodon, GoToSocial, Misskey, Akkoma,
 * Lemmy and blog engines publish (test/fixtures/federation), delivered
 * signed to the inbox: each becomes the right status, account and
 * notification.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountByUri, type Account } from "../../src/core/accounts.ts";
import { findFollow, follow, followAccepted } from "../../src/core/follows.ts";
import { findStatusByUri } from "../../src/core/remote-statuses.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { mediaAttachments, mentions, notifications, polls, statusTags, tags } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

const FIXTURES = new URL("../fixtures/federation/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");

for (const kind of databaseKinds()) {
  describe(`real-world shapes (${kind})`, () => {
    let islet: TestInstance;
    let remote: DocumentServer;
    const actors = new Map<string, RemoteActorHandle>();
    let ownerStatusUri: string;

    /** The fixture with its placeholders filled for `actor`. */
    function fill(name: string, actor: RemoteActorHandle): Record<string, unknown> {
      const id = String(Date.now()) + Math.floor(Math.random() * 1e6);
      const values: Record<string, string> = {
        origin: remote.origin,
        host: new URL(remote.origin).host,
        actor: actor.id,
        owner: `${islet.origin}/users/owner`,
        ownerHost: new URL(islet.origin).host,
        ownerStatus: ownerStatusUri,
        id,
        now: new Date().toISOString(),
        inOneDay: new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString(),
      };
      return JSON.parse(read(name).replace(/\{\{(\w+)\}\}/g, (_m, key: string) => values[key] ?? `{{${key}}}`));
    }

    /** Delivers a fixture by `actorName` to the owner's inbox; resolves with the stored status. */
    async function deliver(name: string, actorName: string) {
      const actor = actors.get(actorName)!;
      const activity = fill(name, actor);
      const response = await actor.post(`${islet.origin}/users/owner/inbox`, activity);
      assert.equal(response.status, 202, `${name} accepted`);
      const objectId = (activity.object as { id: string }).id;
      const status = await eventually(() => findStatusByUri(islet.islet.core, objectId), `${name} stored`);
      return { status, activity };
    }

    const accountOf = async (name: string): Promise<Account> => (await findAccountByUri(islet.islet.core, actors.get(name)!.id))!;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      remote.documents.set("/schemas/litepub-0.1.jsonld", JSON.parse(read("litepub-context.json")));
      const core = islet.islet.core;
      ownerStatusUri = (await createStatus(core, islet.owner!.account, { text: "a post to reply to" })).uri;
      const shapes = JSON.parse(read("actors.json")) as Record<string, Record<string, unknown>>;
      for (const [name, extra] of Object.entries(shapes)) {
        const actor = await remote.addActor(name, extra);
        actors.set(name, actor);
        // The owner follows each, so their posts are wanted.
        const account = await resolveAccount(islet.islet.federation, core, actor.id);
        const row = await follow(core, islet.owner!.account, account);
        await followAccepted(core, row);
      }
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("actors are read as their servers describe them", async () => {
      const mastodon = await accountOf("mastodon_user");
      assert.equal(mastodon.displayName, "Mastodon User");
      assert.equal(mastodon.fields[0]?.name, "Website");
      assert.equal(mastodon.indexable, true);
      assert.equal((await accountOf("gts_user")).locked, true);
      const misskey = await accountOf("misskey_user");
      assert.equal(misskey.displayName, "みすきー");
      assert.equal(misskey.note, "<p>にゃーん</p>");
      const bot = await accountOf("akkoma_bot");
      assert.equal(bot.bot, true);
      assert.equal(bot.actorType, "Service");
      assert.equal((await accountOf("lemmy_user")).username, "lemmy_user");
      for (const name of actors.keys()) {
        assert.equal((await findFollow(islet.islet.core, islet.owner!.account.id, (await accountOf(name)).id))?.state, "accepted");
      }
    });

    test("Mastodon: a Note with contentMap, a mention, a hashtag and an image", async () => {
      const core = islet.islet.core;
      const { status } = await deliver("mastodon-note.json", "mastodon_user");
      assert.equal(status.visibility, "public");
      assert.equal(status.language, "en");
      assert.doesNotMatch(status.content, /script/);
      assert.match(status.content, /Hello from Mastodon!/);
      assert.match(status.content, /class="u-url mention"/);
      const tagged = await core.db.select({ name: tags.name }).from(statusTags).innerJoin(tags, eq(tags.id, statusTags.tagId)).where(eq(statusTags.statusId, status.id));
      assert.deepEqual(tagged.map((t) => t.name.toLowerCase()), ["fediverse"]);
      const media = await core.db.select().from(mediaAttachments).where(eq(mediaAttachments.statusId, status.id));
      assert.equal(media.length, 1);
      assert.equal(media[0]!.type, "image");
      assert.equal(media[0]!.description, "A harbour at dusk");
      assert.match(media[0]!.remoteUrl ?? "", /photo\.jpg$/);
      const mentioned = await core.db.select().from(mentions).where(eq(mentions.statusId, status.id));
      assert.deepEqual(mentioned.map((m) => m.accountId), [islet.owner!.account.id]);
      await eventually(async () => (await core.db.select().from(notifications).where(and(
        eq(notifications.statusId, status.id), eq(notifications.type, "mention"),
      ))).length === 1, "the mention notification");
    });

    test("Mastodon: a Question becomes a poll", async () => {
      const { status } = await deliver("mastodon-question.json", "mastodon_user");
      const [poll] = await islet.islet.core.db.select().from(polls).where(eq(polls.statusId, status.id));
      assert.deepEqual(poll!.options, ["Tea", "Coffee"]);
      assert.deepEqual(poll!.votesCounts, [4, 3]);
      assert.equal(poll!.multiple, false);
      assert.equal(poll!.votersCount, 7);
      assert.ok(poll!.expiresAt!.getTime() > Date.now());
    });

    test("GoToSocial: a sensitive unlisted Note with an interaction policy", async () => {
      const { status } = await deliver("gotosocial-note.json", "gts_user");
      assert.equal(status.visibility, "unlisted");
      assert.equal(status.sensitive, true);
      assert.equal(status.spoilerText, "spoilers for the book");
      assert.match(status.content, /The butler did it/);
    });

    test("Misskey: a followers-only Note quoting another, HTML content preferred", async () => {
      const { status } = await deliver("misskey-note.json", "misskey_user");
      assert.equal(status.visibility, "private");
      assert.match(status.content, /followers only, with a quote/);
      assert.match(status.content, /RE: /);
      assert.match(status.content, /notes\/9quoted/);
    });

    test("Akkoma: a direct reply with a custom emoji, from a bot", async () => {
      const core = islet.islet.core;
      const { status } = await deliver("akkoma-note.json", "akkoma_bot");
      assert.equal(status.visibility, "direct");
      const parent = await findStatusByUri(core, ownerStatusUri);
      assert.equal(status.inReplyToId, parent!.id);
      assert.match(status.content, /:blobcat: a private word/);
      await eventually(async () => (await core.db.select().from(notifications).where(and(
        eq(notifications.statusId, status.id), eq(notifications.type, "mention"),
      ))).length === 1, "the mention notification");
    });

    test("Lemmy: a Page in a community keeps its title", async () => {
      const { status } = await deliver("lemmy-page.json", "lemmy_user");
      assert.equal(status.visibility, "public");
      assert.match(status.content, /^<p><strong>Tomatoes in November\?<\/strong><\/p>/);
      assert.match(status.content, /<strong>still<\/strong> ripening/);
    });

    test("A blog Article: title on top, headings flattened", async () => {
      const { status } = await deliver("article.json", "writer");
      assert.match(status.content, /^<p><strong>On Quiet Servers<\/strong><\/p>/);
      assert.doesNotMatch(status.content, /<h2>/);
      assert.equal(status.url, `${remote.origin}/writer/on-quiet-servers`);
    });
  });
}
