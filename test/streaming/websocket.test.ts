/**
 * The multiplexed WebSocket at /api/v1/streaming: who may connect, what a
 * subscription is refused with, and what each stream carries (the same
 * rules as the timelines, the same Status entities as the REST API).
 *
 * Remote posts are stored as the inbox would store them and announced with
 * the event the core raises for them; the owner's posts go through the API.
 * To show that something was not sent, a later post that is sent serves as
 * a sentinel: events are dispatched in order, so whatever was not received
 * before it was never sent.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { hashToken } from "../../src/core/token-hash.ts";
import type { Account } from "../../src/core/accounts.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { newId } from "../../src/core/ids.ts";
import { follows, oauthApplications, oauthTokens } from "../../src/db/schema.ts";
import { eq } from "drizzle-orm";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus, type StatusFixture } from "../helpers/statuses.ts";
import { refusedUpgrade, streamingUrl, WsClient, type Frame } from "./helpers.ts";

/** A token of an application alone (client credentials): no user. */
async function applicationToken(instance: TestInstance): Promise<string> {
  const core = instance.islet.core;
  const applicationId = newId();
  await core.db.insert(oauthApplications).values({
    id: applicationId, name: "App only", website: null, redirectUris: ["urn:ietf:wg:oauth:2.0:oob"], scopes: "read",
    clientId: randomBytes(16).toString("hex"), clientSecret: randomBytes(16).toString("hex"),
  });
  const token = randomBytes(32).toString("base64url");
  await core.db.insert(oauthTokens).values({ id: newId(), tokenHash: hashToken(token), applicationId, accountId: null, scopes: "read" });
  return token;
}

/** Where and what: `[stream label, event, status id or payload]` of each frame. */
function summary(frames: Frame[]): string[] {
  return frames.map((frame) => {
    const payload = frame.payload == null ? "" : frame.event === "delete" ? frame.payload : JSON.parse(frame.payload).id;
    return `${frame.stream.join(" ")} ${frame.event} ${payload}`;
  });
}

