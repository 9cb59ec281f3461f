/**
 * Two Islet instances hold a conversation through their Mastodon APIs and
 * real inboxes: follow, post (with an image, with a poll), reply, favourite,
 * boost, edit and delete, each
 * seen by the other side in timelines and notifications.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isBlurhashValid } from "blurhash";
import sharp from "sharp";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";

interface Side {
  instance: TestInstance;
  token: string;
}

/** The other side's owner as an account here, looked up by actor URL. */
async function resolve(side: Side, actorUri: string): Promise<{ id: string; acct: string }> {
  const result = await api(side.instance, "GET", `/api/v2/search?q=${encodeURIComponent(actorUri)}&resolve=true&type=accounts`, { token: side.token });
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.equal(result.body.accounts.length, 1, `no account for ${actorUri}`);
  return result.body.accounts[0];
}

/** The local id of a status by its IRI, once it has arrived. */
async function arrived(side: Side, uri: string): Promise<{ id: string; content: string }> {
  return await eventually(async () => {
    const result = await api(side.instance, "GET", `/api/v1/timelines/home?limit=40`, { token: side.token });
    return (result.body as { uri: string; id: string; content: string }[]).find((s) => s.uri === uri);
  }, `${uri} in the home timeline`);
}

async function notification(side: Side, type: string): Promise<{ account: { acct: string }; status?: { uri: string } }> {
  return await eventually(async () => {
    const result = await api(side.instance, "GET", `/api/v1/notifications?types[]=${type}`, { token: side.token });
    return (result.body as { type: string }[])[0] as never;
  }, `a ${type} notification`);
}

