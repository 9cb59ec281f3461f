/**
 * Mastodon account archives: one built here from Mastodon's documented
 * format (outbox.json of Create and Announce activities, actor.json,
 * likes.json, bookmarks.json, avatar, media_attachments/) is imported as a
 * .tar.gz; its posts keep their dates, warnings, media, polls, tags,
 * mentions and thread, show on the profile and in the outbox, and are not
 * delivered (a later post's delivery is the sentinel). Then the archive
 * Islet exports is imported into an empty instance: the same posts.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { and, asc, eq, isNull } from "drizzle-orm";
import sharp from "sharp";
import { c as createTar } from "tar";
import { findAccountById } from "../../../src/core/accounts.ts";
import { importArchive, openArchive, type ArchiveImportReport } from "../../../src/core/imports/archive.ts";
import { createStatus } from "../../../src/core/statuses.ts";
import { accounts, bookmarks, favourites, follows, importedStatuses, mediaAttachments, mentions, polls, statuses, statusTags, tags } from "../../../src/db/schema.ts";
import { writeAccountArchive } from "../../../src/federation/account-archive.ts";
import { createImportResolvers } from "../../../src/federation/imports.ts";
import { api } from "../../helpers/api.ts";
import { writeZip } from "../../helpers/archives.ts";
import { databaseKinds } from "../../helpers/database.ts";
import { activityGet, startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../../helpers/instance.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const OLD = "https://old.example/users/me";

async function runArchiveImport(instance: TestInstance, path: string): Promise<ArchiveImportReport> {
  const core = instance.islet.core;
  const archive = await openArchive(core, path);
  try {
    return await importArchive(core, archive, { resolvers: createImportResolvers(instance.islet.federation, core) });
  } finally {
    await archive.close();
  }
}

/** What makes a post the same post, whichever server holds it. */
async function postsOf(instance: TestInstance) {
  const core = instance.islet.core;
  const owner = instance.owner!.account;
  const rows = await core.db.select().from(statuses).where(and(eq(statuses.accountId, owner.id), isNull(statuses.reblogOfId))).orderBy(asc(statuses.createdAt));
  const byId = new Map(rows.map((row) => [row.id, row]));
  const out = [];
  for (const row of rows) {
    const media = await core.db.select({ description: mediaAttachments.description, type: mediaAttachments.type }).from(mediaAttachments).where(eq(mediaAttachments.statusId, row.id));
    const poll = (await core.db.select().from(polls).where(eq(polls.statusId, row.id)))[0];
    const tagNames = await core.db.select({ name: tags.name }).from(statusTags).innerJoin(tags, eq(tags.id, statusTags.tagId)).where(eq(statusTags.statusId, row.id));
    const mentioned = await core.db.select({ uri: accounts.uri }).from(mentions).innerJoin(accounts, eq(accounts.id, mentions.accountId)).where(eq(mentions.statusId, row.id));
    out.push({
      content: row.content,
      createdAt: row.createdAt.toISOString(),
      spoilerText: row.spoilerText,
      sensitive: row.sensitive,
      visibility: row.visibility,
      language: row.language,
      replyTo: row.inReplyToId == null ? null : byId.get(row.inReplyToId)?.content ?? "elsewhere",
      media: media.map((m) => `${m.type}: ${m.description}`),
      poll: poll == null ? null : { options: poll.options, votes: poll.votesCounts, multiple: poll.multiple },
      tags: tagNames.map((t) => t.name).sort(),
      mentions: mentioned.map((m) => m.uri).sort(),
    });
  }
  return out;
}

