/**
 * The owner's statuses_count and last_status_at are stored counters: they
 * follow posts, boosts, un-boosts and deletions (the owner's, and a remote
 * status's deletion taking the owner's boost with it), show in the API's
 * Account, and the data migration counts what was stored before.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq, sql } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { reblogStatus, unreblogStatus } from "../../src/core/interactions.ts";
import { createStatus, deleteStatus } from "../../src/core/statuses.ts";
import { COUNT_LOCAL_STATUSES, runDataMigration } from "../../src/db/data-migrations.ts";
import { accounts, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { insertTestStatus } from "../helpers/statuses.ts";

for (const kind of databaseKinds()) {
  describe(`owner's status counters (${kind})`, () => {
    let instance: TestInstance;
    let core: CoreContext;
    let owner: Account;
    let token: string;

    async function stored(): Promise<{ count: number; last: Date | null }> {
      const [row] = await core.db.select({ count: accounts.statusesCount, last: accounts.lastStatusAt }).from(accounts).where(eq(accounts.id, owner.id));
      return { count: row.count, last: row.last };
    }

    /** What counting the rows says. */
    async function counted(): Promise<{ count: number; last: Date | null }> {
      const rows = await core.db.select({ createdAt: statuses.createdAt }).from(statuses).where(eq(statuses.accountId, owner.id));
      const last = rows.reduce<Date | null>((newest, row) => (newest == null || row.createdAt > newest ? row.createdAt : newest), null);
      return { count: rows.length, last };
    }

    async function assertCounts(expected: number, what: string): Promise<void> {
      const actual = await counted();
      assert.equal(actual.count, expected, `${what}: the rows`);
      assert.deepEqual(await stored(), actual, `${what}: the counters`);
      const response = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
      assert.equal(response.body.statuses_count, expected, `${what}: the API`);
      assert.equal(response.body.last_status_at, actual.last == null ? null : actual.last.toISOString().slice(0, 10));
    }

    before(async () => {
      instance = await startInstance(kind);
      core = instance.islet.core;
      owner = instance.owner!.account;
      token = await ownerToken(instance);
    });
    after(async () => {
      await instance?.close();
    });

    test("posts, boosts, un-boosts and deletions keep the counters right", async () => {
      await assertCounts(0, "a new owner");
      const first = await createStatus(core, owner, { text: "first" });
      const second = await createStatus(core, owner, { text: "second", inReplyToId: first.id });
      await assertCounts(2, "two posts");

      const alice = await insertRemoteAccount(core, "counter_alice", { domain: "alice.example", inboxUrl: "https://alice.example/inbox" });
      const theirs = await insertTestStatus(core, alice);
      const aliceBefore = (await core.db.select({ n: accounts.statusesCount }).from(accounts).where(eq(accounts.id, alice.id)))[0].n;
      await reblogStatus(core, owner, theirs);
      await assertCounts(3, "a boost");
      await unreblogStatus(core, owner, theirs);
      await assertCounts(2, "the boost taken back");

      await deleteStatus(core, second);
      await assertCounts(1, "the newest deleted");
      assert.deepEqual((await stored()).last, first.createdAt, "the newest status left is the first");

      // A remote status deleted by its author takes the owner's boost with it.
      await reblogStatus(core, owner, theirs);
      await assertCounts(2, "boosted again");
      await deleteStatus(core, theirs);
      await assertCounts(1, "the boosted status deleted");
      const aliceAfter = (await core.db.select({ n: accounts.statusesCount }).from(accounts).where(eq(accounts.id, alice.id)))[0].n;
      assert.equal(aliceAfter, aliceBefore, "a remote account's count is what its server reports, untouched");

      await deleteStatus(core, first);
      await assertCounts(0, "everything deleted");
    });

    test("the data migration counts statuses stored before the counters", async () => {
      for (let i = 0; i < 3; i++) await insertTestStatus(core, owner);
      assert.equal((await stored()).count, 0, "rows written around the core are not counted");
      await core.db.execute(sql`DELETE FROM kv_entries WHERE key = ARRAY['islet', 'data-migration', ${COUNT_LOCAL_STATUSES.name}]::text[]`);
      const result = await runDataMigration(core.db, COUNT_LOCAL_STATUSES);
      assert.deepEqual(result?.changed, { local_accounts: 1 });
      await assertCounts(3, "after the data migration");
    });
  });
}
