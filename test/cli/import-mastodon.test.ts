/**
 * The takeover of a Mastodon account: a Mastodon database built from the
 * tables of its schema, an owner with a few hundred posts (media on disk,
 * polls, edits, a thread, boosts, pins), remote followers on two stand-in
 * servers; then Islet, having taken it over, is checked through the API
 * and through federation.
 */
import assert from "node:assert/strict";
import { createPublicKey, randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verifyRequest } from "@fedify/fedify";
import sharp from "sharp";
import { getOwner } from "../../src/core/accounts.ts";
import { takeOverMastodonAccount, type TakeoverReport } from "../../src/core/takeover/mastodon.ts";
import { readMastodon } from "../../src/core/takeover/mastodon-source.ts";
import { idPartition } from "../../src/core/takeover/paperclip.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { runIslet } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { createMastodonDatabase, mastodonKeyPair, snowflake, writePaperclipFile, type MastodonDatabase } from "../helpers/mastodon-database.ts";
import { eventually, freePort, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type Received, type RemoteServer } from "../helpers/remote.ts";

const STATUSES = 300;
const needsPostgres = process.env.TEST_DATABASE_URL ? false : "the Mastodon database needs TEST_DATABASE_URL";

interface Fixture {
  ownerId: bigint;
  keys: { privatePem: string; publicPem: string };
  statusIds: bigint[];
  mediaStatusId: bigint;
  mediaFile: string;
  mediaBytes: Buffer;
  pollStatusId: bigint;
  editedStatusId: bigint;
  threadIds: bigint[];
  boostedUri: string;
  ownPosts: number;
}