for (const kind of databaseKinds()) {
  describe(`account archive import and export (${kind})`, () => {
    let islet: TestInstance;
    let empty: TestInstance;
    let remote: DocumentServer;
    let alice: RemoteActorHandle;
    let work: string;
    let report: ArchiveImportReport;
    const note1 = () => `${remote.origin}/notes/1`;

    before(async () => {
      [islet, empty, remote] = await Promise.all([startInstance(kind), startInstance(kind), startDocumentServer()]);
      alice = await remote.addActor("alice");
      remote.documents.set("/notes/1", { "@context": AS, id: note1(), type: "Note", attributedTo: alice.id, content: "<p>boost me</p>", published: "2019-05-01T00:00:00Z", to: [PUBLIC] });
      work = await mkdtemp(join(tmpdir(), "islet-archive-"));
      // alice follows the owner: any delivery of the imported posts would reach her inbox.
      const follow = await alice.post(`${islet.url}/users/owner/inbox`, { "@context": AS, id: `${alice.id}/follows/1`, type: "Follow", actor: alice.id, object: `${islet.origin}/users/owner` });
      assert.equal(follow.status, 202);
      await eventually(async () => (await islet.islet.core.db.select().from(follows).where(eq(follows.state, "accepted"))).length === 1, "alice's follow");
    });
    after(async () => {
      await Promise.all([islet?.close(), empty?.close(), remote?.close()]);
      if (work != null) await rm(work, { recursive: true, force: true });
    });

    test("a Mastodon archive (.tar.gz): posts, media, poll, thread, boosts, favourites, bookmarks, profile", async () => {
      const dir = join(work, "mastodon");
      const mediaPath = "media_attachments/files/000/000/001/original/square.png";
      await mkdir(join(dir, "media_attachments/files/000/000/001/original"), { recursive: true });
      const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#c00" } }).png().toBuffer();
      await writeFile(join(dir, mediaPath), png);
      await writeFile(join(dir, "avatar.png"), png);
      const host = new URL(remote.origin).host;
      const post = (n: number, object: Record<string, unknown>) => ({
        id: `${OLD}/statuses/${n}/activity`,
        type: "Create",
        actor: OLD,
        published: object.published,
        to: object.to,
        cc: object.cc,
        object: { id: `${OLD}/statuses/${n}`, attributedTo: OLD, url: `https://old.example/@me/${n}`, ...object },
      });
      const outbox = {
        "@context": AS,
        id: "outbox.json",
        type: "OrderedCollection",
        totalItems: 5,
        orderedItems: [
          post(1, {
            type: "Note",
            published: "2020-01-01T10:00:00Z",
            to: [PUBLIC],
            cc: [`${OLD}/followers`],
            summary: "food",
            sensitive: true,
            content: '<p>first post <a href="https://old.example/tags/archived" class="mention hashtag" rel="tag">#<span>archived</span></a></p>',
            contentMap: { en: "<p>first post #archived</p>" },
            tag: [{ type: "Hashtag", href: "https://old.example/tags/archived", name: "#archived" }],
            attachment: [{ type: "Document", mediaType: "image/png", url: mediaPath, name: "a red square", focalPoint: [0, 0] }],
          }),
          post(2, {
            type: "Note",
            published: "2020-01-02T10:00:00Z",
            to: [`${OLD}/followers`],
            cc: [PUBLIC, alice.id],
            inReplyTo: `${OLD}/statuses/1`,
            content: `<p><span class="h-card"><a href="${alice.id}" class="u-url mention">@<span>alice</span></a></span> a reply in the thread</p>`,
            tag: [{ type: "Mention", href: alice.id, name: `@alice@${host}` }],
          }),
          post(3, {
            type: "Question",
            published: "2020-01-03T10:00:00Z",
            to: [PUBLIC],
            cc: [`${OLD}/followers`],
            content: "<p>tea or coffee?</p>",
            endTime: "2020-01-04T10:00:00Z",
            closed: "2020-01-04T10:00:00Z",
            votersCount: 4,
            oneOf: [
              { type: "Note", name: "tea", replies: { type: "Collection", totalItems: 3 } },
              { type: "Note", name: "coffee", replies: { type: "Collection", totalItems: 1 } },
            ],
          }),
          { id: `${OLD}/statuses/4/activity`, type: "Announce", actor: OLD, published: "2020-01-05T10:00:00Z", to: [PUBLIC], cc: [`${OLD}/followers`], object: note1() },
          { id: `${OLD}/statuses/5/activity`, type: "Announce", actor: OLD, published: "2020-01-06T10:00:00Z", to: [PUBLIC], object: `${remote.origin}/notes/gone` },
        ],
      };
      await writeFile(join(dir, "outbox.json"), JSON.stringify(outbox));
      await writeFile(join(dir, "actor.json"), JSON.stringify({
        "@context": [AS, "https://w3id.org/security/v1"],
        id: OLD,
        type: "Person",
        followers: `${OLD}/followers`,
        preferredUsername: "me",
        name: "Moved Me",
        summary: "<p>I used to live elsewhere.</p>",
        manuallyApprovesFollowers: false,
        discoverable: true,
        attachment: [{ type: "PropertyValue", name: "Site", value: "example.org" }],
        icon: { type: "Image", mediaType: "image/png", url: "avatar.png" },
        outbox: "outbox.json",
        likes: "likes.json",
        bookmarks: "bookmarks.json",
      }));
      await writeFile(join(dir, "likes.json"), JSON.stringify({ "@context": AS, id: "likes.json", type: "OrderedCollection", totalItems: 1, orderedItems: [note1()] }));
      await writeFile(join(dir, "bookmarks.json"), JSON.stringify({ "@context": AS, id: "bookmarks.json", type: "OrderedCollection", totalItems: 1, orderedItems: [`${OLD}/statuses/1`] }));
      const archive = join(work, "archive-20260101.tar.gz");
      await createTar({ gzip: true, file: archive, cwd: dir }, await readdir(dir));
      // The same archive as a zip, the form Mastodon writes today (read again below).
      await writeZip(dir, join(work, "archive-20260101.zip"));

      report = await runArchiveImport(islet, archive);
      assert.deepEqual(
        { posts: report.posts, boosts: report.boosts, media: report.media, favourites: report.favourites, bookmarks: report.bookmarks, profile: report.profile },
        { posts: 3, boosts: 1, media: 1, favourites: 1, bookmarks: 1, profile: true },
      );
      assert.deepEqual(report.skipped.map((s) => s.item), [`${remote.origin}/notes/gone`]);

      const posts = await postsOf(islet);
      assert.equal(posts.length, 3);
      assert.deepEqual(posts[0], {
        content: posts[0]!.content,
        createdAt: "2020-01-01T10:00:00.000Z",
        spoilerText: "food",
        sensitive: true,
        visibility: "public",
        language: "en",
        replyTo: null,
        media: ["image: a red square"],
        poll: null,
        tags: ["archived"],
        mentions: [],
      });
      assert.match(posts[0]!.content, /first post/);
      assert.equal(posts[1]!.replyTo, posts[0]!.content);
      assert.equal(posts[1]!.visibility, "unlisted");
      assert.deepEqual(posts[1]!.mentions, [alice.id]);
      assert.deepEqual(posts[2]!.poll, { options: ["tea", "coffee"], votes: [3, 1], multiple: false });

      const core = islet.islet.core;
      const owner = islet.owner!.account;
      const boost = await core.db.select().from(statuses).where(and(eq(statuses.accountId, owner.id), eq(statuses.createdAt, new Date("2020-01-05T10:00:00Z"))));
      assert.equal(boost.length, 1);
      const original = (await core.db.select().from(statuses).where(eq(statuses.uri, note1())))[0]!;
      assert.equal(boost[0]!.reblogOfId, original.id);
      assert.equal((await core.db.select().from(favourites).where(eq(favourites.statusId, original.id))).length, 1);
      const marked = await core.db.select({ statusId: bookmarks.statusId }).from(bookmarks);
      const first = (await core.db.select().from(importedStatuses).where(eq(importedStatuses.originalUri, `${OLD}/statuses/1`)))[0]!;
      assert.deepEqual(marked, [{ statusId: first.statusId }]);

      const profile = (await findAccountById(core, owner.id))!;
      assert.equal(profile.displayName, "Moved Me");
      assert.match(profile.note, /I used to live elsewhere/);
      assert.equal(profile.fields[0]?.name, "Site");
      assert.ok(profile.avatarUrl?.startsWith(`${islet.origin}/system/`));
    });

    test("imported posts are on the profile and in the outbox", async () => {
      const listed = await api<{ content: string; created_at: string }[]>(islet, "GET", `/api/v1/accounts/${islet.owner!.account.id}/statuses?exclude_reblogs=true`);
      assert.equal(listed.status, 200);
      assert.ok(listed.body.some((status) => /first post/.test(status.content) && status.created_at.startsWith("2020-01-01")));
      const outbox = await (await activityGet(null, `${islet.url}/users/owner/outbox`)).json() as { first: string | { id: string } };
      const firstPage = typeof outbox.first === "string" ? outbox.first : outbox.first.id;
      const page = await (await activityGet(null, firstPage.replace(islet.origin, islet.url))).json() as { orderedItems: { type: string; object: unknown }[] };
      const contents = page.orderedItems.map((item) => JSON.stringify(item.object));
      assert.ok(contents.some((text) => text.includes("tea or coffee?")));
      assert.ok(contents.some((text) => text.includes(note1())));
    });

    test("importing the same archive again, as Mastodon's zip, adds nothing", async () => {
      const again = await runArchiveImport(islet, join(work, "archive-20260101.zip"));
      assert.deepEqual({ posts: again.posts, boosts: again.boosts, alreadyImported: again.alreadyImported, favourites: again.favourites, bookmarks: again.bookmarks }, { posts: 0, boosts: 0, alreadyImported: 4, favourites: 0, bookmarks: 0 });
      assert.equal((await postsOf(islet)).length, 3);
      // The stored count follows the import: 3 posts and a boost, once each.
      const owner = (await findAccountById(islet.islet.core, islet.owner!.account.id))!;
      assert.equal(owner.statusesCount, 4);
    });

    test("imported posts were not delivered: a new post was, after them", async () => {
      const sentinel = await createStatus(islet.islet.core, islet.owner!.account, { text: "a new post after the import" });
      await eventually(async () => remote.received.some((entry) => entry.body.type === "Create" && (entry.body.object as { id?: string })?.id === sentinel.uri), "the new post's delivery to alice");
      const delivered = remote.received.filter((entry) => entry.body.type === "Create" || entry.body.type === "Announce");
      assert.deepEqual(delivered.map((entry) => (entry.body.object as { id?: string })?.id ?? entry.body.object), [sentinel.uri]);
    });

    test("the exported archive, imported into an empty instance, gives the same posts", async () => {
      const file = join(work, "export", "islet-archive.tar.gz");
      const written = await writeAccountArchive(islet.islet.federation, islet.islet.core, file);
      assert.deepEqual({ posts: written.posts, boosts: written.boosts, media: written.media, bookmarks: written.bookmarks, favourites: written.favourites }, { posts: 4, boosts: 1, media: 1, bookmarks: 1, favourites: 1 });
      const moved = await runArchiveImport(empty, file);
      assert.deepEqual({ posts: moved.posts, boosts: moved.boosts, media: moved.media, favourites: moved.favourites, bookmarks: moved.bookmarks, skipped: moved.skipped }, { posts: 4, boosts: 1, media: 1, favourites: 1, bookmarks: 1, skipped: [] });
      const strip = (posts: Awaited<ReturnType<typeof postsOf>>) => posts.map((p) => ({ ...p, content: p.content.replace(/https?:\/\/[^"/]+/g, "ORIGIN"), replyTo: p.replyTo?.replace(/https?:\/\/[^"/]+/g, "ORIGIN") ?? null }));
      assert.deepEqual(strip(await postsOf(empty)), strip(await postsOf(islet)));
      const profile = (await findAccountById(empty.islet.core, empty.owner!.account.id))!;
      assert.equal(profile.displayName, "Moved Me");
      assert.equal(profile.statusesCount, 5, "the imported posts and boost are counted");
      assert.ok(profile.avatarUrl?.startsWith(`${empty.origin}/system/`));
    });
  });
}
