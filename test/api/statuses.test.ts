/**
 * /api/v1/statuses: posting (text, mentions, hashtags, links, media, polls,
 * replies, idempotency), viewing and visibility, threads, editing with its
 * history and source, deleting for a redraft, favourites, boosts,
 * bookmarks, pins, conversation mutes, who favourited and boosted (paged),
 * scopes, and bad input on every write.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { IsletEvents } from "../../src/core/events.ts";
import { newId } from "../../src/core/ids.ts";
import { favouriteStatus, reblogStatus } from "../../src/core/interactions.ts";
import { storeStatus, type StatusRow } from "../../src/core/statuses.ts";
import { mediaAttachments } from "../../src/db/schema.ts";
import { eq } from "drizzle-orm";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkUrl, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const checkSchema = (name: string, value: unknown) => {
  if (schema != null) assertMatchesSchema(name, value);
};

let remoteCounter = 0;

async function remoteAccount(instance: TestInstance, username = `remote${++remoteCounter}`, domain = "remote.example"): Promise<Account> {
  return await insertRemoteAccount(instance.islet.core, username, { domain, inboxUrl: `https://${domain}/users/${username}/inbox` });
}

async function remoteStatus(
  instance: TestInstance,
  author: Account,
  options: { visibility?: StatusRow["visibility"]; mentions?: bigint[]; content?: string } = {},
): Promise<StatusRow> {
  const id = newId();
  return await storeStatus(instance.islet.core, author, {
    id,
    uri: `https://${author.domain}/users/${author.username}/statuses/${id}`,
    url: `https://${author.domain}/@${author.username}/${id}`,
    content: options.content ?? "<p>remote post</p>",
    text: null,
    spoilerText: "",
    sensitive: false,
    visibility: options.visibility ?? "public",
    language: "en",
    inReplyTo: null,
    applicationId: null,
    mentionedAccountIds: options.mentions ?? [],
    tagNames: [],
    media: [],
    poll: null,
  });
}

async function insertMedia(instance: TestInstance, accountId: bigint, type: "image" | "video" = "image"): Promise<string> {
  const id = newId();
  await instance.islet.core.db.insert(mediaAttachments).values({
    id,
    accountId,
    type,
    contentType: type === "image" ? "image/png" : "video/mp4",
    fileKey: `media_attachments/${id}.${type === "image" ? "png" : "mp4"}`,
    meta: { original: { width: 10, height: 10 } },
    description: `media ${id}`,
  });
  return id.toString();
}

/** Records the events of a kind emitted while `run` runs. */
async function capture<K extends keyof IsletEvents>(instance: TestInstance, event: K, run: () => Promise<unknown>): Promise<IsletEvents[K][]> {
  const seen: IsletEvents[K][] = [];
  const off = instance.islet.core.events.on(event, (payload) => {
    seen.push(payload);
  });
  try {
    await run();
  } finally {
    off();
  }
  return seen;
}

function assertError(response: { status: number; body: any }, status: number, what: string): void {
  assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(typeof response.body?.error, "string", `${what}: error body ${JSON.stringify(response.body)}`);
}