/** Fills a Mastodon database with the owner `cyplo` at `origin`, followed from `a` and `b`. */
async function fillMastodon(m: MastodonDatabase, origin: string, a: RemoteServer, b: RemoteServer): Promise<Fixture> {
  const sql = m.sql;
  const keys = mastodonKeyPair();
  const start = Date.now() - 400 * 86_400_000;
  const at = (day: number) => new Date(start + day * 86_400_000);
  const ownerId = snowflake(at(0));
  const avatar = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } }).png().toBuffer();
  writePaperclipFile(m.mediaDir, "accounts", "avatars", ownerId, "original", "avatar.png", avatar);
  await sql`INSERT INTO accounts ${sql({
    id: ownerId.toString(), username: "cyplo", domain: null, private_key: keys.privatePem, public_key: keys.publicPem,
    created_at: at(0), note: "I write about #islet and the sea", display_name: "Cyplo", locked: true,
    fields: sql.json([{ name: "Site", value: "https://peninsula.example" }]) as never, actor_type: "Person", discoverable: true,
    avatar_file_name: "avatar.png",
  })}`;
  const [user] = await sql`INSERT INTO users (email, account_id, locale) VALUES ('cyplo@peninsula.example', ${ownerId.toString()}, 'en') RETURNING id`;
  await sql`INSERT INTO account_aliases (account_id, uri) VALUES (${ownerId.toString()}, 'https://old.example/users/cyplo')`;

  const remote = async (server: RemoteServer, username: string, options: { sharedInbox?: boolean } = {}) => {
    const id = snowflake(at(1));
    const host = new URL(server.origin).host;
    await sql`INSERT INTO accounts ${sql({
      id: id.toString(), username, domain: host, public_key: "", created_at: at(1), display_name: `Remote ${username}`,
      uri: `${server.origin}/users/${username}`, url: `${server.origin}/@${username}`,
      inbox_url: `${server.origin}/users/${username}/inbox`, shared_inbox_url: options.sharedInbox === false ? "" : `${server.origin}/inbox`,
      followers_url: `${server.origin}/users/${username}/followers`, actor_type: "Person", note: "<p>hi<script>x</script></p>",
    })}`;
    return id;
  };
  const alice = await remote(a, "alice");
  const carol = await remote(a, "carol");
  const frank = await remote(a, "frank");
  const bob = await remote(b, "bob", { sharedInbox: false });
  const dave = await remote(b, "dave", { sharedInbox: false });
  const eve = await remote(b, "eve", { sharedInbox: false });
  const other = snowflake(at(1));
  await sql`INSERT INTO accounts (id, username, created_at) VALUES (${other.toString()}, 'other', ${at(1)})`;

  // A post of alice's, boosted, favourited and bookmarked by the owner.
  const alicePost = snowflake(at(2));
  const boostedUri = `${a.origin}/users/alice/statuses/1`;
  await sql`INSERT INTO statuses (id, uri, url, text, created_at, updated_at, account_id, visibility, local)
    VALUES (${alicePost.toString()}, ${boostedUri}, ${`${a.origin}/@alice/1`}, '<p>remote hello</p>', ${at(2)}, ${at(2)}, ${alice.toString()}, 0, false)`;

  const statusIds: bigint[] = [];
  const threadIds: bigint[] = [];
  let mediaStatusId = 0n;
  let mediaFile = "";
  let pollStatusId = 0n;
  let editedStatusId = 0n;
  let ownPosts = 0;
  const image = await sharp({ create: { width: 16, height: 12, channels: 3, background: "#aa3300" } }).png().toBuffer();
  const aliceHandle = `@alice@${new URL(a.origin).host}`;
  for (let i = 0; i < STATUSES; i++) {
    const when = at(10 + i);
    const id = snowflake(when);
    statusIds.push(id);
    const visibility = i % 17 === 3 ? 1 : i % 19 === 4 ? 2 : i % 23 === 5 ? 3 : 0;
    const inThread = i >= 40 && i < 44;
    const text = i === 1 ? `hello ${aliceHandle}, this is post ${i}` : `post number ${i}${i % 11 === 0 ? " #islet" : ""}`;
    await sql`INSERT INTO statuses ${sql({
      id: id.toString(), uri: `${origin}/users/cyplo/statuses/${id}`, text, created_at: when, updated_at: when,
      account_id: ownerId.toString(), visibility, local: true, spoiler_text: i % 13 === 0 ? "cw" : "", sensitive: i % 13 === 0,
      in_reply_to_id: inThread && i > 40 ? threadIds.at(-1)!.toString() : null,
      in_reply_to_account_id: inThread && i > 40 ? ownerId.toString() : null, reply: inThread && i > 40, language: "en",
    })}`;
    ownPosts++;
    if (inThread) threadIds.push(id);
    if (i === 1) await sql`INSERT INTO mentions (status_id, account_id) VALUES (${id.toString()}, ${alice.toString()})`;
    if (i % 11 === 0) {
      await sql`INSERT INTO tags (name) VALUES ('islet') ON CONFLICT DO NOTHING`;
      await sql`INSERT INTO statuses_tags (status_id, tag_id) SELECT ${id.toString()}, id FROM tags WHERE name = 'islet'`;
    }
    if (i % 30 === 7) {
      const mediaId = snowflake(when);
      const name = `${randomBytes(8).toString("hex")}.png`;
      const relative = writePaperclipFile(m.mediaDir, "media_attachments", "files", mediaId, "original", name, image);
      writePaperclipFile(m.mediaDir, "media_attachments", "files", mediaId, "small", name, image);
      await sql`INSERT INTO media_attachments ${sql({
        id: mediaId.toString(), status_id: id.toString(), account_id: ownerId.toString(), file_file_name: name, file_content_type: "image/png",
        file_file_size: image.length, type: 0, created_at: when, description: `alt text ${i}`,
        file_meta: JSON.stringify({ original: { width: 16, height: 12, size: "16x12", aspect: 16 / 12 }, focus: { x: 0.5, y: -0.25 } }),
      })}`;
      await sql`UPDATE statuses SET ordered_media_attachment_ids = ARRAY[${mediaId.toString()}]::bigint[] WHERE id = ${id.toString()}`;
      if (mediaStatusId === 0n && visibility === 0) {
        mediaStatusId = id;
        mediaFile = relative;
      }
    }
    if (i === 5) {
      pollStatusId = id;
      await sql`INSERT INTO polls (account_id, status_id, options, cached_tallies, votes_count, voters_count, expires_at)
        VALUES (${ownerId.toString()}, ${id.toString()}, ARRAY['yes','no'], ARRAY[3,1]::bigint[], 4, 4, ${at(11 + i)})`;
    }
    if (i === 8) {
      editedStatusId = id;
      await sql`UPDATE statuses SET edited_at = ${at(11 + i)} WHERE id = ${id.toString()}`;
      await sql`INSERT INTO status_edits (status_id, account_id, text, created_at) VALUES
        (${id.toString()}, ${ownerId.toString()}, 'first draft', ${when}), (${id.toString()}, ${ownerId.toString()}, ${text}, ${at(11 + i)})`;
    }
    await sql`INSERT INTO status_stats (status_id, favourites_count, reblogs_count) VALUES (${id.toString()}, ${i % 5}, ${i % 3})`;
  }
  // A boost of alice's post, pins, favourites and bookmarks.
  const boostId = snowflake(at(10 + STATUSES));
  await sql`INSERT INTO statuses (id, uri, text, created_at, updated_at, account_id, reblog_of_id, visibility, local)
    VALUES (${boostId.toString()}, ${`${origin}/users/cyplo/statuses/${boostId}/activity`}, '', ${at(10 + STATUSES)}, ${at(10 + STATUSES)}, ${ownerId.toString()}, ${alicePost.toString()}, 0, true)`;
  // A deleted post stays behind.
  const deleted = snowflake(at(9));
  await sql`INSERT INTO statuses (id, uri, text, created_at, updated_at, account_id, deleted_at, local)
    VALUES (${deleted.toString()}, ${`${origin}/users/cyplo/statuses/${deleted}`}, 'gone', ${at(9)}, ${at(9)}, ${ownerId.toString()}, now(), true)`;
  for (const id of [statusIds[0], statusIds[10]]) await sql`INSERT INTO status_pins (account_id, status_id) VALUES (${ownerId.toString()}, ${id!.toString()})`;
  await sql`INSERT INTO favourites (account_id, status_id) VALUES (${ownerId.toString()}, ${alicePost.toString()})`;
  await sql`INSERT INTO bookmarks (account_id, status_id) VALUES (${ownerId.toString()}, ${alicePost.toString()}), (${ownerId.toString()}, ${statusIds[20]!.toString()})`;

  // Followers on both servers, a followee, requests, blocks, mutes, lists, filters, markers, tags.
  for (const follower of [alice, carol, bob]) {
    await sql`INSERT INTO follows (account_id, target_account_id, uri) VALUES (${follower.toString()}, ${ownerId.toString()}, ${`https://f.example/${follower}`})`;
  }
  await sql`INSERT INTO follows (account_id, target_account_id, uri) VALUES (${other.toString()}, ${ownerId.toString()}, null)`;
  await sql`INSERT INTO follows (account_id, target_account_id, uri, notify) VALUES (${ownerId.toString()}, ${alice.toString()}, ${`${origin}/follow-1`}, true)`;
  await sql`INSERT INTO follow_requests (account_id, target_account_id, uri) VALUES (${dave.toString()}, ${ownerId.toString()}, ${`${b.origin}/follows/dave`})`;
  await sql`INSERT INTO blocks (account_id, target_account_id, uri) VALUES (${ownerId.toString()}, ${eve.toString()}, ${`${origin}/block-1`})`;
  await sql`INSERT INTO mutes (account_id, target_account_id, hide_notifications) VALUES (${ownerId.toString()}, ${frank.toString()}, false)`;
  await sql`INSERT INTO account_domain_blocks (account_id, domain) VALUES (${ownerId.toString()}, 'spam.example')`;
  const [list] = await sql`INSERT INTO lists (account_id, title, replies_policy, exclusive) VALUES (${ownerId.toString()}, 'Friends', 1, true) RETURNING id`;
  for (const member of [alice, bob]) await sql`INSERT INTO list_accounts (list_id, account_id) VALUES (${list!.id}, ${member.toString()})`;
  const [filter] = await sql`INSERT INTO custom_filters (account_id, phrase, context, action) VALUES (${ownerId.toString()}, 'Spoilers', ARRAY['home','public'], 1) RETURNING id`;
  await sql`INSERT INTO custom_filter_keywords (custom_filter_id, keyword, whole_word) VALUES (${filter!.id}, 'finale', false)`;
  await sql`INSERT INTO markers (user_id, timeline, last_read_id, lock_version) VALUES (${user!.id}, 'home', ${statusIds[100]!.toString()}, 4)`;
  await sql`INSERT INTO tags (name, display_name) VALUES ('fediverse', 'Fediverse') ON CONFLICT DO NOTHING`;
  await sql`INSERT INTO tag_follows (account_id, tag_id) SELECT ${ownerId.toString()}, id FROM tags WHERE name = 'fediverse'`;
  await sql`INSERT INTO featured_tags (account_id, tag_id) SELECT ${ownerId.toString()}, id FROM tags WHERE name = 'islet'`;
  await sql`INSERT INTO domain_blocks (domain, severity, private_comment) VALUES ('bad.example', 1, 'spam'), ('loud.example', 0, null), ('pics.example', 2, null)`;
  await sql`INSERT INTO notifications (activity_id, activity_type, account_id, from_account_id) VALUES (1, 'Follow', ${ownerId.toString()}, ${alice.toString()})`;
  return {
    ownerId, keys, statusIds, mediaStatusId, mediaFile, mediaBytes: image, pollStatusId, editedStatusId, threadIds, boostedUri, ownPosts,
  };
}

