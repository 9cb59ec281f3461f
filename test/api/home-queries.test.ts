/**
 * The number of database queries one page of the home timeline makes is
 * fixed: the same for 5 statuses as for 40, and the same whether the owner
 * has posted 3 statuses or hundreds. Statuses in the page carry everything
 * that is loaded per status (boosts, media, mentions, tags, polls, the
 * owner's favourites, boosts, bookmarks, pins and muted conversations), so
 * a loop of per-status queries anywhere shows up as a difference. And no
 * query of the page counts the owner's statuses: the owner's
 * statuses_count is a stored counter.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { bookmarks, conversationMutes, favourites, follows, polls, statusPins, statusTags, tags } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

/**
 * The queries drizzle sends (outside transactions) while `run` runs, but
 * the queue worker's, which polls on its own schedule.
 */
async function queriesOf(core: CoreContext, run: () => Promise<void>): Promise<string[]> {
  // Prepared queries keep the session's logger object: its method is what is swapped.
  const logger = (core.db as unknown as { session: { logger: { logQuery(query: string, params: unknown[]): void } } }).session.logger;
  const seen: string[] = [];
  logger.logQuery = (query) => void (/\bqueue_messages\b/.test(query) || seen.push(query));
  try {
    await run();
  } finally {
    delete (logger as Partial<typeof logger>).logQuery;
  }
  return seen;
}

/** The queries, one short line each, for a failure message. */
function listed(queries: readonly string[]): string {
  return queries.map((query) => query.replace(/\s+/g, " ").slice(0, 160)).join("\n");
}

for (const kind of databaseKinds()) {
  describe(`home timeline query count (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;
    let tagId: bigint;
    const friends: Account[] = [];
    let stranger: Account;

    /** One status of each kind the page renders, by `author`, with the owner's marks. */
    async function varied(author: Account, others: Account[]): Promise<void> {
      const plain = await insertTestStatus(core, author, { media: true, mentions: others });
      await core.db.insert(statusTags).values({ statusId: plain.id, tagId });
      await core.db.insert(polls).values({ id: newId(), statusId: plain.id, options: ["a", "b"], votesCounts: [0, 0], expiresAt: new Date(Date.now() + 86_400_000) });
      await core.db.insert(favourites).values({ id: newId(), accountId: owner.id, statusId: plain.id });
      await core.db.insert(bookmarks).values({ id: newId(), accountId: owner.id, statusId: plain.id });
      await core.db.insert(conversationMutes).values({ accountId: owner.id, conversationId: plain.conversationId ?? plain.id }).onConflictDoNothing();
      if (author.id === owner.id) await core.db.insert(statusPins).values({ id: newId(), accountId: owner.id, statusId: plain.id });
      const stranger = others[others.length - 1];
      const boosted = await insertTestStatus(core, stranger, { media: true });
      await insertTestStatus(core, author, { reblogOf: boosted });
      await insertTestStatus(core, author, { inReplyTo: plain, mentions: [owner] });
    }

    async function homeQueries(limit: number): Promise<string[]> {
      let count = 0;
      const queries = await queriesOf(core, async () => {
        const response = await api(instance, "GET", `/api/v1/timelines/home?limit=${limit}`, { token });
        assert.equal(response.status, 200);
        count = response.body.length;
      });
      assert.equal(count, limit, "the home timeline has enough statuses for a full page");
      return queries;
    }

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      token = await ownerToken(instance);
      tagId = newId();
      await core.db.insert(tags).values({ id: tagId, name: "counted", displayName: "counted" });
      for (let i = 0; i < 8; i++) {
        const friend = await insertRemoteAccount(core, `qc_friend${i}`, { domain: `qc${i}.example`, inboxUrl: `https://qc${i}.example/inbox` });
        await core.db.insert(follows).values({ id: newId(), accountId: owner.id, targetAccountId: friend.id, state: "accepted" });
        friends.push(friend);
      }
      stranger = await insertRemoteAccount(core, "qc_stranger", { domain: "stranger.example", inboxUrl: "https://stranger.example/inbox" });
      // 4 statuses of each friend per round (and the strangers' boosted ones): more than 40 in the home timeline.
      for (let round = 0; round < 2; round++) {
        for (const friend of friends) await varied(friend, [owner, friends[(friends.indexOf(friend) + 1) % friends.length], stranger]);
      }
      // The owner's own: three statuses (a post, a boost, a reply), the newest in the timeline.
      await varied(owner, [friends[0], stranger]);
    });
    after(async () => {
      await instance?.close();
    });

    test("a page of 5 and a page of 40 take the same number of queries", async () => {
      // The first request warms whatever is cached per process (the token, the owner).
      await homeQueries(5);
      const small = await homeQueries(5);
      const large = await homeQueries(40);
      assert.ok(small.length > 0, "queries are counted");
      assert.equal(large.length, small.length, `limit 5:\n${listed(small)}\n\nlimit 40:\n${listed(large)}`);
    });

    test("the count does not grow with the owner's own statuses, and nothing counts them per request", async () => {
      const before = await homeQueries(40);
      // Plain ones first, then varied ones, so that the page shows the same kinds of status as before.
      for (let i = 0; i < 150; i++) await insertTestStatus(core, owner);
      for (let i = 0; i < 15; i++) await varied(owner, [friends[i % friends.length], stranger]);
      const afterMore = await homeQueries(40);
      assert.equal(afterMore.length, before.length, `before:\n${listed(before)}\n\nafter:\n${listed(afterMore)}`);
      const counting = afterMore.filter((query) => /count\(/i.test(query) && /"statuses"/.test(query));
      assert.deepEqual(counting.map((query) => listed([query])), [], "no query of a home page counts statuses");
    });
  });
}