for (const kind of databaseKinds()) {
  describe(`statuses API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let owner: Account;
    let post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any; headers: Headers }>;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      owner = instance.owner!.account;
      post = (body, headers) => api(instance, "POST", "/api/v1/statuses", { token, body, headers });
    });
    after(async () => {
      await instance?.close();
    });

    test("posts a status with a link, mentions and hashtags", async () => {
      const alice = await remoteAccount(instance, "alice", "remote.example");
      const origin = instance.origin;
      const events = await capture(instance, "status.created", async () => {
        const response = await post({
          status: `Hello @alice@remote.example and @owner, #Islet #islet rocks <3\nsee https://example.com/a/very/long/path/to/somewhere and @ghost@nowhere.example`,
          language: "en",
        });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        const status = response.body;
        checkSchema("Status", status);
        assert.match(status.id, /^\d+$/);
        assert.equal(status.uri, `${origin}/users/owner/statuses/${status.id}`);
        assert.equal(status.url, `${origin}/@owner/${status.id}`);
        assert.equal(status.visibility, "public");
        assert.equal(status.language, "en");
        assert.equal(status.sensitive, false);
        assert.equal(status.account.id, owner.id.toString());
        assert.deepEqual(status.application, { name: "Test client", website: null });
        assert.equal(
          status.content,
          `<p>Hello <span class="h-card" translate="no"><a href="https://remote.example/@alice" class="u-url mention">@<span>alice</span></a></span>` +
            ` and <span class="h-card" translate="no"><a href="${origin}/@owner" class="u-url mention">@<span>owner</span></a></span>, ` +
            `<a href="${origin}/tags/Islet" class="mention hashtag" rel="tag">#<span>Islet</span></a> ` +
            `<a href="${origin}/tags/islet" class="mention hashtag" rel="tag">#<span>islet</span></a> rocks &lt;3<br />` +
            `see <a href="https://example.com/a/very/long/path/to/somewhere" rel="nofollow noopener" target="_blank">` +
            `<span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span>` +
            `<span class="invisible">o/somewhere</span></a> and @ghost@nowhere.example</p>`,
        );
        assert.deepEqual(
          status.mentions.map((m: any) => [m.id, m.username, m.acct, m.url]).sort(),
          [
            [alice.id.toString(), "alice", "alice@remote.example", "https://remote.example/@alice"],
            [owner.id.toString(), "owner", "owner", `${origin}/@owner`],
          ].sort(),
        );
        assert.deepEqual(status.tags, [{ name: "islet", url: `${origin}/tags/islet` }]);
        assert.deepEqual(status.emojis, []);
        assert.equal(status.card, null);
        assert.equal(status.poll, null);
        assert.equal(status.reblog, null);
        assert.equal(status.favourited, false);
        assert.equal(status.reblogged, false);
        assert.equal(status.bookmarked, false);
        assert.equal(status.muted, false);
        assert.equal(status.pinned, false);
        assert.deepEqual(status.filtered, []);
        assert.equal(status.text, undefined);
      });
      assert.equal(events.length, 1);
      assert.equal(events[0].accountId, owner.id);
    });

    test("a form-encoded post works like a JSON one", async () => {
      const form = new URLSearchParams({ status: "from a form", visibility: "unlisted", sensitive: "true", spoiler_text: "cw" });
      const response = await api(instance, "POST", "/api/v1/statuses", { token, body: form });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.content, "<p>from a form</p>");
      assert.equal(response.body.visibility, "unlisted");
      assert.equal(response.body.sensitive, true);
      assert.equal(response.body.spoiler_text, "cw");
    });

    test("a content warning alone makes the post sensitive; a lone warning becomes the text", async () => {
      const warned = await post({ status: "body", spoiler_text: "careful" });
      assert.equal(warned.body.sensitive, true);
      const lone = await post({ status: "", spoiler_text: "only a warning" });
      assert.equal(lone.status, 200, JSON.stringify(lone.body));
      assert.equal(lone.body.content, "<p>only a warning</p>");
      assert.equal(lone.body.spoiler_text, "");
    });

    test("posting needs a token with write:statuses", async () => {
      assertError(await api(instance, "POST", "/api/v1/statuses", { body: { status: "x" } }), 401, "no token");
      const readOnly = await ownerToken(instance, "read");
      assertError(await api(instance, "POST", "/api/v1/statuses", { token: readOnly, body: { status: "x" } }), 403, "read token");
      const granular = await ownerToken(instance, "write:statuses");
      assert.equal((await api(instance, "POST", "/api/v1/statuses", { token: granular, body: { status: "x" } })).status, 200);
      assertError(await api(instance, "POST", "/api/v1/statuses", { token: "not-a-token", body: { status: "x" } }), 401, "bad token");
    });

    test("refuses bad input with 4xx and an error", async () => {
      const mine = await insertMedia(instance, owner.id);
      const alice = await remoteAccount(instance);
      const theirs = await insertMedia(instance, alice.id);
      const cases: [unknown, number, string][] = [
        [{}, 422, "no text"],
        [{ status: "   " }, 422, "blank text"],
        [{ status: 42 }, 422, "text not a string"],
        [{ status: ["a"] }, 422, "text a list"],
        [{ status: "x".repeat(5001) }, 422, "too long"],
        [{ status: "x".repeat(4990), spoiler_text: "y".repeat(20) }, 422, "too long with the warning"],
        [{ status: "x", visibility: "everyone" }, 422, "unknown visibility"],
        [{ status: "x", sensitive: "perhaps" }, 422, "sensitive not a boolean"],
        [{ status: "x", language: "not a language" }, 422, "bad language"],
        [{ status: "x", language: 7 }, 422, "language not a string"],
        [{ status: "x", in_reply_to_id: "abc" }, 422, "malformed reply id"],
        [{ status: "x", in_reply_to_id: "12345" }, 404, "unknown reply id"],
        [{ status: "x", media_ids: ["abc"] }, 422, "malformed media id"],
        [{ status: "x", media_ids: ["12345"] }, 422, "unknown media"],
        [{ status: "x", media_ids: [theirs] }, 422, "someone else's media"],
        [{ status: "x", media_ids: [mine, mine] }, 422, "the same media twice"],
        [{ status: "x", media_ids: "nope" }, 422, "media id not an id"],
        [{ status: "x", media_ids: [mine], poll: { options: ["a", "b"], expires_in: 600 } }, 422, "media and poll"],
        [{ status: "x", poll: { options: ["a"], expires_in: 600 } }, 422, "one option"],
        [{ status: "x", poll: { options: ["a", "b", "c", "d", "e"], expires_in: 600 } }, 422, "five options"],
        [{ status: "x", poll: { options: ["a", "x".repeat(51)], expires_in: 600 } }, 422, "long option"],
        [{ status: "x", poll: { options: ["a", "a"], expires_in: 600 } }, 422, "duplicate options"],
        [{ status: "x", poll: { options: ["a", "b"], expires_in: 299 } }, 422, "short poll"],
        [{ status: "x", poll: { options: ["a", "b"], expires_in: 2629747 } }, 422, "long poll"],
        [{ status: "x", poll: { options: ["a", "b"] } }, 422, "poll without expiry"],
        [{ status: "x", poll: { expires_in: 600 } }, 422, "poll without options"],
        [{ status: "x", poll: { options: ["a", "b"], expires_in: "soon" } }, 422, "poll expiry not a number"],
        [{ status: "x", poll: "yes" }, 422, "poll not an object"],
        [{ status: "x", scheduled_at: "tomorrow-ish" }, 422, "bad date"],
        [{ status: "x", scheduled_at: new Date(Date.now() + 60_000).toISOString() }, 422, "scheduled too soon"],
      ];
      for (const [body, status, what] of cases) assertError(await post(body), status, what);
      const five = await Promise.all([1, 2, 3, 4, 5].map(() => insertMedia(instance, owner.id)));
      assertError(await post({ status: "x", media_ids: five }), 422, "five media");
      const video = await insertMedia(instance, owner.id, "video");
      assertError(await post({ status: "x", media_ids: [five[0], video] }), 422, "video with an image");
      const nul = await post({ status: "nul\u0000byte", spoiler_text: "\u0000", poll: { options: ["a\u0000", "b"], expires_in: 600 } });
      assert.equal(nul.status, 200, JSON.stringify(nul.body));
      assert.equal(nul.body.content, "<p>nulbyte</p>");
      assert.deepEqual(nul.body.poll.options.map((o: any) => o.title), ["a", "b"]);
      const nulScheduled = await post({ status: "later\u0000", scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
      assert.equal(nulScheduled.status, 200, JSON.stringify(nulScheduled.body));
      assert.equal(nulScheduled.body.params.text, "later");
      const broken = await fetch(`${instance.url}/api/v1/statuses`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: "{not json",
      });
      assert.equal(broken.status, 400);
      assert.equal(typeof (await broken.json()).error, "string");
    });

    test("attaches media in the order given, and refuses media attached already", async () => {
      const ids = [await insertMedia(instance, owner.id), await insertMedia(instance, owner.id), await insertMedia(instance, owner.id)];
      const order = [ids[2], ids[0], ids[1]];
      const response = await post({ media_ids: order, sensitive: true });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      checkSchema("Status", response.body);
      assert.deepEqual(response.body.media_attachments.map((m: any) => m.id), order);
      assert.equal(response.body.content, "");
      assert.equal(response.body.media_attachments[0].url, `${instance.origin}/system/media_attachments/${ids[2]}.png`);
      assertError(await post({ status: "again", media_ids: [ids[0]] }), 422, "attached media");
      const fetched = await api(instance, "GET", `/api/v1/statuses/${response.body.id}`);
      assert.deepEqual(fetched.body.media_attachments.map((m: any) => m.id), order);
    });

    test("replies thread: reply ids, reply count, conversation, context in thread order", async () => {
      const root = (await post({ status: "root" })).body;
      const a = (await post({ status: "a", in_reply_to_id: root.id })).body;
      const b = (await post({ status: "b", in_reply_to_id: root.id })).body;
      const a1 = (await post({ status: "a1", in_reply_to_id: a.id })).body;
      const a1x = (await post({ status: "a1x", in_reply_to_id: a1.id })).body;
      assert.equal(a.in_reply_to_id, root.id);
      assert.equal(a.in_reply_to_account_id, owner.id.toString());
      const rootNow = (await api(instance, "GET", `/api/v1/statuses/${root.id}`, { token })).body;
      assert.equal(rootNow.replies_count, 2);

      const context = await api(instance, "GET", `/api/v1/statuses/${a1.id}/context`, { token });
      assert.equal(context.status, 200);
      checkSchema("Context", context.body);
      assert.deepEqual(context.body.ancestors.map((s: any) => s.id), [root.id, a.id]);
      assert.deepEqual(context.body.descendants.map((s: any) => s.id), [a1x.id]);
      const whole = await api(instance, "GET", `/api/v1/statuses/${root.id}/context`);
      assert.equal(whole.status, 200);
      assert.deepEqual(whole.body.ancestors, []);
      assert.deepEqual(whole.body.descendants.map((s: any) => s.id), [a.id, a1.id, a1x.id, b.id]);

      const conversations = await instance.islet.core.db.query.statuses.findMany({
        where: (s, { inArray }) => inArray(s.id, [root.id, a.id, b.id, a1x.id].map(BigInt)),
      });
      assert.deepEqual(new Set(conversations.map((s) => s.conversationId)), new Set([BigInt(root.id)]));
      assertError(await api(instance, "GET", "/api/v1/statuses/999999/context"), 404, "unknown context");
    });

    test("a chain of self-replies stays addressed to whoever it answers", async () => {
      const bob = await remoteAccount(instance);
      const theirs = await remoteStatus(instance, bob);
      const first = (await post({ status: "reply", in_reply_to_id: theirs.id.toString() })).body;
      const second = (await post({ status: "and more", in_reply_to_id: first.id })).body;
      assert.equal(first.in_reply_to_account_id, bob.id.toString());
      assert.equal(second.in_reply_to_account_id, bob.id.toString());
    });

    test("private and direct posts are hidden from others", async () => {
      const privatePost = (await post({ status: "followers only", visibility: "private" })).body;
      const direct = (await post({ status: "just us", visibility: "direct" })).body;
      for (const status of [privatePost, direct]) {
        assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}`), 404, `${status.visibility} without a token`);
        assert.equal((await api(instance, "GET", `/api/v1/statuses/${status.id}`, { token })).status, 200);
        assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}/context`), 404, "context");
        assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}/history`), 404, "history");
        assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}/favourited_by`), 404, "favourited_by");
      }
      const stranger = await remoteAccount(instance);
      const theirPrivate = await remoteStatus(instance, stranger, { visibility: "private" });
      const toMe = await remoteStatus(instance, stranger, { visibility: "direct", mentions: [owner.id] });
      assertError(await api(instance, "GET", `/api/v1/statuses/${theirPrivate.id}`, { token }), 404, "a stranger's private post");
      assert.equal((await api(instance, "GET", `/api/v1/statuses/${toMe.id}`, { token })).status, 200);
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirPrivate.id}/favourite`, { token }), 404, "favourite hidden");
      assertError(await post({ status: "x", in_reply_to_id: theirPrivate.id.toString() }), 404, "reply to hidden");

      const publicPost = (await post({ status: "public" })).body;
      const many = await api(
        instance,
        "GET",
        `/api/v1/statuses?id[]=${publicPost.id}&id[]=${privatePost.id}&id[]=${theirPrivate.id}&id[]=99999&id[]=bad`,
      );
      assert.equal(many.status, 200);
      assert.deepEqual(many.body.map((s: any) => s.id), [publicPost.id]);
      const mine = await api(instance, "GET", `/api/v1/statuses?id[]=${privatePost.id}&id[]=${publicPost.id}`, { token });
      assert.deepEqual(mine.body.map((s: any) => s.id), [privatePost.id, publicPost.id]);
      assert.equal(mine.body[0].favourited, false);
      assert.equal(many.body[0].favourited, undefined);
      const tooMany = Array.from({ length: 41 }, (_, i) => `id[]=${i + 1}`).join("&");
      assertError(await api(instance, "GET", `/api/v1/statuses?${tooMany}`), 422, "too many ids");
    });

    test("viewing with a token lacking read:statuses is refused; unknown ids are 404", async () => {
      const status = (await post({ status: "visible" })).body;
      const writeOnly = await ownerToken(instance, "write");
      assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}`, { token: writeOnly }), 403, "write-only token");
      assertError(await api(instance, "GET", "/api/v1/statuses/123456789"), 404, "unknown");
      assertError(await api(instance, "GET", "/api/v1/statuses/nope"), 404, "malformed");
    });

    test("edits keep a history and a source", async () => {
      const media = await insertMedia(instance, owner.id);
      const original = (await post({ status: "first version #one", spoiler_text: "cw", media_ids: [media] })).body;
      assert.equal(original.edited_at, null);
      const noEdits = await api(instance, "GET", `/api/v1/statuses/${original.id}/history`);
      assert.equal(noEdits.status, 200);
      assert.equal(noEdits.body.length, 1);
      assert.equal(noEdits.body[0].content, "<p>first version <a href=\"" + instance.origin + "/tags/one\" class=\"mention hashtag\" rel=\"tag\">#<span>one</span></a></p>");

      const updates = await capture(instance, "status.updated", async () => {
        const edited = await api(instance, "PUT", `/api/v1/statuses/${original.id}`, {
          token,
          body: {
            status: "second version #two",
            spoiler_text: "",
            media_ids: [media],
            media_attributes: [{ id: media, description: "a new description", focus: "0.5,-0.25" }],
            language: "de",
          },
        });
        assert.equal(edited.status, 200, JSON.stringify(edited.body));
        checkSchema("Status", edited.body);
        assert.equal(edited.body.id, original.id);
        assert.notEqual(edited.body.edited_at, null);
        assert.equal(edited.body.spoiler_text, "");
        assert.equal(edited.body.sensitive, false);
        assert.equal(edited.body.language, "de");
        assert.deepEqual(edited.body.tags.map((t: any) => t.name), ["two"]);
        assert.equal(edited.body.media_attachments[0].description, "a new description");
        assert.deepEqual(edited.body.media_attachments[0].meta.focus, { x: 0.5, y: -0.25 });
      });
      assert.equal(updates.length, 1);

      await api(instance, "PUT", `/api/v1/statuses/${original.id}`, { token, body: { status: "third version" } });
      const history = await api(instance, "GET", `/api/v1/statuses/${original.id}/history`);
      assert.equal(history.status, 200);
      for (const version of history.body) checkSchema("StatusEdit", version);
      assert.deepEqual(history.body.map((v: any) => v.spoiler_text), ["cw", "", ""]);
      assert.match(history.body[0].content, /first version/);
      assert.match(history.body[1].content, /second version/);
      assert.equal(history.body[2].content, "<p>third version</p>");
      assert.deepEqual(history.body.map((v: any) => v.media_attachments.length), [1, 1, 0]);
      assert.ok(history.body[0].created_at <= history.body[1].created_at);

      const source = await api(instance, "GET", `/api/v1/statuses/${original.id}/source`, { token });
      assert.equal(source.status, 200);
      checkSchema("StatusSource", source.body);
      assert.deepEqual(source.body, { id: original.id, text: "third version", spoiler_text: "" });
      assertError(await api(instance, "GET", `/api/v1/statuses/${original.id}/source`), 401, "source without a token");

      // The media removed by the edit is free again.
      const reused = await post({ status: "reuse", media_ids: [media] });
      assert.equal(reused.status, 200, JSON.stringify(reused.body));
    });

    test("a form-encoded edit sets media descriptions, one object per id", async () => {
      const [first, second] = [await insertMedia(instance, owner.id), await insertMedia(instance, owner.id)];
      const status = (await post({ status: "two pictures", media_ids: [first, second] })).body;
      const form = new URLSearchParams();
      form.append("status", "two pictures, described");
      for (const id of [second, first]) form.append("media_ids[]", id);
      form.append("media_attributes[][id]", first);
      form.append("media_attributes[][description]", "the first");
      form.append("media_attributes[][id]", second);
      form.append("media_attributes[][description]", "the second");
      form.append("media_attributes[][focus]", "-1,1");
      const edited = await api(instance, "PUT", `/api/v1/statuses/${status.id}`, { token, body: form });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.deepEqual(
        edited.body.media_attachments.map((m: any) => [m.id, m.description, m.meta?.focus ?? null]),
        [[second, "the second", { x: -1, y: 1 }], [first, "the first", null]],
      );
    });

    test("an edit that changes nothing stores no version", async () => {
      const status = (await post({ status: "stable", language: "en" })).body;
      const same = await api(instance, "PUT", `/api/v1/statuses/${status.id}`, { token, body: { status: "stable" } });
      assert.equal(same.status, 200);
      assert.equal(same.body.edited_at, null);
      assert.equal((await api(instance, "GET", `/api/v1/statuses/${status.id}/history`)).body.length, 1);
    });

    test("editing refuses others' posts, bad input and missing scopes", async () => {
      const mine = (await post({ status: "mine" })).body;
      const stranger = await remoteAccount(instance);
      const theirs = await remoteStatus(instance, stranger);
      const put = (id: string, body: unknown, t: string | null = token) => api(instance, "PUT", `/api/v1/statuses/${id}`, { token: t, body });
      assertError(await put(theirs.id.toString(), { status: "hijack" }), 404, "someone else's post");
      assertError(await put("999999", { status: "x" }), 404, "unknown post");
      assertError(await put(mine.id, { status: "x" }, null), 401, "no token");
      assertError(await put(mine.id, { status: "x" }, await ownerToken(instance, "read")), 403, "read token");
      assertError(await put(mine.id, {}), 422, "no text");
      assertError(await put(mine.id, { status: "x".repeat(5001) }), 422, "too long");
      assertError(await put(mine.id, { status: 5 }), 422, "text not a string");
      assertError(await put(mine.id, { status: "x", media_ids: ["123"] }), 422, "unknown media");
      assertError(await put(mine.id, { status: "x", poll: { options: ["only"], expires_in: 600 } }), 422, "bad poll");
      assertError(await put(mine.id, { status: "x", media_attributes: [{ id: "1", focus: "9,9" }] }), 422, "bad focus");
      assertError(await put(mine.id, { status: "x", media_attributes: "all" }), 422, "attributes not a list");
      const media = await insertMedia(instance, owner.id);
      assertError(
        await put(mine.id, { status: "x", media_ids: [media], media_attributes: [{ id: media, description: "d".repeat(1501) }] }),
        422,
        "long description",
      );
      const still = await api(instance, "GET", `/api/v1/statuses/${mine.id}`);
      assert.equal(still.body.content, "<p>mine</p>");
    });

    test("editing a poll's options resets its votes", async () => {
      const bob = await remoteAccount(instance);
      const status = (await post({ status: "vote", poll: { options: ["a", "b"], expires_in: 3600 } })).body;
      const core = instance.islet.core;
      const { votePoll } = await import("../../src/core/polls.ts");
      await votePoll(core, bob, BigInt(status.poll.id), [1]);
      const kept = await api(instance, "PUT", `/api/v1/statuses/${status.id}`, {
        token,
        body: { status: "vote!", poll: { options: ["a", "b"], expires_in: 3600 } },
      });
      assert.equal(kept.status, 200, JSON.stringify(kept.body));
      assert.equal(kept.body.poll.votes_count, 1);
      const reset = await api(instance, "PUT", `/api/v1/statuses/${status.id}`, {
        token,
        body: { status: "vote!", poll: { options: ["a", "c"], expires_in: 3600 } },
      });
      assert.equal(reset.body.poll.votes_count, 0);
      assert.deepEqual(reset.body.poll.options.map((o: any) => o.title), ["a", "c"]);
      const history = (await api(instance, "GET", `/api/v1/statuses/${status.id}/history`)).body;
      assert.deepEqual(history.at(-1).poll, { options: [{ title: "a" }, { title: "c" }] });
      const removed = await api(instance, "PUT", `/api/v1/statuses/${status.id}`, { token, body: { status: "no more poll" } });
      assert.equal(removed.body.poll, null);
    });

    test("deleting returns the source for a redraft and frees the media", async () => {
      const parent = (await post({ status: "parent" })).body;
      const media = await insertMedia(instance, owner.id);
      const status = (await post({ status: "delete me @owner", media_ids: [media], in_reply_to_id: parent.id, spoiler_text: "cw" })).body;
      assert.equal((await api(instance, "GET", `/api/v1/statuses/${parent.id}`)).body.replies_count, 1);
      const events = await capture(instance, "status.deleted", async () => {
        const deleted = await api(instance, "DELETE", `/api/v1/statuses/${status.id}`, { token });
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        checkSchema("Status", deleted.body);
        assert.equal(deleted.body.id, status.id);
        assert.equal(deleted.body.text, "delete me @owner");
        assert.equal(deleted.body.spoiler_text, "cw");
        assert.deepEqual(deleted.body.media_attachments.map((m: any) => m.id), [media]);
      });
      assert.equal(events.length, 1);
      assert.equal(events[0].statusId.toString(), status.id);
      assert.equal(events[0].uri, status.uri);
      assert.equal(events[0].visibility, "public");
      assert.deepEqual(events[0].mentionedAccountIds, [owner.id]);
      assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}`, { token }), 404, "deleted");
      assert.equal((await api(instance, "GET", `/api/v1/statuses/${parent.id}`)).body.replies_count, 0);
      const rows = await instance.islet.core.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, BigInt(media)));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].statusId, null);
      assert.equal((await post({ status: "redraft", media_ids: [media] })).status, 200);
    });

    test("deleting a poll post returns its poll; deleting refuses others' posts", async () => {
      const status = (await post({ status: "poll", poll: { options: ["x", "y"], expires_in: 600, multiple: true } })).body;
      const deleted = await api(instance, "DELETE", `/api/v1/statuses/${status.id}`, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body.poll.options.map((o: any) => o.title), ["x", "y"]);
      assert.equal(deleted.body.poll.multiple, true);
      const stranger = await remoteAccount(instance);
      const theirs = await remoteStatus(instance, stranger);
      assertError(await api(instance, "DELETE", `/api/v1/statuses/${theirs.id}`, { token }), 404, "someone else's post");
      assertError(await api(instance, "DELETE", `/api/v1/statuses/${status.id}`, { token }), 404, "twice");
      assertError(await api(instance, "DELETE", "/api/v1/statuses/abc", { token }), 404, "malformed id");
      const another = (await post({ status: "keep" })).body;
      assertError(await api(instance, "DELETE", `/api/v1/statuses/${another.id}`), 401, "no token");
      assertError(await api(instance, "DELETE", `/api/v1/statuses/${another.id}`, { token: await ownerToken(instance, "read") }), 403, "read token");
    });

    test("favourite and unfavourite count once and mark the status", async () => {
      const stranger = await remoteAccount(instance);
      const theirs = await remoteStatus(instance, stranger);
      const created = await capture(instance, "favourite.created", async () => {
        const first = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/favourite`, { token });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        checkSchema("Status", first.body);
        assert.equal(first.body.favourited, true);
        assert.equal(first.body.favourites_count, 1);
        const again = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/favourite`, { token });
        assert.equal(again.body.favourites_count, 1);
      });
      assert.equal(created.length, 1);
      const removed = await capture(instance, "favourite.removed", async () => {
        const undone = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/unfavourite`, { token });
        assert.equal(undone.body.favourited, false);
        assert.equal(undone.body.favourites_count, 0);
        const twice = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/unfavourite`, { token });
        assert.equal(twice.status, 200);
        assert.equal(twice.body.favourites_count, 0);
      });
      assert.equal(removed.length, 1);
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/favourite`), 401, "no token");
      const wrongScope = await ownerToken(instance, "write:statuses");
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/favourite`, { token: wrongScope }), 403, "wrong scope");
      assert.equal((await api(instance, "POST", `/api/v1/statuses/${theirs.id}/favourite`, { token: await ownerToken(instance, "write:favourites") })).status, 200);
      assertError(await api(instance, "POST", "/api/v1/statuses/424242/favourite", { token }), 404, "unknown");
    });

    test("boost and unboost: a boost row, counts, visibility, and what cannot be boosted", async () => {
      const stranger = await remoteAccount(instance);
      const theirs = await remoteStatus(instance, stranger);
      const created = await capture(instance, "status.created", async () => {
        const boost = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/reblog`, { token, body: { visibility: "unlisted" } });
        assert.equal(boost.status, 200, JSON.stringify(boost.body));
        checkSchema("Status", boost.body);
        assert.notEqual(boost.body.id, theirs.id.toString());
        assert.equal(boost.body.visibility, "unlisted");
        assert.equal(boost.body.account.id, owner.id.toString());
        assert.equal(boost.body.reblog.id, theirs.id.toString());
        assert.equal(boost.body.reblog.reblogged, true);
        assert.equal(boost.body.reblog.reblogs_count, 1);
        assert.match(boost.body.uri, /\/activity$/);
        const again = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/reblog`, { token });
        assert.equal(again.body.id, boost.body.id);
        const viaBoost = await api(instance, "POST", `/api/v1/statuses/${boost.body.id}/reblog`, { token });
        assert.equal(viaBoost.body.id, boost.body.id);
      });
      assert.equal(created.length, 1);
      assert.equal(created[0].accountId, owner.id);
      const deleted = await capture(instance, "status.deleted", async () => {
        const undone = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/unreblog`, { token });
        assert.equal(undone.status, 200);
        assert.equal(undone.body.id, theirs.id.toString());
        assert.equal(undone.body.reblogged, false);
        assert.equal(undone.body.reblogs_count, 0);
        const twice = await api(instance, "POST", `/api/v1/statuses/${theirs.id}/unreblog`, { token });
        assert.equal(twice.status, 200);
      });
      assert.equal(deleted.length, 1);
      assert.equal(deleted[0].reblogOfId, theirs.id);

      const myPrivate = (await post({ status: "mine, private", visibility: "private" })).body;
      const selfBoost = await api(instance, "POST", `/api/v1/statuses/${myPrivate.id}/reblog`, { token, body: { visibility: "public" } });
      assert.equal(selfBoost.status, 200);
      assert.equal(selfBoost.body.visibility, "private");
      const myDirect = (await post({ status: "dm", visibility: "direct" })).body;
      assertError(await api(instance, "POST", `/api/v1/statuses/${myDirect.id}/reblog`, { token }), 403, "direct");
      const follower = await remoteAccount(instance);
      const toMe = await remoteStatus(instance, follower, { visibility: "private", mentions: [owner.id] });
      assertError(await api(instance, "POST", `/api/v1/statuses/${toMe.id}/reblog`, { token }), 403, "someone else's private post");
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/reblog`, { token, body: { visibility: "direct" } }), 422, "direct boost");
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/reblog`, { token, body: { visibility: 3 } }), 422, "visibility not a string");
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/reblog`), 401, "no token");
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/reblog`, { token: await ownerToken(instance, "write:favourites") }), 403, "wrong scope");
      assertError(await api(instance, "POST", "/api/v1/statuses/77777/reblog", { token }), 404, "unknown");
    });

    test("deleting a post removes its boosts", async () => {
      const status = (await post({ status: "boost me" })).body;
      const booster = await remoteAccount(instance);
      const row = (await instance.islet.core.db.query.statuses.findFirst({ where: (s, { eq }) => eq(s.id, BigInt(status.id)) }))!;
      const boost = await reblogStatus(instance.islet.core, booster, row, { uri: `https://remote.example/boosts/${status.id}` });
      const events = await capture(instance, "status.deleted", async () => {
        assert.equal((await api(instance, "DELETE", `/api/v1/statuses/${status.id}`, { token })).status, 200);
      });
      assert.deepEqual(new Set(events.map((e) => e.statusId)), new Set([boost.id, row.id]));
    });

    test("bookmark, pin and mute, and their undoing", async () => {
      const status = (await post({ status: "keep this" })).body;
      const call = async (action: string, t: string | null = token) => await api(instance, "POST", `/api/v1/statuses/${status.id}/${action}`, { token: t });
      assert.equal((await call("bookmark")).body.bookmarked, true);
      assert.equal((await call("bookmark")).body.bookmarked, true);
      assert.equal((await api(instance, "GET", `/api/v1/statuses/${status.id}`, { token })).body.bookmarked, true);
      assert.equal((await call("unbookmark")).body.bookmarked, false);
      assert.equal((await call("pin")).body.pinned, true);
      assert.equal((await call("pin")).body.pinned, true);
      assert.equal((await call("unpin")).body.pinned, false);
      assert.equal((await call("mute")).body.muted, true);
      const reply = (await post({ status: "in the muted thread", in_reply_to_id: status.id })).body;
      assert.equal(reply.muted, true);
      assert.equal((await call("unmute")).body.muted, false);
      for (const [action, wrong] of [["bookmark", "write:statuses"], ["pin", "write:statuses"], ["mute", "write:statuses"], ["unbookmark", "write:favourites"]]) {
        assertError(await call(action, null), 401, `${action} without a token`);
        assertError(await call(action, await ownerToken(instance, wrong)), 403, `${action} with ${wrong}`);
      }
      assert.equal((await call("bookmark", await ownerToken(instance, "write:bookmarks"))).status, 200);
      assert.equal((await call("pin", await ownerToken(instance, "write:accounts"))).status, 200);
      assert.equal((await call("mute", await ownerToken(instance, "write:mutes"))).status, 200);
      for (const action of ["bookmark", "pin", "mute", "unpin", "unmute", "unbookmark", "unreblog", "unfavourite"]) {
        assertError(await api(instance, "POST", `/api/v1/statuses/98765/${action}`, { token }), 404, `${action} unknown`);
      }
      await call("unpin");
    });

    test("pins: own posts only, no direct ones, at most five", async () => {
      const stranger = await remoteAccount(instance);
      const theirs = await remoteStatus(instance, stranger);
      assertError(await api(instance, "POST", `/api/v1/statuses/${theirs.id}/pin`, { token }), 422, "someone else's post");
      const direct = (await post({ status: "dm", visibility: "direct" })).body;
      assertError(await api(instance, "POST", `/api/v1/statuses/${direct.id}/pin`, { token }), 422, "direct post");
      const privatePost = (await post({ status: "private", visibility: "private" })).body;
      assert.equal((await api(instance, "POST", `/api/v1/statuses/${privatePost.id}/pin`, { token })).body.pinned, true);
      const pinned = [privatePost.id];
      for (let i = 0; i < 4; i++) {
        const status = (await post({ status: `pin ${i}` })).body;
        const response = await api(instance, "POST", `/api/v1/statuses/${status.id}/pin`, { token });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        pinned.push(status.id);
      }
      const sixth = (await post({ status: "one too many" })).body;
      assertError(await api(instance, "POST", `/api/v1/statuses/${sixth.id}/pin`, { token }), 422, "sixth pin");
      for (const id of pinned) await api(instance, "POST", `/api/v1/statuses/${id}/unpin`, { token });
      assert.equal((await api(instance, "POST", `/api/v1/statuses/${sixth.id}/pin`, { token })).status, 200);
      await api(instance, "POST", `/api/v1/statuses/${sixth.id}/unpin`, { token });
    });

    test("favourited_by and reblogged_by page with Link headers", async () => {
      const status = (await post({ status: "popular" })).body;
      const row = (await instance.islet.core.db.query.statuses.findFirst({ where: (s, { eq }) => eq(s.id, BigInt(status.id)) }))!;
      const fans: Account[] = [];
      for (let i = 0; i < 5; i++) {
        const fan = await remoteAccount(instance);
        fans.push(fan);
        await favouriteStatus(instance.islet.core, fan, row);
        await reblogStatus(instance.islet.core, fan, row, { uri: `https://remote.example/users/${fan.username}/boosts/${status.id}` });
      }
      for (const path of ["favourited_by", "reblogged_by"]) {
        const first = await api(instance, "GET", `/api/v1/statuses/${status.id}/${path}?limit=2`);
        assert.equal(first.status, 200);
        for (const account of first.body) checkSchema("Account", account);
        assert.deepEqual(first.body.map((a: any) => a.id), [fans[4].id, fans[3].id].map(String));
        const next = linkUrl(first.headers.get("link"), "next");
        const prev = linkUrl(first.headers.get("link"), "prev");
        assert.ok(next?.startsWith(`${instance.origin}/api/v1/statuses/${status.id}/${path}?`), next ?? "no next link");
        assert.ok(prev != null);
        assert.match(next!, /limit=2/);
        const second = await api(instance, "GET", next!.replace(instance.origin, ""));
        assert.deepEqual(second.body.map((a: any) => a.id), [fans[2].id, fans[1].id].map(String));
        const third = await api(instance, "GET", linkUrl(second.headers.get("link"), "next")!.replace(instance.origin, ""));
        assert.deepEqual(third.body.map((a: any) => a.id), [fans[0].id.toString()]);
        const end = await api(instance, "GET", linkUrl(third.headers.get("link"), "next")!.replace(instance.origin, ""));
        assert.deepEqual(end.body, []);
        assert.equal(end.headers.get("Link"), null);
        const back = await api(instance, "GET", linkUrl(second.headers.get("link"), "prev")!.replace(instance.origin, ""));
        assert.deepEqual(back.body.map((a: any) => a.id), [fans[4].id, fans[3].id].map(String));
        const all = await api(instance, "GET", `/api/v1/statuses/${status.id}/${path}?limit=500`);
        assert.equal(all.body.length, 5);
        assertError(await api(instance, "GET", `/api/v1/statuses/${status.id}/${path}?limit=many`), 422, "bad limit");
        assertError(await api(instance, "GET", `/api/v1/statuses/31337/${path}`), 404, "unknown status");
      }
      const counted = (await api(instance, "GET", `/api/v1/statuses/${status.id}`)).body;
      assert.equal(counted.favourites_count, 5);
      assert.equal(counted.reblogs_count, 5);
    });

    test("the same Idempotency-Key returns the same post", async () => {
      const key = `key-${Date.now()}`;
      const first = await post({ status: "only once" }, { "Idempotency-Key": key });
      const second = await post({ status: "only once" }, { "Idempotency-Key": key });
      assert.equal(first.status, 200);
      assert.equal(second.body.id, first.body.id);
      const other = await post({ status: "only once" }, { "Idempotency-Key": `${key}-other` });
      assert.notEqual(other.body.id, first.body.id);
      const plain = await post({ status: "only once" });
      assert.notEqual(plain.body.id, first.body.id);
    });

    test("translation is not available: 503 for public posts, 403 for private ones", async () => {
      const status = (await post({ status: "hola", language: "es" })).body;
      assertError(await api(instance, "POST", `/api/v1/statuses/${status.id}/translate`, { token }), 503, "translate");
      const privatePost = (await post({ status: "secreto", visibility: "private" })).body;
      assertError(await api(instance, "POST", `/api/v1/statuses/${privatePost.id}/translate`, { token }), 403, "private");
      assertError(await api(instance, "POST", `/api/v1/statuses/${status.id}/translate`), 401, "no token");
      assertError(await api(instance, "POST", "/api/v1/statuses/1212/translate", { token }), 404, "unknown");
    });
  });
}
