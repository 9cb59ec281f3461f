/**
 * A hostile peer's HTML: a stand-in actor whose bio and profile fields are
 * full of XSS vectors, and who posts, polls and edits with the same. What
 * the API and the streaming API then hand to clients carries no script, no
 * event handler, no `javascript:`/`data:` URL, no frame, no style, while
 * links, mentions and paragraphs survive. Plain-text fields (display name,
 * field names, poll options) come back as the text that was sent.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startDocumentServer, type DocumentServer, type RemoteActorHandle } from "../helpers/federation.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { SseClient } from "../streaming/helpers.ts";
import { assertHarmlessKept, assertNoActiveContent, HARMLESS, HOSTILE, VECTORS } from "../helpers/xss.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
const AS = ["https://www.w3.org/ns/activitystreams", { Hashtag: "as:Hashtag", sensitive: "as:sensitive", toot: "http://joinmastodon.org/ns#" }];

for (const kind of databaseKinds()) {
  describe(`hostile HTML from a remote actor (${kind})`, () => {
    let islet: TestInstance;
    let remote: DocumentServer;
    let mallory: RemoteActorHandle;
    let token: string;
    let owner: string;
    let stream: SseClient;
    let accountId: string;
    const noteId = () => `${remote.origin}/notes/${crypto.randomUUID()}`;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startDocumentServer()]);
      token = await ownerToken(islet);
      owner = `${islet.origin}/users/owner`;
      mallory = await remote.addActor("mallory");
      // As Mastodon writes it: fields as schema.org PropertyValues.
      const document = remote.documents.get("/users/mallory") as Record<string, unknown>;
      remote.documents.set("/users/mallory", {
        ...document,
        "@context": [...(document["@context"] as unknown[]), { schema: "http://schema.org#", PropertyValue: "schema:PropertyValue", value: "schema:value" }],
        name: `Mallory <script>alert("name")</script>`,
        summary: `${HARMLESS}${HOSTILE}`,
        url: "javascript:alert(1)",
        attachment: [
          ...VECTORS.map((vector, i) => ({ type: "PropertyValue", name: `field ${i} <b onmouseover="x">`, value: vector.html })),
          { type: "PropertyValue", name: "harmless", value: HARMLESS },
        ],
      });
      stream = await SseClient.open(`${islet.url}/api/v1/streaming/user/notification`, token);
    });
    after(async () => {
      stream?.close();
      await Promise.all([islet?.close(), remote?.close()]);
    });

    async function deliver(object: Record<string, unknown>, type = "Create") {
      const activity = { "@context": AS, id: `${object.id}#${type.toLowerCase()}-${crypto.randomUUID()}`, type, actor: mallory.id, object, to: [PUBLIC] };
      const response = await mallory.post(`${islet.origin}/inbox`, activity);
      assert.equal(response.status, 202);
    }

    function post(id: string, extra: Record<string, unknown> = {}) {
      return {
        id,
        type: "Note",
        attributedTo: mallory.id,
        content: `${HARMLESS}<p><span class="h-card"><a href="${owner}" class="u-url mention">@<span>owner</span></a></span></p>${HOSTILE}`,
        published: new Date().toISOString(),
        to: [PUBLIC],
        tag: [{ type: "Mention", href: owner, name: "@owner@localhost" }],
        ...extra,
      };
    }

    test("a mention from the actor: the notification streamed and listed, and its status, are clean", async () => {
      const id = noteId();
      await deliver(post(id));
      const event = await stream.inbox.next((e) => e.event === "notification", "the mention notification");
      const streamed = JSON.parse(event.data);
      assert.equal(streamed.type, "mention");
      assert.equal(streamed.status.uri, id);
      assertNoActiveContent(streamed, "the streamed notification");
      assertHarmlessKept(streamed.status.content, "the streamed status");
      assertHarmlessKept(streamed.account.note, "the streamed account");
      assert.match(streamed.status.content, /<a href="[^"]+\/users\/owner" class="u-url mention" rel="nofollow noopener" target="_blank">@<span>owner<\/span><\/a>/, "the mention survives");
      accountId = streamed.account.id;

      const listed = await api(islet, "GET", "/api/v1/notifications", { token });
      assert.equal(listed.status, 200);
      assert.ok((listed.body as any[]).some((n) => n.status?.uri === id), "the notification is listed");
      assertNoActiveContent(listed.body, "GET /api/v1/notifications");

      const status = await api(islet, "GET", `/api/v1/statuses/${streamed.status.id}`, { token });
      assert.equal(status.status, 200);
      assertNoActiveContent(status.body, "GET /api/v1/statuses/:id");
      assertHarmlessKept(status.body.content, "the status");
    });

    test("the account, looked up and by id, has a clean bio and field values, plain-text names and a web url", async () => {
      const host = new URL(remote.origin).host;
      const lookup = await api(islet, "GET", `/api/v1/accounts/lookup?acct=${encodeURIComponent(`mallory@${host}`)}`, { token });
      assert.equal(lookup.status, 200);
      const byId = await api(islet, "GET", `/api/v1/accounts/${lookup.body.id}`, { token });
      assert.equal(byId.status, 200);
      for (const [where, account] of [["lookup", lookup.body], ["by id", byId.body]] as const) {
        assertNoActiveContent(account, `GET /api/v1/accounts ${where}`);
        assertHarmlessKept(account.note, `the bio (${where})`);
        assert.equal(account.fields.length, VECTORS.length + 1);
        assertHarmlessKept(account.fields.at(-1).value, `the harmless field (${where})`);
        // Plain text comes back as sent, for the client to escape, as from Mastodon.
        assert.equal(account.display_name, `Mallory <script>alert("name")</script>`);
        assert.equal(account.fields[0].name, `field 0 <b onmouseover="x">`);
        assert.equal(account.url, mallory.id, "a javascript: profile URL is not handed out");
      }
    });

    test("a poll's options are stored as plain text, its content sanitised", async () => {
      const id = noteId();
      await deliver(post(id, {
        type: "Question",
        endTime: new Date(Date.now() + 86_400_000).toISOString(),
        oneOf: VECTORS.map((vector) => ({ type: "Note", name: vector.html, replies: { type: "Collection", totalItems: 0 } })),
      }));
      const event = await stream.inbox.next((e) => e.event === "notification" && JSON.parse(e.data).status?.uri === id, "the poll's mention");
      const streamed = JSON.parse(event.data);
      assertNoActiveContent(streamed, "the streamed poll");
      const status = await api(islet, "GET", `/api/v1/statuses/${streamed.status.id}`, { token });
      assertNoActiveContent(status.body, "GET /api/v1/statuses/:id (poll)");
      assertHarmlessKept(status.body.content, "the poll's content");
      assert.deepEqual(status.body.poll.options.map((option: any) => option.title), VECTORS.map((vector) => vector.html));
    });

    test("an edit is sanitised, and so is the history it leaves", async () => {
      const id = noteId();
      await deliver(post(id, { content: `<p><a href="${owner}" class="u-url mention">@owner</a> first</p>` }));
      const event = await stream.inbox.next((e) => e.event === "notification" && JSON.parse(e.data).status?.uri === id, "the first version");
      const statusId = JSON.parse(event.data).status.id;
      await deliver(post(id, { updated: new Date(Date.now() + 1000).toISOString(), summary: "cw" }), "Update");
      const edited = await eventually(async () => {
        const response = await api(islet, "GET", `/api/v1/statuses/${statusId}`, { token });
        return response.body.edited_at != null ? response.body : null;
      }, "the edit");
      assertNoActiveContent(edited, "the edited status");
      assertHarmlessKept(edited.content, "the edited status");
      const history = await api(islet, "GET", `/api/v1/statuses/${statusId}/history`, { token });
      assert.equal(history.status, 200);
      assert.equal((history.body as any[]).length, 2);
      assertNoActiveContent(history.body, "GET /api/v1/statuses/:id/history");
    });

    test("a profile update through the inbox is sanitised too", async () => {
      const document = remote.documents.get("/users/mallory") as Record<string, unknown>;
      const updated = { ...document, summary: `<p>new bio</p>${HOSTILE}`, attachment: [{ type: "PropertyValue", name: "site", value: HOSTILE }] };
      remote.documents.set("/users/mallory", updated);
      await deliver(updated, "Update");
      const account = await eventually(async () => {
        const response = await api(islet, "GET", `/api/v1/accounts/${accountId}`, { token });
        return response.body.note.startsWith("<p>new bio</p>") ? response.body : null;
      }, "the updated bio");
      assertNoActiveContent(account, "the updated account");
      assert.equal(account.fields[0].name, "site");
    });
  });
}