/** Verifies a delivery with the owner's key as a remote server cached it before the takeover. */
async function verifyWithCachedKey(received: Received, actorUri: string, publicPem: string): Promise<string | null> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(received.headers)) if (typeof value === "string") headers.set(name, value);
  const host = received.headers.host ?? "";
  const request = new Request(`http://${host}${received.path}`, { method: "POST", headers, body: new Uint8Array(received.rawBody) });
  const cached = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    id: actorUri,
    type: "Person",
    preferredUsername: "cyplo",
    inbox: `${actorUri}/inbox`,
    publicKey: { id: `${actorUri}#main-key`, owner: actorUri, publicKeyPem: publicPem },
  };
  const key = await verifyRequest(request, {
    spec: received.spec ?? undefined,
    documentLoader: async (url: string) => {
      if (!url.startsWith(actorUri)) throw new Error(`unexpected fetch of ${url}`);
      return { contextUrl: null, documentUrl: url, document: cached };
    },
  });
  return key?.id?.href ?? null;
}

const creates = (server: RemoteServer, text: string) =>
  server.received.filter((r) => r.body.type === "Create" && String((r.body.object as Record<string, unknown>)?.content ?? "").includes(text));

for (const kind of databaseKinds()) {
  describe(`islet import mastodon (${kind})`, { skip: needsPostgres }, () => {
    let instance: TestInstance;
    let mastodon: MastodonDatabase;
    let a: RemoteServer;
    let b: RemoteServer;
    let fixture: Fixture;
    let report: TakeoverReport;
    let token: string;
    let blocker: string;

    before(async () => {
      instance = await startInstance(kind, { username: null });
      a = await startRemote("alice");
      b = await startRemote("bob");
      mastodon = await createMastodonDatabase();
      fixture = await fillMastodon(mastodon, instance.origin, a, b);
      // A folder where one media file must go makes the posts phase fail once.
      const mediaId = (await mastodon.sql`SELECT id, file_file_name FROM media_attachments ORDER BY id LIMIT 1`)[0]!;
      blocker = join(instance.database.dataDir, "media", "media_attachments", "files", idPartition(String(mediaId.id)), "original", String(mediaId.file_file_name));
      mkdirSync(blocker, { recursive: true });
    });

    after(async () => {
      await instance?.close();
      await mastodon?.drop();
      await a?.close();
      await b?.close();
    });

    test("a failed run leaves whole phases behind, and the next run resumes after them", async () => {
      const options = { databaseUrl: mastodon.url, mediaDir: mastodon.mediaDir, username: "cyplo", password: "a long new password" };
      await assert.rejects(takeOverMastodonAccount(instance.islet.core, options));
      const { statuses } = await import("../../src/db/schema.ts");
      assert.equal((await instance.islet.core.db.select().from(statuses)).length, 0, "the failed phase wrote nothing");
      rmSync(blocker, { recursive: true });
      report = await takeOverMastodonAccount(instance.islet.core, options);
      assert.deepEqual(report.resumedPhases, ["identity", "accounts"]);
      assert.equal(report.counts.posts, fixture.ownPosts);
      assert.equal(report.counts.boosts, 1);
      assert.equal(report.counts.followers, 3);
      assert.equal(report.counts.polls, 1);
      assert.equal(report.counts.edits, 2);
      assert.ok((report.counts["media files copied"] ?? 0) >= 9);
      assert.equal(report.skipped["other local accounts of the Mastodon (they do not move with this one)"], 1);
      assert.equal(report.skipped.notifications, 1);
      assert.equal(report.counts["server domain blocks"], 2);
      instance.owner = await getOwner(instance.islet.core);
      token = await ownerToken(instance);
      // What it stored is already clean: the one-time cleanup of remote
      // HTML is recorded as run, so the next start does not read it all.
      const { runDataMigrations } = await import("../../src/db/data-migrations.ts");
      assert.deepEqual(await runDataMigrations(instance.islet.core.db), []);
      // The owner's stored count is the posts and the boost taken over.
      assert.equal(instance.owner?.account.statusesCount, fixture.ownPosts + 1);
    });

    test("it runs once: a second run refuses with one clear line", async () => {
      await assert.rejects(
        takeOverMastodonAccount(instance.islet.core, { databaseUrl: mastodon.url, mediaDir: mastodon.mediaDir, username: "cyplo" }),
        /taken over from Mastodon already/,
      );
    });

    test("an Islet that is not empty is refused", async () => {
      // Without the record of the finished takeover, what stands in the way is the owner.
      const { sql } = await import("drizzle-orm");
      const saved = await instance.islet.core.database.query<{ value: string }>(sql`SELECT value::text AS value FROM kv_entries WHERE key = ARRAY['takeover', 'mastodon']::text[]`);
      await instance.islet.core.database.query(sql`DELETE FROM kv_entries WHERE key = ARRAY['takeover', 'mastodon']::text[]`);
      try {
        await assert.rejects(
          takeOverMastodonAccount(instance.islet.core, { databaseUrl: mastodon.url, mediaDir: mastodon.mediaDir, username: "cyplo" }),
          /already has an owner \(@cyplo\); a Mastodon takeover needs an empty Islet/,
        );
      } finally {
        await instance.islet.core.database.query(sql`INSERT INTO kv_entries (key, value) VALUES (ARRAY['takeover', 'mastodon']::text[], ${saved[0]!.value}::jsonb)`);
      }
    });

    test("the actor keeps its username, IRI and public key", async () => {
      const response = await fetch(`${instance.url}/users/cyplo`, { headers: { Accept: "application/activity+json" } });
      assert.equal(response.status, 200);
      const actor = await response.json() as Record<string, any>;
      assert.equal(actor.id, `${instance.origin}/users/cyplo`);
      assert.equal(actor.preferredUsername, "cyplo");
      assert.equal(actor.publicKey.id, `${instance.origin}/users/cyplo#main-key`);
      const der = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "der" });
      assert.deepEqual(der(actor.publicKey.publicKeyPem), der(fixture.keys.publicPem));
      assert.equal(actor.name, "Cyplo");
      assert.equal(actor.manuallyApprovesFollowers, true);
    });

    test("an old post URL serves the same post as ActivityPub, at both of its addresses, and as a page", async () => {
      const id = fixture.mediaStatusId;
      const uri = `${instance.origin}/users/cyplo/statuses/${id}`;
      const response = await fetch(`${instance.url}/users/cyplo/statuses/${id}`, { headers: { Accept: "application/activity+json" } });
      assert.equal(response.status, 200);
      const note = await response.json() as Record<string, any>;
      assert.equal(note.id, uri);
      assert.equal(note.url, `${instance.origin}/@cyplo/${id}`);
      assert.match(note.content, /post number \d+/);
      const attachment = Array.isArray(note.attachment) ? note.attachment[0] : note.attachment;
      assert.match(attachment.name, /^alt text/);
      const byPageUrl = await fetch(`${instance.url}/@cyplo/${id}`, { headers: { Accept: "application/activity+json" } });
      assert.equal(byPageUrl.status, 200);
      assert.deepEqual(await byPageUrl.json(), note);
      // And as the page a browser opens there: the same words, the same picture.
      const page = await fetch(`${instance.url}/@cyplo/${id}`, { headers: { Accept: "text/html" } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.ok(html.includes(note.content.match(/post number \d+/)![0]), html.slice(0, 2000));
      assert.match(html, new RegExp(`alt="${attachment.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      const file = await fetch(`${instance.url}/system/${fixture.mediaFile}`);
      assert.equal(file.status, 200);
      assert.deepEqual(Buffer.from(await file.arrayBuffer()), fixture.mediaBytes);
    });

    test("the API shows the profile, posts, poll, edits, thread, boost and pins", async () => {
      const me = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
      assert.equal(me.body.id, fixture.ownerId.toString());
      assert.equal(me.body.username, "cyplo");
      assert.equal(me.body.locked, true);
      assert.equal(me.body.fields[0].name, "Site");
      assert.match(me.body.note, /tags\/islet/);
      assert.equal(me.body.source.note, "I write about #islet and the sea");
      assert.match(me.body.avatar, /\/system\/accounts\/avatars\//);
      assert.equal(me.body.followers_count, 3);
      assert.equal(me.body.following_count, 1);

      const poll = await api(instance, "GET", `/api/v1/statuses/${fixture.pollStatusId}`, { token });
      assert.deepEqual(poll.body.poll.options.map((o: any) => [o.title, o.votes_count]), [["yes", 3], ["no", 1]]);
      const history = await api(instance, "GET", `/api/v1/statuses/${fixture.editedStatusId}/history`, { token });
      assert.equal(history.body.length, 2);
      assert.match(history.body[0].content, /first draft/);
      const context = await api(instance, "GET", `/api/v1/statuses/${fixture.threadIds[1]}/context`, { token });
      assert.equal(context.body.ancestors[0].id, fixture.threadIds[0]!.toString());
      assert.equal(context.body.descendants.length, 2);
      const mention = await api(instance, "GET", `/api/v1/statuses/${fixture.statusIds[1]}`, { token });
      assert.equal(mention.body.mentions[0].username, "alice");
      assert.match(mention.body.content, /class="u-url mention"/);
      const pinned = await api(instance, "GET", `/api/v1/accounts/${fixture.ownerId}/statuses?pinned=true`, { token });
      assert.equal(pinned.body.length, 2);
      const timeline = await api(instance, "GET", `/api/v1/accounts/${fixture.ownerId}/statuses?limit=40`, { token });
      const boost = timeline.body.find((s: any) => s.reblog != null);
      assert.equal(boost.reblog.uri, fixture.boostedUri);
      const media = await api(instance, "GET", `/api/v1/statuses/${fixture.mediaStatusId}`, { token });
      assert.match(media.body.media_attachments[0].description, /^alt text/);
    });

    test("follows, requests, blocks, mutes, lists, filters, markers, tags and saved posts come along", async () => {
      const followers = await api(instance, "GET", `/api/v1/accounts/${fixture.ownerId}/followers`, { token });
      assert.deepEqual(followers.body.map((x: any) => x.username).sort(), ["alice", "bob", "carol"]);
      const requests = await api(instance, "GET", "/api/v1/follow_requests", { token });
      assert.deepEqual(requests.body.map((x: any) => x.username), ["dave"]);
      const blocks = await api(instance, "GET", "/api/v1/blocks", { token });
      assert.deepEqual(blocks.body.map((x: any) => x.username), ["eve"]);
      const mutes = await api(instance, "GET", "/api/v1/mutes", { token });
      assert.deepEqual(mutes.body.map((x: any) => x.username), ["frank"]);
      const domains = await api(instance, "GET", "/api/v1/domain_blocks", { token });
      assert.deepEqual(domains.body, ["spam.example"]);
      const lists = await api(instance, "GET", "/api/v1/lists", { token });
      assert.equal(lists.body[0].title, "Friends");
      assert.equal(lists.body[0].replies_policy, "followed");
      const members = await api(instance, "GET", `/api/v1/lists/${lists.body[0].id}/accounts`, { token });
      assert.deepEqual(members.body.map((x: any) => x.username).sort(), ["alice", "bob"]);
      const filters = await api(instance, "GET", "/api/v2/filters", { token });
      assert.equal(filters.body[0].title, "Spoilers");
      assert.equal(filters.body[0].filter_action, "hide");
      assert.equal(filters.body[0].keywords[0].keyword, "finale");
      const markers = await api(instance, "GET", "/api/v1/markers?timeline[]=home", { token });
      assert.equal(markers.body.home.last_read_id, fixture.statusIds[100]!.toString());
      const followedTags = await api(instance, "GET", "/api/v1/followed_tags", { token });
      assert.deepEqual(followedTags.body.map((t: any) => t.name.toLowerCase()), ["fediverse"]);
      const bookmarks = await api(instance, "GET", "/api/v1/bookmarks", { token });
      assert.equal(bookmarks.body.length, 2);
      const favourites = await api(instance, "GET", "/api/v1/favourites", { token });
      assert.equal(favourites.body[0].uri, fixture.boostedUri);
    });

    test("a new post reaches every imported follower's inbox, shared inboxes once, signed with the key they cached", async () => {
      const posted = await api(instance, "POST", "/api/v1/statuses", { token, body: { status: "first post from Islet", visibility: "public" } });
      assert.equal(posted.status, 200);
      assert.equal(BigInt(posted.body.id) > fixture.statusIds.at(-1)!, true);
      await eventually(async () => creates(a, "first post from Islet").length > 0 && creates(b, "first post from Islet").length > 0, "the deliveries");
      // A later post reaching both is the sentinel: nothing more of the first is on its way.
      await api(instance, "POST", "/api/v1/statuses", { token, body: { status: "second post", visibility: "public" } });
      await eventually(async () => creates(a, "second post").length > 0 && creates(b, "second post").length > 0, "the sentinel deliveries");
      const toA = creates(a, "first post from Islet");
      const toB = creates(b, "first post from Islet");
      assert.deepEqual(toA.map((r) => r.path), ["/inbox"], "alice and carol share one inbox");
      assert.deepEqual(toB.map((r) => r.path), ["/users/bob/inbox"]);
      const actorUri = `${instance.origin}/users/cyplo`;
      for (const received of [...toA, ...toB]) {
        assert.equal(await verifyWithCachedKey(received, actorUri, fixture.keys.publicPem), `${actorUri}#main-key`);
      }
    });
  });
}

for (const kind of databaseKinds()) {
  describe(`islet import mastodon from the command line (${kind})`, { skip: needsPostgres }, () => {
    let database: TestDatabase;
    let mastodon: MastodonDatabase;
    let a: RemoteServer;
    let b: RemoteServer;
    let env: Record<string, string | undefined>;
    let args: string[];

    before(async () => {
      database = await createTestDatabase(kind);
      const port = await freePort();
      env = { DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? undefined, PORT: String(port), LOG_LEVEL: "warning" };
      a = await startRemote("alice");
      b = await startRemote("bob");
      mastodon = await createMastodonDatabase();
      await fillMastodon(mastodon, `http://localhost:${port}`, a, b);
      args = ["import", "mastodon", "--database", mastodon.url, "--media", mastodon.mediaDir, "--account", "@cyplo", "--password-file", "-"];
    });

    after(async () => {
      await mastodon?.drop();
      await database?.drop();
      await a?.close();
      await b?.close();
    });

    test("another domain than the Mastodon's is refused before anything is written", async () => {
      const result = await runIslet(args, { env: { ...env, LOCAL_DOMAIN: "elsewhere.example" }, input: "a long new password\n" });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /^islet: this Mastodon's posts live at http:\/\/localhost:\d+, but Islet is configured for https:\/\/elsewhere\.example: set LOCAL_DOMAIN/);
      assert.equal(result.stderr.trim().split("\n").length, 1);
    });

    test("takes the account over and reports what came along and what did not; a second run refuses", async () => {
      const result = await runIslet(args, { env, input: "a long new password\n" });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Islet is now @cyplo \(http:\/\/localhost:\d+\/users\/cyplo\)/);
      assert.match(result.stdout, new RegExp(`\\n  posts: ${STATUSES}\\n`));
      assert.match(result.stdout, /Not carried over:\n(.*\n)*  notifications: 1\n/);
      const again = await runIslet(args, { env, input: "a long new password\n" });
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /^islet: @cyplo was taken over from Mastodon already/);
      const show = await runIslet(["account", "show"], { env });
      assert.match(show.stdout, /cyplo/);
    });
  });
}

