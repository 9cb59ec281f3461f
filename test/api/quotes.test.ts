/**
 * Quote posts in the Mastodon API: quoted_status_id and
 * quote_approval_policy when posting and editing, the Status `quote`
 * (Quote, with ShallowQuote one level down) and `quote_approval`, the
 * quotes of a post (paged), revoking, the interaction policy, the `quote`
 * and `quoted_update` notifications, and the errors Mastodon gives.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import { findQuoteOf, quoteAnswered, receiveQuoteRequest } from "../../src/core/quotes.ts";
import { publishDueScheduledStatuses } from "../../src/core/scheduled-statuses.ts";
import { findStatus, type StatusRow } from "../../src/core/statuses.ts";
import { receiveStatus, receiveStatusUpdate, type RemoteStatusInput } from "../../src/core/remote-statuses.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, linkPath, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";
import { SseClient } from "../streaming/helpers.ts";

const schema = openApiSchema();
let counter = 0;

function remotePost(author: Account, content: string, extra: Partial<RemoteStatusInput> = {}): RemoteStatusInput {
  counter++;
  return {
    uri: `${author.uri}/statuses/${Date.now()}-${counter}`,
    url: null,
    content: `<p>${content}</p>`,
    spoilerText: "",
    sensitive: false,
    visibility: "public",
    language: "en",
    inReplyToUri: null,
    tagNames: [],
    attachments: [],
    poll: null,
    published: new Date(),
    updated: null,
    ...extra,
  };
}

for (const kind of databaseKinds()) {
  describe(`quote posts in the API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let post: (body: unknown) => Promise<{ status: number; body: any; headers: Headers }>;
    const get = (path: string) => api(instance, "GET", path, { token });

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      post = (body) => api(instance, "POST", "/api/v1/statuses", { token, body });
    });
    after(async () => {
      await instance?.close();
    });

    test("the owner quotes their own post: accepted at once, with the quoted post in full and its own quote shallow", async () => {
      const first = await post({ status: "the first" });
      assert.deepEqual(first.body.quote, null);
      assert.deepEqual(first.body.quote_approval, { automatic: ["public"], manual: [], current_user: "automatic" });
      const second = await post({ status: "quoting the first", quoted_status_id: first.body.id, quote_approval_policy: "followers" });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(second.body.quote.state, "accepted");
      assert.equal(second.body.quote.quoted_status.id, first.body.id);
      // For servers that know no quotes, a link to the quoted post goes first.
      assert.equal(second.body.content, `<p class="quote-inline">RE: <a href="${first.body.url}">${first.body.url}</a></p><p>quoting the first</p>`);
      assert.deepEqual(second.body.quote_approval, { automatic: ["followers"], manual: [], current_user: "automatic" });
      const third = await post({ status: "quoting the second", quoted_status_id: second.body.id });
      // One level down, Mastodon names the quoted post by id only.
      assert.deepEqual(third.body.quote.quoted_status.quote, { state: "accepted", quoted_status_id: first.body.id });
      assert.equal((await get(`/api/v1/statuses/${first.body.id}`)).body.quotes_count, 1);
      if (schema != null) assertMatchesSchema("Status", third.body);

      // The quoted post deleted: the quote says so.
      const gone = await post({ status: "soon gone" });
      const ofGone = await post({ status: "quoting what goes", quoted_status_id: gone.body.id });
      assert.equal((await api(instance, "DELETE", `/api/v1/statuses/${gone.body.id}`, { token })).status, 200);
      assert.deepEqual((await get(`/api/v1/statuses/${ofGone.body.id}`)).body.quote, { state: "deleted", quoted_status: null });

      // Quoting a boost quotes its original.
      const boost = await api(instance, "POST", `/api/v1/statuses/${first.body.id}/reblog`, { token });
      const viaBoost = await post({ status: "via a boost", quoted_status_id: boost.body.id });
      assert.equal(viaBoost.body.quote.quoted_status.id, first.body.id);
    });

    test("errors as Mastodon: unknown post 404, private post 422, policy not allowed 422, bad policy 422", async () => {
      const core = instance.islet.core;
      assert.equal((await post({ status: "x", quoted_status_id: "123456" })).status, 404);
      const stranger = await insertRemoteAccount(core, `stranger${++counter}`);
      const followersOnly = await receiveStatus(core, stranger, remotePost(stranger, "for followers", { visibility: "private" }), [instance.owner!.account]);
      const refused = await post({ status: "x", quoted_status_id: followersOnly.id.toString() });
      assert.equal(refused.status, 422);
      assert.match(refused.body.error, /^Validation failed: /);
      const closed = await receiveStatus(core, stranger, remotePost(stranger, "no quotes", { quotePolicy: "nobody" }), []);
      const denied = await post({ status: "x", quoted_status_id: closed.id.toString() });
      assert.equal(denied.status, 422);
      assert.match(denied.body.error, /does not allow/);
      const badPolicy = await post({ status: "x", quote_approval_policy: "everyone" });
      assert.equal(badPolicy.status, 422);

      // The owner's own private post: its quote is followers-only at most.
      const mine = await post({ status: "private thought", visibility: "private" });
      assert.deepEqual(mine.body.quote_approval, { automatic: [], manual: [], current_user: "automatic" });
      const lowered = await post({ status: "public, they said", quoted_status_id: mine.body.id });
      assert.equal(lowered.status, 200);
      assert.equal(lowered.body.visibility, "private");
      assert.equal(lowered.body.quote.state, "accepted");
      // Direct posts are quoted by nobody; a direct quote must mention the quoted author.
      const direct = await post({ status: "just me", visibility: "direct" });
      assert.equal((await post({ status: "x", quoted_status_id: direct.body.id })).status, 422);
      const open = await receiveStatus(core, stranger, remotePost(stranger, "open", { quotePolicy: "public" }), []);
      const unmentioned = await post({ status: "quietly", visibility: "direct", quoted_status_id: open.id.toString() });
      assert.equal(unmentioned.status, 422);
      assert.match(unmentioned.body.error, /mention/);
      const mentioned = await post({ status: `@${stranger.username}@${stranger.domain} look`, visibility: "direct", quoted_status_id: open.id.toString() });
      assert.equal(mentioned.status, 200, JSON.stringify(mentioned.body));
    });

    test("remote posts: a quote of one waits for its author; the policy as it applies to the owner", async () => {
      const core = instance.islet.core;
      const author = await insertRemoteAccount(core, `author${++counter}`);
      const open = await receiveStatus(core, author, remotePost(author, "open", { quotePolicy: "public" }), []);
      const followers = await receiveStatus(core, author, remotePost(author, "followers", { quotePolicy: "followers" }), []);
      const unstated = await receiveStatus(core, author, remotePost(author, "unstated"), []);
      assert.deepEqual((await get(`/api/v1/statuses/${open.id}`)).body.quote_approval, { automatic: ["public"], manual: [], current_user: "automatic" });
      assert.deepEqual((await get(`/api/v1/statuses/${followers.id}`)).body.quote_approval, { automatic: ["followers"], manual: [], current_user: "denied" });
      assert.deepEqual((await get(`/api/v1/statuses/${unstated.id}`)).body.quote_approval, { automatic: [], manual: [], current_user: "unknown" });
      const pending = await post({ status: "quoting a remote post", quoted_status_id: open.id.toString() });
      assert.deepEqual(pending.body.quote, { state: "pending", quoted_status: null });
      // Anyone without a token sees the policy as "unknown" to them.
      const anonymous = await api(instance, "GET", `/api/v1/statuses/${open.id}`);
      assert.equal(anonymous.body.quote_approval.current_user, "unknown");
    });

    test("editing: the quote policy changes, a quote can be added but not swapped", async () => {
      const target = await post({ status: "to be quoted" });
      const other = await post({ status: "another" });
      const plain = await post({ status: "plain" });
      const edited = await api(instance, "PUT", `/api/v1/statuses/${plain.body.id}`, {
        token,
        body: { status: "plain, now quoting", quoted_status_id: target.body.id, quote_approval_policy: "nobody" },
      });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal(edited.body.quote.quoted_status.id, target.body.id);
      assert.deepEqual(edited.body.quote_approval.automatic, []);
      const swapped = await api(instance, "PUT", `/api/v1/statuses/${plain.body.id}`, { token, body: { status: "swap", quoted_status_id: other.body.id } });
      assert.equal(swapped.status, 422);
    });

    test("streaming: a quote's update event carries its quote, as the API shows it", async () => {
      const client = await SseClient.open(`${instance.url}/api/v1/streaming/user`, token);
      try {
        const target = await post({ status: "streamed and quoted" });
        const quoting = await post({ status: "streamed quote", quoted_status_id: target.body.id });
        const update = await client.next((e) => e.event === "update" && JSON.parse(e.data).id === quoting.body.id, "the quote's update");
        const streamed = JSON.parse(update.data);
        assert.equal(streamed.quote.state, "accepted");
        assert.equal(streamed.quote.quoted_status.id, target.body.id);
        assert.deepEqual(streamed.quote, (await get(`/api/v1/statuses/${quoting.body.id}`)).body.quote);
      } finally {
        client.close();
      }
    });

    test("a scheduled quote keeps its quote and policy, and is published quoting", async () => {
      const target = await post({ status: "quoted later" });
      const later = new Date(Date.now() + 3_600_000);
      const scheduled = await post({ status: "scheduled quote", quoted_status_id: target.body.id, quote_approval_policy: "followers", scheduled_at: later.toISOString() });
      assert.equal(scheduled.status, 200, JSON.stringify(scheduled.body));
      assert.equal(scheduled.body.params.quoted_status_id, target.body.id);
      assert.equal(scheduled.body.params.quote_approval_policy, "followers");
      const [published] = await publishDueScheduledStatuses(instance.islet.core, new Date(later.getTime() + 1000));
      const shown = await get(`/api/v1/statuses/${published.id}`);
      assert.equal(shown.body.quote.quoted_status.id, target.body.id);
      assert.deepEqual(shown.body.quote_approval.automatic, ["followers"]);
    });

    test("interaction_policy: changes who may quote; only the author's posts (403 otherwise); bad values refused", async () => {
      const mine = await post({ status: "policy" });
      const changed = await api(instance, "PUT", `/api/v1/statuses/${mine.body.id}/interaction_policy`, { token, body: { quote_approval_policy: "followers" } });
      assert.equal(changed.status, 200);
      assert.deepEqual(changed.body.quote_approval.automatic, ["followers"]);
      assert.equal((await api(instance, "PUT", `/api/v1/statuses/${mine.body.id}/interaction_policy`, { token, body: { quote_approval_policy: "all" } })).status, 422);
      // No policy given: the default (anyone).
      const reset = await api(instance, "PUT", `/api/v1/statuses/${mine.body.id}/interaction_policy`, { token, body: {} });
      assert.equal(reset.status, 200);
      assert.deepEqual(reset.body.quote_approval.automatic, ["public"]);
      // A followers-only post stays quoted by nobody else.
      const hidden = await post({ status: "followers only", visibility: "private" });
      const unchanged = await api(instance, "PUT", `/api/v1/statuses/${hidden.body.id}/interaction_policy`, { token, body: { quote_approval_policy: "public" } });
      assert.equal(unchanged.status, 200);
      assert.deepEqual(unchanged.body.quote_approval.automatic, []);
      const author = await insertRemoteAccount(instance.islet.core, `other${++counter}`);
      const theirs = await receiveStatus(instance.islet.core, author, remotePost(author, "theirs"), []);
      // Someone else's post: Mastodon's 403.
      assert.equal((await api(instance, "PUT", `/api/v1/statuses/${theirs.id}/interaction_policy`, { token, body: { quote_approval_policy: "public" } })).status, 403);
      assert.equal((await api(instance, "PUT", `/api/v1/statuses/${mine.body.id}/interaction_policy`, { body: { quote_approval_policy: "public" } })).status, 401);
    });

    test("quotes of the owner's post: listed in pages, notified, revoked", async () => {
      const core = instance.islet.core;
      const original = await post({ status: "quote me" });
      const quoted = (await findStatus(core, BigInt(original.body.id)))!;
      const quoting: StatusRow[] = [];
      for (let i = 0; i < 3; i++) {
        const fan = await insertRemoteAccount(core, `fan${++counter}`);
        const row = await receiveStatus(core, fan, remotePost(fan, `quote ${i}`), []);
        await receiveQuoteRequest(core, fan, quoted, row, `${fan.uri}#quote-request-${i}`);
        quoting.push(row);
      }
      const page = await get(`/api/v1/statuses/${original.body.id}/quotes?limit=2`);
      assert.equal(page.status, 200);
      assert.deepEqual(page.body.map((s: { id: string }) => s.id), [quoting[2].id.toString(), quoting[1].id.toString()]);
      const next = linkPath(page.headers.get("Link"), "next");
      assert.ok(next);
      const rest = await get(next);
      assert.deepEqual(rest.body.map((s: { id: string }) => s.id), [quoting[0].id.toString()]);
      assert.equal(page.body[0].quote.quoted_status.id, original.body.id);

      const notifications = await get("/api/v1/notifications?types[]=quote");
      const quoteNotes = notifications.body.filter((n: { status: { id: string } }) => quoting.some((row) => row.id.toString() === n.status.id));
      assert.equal(quoteNotes.length, 3);
      assert.equal(quoteNotes[0].type, "quote");

      const revoked = await api(instance, "POST", `/api/v1/statuses/${original.body.id}/quotes/${quoting[1].id}/revoke`, { token });
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.id, quoting[1].id.toString());
      assert.deepEqual(revoked.body.quote, { state: "revoked", quoted_status: null });
      const after = await get(`/api/v1/statuses/${original.body.id}/quotes`);
      assert.equal(after.body.length, 2);
      assert.equal((await get(`/api/v1/statuses/${original.body.id}`)).body.quotes_count, 2);
      // Not a quote of this post, or not the owner's post: 404.
      assert.equal((await api(instance, "POST", `/api/v1/statuses/${original.body.id}/quotes/${original.body.id}/revoke`, { token })).status, 404);
      assert.equal((await api(instance, "POST", `/api/v1/statuses/${quoting[0].id}/quotes/${quoting[1].id}/revoke`, { token })).status, 404);
      // Any post the viewer may see lists its quotes (none known here).
      const ofRemote = await get(`/api/v1/statuses/${quoting[0].id}/quotes`);
      assert.equal(ofRemote.status, 200);
      assert.deepEqual(ofRemote.body, []);
      // Someone else's post quoted by the owner: only its author may revoke.
      const elsewhere = await insertRemoteAccount(core, `elsewhere${++counter}`);
      const theirs = await receiveStatus(core, elsewhere, remotePost(elsewhere, "theirs", { quotePolicy: "public" }), []);
      const mine = await post({ status: "quoting theirs", quoted_status_id: theirs.id.toString() });
      assert.equal((await api(instance, "POST", `/api/v1/statuses/${theirs.id}/quotes/${mine.body.id}/revoke`, { token })).status, 403);
      assert.equal((await get(`/api/v1/statuses/${original.body.id}/quotes?limit=1`)).body.length, 1);
    });

    test("quoted_update: the owner hears when a post they quoted is edited", async () => {
      const core = instance.islet.core;
      const author = await insertRemoteAccount(core, `editor${++counter}`);
      const input = remotePost(author, "before", { quotePolicy: "public" });
      const theirs = await receiveStatus(core, author, input, []);
      const mine = await post({ status: "quoting it", quoted_status_id: theirs.id.toString() });
      // As the author's server approves: accepted.
      await quoteAnswered(core, (await findQuoteOf(core, BigInt(mine.body.id)))!, { accepted: true, authorizationUri: `${author.uri}/quote_authorizations/1` });
      await receiveStatusUpdate(core, author, { ...input, content: "<p>after</p>", updated: new Date(Date.now() + 1000) }, []);
      const notifications = await get("/api/v1/notifications?types[]=quoted_update");
      assert.equal(notifications.body.length, 1);
      assert.equal(notifications.body[0].type, "quoted_update");
      assert.equal(notifications.body[0].account.id, author.id.toString());
      assert.equal(notifications.body[0].status.id, mine.body.id);
      assert.equal(notifications.body[0].status.quote.quoted_status.content, "<p>after</p>");
    });
  });
}
