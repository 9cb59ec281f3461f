/**
 * Real client libraries on Islet's streaming API, each the way it connects:
 * masto.js on one multiplexed socket at `configuration.urls.streaming`
 * (token offered as the subprotocol), megalodon with one socket per stream
 * at `urls.streaming_api` (`?stream=user&access_token=`). Each receives a
 * post made through the API, and a reply and a follow arriving as signed
 * activities in the inbox (an update and notifications).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRestAPIClient, createStreamingAPIClient, type mastodon } from "masto";
import generator, { type Entity, type WebSocketInterface } from "megalodon";
import { databaseKinds } from "../helpers/database.ts";
import { ownerToken } from "../helpers/api.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/** A signed Create of a public reply to `inReplyTo` that mentions the owner. */
async function sendReply(instance: TestInstance, remote: RemoteServer, inReplyTo: string, text: string): Promise<string> {
  const owner = `${instance.origin}/users/owner`;
  const id = `${remote.origin}/notes/${crypto.randomUUID()}`;
  const note = {
    id,
    type: "Note",
    attributedTo: remote.actorId,
    content: `<p><a href="${owner}" class="u-url mention">@owner</a> ${text}</p>`,
    published: new Date().toISOString(),
    inReplyTo,
    to: [PUBLIC],
    cc: [owner],
    tag: [{ type: "Mention", href: owner, name: `@owner@${new URL(instance.origin).host}` }],
  };
  const activity = { "@context": "https://www.w3.org/ns/activitystreams", id: `${id}/activity`, type: "Create", actor: remote.actorId, object: note, to: note.to, cc: note.cc };
  const response = await remote.post(`${instance.origin}/inbox`, activity);
  assert.equal(response.status, 202);
  return id;
}

async function sendFollow(instance: TestInstance, remote: RemoteServer): Promise<void> {
  const response = await remote.post(`${instance.origin}/inbox`, followActivity(remote, `${instance.origin}/users/owner`));
  assert.equal(response.status, 202);
}

/** Collects what an async iterable yields, in the background. */
function collect<T>(iterable: AsyncIterable<T>): T[] {
  const items: T[] = [];
  void (async () => {
    try {
      for await (const item of iterable) items.push(item);
    } catch {
      // The subscription ended.
    }
  })();
  return items;
}

for (const kind of databaseKinds()) {
  describe(`client libraries receive streamed events (${kind})`, () => {
    let instance: TestInstance;
    let token: string;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
    });
    after(async () => {
      await instance?.close();
    });

    test("masto.js: one multiplexed socket, the token as subprotocol", async () => {
      const remote = await startRemote("mastoreplier");
      const rest = createRestAPIClient({ url: instance.url, accessToken: token });
      const server = await rest.v2.instance.fetch();
      assert.equal(server.configuration.urls.streaming, instance.origin.replace(/^http/, "ws"));
      const streaming = createStreamingAPIClient({ streamingApiUrl: server.configuration.urls.streaming, accessToken: token, retry: false });
      const events = collect<mastodon.streaming.Event>(streaming.user.subscribe());
      try {
        // masto subscribes once its socket is open; a filters_changed shows the subscription is in place.
        await eventually(async () => {
          await instance.islet.core.events.emit("filters.changed", { accountId: instance.owner!.account.id });
          return events.some((event) => event.event === "filters_changed");
        }, "the subscription");

        const posted = await rest.v1.statuses.create({ status: "Streamed to masto.js" });
        const update = await eventually(async () => events.find((event) => event.event === "update" && event.payload.id === posted.id), "the update");
        assert.deepEqual(update.stream, ["user"]);
        assert.equal(update.event === "update" && update.payload.content, posted.content);

        const replyUri = await sendReply(instance, remote, posted.uri, "a reply for masto.js");
        const reply = await eventually(async () => events.find((event) => event.event === "update" && event.payload.uri === replyUri), "the incoming reply");
        assert.equal(reply.event === "update" && reply.payload.inReplyToId, posted.id);
        const mention = await eventually(async () => events.find((event) => event.event === "notification" && event.payload.type === "mention"), "the mention");
        assert.equal(mention.event === "notification" && mention.payload.status?.uri, replyUri);

        await sendFollow(instance, remote);
        const follow = await eventually(async () => events.find((event) => event.event === "notification" && event.payload.type === "follow"), "the follow");
        assert.equal(follow.event === "notification" && follow.payload.account.url != null, true);
        const counted = events.filter((event) => event.event === "notification").length;
        assert.equal(counted, 2, "each notification once");
      } finally {
        streaming.close();
        await remote.close();
      }
    });

    test("megalodon: one socket per stream, ?stream=user&access_token=", async () => {
      const remote = await startRemote("megareplier");
      const client = generator("mastodon", instance.url, token);
      const socket: WebSocketInterface = await client.userStreaming();
      const updates: Entity.Status[] = [];
      const notifications: Entity.Notification[] = [];
      socket.on("update", (status: Entity.Status) => updates.push(status));
      socket.on("notification", (notification: Entity.Notification) => notifications.push(notification));
      try {
        await new Promise<void>((resolve, reject) => {
          socket.on("connect", () => resolve());
          socket.on("error", (error: Error) => reject(error));
        });
        const posted = (await client.postStatus("Streamed to megalodon")).data as Entity.Status;
        await eventually(async () => updates.some((status) => status.id === posted.id), "the update");

        const replyUri = await sendReply(instance, remote, posted.uri, "a reply for megalodon");
        const reply = await eventually(async () => updates.find((status) => status.uri === replyUri), "the incoming reply");
        assert.equal(reply.in_reply_to_id, posted.id);
        const mention = await eventually(async () => notifications.find((notification) => notification.type === "mention"), "the mention");
        assert.equal(mention.status?.uri, replyUri);

        await sendFollow(instance, remote);
        await eventually(async () => notifications.find((notification) => notification.type === "follow"), "the follow");
        assert.equal(notifications.length, 2, "each notification once");
        assert.equal(updates.length, 2);
      } finally {
        socket.stop();
        await remote.close();
      }
    });
  });
}
