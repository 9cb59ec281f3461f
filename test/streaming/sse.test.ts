/**
 * Streaming over server-sent events (GET /api/v1/streaming/...), the health
 * check, and what a plain GET of the WebSocket path answers. The same
 * timeline rules as the WebSocket: mutes, visibility and filters.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import { receiveFollow } from "../../src/core/follows.ts";
import { newId } from "../../src/core/ids.ts";
import { follows } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus, type StatusFixture } from "../helpers/statuses.ts";
import { SseClient } from "./helpers.ts";

for (const kind of databaseKinds()) {
  describe(`streaming over server-sent events (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let friend: Account;
    let stranger: Account;
    let muted: Account;
    const open: SseClient[] = [];

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      const core = instance.islet.core;
      [friend, stranger, muted] = await Promise.all([
        insertRemoteAccount(core, "friend"),
        insertRemoteAccount(core, "stranger"),
        insertRemoteAccount(core, "muted"),
      ]);
      for (const target of [friend, muted]) {
        await core.db.insert(follows).values({ id: newId(), accountId: instance.owner!.account.id, targetAccountId: target.id, state: "accepted" });
      }
      assert.equal((await api(instance, "POST", `/api/v1/accounts/${muted.id}/mute`, { token })).status, 200);
    });
    after(async () => {
      for (const client of open) client.close();
      await instance?.close();
    });

    async function sse(path: string, withToken: string | null = token): Promise<SseClient> {
      const client = await SseClient.open(`${instance.url}${path}`, withToken);
      open.push(client);
      return client;
    }

    async function remotePost(author: Account, options: StatusFixture = {}) {
      const row = await insertTestStatus(instance.islet.core, author, options);
      await instance.islet.core.events.emit("status.created", { statusId: row.id, accountId: author.id });
      return row;
    }

    async function post(status: string): Promise<any> {
      const response = await api(instance, "POST", "/api/v1/statuses", { token, body: { status } });
      assert.equal(response.status, 200);
      return response.body;
    }

    const statusId = (data: string) => JSON.parse(data).id;

    test("the health check answers OK", async () => {
      const response = await fetch(`${instance.url}/api/v1/streaming/health`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
      assert.equal(await response.text(), "OK");
    });

    test("unknown streams, a plain GET of the WebSocket path, and bad tokens are refused as Mastodon does", async () => {
      const cases: [string, string | null, number, string][] = [
        ["/api/v1/streaming", token, 400, "Unknown channel requested"],
        ["/api/v1/streaming/everything", token, 400, "Unknown channel requested"],
        ["/api/v1/streaming/user", null, 401, "Missing access token"],
        ["/api/v1/streaming/user", "not-a-token", 401, "Invalid access token"],
        ["/api/v1/streaming/user", await ownerToken(instance, "write"), 401, "Access token does not have the required scopes"],
        ["/api/v1/streaming/hashtag", token, 400, "Missing tag name parameter"],
        ["/api/v1/streaming/list?list=1234", token, 401, "Not authorized to stream this list"],
        ["/api/v1/streaming/list", token, 400, "Missing list name parameter"],
      ];
      for (const [path, withToken, status, error] of cases) {
        const response = await fetch(`${instance.url}${path}`, { headers: withToken == null ? {} : { Authorization: `Bearer ${withToken}` } });
        assert.equal(response.status, status, path);
        assert.match(response.headers.get("content-type") ?? "", /^application\/json/, path);
        assert.deepEqual(await response.json(), { error }, path);
      }
    });

    test("`user` streams updates, notifications, filters_changed and deletions as SSE frames", async () => {
      const client = await sse("/api/v1/streaming/user");
      assert.match(client.response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const posted = await post("Hello over SSE");
      const update = await client.next((e) => e.event === "update", "the update");
      const rest = await api(instance, "GET", `/api/v1/statuses/${posted.id}`, { token });
      assert.deepEqual(JSON.parse(update.data), rest.body);

      const follower = await insertRemoteAccount(instance.islet.core, "follower");
      await receiveFollow(instance.islet.core, follower, instance.owner!.account, "https://remote.example/follows/sse-1");
      const notification = await client.next((e) => e.event === "notification", "the notification");
      assert.equal(JSON.parse(notification.data).type, "follow");

      const filter = await api(instance, "POST", "/api/v2/filters", {
        token, body: { title: "Hidden", context: ["home", "public"], filter_action: "hide", keywords_attributes: [{ keyword: "forbidden" }] },
      });
      assert.equal(filter.status, 200);
      // Mastodon has no payload for it, and writes one as `undefined`.
      assert.deepEqual(await client.next((e) => e.event === "filters_changed", "filters_changed"), { event: "filters_changed", data: "undefined" });

      assert.equal((await api(instance, "DELETE", `/api/v1/statuses/${posted.id}`, { token })).status, 200);
      assert.deepEqual(await client.next((e) => e.event === "delete", "the deletion"), { event: "delete", data: posted.id });
      assert.ok(client.comments.includes(")"), "the stream opens with a comment");

      // The hide filter, a muted account and an account not followed: none reaches `user`.
      const forbidden = await remotePost(friend, { content: "<p>forbidden</p>" });
      const fromMuted = await remotePost(muted);
      const fromStranger = await remotePost(stranger);
      const sentinel = await post("SSE sentinel");
      await client.next((e) => e.event === "update" && statusId(e.data) === sentinel.id, "the sentinel");
      const streamed = client.inbox.items.filter((e) => e.event === "update").map((e) => statusId(e.data));
      assert.deepEqual(streamed, [posted.id, sentinel.id]);
      for (const hidden of [forbidden, fromMuted, fromStranger]) assert.ok(!streamed.includes(hidden.id.toString()));
      assert.equal((await api(instance, "DELETE", `/api/v2/filters/${filter.body.id}`, { token })).status, 200);
    });

    test("public streams over SSE: remote, local, media only; followers-only posts never", async () => {
      const remote = await sse("/api/v1/streaming/public/remote");
      const local = await sse(`/api/v1/streaming/public/local?access_token=${token}`, null);
      const media = await sse("/api/v1/streaming/public?only_media=true");
      const tag = await sse("/api/v1/streaming/hashtag/local?tag=SSETag");
      const notifications = await sse("/api/v1/streaming/user/notification");

      const privately = await remotePost(stranger, { visibility: "private" });
      const withMedia = await remotePost(stranger, { media: true });
      const plain = await remotePost(friend);
      const localPost = await post("Local #ssetag");

      assert.equal(statusId((await remote.next(() => true, "a remote post")).data), withMedia.id.toString());
      assert.equal(statusId((await remote.next(() => true, "another remote post")).data), plain.id.toString());
      assert.equal(statusId((await media.next(() => true, "a media post")).data), withMedia.id.toString());
      assert.equal(statusId((await local.next(() => true, "a local post")).data), localPost.id);
      assert.equal(statusId((await tag.next(() => true, "a tagged post")).data), localPost.id);

      const sentinel = await remotePost(stranger, { media: true });
      await media.next((e) => statusId(e.data) === sentinel.id.toString(), "the sentinel");
      await remote.next((e) => statusId(e.data) === sentinel.id.toString(), "the sentinel");
      for (const client of [remote, local, media, tag]) {
        assert.ok(!client.inbox.items.some((e) => e.data.includes(`"id":"${privately.id}"`)), "the followers-only post is not public");
      }
      assert.deepEqual(media.inbox.items.map((e) => statusId(e.data)), [withMedia.id.toString(), sentinel.id.toString()]);
      assert.deepEqual(notifications.inbox.items, [], "no statuses on the notification stream");
    });
  });
}