for (const kind of databaseKinds()) {
  describe(`streaming over WebSocket (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let url: string;
    let friend: Account;
    let stranger: Account;
    let muted: Account;
    let quiet: Account;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      url = streamingUrl(instance.url);
      const core = instance.islet.core;
      [friend, stranger, muted, quiet] = await Promise.all([
        insertRemoteAccount(core, "friend"),
        insertRemoteAccount(core, "stranger", { domain: "elsewhere.example" }),
        insertRemoteAccount(core, "muted"),
        insertRemoteAccount(core, "quiet"),
      ]);
      const ownerId = instance.owner!.account.id;
      for (const [target, showReblogs] of [[friend, true], [muted, true], [quiet, false]] as const) {
        await core.db.insert(follows).values({ id: newId(), accountId: ownerId, targetAccountId: target.id, state: "accepted", showReblogs });
      }
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${muted.id}/mute`, { token })).status, 200);
    });
    after(async () => {
      await instance?.close();
    });

    /** A remote status stored and announced as the inbox does. */
    async function remotePost(author: Account, options: StatusFixture = {}) {
      const row = await insertTestStatus(instance.islet.core, author, options);
      await instance.islet.core.events.emit("status.created", { statusId: row.id, accountId: author.id });
      return row;
    }

    async function post(status: string, extra: Record<string, unknown> = {}): Promise<any> {
      const response = await api(instance, "POST", "/api/v1/statuses", { token, body: { status, ...extra } });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body;
    }

    test("upgrades need a user token: 401 without one, with a bad one, or with an application's", async () => {
      const missing = await refusedUpgrade(url);
      assert.equal(missing.status, 401);
      assert.equal(missing.headers["x-error-message"], "Missing access token");
      const bad = await refusedUpgrade(streamingUrl(instance.url, { access_token: "not-a-token" }));
      assert.equal(bad.status, 401);
      assert.equal(bad.headers["x-error-message"], "Invalid access token");
      const badHeader = await refusedUpgrade(url, { headers: { Authorization: "Bearer not-a-token" } });
      assert.equal(badHeader.status, 401);
      const app = await refusedUpgrade(url, { protocols: [await applicationToken(instance)] });
      assert.equal(app.status, 401);
      const elsewhere = await refusedUpgrade(new URL("/api/v1/timelines/home", url).href, { protocols: [token] });
      assert.equal(elsewhere.status, 404);
    });

    test("the token may come as the subprotocol, which is echoed back, or as a header or parameter", async () => {
      const byProtocol = await WsClient.open(url, { protocols: [token] });
      assert.equal(byProtocol.socket.protocol, token);
      await byProtocol.subscribe("user");
      await byProtocol.close();
      const byHeader = await WsClient.open(url, { headers: { Authorization: `Bearer ${token}` } });
      await byHeader.subscribe("user");
      await byHeader.close();
      const byParameter = await WsClient.open(streamingUrl(instance.url, { access_token: token }));
      await byParameter.subscribe("user");
      await byParameter.close();
    });

    test("refused subscriptions are answered with Mastodon's error frames", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        client.send({ type: "subscribe", stream: "everything" });
        assert.deepEqual(await client.error("unknown stream"), { error: "Unknown stream type", status: 400 });
        client.send({ type: "subscribe", stream: "hashtag" });
        assert.deepEqual(await client.error("missing tag"), { error: "Missing tag name parameter", status: 400 });
        client.send({ type: "subscribe", stream: "list" });
        assert.deepEqual(await client.error("missing list"), { error: "Missing list name parameter", status: 400 });
        client.send({ type: "subscribe", stream: "list", list: "123456" });
        assert.deepEqual(await client.error("someone else's list"), { error: "Not authorized to stream this list", status: 401 });
        client.send({ type: "subscribe", stream: "list", list: "not-an-id" });
        assert.deepEqual(await client.error("a malformed list id"), { error: "Not authorized to stream this list", status: 401 });
        client.send("not json at all");
        client.send({ type: "dance", stream: "user" });
        await client.barrier();
      } finally {
        await client.close();
      }

      const writeOnly = await WsClient.open(url, { protocols: [await ownerToken(instance, "write")] });
      try {
        writeOnly.send({ type: "subscribe", stream: "public" });
        assert.deepEqual(await writeOnly.error("no read scope"), { error: "Access token does not have the required scopes", status: 401 });
      } finally {
        await writeOnly.close();
      }
      const notificationsOnly = await WsClient.open(url, { protocols: [await ownerToken(instance, "read:notifications")] });
      try {
        notificationsOnly.send({ type: "subscribe", stream: "user" });
        assert.deepEqual(await notificationsOnly.error("user with read:notifications"), { error: "Access token does not have the required scopes", status: 401 });
        await notificationsOnly.subscribe("user:notification");
        assert.deepEqual(notificationsOnly.inbox.rest(), []);
      } finally {
        await notificationsOnly.close();
      }
    });

    test("the owner's posts, edits and deletions reach `user` as update, status.update and delete, as the REST API renders them", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        await client.subscribe("user");
        const posted = await post("Streaming hello");
        const update = await client.event((f) => f.event === "update", "the update");
        assert.deepEqual(update.stream, ["user"]);
        assert.equal(typeof update.payload, "string");
        const streamed = JSON.parse(update.payload);
        const rest = await api(instance, "GET", `/api/v1/statuses/${posted.id}`, { token });
        assert.deepEqual(streamed, rest.body);
        assert.deepEqual(streamed.filtered, []);

        const edited = await api(instance, "PUT", `/api/v1/statuses/${posted.id}`, { token, body: { status: "Streaming hello, edited" } });
        assert.equal(edited.status, 200);
        const change = await client.event((f) => f.event === "status.update", "the edit");
        assert.equal(JSON.parse(change.payload).id, posted.id);
        assert.match(JSON.parse(change.payload).content, /edited/);

        assert.equal((await api(instance, "DELETE", `/api/v1/statuses/${posted.id}`, { token })).status, 200);
        const deletion = await client.event((f) => f.event === "delete", "the deletion");
        assert.deepEqual(deletion, { stream: ["user"], event: "delete", payload: posted.id });
      } finally {
        await client.close();
      }
    });

    test("a notification reaches `user` and `user:notification`, once on each", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        await client.subscribe("user");
        await client.subscribe("user:notification");
        await client.subscribe("user");
        const follower = await insertRemoteAccount(instance.islet.core, "follower");
        await receiveFollow(instance.islet.core, follower, instance.owner!.account, "https://remote.example/follows/streaming-1");
        const first = await client.event((f) => f.event === "notification", "the first notification");
        const second = await client.event((f) => f.event === "notification", "the second notification");
        assert.deepEqual([first.stream, second.stream].map((s) => s.join()).sort(), ["user", "user:notification"]);
        const notification = JSON.parse(first.payload);
        assert.equal(notification.type, "follow");
        assert.equal(notification.account.acct, "follower@remote.example");
        const rest = await api(instance, "GET", `/api/v1/notifications/${notification.id}`, { token });
        assert.deepEqual(notification, rest.body);
        // Nothing more: a sentinel post arrives next.
        const sentinel = await post("after the notification");
        const next = await client.event(() => true, "the sentinel");
        assert.equal(JSON.parse(next.payload).id, sentinel.id);
      } finally {
        await client.close();
      }
    });

    test("public, local, remote, media and hashtag streams carry what their timelines show", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        for (const stream of ["public", "public:local", "public:remote", "public:media", "public:remote:media"]) await client.subscribe(stream);
        await client.subscribe("hashtag", { tag: "StreamTag" });
        await client.subscribe("hashtag:local", { tag: "streamtag" });
        await client.subscribe("hashtag", { tag: "streamtag" }); // the same stream again: nothing more

        const tagged = await post("Local and #streamtag");
        const remote = await remotePost(stranger, { media: true });
        const privately = await remotePost(stranger, { visibility: "private" });
        const unlisted = await remotePost(friend, { visibility: "unlisted" });
        const direct = await remotePost(stranger, { visibility: "direct", mentions: [instance.owner!.account] });
        const boost = await remotePost(friend, { reblogOf: remote });
        const fromMuted = await remotePost(muted);
        const sentinel = await post("Sentinel");
        await client.event((f) => f.stream[0] === "public:local" && JSON.parse(f.payload).id === sentinel.id, "the sentinel");

        assert.deepEqual(summary(client.inbox.items.filter((frame) => frame.event != null)).sort(), [
          `hashtag StreamTag update ${tagged.id}`,
          `hashtag:local streamtag update ${tagged.id}`,
          `public update ${remote.id}`,
          `public update ${sentinel.id}`,
          `public update ${tagged.id}`,
          `public:local update ${sentinel.id}`,
          `public:local update ${tagged.id}`,
          `public:media update ${remote.id}`,
          `public:remote update ${remote.id}`,
          `public:remote:media update ${remote.id}`,
        ].sort());
        for (const hidden of [privately, unlisted, direct, boost, fromMuted]) {
          assert.ok(!client.inbox.items.some((frame) => frame.payload?.includes(`"id":"${hidden.id}"`)), `${hidden.id} was not streamed`);
        }
      } finally {
        await client.close();
      }
    });

    test("`user` carries the home timeline: follows, mentions, boosts as show_reblogs says, not mutes; filters hide or mark", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        await client.subscribe("user");
        const fromFriend = await remotePost(friend, { visibility: "private" });
        const fromStranger = await remotePost(stranger);
        const mention = await remotePost(stranger, { visibility: "direct", mentions: [instance.owner!.account] });
        const fromMuted = await remotePost(muted);
        const boostOfMuted = await remotePost(friend, { reblogOf: fromMuted });
        const boostByQuiet = await remotePost(quiet, { reblogOf: fromStranger });
        const postByQuiet = await remotePost(quiet);
        const boostByFriend = await remotePost(friend, { reblogOf: fromStranger });

        const created = await api(instance, "POST", "/api/v2/filters", {
          token,
          body: { title: "Hidden", context: ["home"], filter_action: "hide", keywords_attributes: [{ keyword: "forbidden" }] },
        });
        assert.equal(created.status, 200);
        const changed = await client.event((f) => f.event === "filters_changed", "filters_changed");
        assert.deepEqual(changed, { stream: ["user"], event: "filters_changed" });
        const warned = await api(instance, "POST", "/api/v2/filters", {
          token,
          body: { title: "Careful", context: ["home"], filter_action: "warn", keywords_attributes: [{ keyword: "spoiler" }] },
        });
        await client.event((f) => f.event === "filters_changed", "filters_changed again");
        const forbidden = await remotePost(friend, { content: "<p>a forbidden word</p>" });
        const spoiler = await remotePost(friend, { content: "<p>a spoiler here</p>" });
        const sentinel = await post("Sentinel for user");
        const last = await client.event((f) => f.event === "update" && JSON.parse(f.payload).id === sentinel.id, "the sentinel");
        assert.ok(last);

        const updates = client.inbox.items.filter((frame) => frame.event === "update").map((frame) => JSON.parse(frame.payload));
        assert.deepEqual(
          updates.map((status) => status.id).sort(),
          [...[fromFriend, mention, boostByFriend, postByQuiet, spoiler].map((s) => s.id.toString()), sentinel.id].sort(),
        );
        const marked = updates.find((status) => status.id === spoiler.id.toString());
        assert.equal(marked.filtered.length, 1);
        assert.equal(marked.filtered[0].filter.id, warned.body.id);
        assert.equal(marked.filtered[0].filter.filter_action, "warn");
        assert.deepEqual(marked.filtered[0].keyword_matches, ["spoiler"]);
        const boosted = updates.find((status) => status.id === boostByFriend.id.toString());
        assert.equal(boosted.reblog.id, fromStranger.id.toString());
        for (const hidden of [fromStranger, fromMuted, boostOfMuted, boostByQuiet, forbidden]) {
          assert.ok(!updates.some((status) => status.id === hidden.id.toString()), `${hidden.id} was not streamed`);
        }
        for (const id of [created.body.id, warned.body.id]) {
          assert.equal((await api(instance, "DELETE", `/api/v2/filters/${id}`, { token })).status, 200);
        }
      } finally {
        await client.close();
      }
    });

    test("a list stream carries its members' posts; deletions reach the streams that showed the post", async () => {
      const list = await api(instance, "POST", "/api/v1/lists", { token, body: { title: "Friends" } });
      assert.equal(list.status, 200);
      assert.equal((await api(instance, "POST", `/api/v1/lists/${list.body.id}/accounts`, { token, body: { account_ids: [friend.id.toString()] } })).status, 200);
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        await client.subscribe("list", { list: list.body.id });
        await client.subscribe("public:remote");
        const member = await remotePost(friend);
        const other = await remotePost(stranger);
        const directFromMember = await remotePost(friend, { visibility: "direct", mentions: [instance.owner!.account] });
        const first = await client.event((f) => f.stream[0] === "list", "the member's post");
        assert.deepEqual(first.stream, ["list", list.body.id]);
        assert.equal(JSON.parse(first.payload).id, member.id.toString());

        const { deleteStatus } = await import("../../src/core/statuses/delete.ts");
        await deleteStatus(instance.islet.core, member);
        const deletions = [
          await client.event((f) => f.event === "delete", "a deletion"),
          await client.event((f) => f.event === "delete", "another deletion"),
        ];
        assert.deepEqual(deletions.map((f) => `${f.stream.join(" ")} ${f.payload}`).sort(), [
          `list ${list.body.id} ${member.id}`,
          `public:remote ${member.id}`,
        ]);
        await client.unsubscribe("public:remote");
        const sentinel = await remotePost(friend);
        const last = await client.event((f) => f.event === "update" && f.stream[0] === "list" && JSON.parse(f.payload).id === sentinel.id.toString(), "the sentinel");
        assert.ok(last);
        const listed = client.inbox.items.filter((f) => f.event === "update" && f.stream[0] === "list").map((f) => JSON.parse(f.payload).id);
        assert.deepEqual(listed, [member.id.toString(), sentinel.id.toString()]);
        const remoteUpdates = client.inbox.items.filter((f) => f.event === "update" && f.stream[0] === "public:remote").map((f) => JSON.parse(f.payload).id);
        assert.deepEqual(remoteUpdates, [member.id.toString(), other.id.toString()], "nothing after unsubscribing");
        assert.ok(!client.inbox.items.some((f) => f.payload?.includes(`"id":"${directFromMember.id}"`)));
      } finally {
        await client.close();
      }
    });

    test("`direct` carries conversations (as GET /api/v1/conversations renders them) and deletions of direct posts", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        await client.subscribe("direct");
        const direct = await remotePost(stranger, { visibility: "direct", mentions: [instance.owner!.account] });
        const listed = await api(instance, "GET", "/api/v1/conversations", { token });
        const conversation = listed.body.find((entry: any) => entry.last_status?.id === direct.id.toString());
        assert.ok(conversation, "the conversation was recorded");
        // What src/core/conversations.ts raises once it has written the conversation.
        await instance.islet.core.events.emit("conversation.updated", { conversationId: BigInt(conversation.id), accountId: instance.owner!.account.id });
        const frame = await client.event((f) => f.event === "conversation", "the conversation");
        assert.deepEqual(frame.stream, ["direct"]);
        assert.deepEqual(JSON.parse(frame.payload), conversation);

        await remotePost(stranger);
        const { deleteStatus } = await import("../../src/core/statuses/delete.ts");
        await deleteStatus(instance.islet.core, direct);
        assert.deepEqual(await client.event((f) => f.event === "delete", "the deletion"), { stream: ["direct"], event: "delete", payload: direct.id.toString() });
        // Only the direct post's deletion: the public post in between is not for `direct`.
        assert.deepEqual(client.inbox.rest(), []);
      } finally {
        await client.close();
      }
    });

    test("a direct post raises `conversation` on `direct` by itself", async () => {
      const client = await WsClient.open(url, { protocols: [token] });
      try {
        await client.subscribe("direct");
        await client.subscribe("user");
        const direct = await remotePost(stranger, { visibility: "direct", mentions: [instance.owner!.account] });
        // The conversation is written (and announced) before the next post is stored.
        const sentinel = await remotePost(friend);
        await client.event((f) => f.event === "update" && JSON.parse(f.payload).id === sentinel.id.toString(), "the sentinel");
        const conversation = client.inbox.items.find((f) => f.event === "conversation");
        assert.ok(conversation, "a conversation event came before the sentinel");
        assert.deepEqual(conversation.stream, ["direct"]);
        assert.equal(JSON.parse(conversation.payload).last_status.id, direct.id.toString());
      } finally {
        await client.close();
      }
    });

    test("`?stream=` subscribes at connection, with its tag", async () => {
      const client = await WsClient.open(streamingUrl(instance.url, { stream: "hashtag", tag: "Connected", access_token: token }));
      try {
        await client.barrier();
        const tagged = await post("#connected at once");
        const frame = await client.event(() => true, "the tagged post");
        assert.deepEqual(frame.stream, ["hashtag", "Connected"]);
        assert.equal(JSON.parse(frame.payload).id, tagged.id);
      } finally {
        await client.close();
      }
    });

    test("revoking a token closes the WebSocket and SSE connections opened with it", async () => {
      const core = instance.islet.core;
      const doomed = await ownerToken(instance);
      const [row] = await core.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, hashToken(doomed)));
      const [app] = await core.db.select().from(oauthApplications).where(eq(oauthApplications.id, row.applicationId));
      const socket = await WsClient.open(streamingUrl(instance.url, { access_token: doomed, stream: "user" }));
      const closed = new Promise<number>((resolve) => socket.socket.once("close", (code) => resolve(code)));
      const sse = await fetch(`${instance.url}/api/v1/streaming/user`, { headers: { Authorization: `Bearer ${doomed}` } });
      assert.equal(sse.status, 200);
      const reader = sse.body!.getReader();
      await reader.read(); // the opening comment
      // Another connection, with another token, stays open.
      const survivor = await WsClient.open(streamingUrl(instance.url, { access_token: token, stream: "user" }));

      const revoked = await api(instance, "POST", "/oauth/revoke", { body: { client_id: app.clientId, client_secret: app.clientSecret, token: doomed } });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(await closed, 1000);
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
      }
      assert.equal(survivor.socket.readyState, survivor.socket.OPEN);
      await survivor.barrier();
      await survivor.close();
      // And the revoked token cannot connect again.
      await assert.rejects(WsClient.open(streamingUrl(instance.url, { access_token: doomed })), /401/);
    });
  });
}
