/**
 * /api/v1/conversations: direct-message conversations kept from
 * `status.created` and `status.deleted` (registerConversations), listed
 * by latest status with Mastodon's Link header, marked read and removed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { registerConversations } from "../../src/core/conversations.ts";
import { newId } from "../../src/core/ids.ts";
import { mentions, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

type StatusRow = typeof statuses.$inferSelect;
const schema = openApiSchema();

async function remoteAccount(core: CoreContext, username: string): Promise<Account> {
  return await insertRemoteAccount(core, username, { domain: "dm.example", inboxUrl: `https://dm.example/users/${username}/inbox` });
}

for (const kind of databaseKinds()) {
  describe(`conversations API (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;
    let unsubscribe: () => void;

    /** Stores a status the way core does, then tells whoever listens. */
    async function post(author: Account, to: Account[], options: { inReplyTo?: StatusRow; visibility?: StatusRow["visibility"] } = {}): Promise<StatusRow> {
      const id = newId();
      const [row] = await core.db.insert(statuses).values({
        id,
        accountId: author.id,
        uri: `${author.uri}/statuses/${id}`,
        content: `<p>message ${id}</p>`,
        visibility: options.visibility ?? "direct",
        inReplyToId: options.inReplyTo?.id ?? null,
        inReplyToAccountId: options.inReplyTo?.accountId ?? null,
        conversationId: options.inReplyTo?.conversationId ?? id,
      }).returning();
      for (const account of to) await core.db.insert(mentions).values({ id: newId(), statusId: id, accountId: account.id });
      await core.events.emit("status.created", { statusId: id, accountId: author.id });
      return row;
    }

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      token = await ownerToken(instance);
      unsubscribe = registerConversations(core);
    });
    after(async () => {
      unsubscribe?.();
      await instance?.close();
    });

    test("scopes: read:statuses to list, write:conversations to change", async () => {
      assert.equal((await api(instance, "GET", "/api/v1/conversations")).status, 401);
      assert.equal((await api(instance, "GET", "/api/v1/conversations", { token: await ownerToken(instance, "read:accounts") })).status, 403);
      const empty = await api(instance, "GET", "/api/v1/conversations", { token: await ownerToken(instance, "read:statuses") });
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, []);
      assert.equal(empty.headers.get("link"), null);
      const readOnly = await ownerToken(instance, "read");
      assert.equal((await api(instance, "POST", `/api/v1/conversations/${newId()}/read`, { token: readOnly })).status, 403);
      assert.equal((await api(instance, "DELETE", `/api/v1/conversations/${newId()}`, { token: readOnly })).status, 403);
      assert.equal((await api(instance, "POST", `/api/v1/conversations/${newId()}/read`, { token: await ownerToken(instance, "write:conversations") })).status, 404);
    });

    test("a direct message makes an unread conversation; replies update it; read; delete", async () => {
      const alice = await remoteAccount(core, "alice");
      const bob = await remoteAccount(core, "bob");
      const hello = await post(alice, [owner]);
      await post(alice, [owner], { visibility: "private" });
      await post(alice, [bob]);

      let list = await api(instance, "GET", "/api/v1/conversations", { token });
      assert.equal(list.status, 200);
      assert.equal(list.body.length, 1, "only the direct status to the owner counts");
      const [conversation] = list.body;
      assert.equal(conversation.unread, true);
      assert.deepEqual(conversation.accounts.map((a: { id: string }) => a.id), [alice.id.toString()]);
      assert.equal(conversation.last_status?.id, hello.id.toString());
      if (schema) assertMatchesSchema("Conversation", conversation);

      const reply = await post(owner, [alice, bob], { inReplyTo: hello });
      list = await api(instance, "GET", "/api/v1/conversations", { token });
      assert.equal(list.body.length, 1);
      assert.equal(list.body[0].id, conversation.id, "the same thread, the same conversation");
      assert.equal(list.body[0].unread, false, "the owner's reply");
      assert.deepEqual(list.body[0].accounts.map((a: { id: string }) => a.id).sort(), [alice.id.toString(), bob.id.toString()].sort());
      assert.equal(list.body[0].last_status.id, reply.id.toString());

      await post(bob, [owner, alice], { inReplyTo: reply });
      assert.equal((await api(instance, "GET", "/api/v1/conversations", { token })).body[0].unread, true);
      const read = await api(instance, "POST", `/api/v1/conversations/${conversation.id}/read`, { token });
      assert.equal(read.status, 200);
      assert.equal(read.body.id, conversation.id);
      assert.equal(read.body.unread, false);
      if (schema) assertMatchesSchema("Conversation", read.body);
      assert.equal((await api(instance, "GET", "/api/v1/conversations", { token })).body[0].unread, false);

      const deleted = await api(instance, "DELETE", `/api/v1/conversations/${conversation.id}`, { token });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, {});
      assert.deepEqual((await api(instance, "GET", "/api/v1/conversations", { token })).body, []);
      assert.equal((await api(instance, "DELETE", `/api/v1/conversations/${conversation.id}`, { token })).status, 404);
      assert.equal((await api(instance, "POST", `/api/v1/conversations/${conversation.id}/read`, { token })).status, 404);
      assert.equal((await api(instance, "POST", "/api/v1/conversations/nonsense/read", { token })).status, 404);
      const remains = await core.db.select({ id: statuses.id }).from(statuses);
      assert.ok(remains.some((row) => row.id === reply.id), "statuses stay");
    });

    test("a note to self lists the owner; pages go by latest status with Mastodon's Link header", async () => {
      const carol = await remoteAccount(core, "carol");
      const dave = await remoteAccount(core, "dave");
      const note = await post(owner, []);
      const fromCarol = await post(carol, [owner]);
      const fromDave = await post(dave, [owner]);
      const all = await api(instance, "GET", "/api/v1/conversations", { token });
      assert.deepEqual(all.body.map((c: { last_status: { id: string } }) => c.last_status.id), [fromDave, fromCarol, note].map((s) => s.id.toString()));
      assert.deepEqual(all.body[2].accounts.map((a: { id: string }) => a.id), [owner.id.toString()]);
      assert.equal(all.body[2].unread, false);
      assert.equal(all.headers.get("link"), `<${instance.origin}/api/v1/conversations?min_id=${fromDave.id}>; rel="prev"`, "no next when the page is not full");

      const first = await api(instance, "GET", "/api/v1/conversations?limit=2", { token });
      assert.equal(first.body.length, 2);
      assert.equal(
        first.headers.get("link"),
        `<${instance.origin}/api/v1/conversations?limit=2&max_id=${fromCarol.id}>; rel="next", <${instance.origin}/api/v1/conversations?limit=2&min_id=${fromDave.id}>; rel="prev"`,
      );
      const next = await api(instance, "GET", `/api/v1/conversations?limit=2&max_id=${fromCarol.id}`, { token });
      assert.deepEqual(next.body.map((c: { last_status: { id: string } }) => c.last_status.id), [note.id.toString()]);
      const forward = await api(instance, "GET", `/api/v1/conversations?limit=1&min_id=${note.id}`, { token });
      assert.deepEqual(forward.body.map((c: { last_status: { id: string } }) => c.last_status.id), [fromCarol.id.toString()]);
      if (schema) for (const conversation of all.body) assertMatchesSchema("Conversation", conversation);
    });

    test("deleting the latest status falls back to the one before", async () => {
      const erin = await remoteAccount(core, "erin");
      const first = await post(erin, [owner]);
      const second = await post(erin, [owner], { inReplyTo: first });
      const find = async () => (await api(instance, "GET", "/api/v1/conversations", { token })).body.find((c: { accounts: { id: string }[] }) => c.accounts.some((a) => a.id === erin.id.toString()));
      assert.equal((await find())?.last_status.id, second.id.toString());
      await core.db.delete(statuses).where((await import("drizzle-orm")).eq(statuses.id, second.id));
      await core.events.emit("status.deleted", { statusId: second.id, accountId: erin.id, uri: second.uri, visibility: "direct", reblogOfId: null, mentionedAccountIds: [owner.id] });
      assert.equal((await find())?.last_status.id, first.id.toString());
    });
  });
}