for (const kind of databaseKinds()) {
  describe(`a conversation between two instances (${kind})`, () => {
    let alice: Side;
    let bob: Side;
    let post: { id: string; uri: string };
    let postAtBob: { id: string; content: string };

    before(async () => {
      const [a, b] = await Promise.all([startInstance(kind, { username: "alice" }), startInstance(kind, { username: "bob" })]);
      alice = { instance: a, token: await ownerToken(a) };
      bob = { instance: b, token: await ownerToken(b) };
    });
    after(async () => {
      await Promise.all([alice?.instance.close(), bob?.instance.close()]);
    });

    test("bob follows alice through the API; alice is notified", async () => {
      const aliceAtBob = await resolve(bob, `${alice.instance.origin}/users/alice`);
      const followed = await api(bob.instance, "POST", `/api/v1/accounts/${aliceAtBob.id}/follow`, { token: bob.token });
      assert.equal(followed.status, 200);
      await eventually(async () => {
        const r = await api(bob.instance, "GET", `/api/v1/accounts/relationships?id[]=${aliceAtBob.id}`, { token: bob.token });
        return r.body[0]?.following === true;
      }, "the follow to be accepted");
      const n = await notification(alice, "follow");
      assert.match(n.account.acct, /^bob@localhost:\d+$/);
    });

    test("alice posts; it reaches bob's home timeline", async () => {
      const created = await api(alice.instance, "POST", "/api/v1/statuses", {
        token: alice.token,
        body: { status: "Hello from #Islet, @bob@" + new URL(bob.instance.origin).host, language: "en" },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      post = created.body;
      postAtBob = await arrived(bob, post.uri);
      assert.match(postAtBob.content, /Hello from/);
    });

    test("bob replies; alice gets a mention and sees the reply in the thread", async () => {
      const reply = await api(bob.instance, "POST", "/api/v1/statuses", {
        token: bob.token,
        body: { status: `@alice@${new URL(alice.instance.origin).host} hi back`, in_reply_to_id: postAtBob.id },
      });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      const n = await notification(alice, "mention");
      assert.equal(n.status?.uri, reply.body.uri);
      const context = await api(alice.instance, "GET", `/api/v1/statuses/${post.id}/context`, { token: alice.token });
      assert.deepEqual(context.body.descendants.map((s: { uri: string }) => s.uri), [reply.body.uri]);
    });

    test("bob favourites and boosts; alice's counts and notifications follow", async () => {
      assert.equal((await api(bob.instance, "POST", `/api/v1/statuses/${postAtBob.id}/favourite`, { token: bob.token })).status, 200);
      assert.equal((await api(bob.instance, "POST", `/api/v1/statuses/${postAtBob.id}/reblog`, { token: bob.token })).status, 200);
      await notification(alice, "favourite");
      await notification(alice, "reblog");
      const status = await api(alice.instance, "GET", `/api/v1/statuses/${post.id}`, { token: alice.token });
      assert.equal(status.body.favourites_count, 1);
      assert.equal(status.body.reblogs_count, 1);
      // And taking the favourite back reaches alice too.
      await api(bob.instance, "POST", `/api/v1/statuses/${postAtBob.id}/unfavourite`, { token: bob.token });
      await eventually(async () => (await api(alice.instance, "GET", `/api/v1/statuses/${post.id}`, { token: alice.token })).body.favourites_count === 0, "the unfavourite");
    });

    test("alice edits; bob sees the new text", async () => {
      const edited = await api(alice.instance, "PUT", `/api/v1/statuses/${post.id}`, { token: alice.token, body: { status: "Edited hello" } });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      await eventually(async () => {
        const s = await api(bob.instance, "GET", `/api/v1/statuses/${postAtBob.id}`, { token: bob.token });
        return /Edited hello/.test(s.body.content) && s.body.edited_at != null;
      }, "the edit at bob");
    });

    test("alice posts an image with a description; bob sees the attachment and can load it", async () => {
      const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 60 } } }).png().toBuffer();
      const form = new FormData();
      form.set("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "red.png");
      form.set("description", "a red rectangle");
      const uploaded = await api(alice.instance, "POST", "/api/v2/media", { token: alice.token, body: form });
      assert.ok(uploaded.status === 200 || uploaded.status === 202, JSON.stringify(uploaded.body));
      const created = await api(alice.instance, "POST", "/api/v1/statuses", {
        token: alice.token,
        body: { status: "A picture", media_ids: [uploaded.body.id] },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      type Media = { type: string; description: string | null; blurhash: string | null; url: string; preview_url: string | null; remote_url: string | null };
      const arrivedAtBob = await arrived(bob, created.body.uri);
      // Bob's worker downloads the file and serves it from bob's server.
      const atBob = await eventually(async () => {
        const status = await api(bob.instance, "GET", `/api/v1/statuses/${arrivedAtBob.id}`, { token: bob.token });
        const list = status.body.media_attachments as Media[];
        return list.length === 1 && list[0].url.startsWith(`${bob.instance.origin}/system/`) ? list : null;
      }, "the attachment cached at bob");
      const [media] = atBob;
      assert.equal(media.type, "image");
      assert.equal(media.description, "a red rectangle");
      assert.ok(typeof media.blurhash === "string" && isBlurhashValid(media.blurhash).result, String(media.blurhash));
      assert.equal(media.remote_url, created.body.media_attachments[0].url);
      assert.ok(media.preview_url?.startsWith(`${bob.instance.origin}/system/`), String(media.preview_url));
      const image = await fetch(media.url.replace(bob.instance.origin, bob.instance.url));
      assert.equal(image.status, 200);
      const meta = await sharp(new Uint8Array(await image.arrayBuffer())).metadata();
      assert.deepEqual([meta.width, meta.height], [64, 48]);
    });

    test("bob votes in alice's poll; alice counts the vote", async () => {
      const created = await api(alice.instance, "POST", "/api/v1/statuses", {
        token: alice.token,
        body: { status: "Tea or coffee?", poll: { options: ["Tea", "Coffee"], expires_in: 3600 } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const atBob = await arrived(bob, created.body.uri) as unknown as { id: string; poll: { id: string; options: { title: string }[] } };
      assert.deepEqual(atBob.poll.options.map((o) => o.title), ["Tea", "Coffee"]);
      const voted = await api(bob.instance, "POST", `/api/v1/polls/${atBob.poll.id}/votes`, { token: bob.token, body: { choices: ["1"] } });
      assert.equal(voted.status, 200, JSON.stringify(voted.body));
      await eventually(async () => {
        const poll = await api(alice.instance, "GET", `/api/v1/polls/${created.body.poll.id}`, { token: alice.token });
        return poll.body.votes_count === 1 && poll.body.options[1].votes_count === 1;
      }, "the vote at alice");
    });

    test("alice deletes; it is gone at bob", async () => {
      assert.equal((await api(alice.instance, "DELETE", `/api/v1/statuses/${post.id}`, { token: alice.token })).status, 200);
      await eventually(async () => (await api(bob.instance, "GET", `/api/v1/statuses/${postAtBob.id}`, { token: bob.token })).status === 404, "the delete at bob");
    });
  });
}