test("columns that older Mastodon versions lack are read as their defaults", { skip: needsPostgres }, async () => {
  const mastodon = await createMastodonDatabase();
  try {
    const stand = (port: number) => ({ origin: `http://127.0.0.1:${port}` }) as RemoteServer;
    await fillMastodon(mastodon, "http://localhost:1", stand(2), stand(3));
    await mastodon.sql.unsafe(`
      ALTER TABLE accounts DROP COLUMN following_url, DROP COLUMN indexable, DROP COLUMN hide_collections;
      ALTER TABLE users DROP COLUMN settings;
      ALTER TABLE lists DROP COLUMN exclusive;
      ALTER TABLE custom_filters DROP COLUMN action;
      ALTER TABLE status_edits DROP COLUMN sensitive;
      ALTER TABLE follows DROP COLUMN languages;
      DROP TABLE status_stats, domain_blocks, account_aliases;`);
    const source = await readMastodon(mastodon.url, "cyplo");
    assert.equal(source.statuses.length, STATUSES + 1);
    assert.equal(source.statuses[0]!.favourites_count, 0);
    assert.equal(source.lists[0]!.exclusive, false);
    assert.equal(source.filters[0]!.action, 0);
    assert.equal(source.owner.indexable, false);
    assert.deepEqual(source.serverDomainBlocks, []);
    await assert.rejects(readMastodon(mastodon.url, "nobody"), /no local account @nobody in this Mastodon database/);
  } finally {
    await mastodon.drop();
  }
});

test("islet import: plain failures for missing options and unknown kinds", async () => {
  const missing = await runIslet(["import", "mastodon", "--account", "x"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /give --database, --media and --account/);
  const unknown = await runIslet(["import", "friendica"]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown subcommand "friendica"; expected .*archive or mastodon/);
  assert.equal(unknown.stderr.trim().split("\n").length, 1, unknown.stderr);
});
