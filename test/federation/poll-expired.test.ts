/**
 * Closed polls: the worker's check emits `poll.expired` for the polls the
 * owner made or voted in, once each, and the owner gets a `poll`
 * notification.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { newId } from "../../src/core/ids.ts";
import { announceExpiredPolls } from "../../src/core/polls.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { notifications, polls, pollVotes } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

for (const kind of databaseKinds()) {
  describe(`poll.expired (${kind})`, () => {
    let islet: TestInstance;
    before(async () => {
      islet = await startInstance(kind);
    });
    after(async () => {
      await islet?.close();
    });

    test("own polls and polls voted in notify once when they close; others do not", async () => {
      const core = islet.islet.core;
      const owner = islet.owner!.account;
      const mine = await createStatus(core, owner, { text: "which?", poll: { options: ["a", "b"], expiresIn: 300 } });
      const author = await insertRemoteAccount(core, "pollster");
      const voted = await insertTestStatus(core, author);
      const ignored = await insertTestStatus(core, author);
      const past = new Date(Date.now() - 60_000);
      const votedPoll = newId();
      await core.db.insert(polls).values([
        { id: votedPoll, statusId: voted.id, options: ["x", "y"], votesCounts: [1, 0], expiresAt: past },
        { id: newId(), statusId: ignored.id, options: ["x", "y"], votesCounts: [0, 0], expiresAt: past },
      ]);
      await core.db.insert(pollVotes).values({ id: newId(), pollId: votedPoll, accountId: owner.id, choice: 0 });

      const pollNotifications = async () => (await core.db.select().from(notifications).where(and(
        eq(notifications.accountId, owner.id), eq(notifications.type, "poll"),
      ))).map((n) => n.statusId);

      // Still open: nothing yet.
      assert.equal(await announceExpiredPolls(core), 1);
      assert.deepEqual(await pollNotifications(), [voted.id]);

      await core.db.update(polls).set({ expiresAt: past }).where(eq(polls.statusId, mine.id));
      assert.equal(await announceExpiredPolls(core), 1);
      assert.deepEqual((await pollNotifications()).sort(), [voted.id, mine.id].sort());
      // Announced once.
      assert.equal(await announceExpiredPolls(core), 0);
      assert.equal((await pollNotifications()).length, 2);
    });
  });
}
