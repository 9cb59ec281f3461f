/**
 * `islet domain block|unblock|list` as an admin runs them: the real command
 * against a throwaway database holding remote accounts and their posts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq, inArray } from "drizzle-orm";
import { createOwner } from "../../src/core/accounts.ts";
import { accounts, domainBlocks, mediaAttachments, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { runIslet } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { insertTestStatus } from "../helpers/statuses.ts";
import { assertPlainFailure, envFor, withCore, type Env } from "./support.ts";

for (const kind of databaseKinds()) {
  describe(`islet domain (${kind})`, () => {
    let database: TestDatabase;
    let env: Env;
    let spammerId: bigint;
    let subdomainId: bigint;
    let friendId: bigint;

    before(async () => {
      database = await createTestDatabase(kind);
      env = envFor(database);
      await withCore(env, async (core) => {
        await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password" });
        const spammer = await insertRemoteAccount(core, "spammer", { domain: "spam.example" });
        const sub = await insertRemoteAccount(core, "bot", { domain: "eu.spam.example" });
        const friend = await insertRemoteAccount(core, "friend", { domain: "friendly.example" });
        spammerId = spammer.id;
        subdomainId = sub.id;
        friendId = friend.id;
        await insertTestStatus(core, spammer, { media: true });
        await insertTestStatus(core, spammer);
        await insertTestStatus(core, sub);
        await insertTestStatus(core, friend, { media: true });
      });
    });
    after(async () => {
      await database?.drop();
    });

    test("block suspends the domain and its subdomains, and says what was purged", async () => {
      const result = await runIslet(["domain", "block", "Spam.Example", "--comment", "sends spam"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "Suspended spam.example: purged 2 accounts, 3 posts and 1 media attachment.\n");
      await withCore(env, async (core) => {
        const left = await core.db.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, [spammerId, subdomainId, friendId]));
        assert.deepEqual(left.map((a) => a.id), [friendId]);
        assert.equal((await core.db.select().from(statuses).where(inArray(statuses.accountId, [spammerId, subdomainId]))).length, 0);
        assert.equal((await core.db.select().from(statuses).where(eq(statuses.accountId, friendId))).length, 1);
        assert.equal((await core.db.select().from(mediaAttachments).where(eq(mediaAttachments.accountId, friendId))).length, 1);
        const [block] = await core.db.select().from(domainBlocks);
        assert.equal(block?.domain, "spam.example");
        assert.equal(block?.severity, "suspend");
        assert.equal(block?.comment, "sends spam");
      });
    });

    test("list shows the blocks; silence and unblock change them", async () => {
      const silenced = await runIslet(["domain", "block", "https://loud.example/about", "--severity", "silence"], { env });
      assert.equal(silenced.code, 0, silenced.stderr);
      assert.match(silenced.stdout, /^Silenced loud\.example/);
      const listed = await runIslet(["domain", "list"], { env });
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trim().split("\n");
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /^loud\.example +silence +\d{4}-\d{2}-\d{2}$/);
      assert.match(lines[1]!, /^spam\.example +suspend +\d{4}-\d{2}-\d{2}  sends spam$/);

      const unblocked = await runIslet(["domain", "unblock", "loud.example"], { env });
      assert.equal(unblocked.code, 0, unblocked.stderr);
      assert.equal(unblocked.stdout, "Unblocked loud.example.\n");
      const after = await runIslet(["domain", "list"], { env });
      assert.doesNotMatch(after.stdout, /loud\.example/);
      assert.match(after.stdout, /spam\.example/);
    });

    test("mistakes fail with one line", async () => {
      assertPlainFailure(await runIslet(["domain", "unblock", "never.example"], { env }), /never\.example is not blocked/);
      assertPlainFailure(await runIslet(["domain", "block", "not a domain"], { env }), /"not a domain" is not a domain name/);
      assertPlainFailure(await runIslet(["domain", "block", "localhost:3000"], { env }), /this server's own domain/);
      assertPlainFailure(await runIslet(["domain", "block", "x.example", "--severity", "ban"], { env }), /--severity: expected suspend or silence/);
      assertPlainFailure(await runIslet(["domain", "block"], { env }), /missing DOMAIN/);
      assertPlainFailure(await runIslet(["domain", "block", "a.example", "b.example"], { env }), /one DOMAIN only/);
      assertPlainFailure(await runIslet(["domain", "frob"], { env }), /unknown subcommand "frob"/);
    });
  });
}
