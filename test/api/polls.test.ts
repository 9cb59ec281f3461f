/**
 * /api/v1/polls: a poll made with a post, viewing it, voting (once, one
 * choice unless multiple-choice, not on one's own nor an expired poll),
 * hidden totals, visibility and scopes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { IsletEvents } from "../../src/core/events.ts";
import { newId } from "../../src/core/ids.ts";
import { votePoll } from "../../src/core/polls.ts";
import { storeStatus, type NewPoll, type StatusRow } from "../../src/core/statuses.ts";
import { polls } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const checkSchema = (name: string, value: unknown) => {
  if (schema != null) assertMatchesSchema(name, value);
};

let counter = 0;

async function remoteAccount(instance: TestInstance): Promise<Account> {
  const username = `voter${++counter}`;
  return await insertRemoteAccount(instance.islet.core, username, { domain: "polls.example", displayName: "" });
}

async function remotePoll(
  instance: TestInstance,
  author: Account,
  poll: Partial<NewPoll> = {},
  visibility: StatusRow["visibility"] = "public",
): Promise<{ status: StatusRow; pollId: string }> {
  const id = newId();
  const status = await storeStatus(instance.islet.core, author, {
    id,
    uri: `https://polls.example/statuses/${id}`,
    url: null,
    content: "<p>which?</p>",
    text: null,
    spoilerText: "",
    sensitive: false,
    visibility,
    language: null,
    inReplyTo: null,
    applicationId: null,
    mentionedAccountIds: [],
    tagNames: [],
    media: [],
    poll: {
      options: ["red", "green", "blue"],
      expiresAt: new Date(Date.now() + 3_600_000),
      multiple: false,
      hideTotals: false,
      votesCounts: [2, 0, 1],
      votersCount: 3,
      ...poll,
    },
  });
  const rows = await instance.islet.core.db.select().from(polls).where(eq(polls.statusId, status.id));
  return { status, pollId: rows[0].id.toString() };
}

function assertError(response: { status: number; body: any }, status: number, what: string): void {
  assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(typeof response.body?.error, "string", `${what}: error body ${JSON.stringify(response.body)}`);
}

for (const kind of databaseKinds()) {
  describe(`polls API (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let author: Account;

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      author = await remoteAccount(instance);
    });
    after(async () => {
      await instance?.close();
    });

    test("a post with a poll shows it, and its author counts as having voted", async () => {
      const before = Date.now();
      const response = await api(instance, "POST", "/api/v1/statuses", {
        token,
        body: { status: "pick one", poll: { options: ["yes", "no"], expires_in: 600, hide_totals: true } },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const poll = response.body.poll;
      checkSchema("Poll", poll);
      assert.match(poll.id, /^\d+$/);
      assert.equal(poll.multiple, false);
      assert.equal(poll.expired, false);
      assert.equal(poll.votes_count, 0);
      assert.equal(poll.voters_count, 0);
      assert.deepEqual(poll.options, [{ title: "yes", votes_count: 0 }, { title: "no", votes_count: 0 }]);
      assert.deepEqual(poll.emojis, []);
      assert.equal(poll.voted, true);
      assert.deepEqual(poll.own_votes, []);
      const expires = Date.parse(poll.expires_at);
      assert.ok(expires >= before + 600_000 - 1000 && expires <= Date.now() + 600_000 + 1000, poll.expires_at);

      const anonymous = await api(instance, "GET", `/api/v1/polls/${poll.id}`);
      assert.equal(anonymous.status, 200);
      checkSchema("Poll", anonymous.body);
      assert.equal(anonymous.body.voted, undefined);
      assert.equal(anonymous.body.own_votes, undefined);
      // Totals are hidden from others until the end.
      assert.deepEqual(anonymous.body.options.map((o: any) => o.votes_count), [null, null]);
      assertError(await api(instance, "POST", `/api/v1/polls/${poll.id}/votes`, { token, body: { choices: [0] } }), 422, "own poll");
    });

    test("voting once on a single-choice poll", async () => {
      const { status, pollId } = await remotePoll(instance, author);
      const events: IsletEvents["poll.voted"][] = [];
      const off = instance.islet.core.events.on("poll.voted", (payload) => {
        events.push(payload);
      });
      const viewed = await api(instance, "GET", `/api/v1/polls/${pollId}`, { token });
      assert.equal(viewed.body.voted, false);
      assert.deepEqual(viewed.body.own_votes, []);
      assertError(await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [0, 1] } }), 422, "two choices");
      const voted = await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: ["1"] } });
      off();
      assert.equal(voted.status, 200, JSON.stringify(voted.body));
      checkSchema("Poll", voted.body);
      assert.equal(voted.body.voted, true);
      assert.deepEqual(voted.body.own_votes, [1]);
      assert.deepEqual(voted.body.options.map((o: any) => o.votes_count), [2, 1, 1]);
      assert.equal(voted.body.votes_count, 4);
      assert.equal(voted.body.voters_count, 4);
      assert.equal(events.length, 1);
      assert.deepEqual(events[0], { pollId: BigInt(pollId), statusId: status.id, accountId: instance.owner!.account.id, choices: [1] });
      assertError(await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [1] } }), 422, "again");
      assertError(await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [2] } }), 422, "another choice");
      const statusView = await api(instance, "GET", `/api/v1/statuses/${status.id}`, { token });
      assert.deepEqual(statusView.body.poll.own_votes, [1]);
    });

    test("a multiple-choice poll takes several choices, each once", async () => {
      const { pollId } = await remotePoll(instance, author, { multiple: true, votesCounts: [0, 0, 0], votersCount: 0 });
      const form = new URLSearchParams();
      form.append("choices[]", "0");
      form.append("choices[]", "2");
      const voted = await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: form });
      assert.equal(voted.status, 200, JSON.stringify(voted.body));
      assert.deepEqual(voted.body.own_votes, [0, 2]);
      assert.deepEqual(voted.body.options.map((o: any) => o.votes_count), [1, 0, 1]);
      assert.equal(voted.body.votes_count, 2);
      assert.equal(voted.body.voters_count, 1);
      assertError(await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [2] } }), 422, "same choice again");
      // A remote voter sends one vote per choice.
      const remote = await remoteAccount(instance);
      await votePoll(instance.islet.core, remote, BigInt(pollId), [0]);
      const after = await votePoll(instance.islet.core, remote, BigInt(pollId), [1]);
      assert.deepEqual(after.votesCounts, [2, 1, 1]);
      assert.equal(after.votersCount, 2);
    });

    test("refuses bad votes", async () => {
      const { pollId } = await remotePoll(instance, author);
      const vote = (body: unknown, t: string | null = token) => api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token: t, body });
      assertError(await vote({}), 422, "no choices");
      assertError(await vote({ choices: [] }), 422, "empty choices");
      assertError(await vote({ choices: ["first"] }), 422, "not an index");
      assertError(await vote({ choices: [-1] }), 422, "negative");
      assertError(await vote({ choices: [3] }), 422, "out of range");
      assertError(await vote({ choices: [1.5] }), 422, "fraction");
      assertError(await vote({ choices: [0, 0] }), 422, "duplicate");
      assertError(await vote({ choices: [0] }, null), 401, "no token");
      assertError(await vote({ choices: [0] }, await ownerToken(instance, "read write:favourites")), 403, "wrong scope");
      assertError(await api(instance, "POST", "/api/v1/polls/123456/votes", { token, body: { choices: [0] } }), 404, "unknown poll");
      assertError(await api(instance, "POST", "/api/v1/polls/x/votes", { token, body: { choices: [0] } }), 404, "malformed id");
      const granular = await vote({ choices: [0] }, await ownerToken(instance, "write:statuses"));
      assert.equal(granular.status, 200, JSON.stringify(granular.body));
    });

    test("an expired poll takes no votes and shows its totals", async () => {
      const { pollId } = await remotePoll(instance, author, { expiresAt: new Date(Date.now() - 1000), hideTotals: true });
      const viewed = await api(instance, "GET", `/api/v1/polls/${pollId}`, { token });
      assert.equal(viewed.body.expired, true);
      assert.deepEqual(viewed.body.options.map((o: any) => o.votes_count), [2, 0, 1]);
      assertError(await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [0] } }), 422, "expired");
    });

    test("hidden totals stay hidden from voters until the end", async () => {
      const { pollId } = await remotePoll(instance, author, { hideTotals: true });
      const voted = await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [0] } });
      assert.equal(voted.status, 200);
      assert.deepEqual(voted.body.options.map((o: any) => o.votes_count), [null, null, null]);
      assert.equal(voted.body.votes_count, 4);
    });

    test("a poll of a post the viewer cannot see is not found", async () => {
      const { pollId } = await remotePoll(instance, author, {}, "private");
      assertError(await api(instance, "GET", `/api/v1/polls/${pollId}`, { token }), 404, "private poll");
      assertError(await api(instance, "GET", `/api/v1/polls/${pollId}`), 404, "private poll, no token");
      assertError(await api(instance, "POST", `/api/v1/polls/${pollId}/votes`, { token, body: { choices: [0] } }), 404, "vote on private");
      assertError(await api(instance, "GET", "/api/v1/polls/999"), 404, "unknown");
      const { pollId: visible } = await remotePoll(instance, author);
      assertError(await api(instance, "GET", `/api/v1/polls/${visible}`, { token: await ownerToken(instance, "write") }), 403, "no read scope");
    });
  });
}
