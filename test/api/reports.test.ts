/**
 * Reports: the owner reports an account and some of its posts; the report
 * is stored, answered as Mastodon's Report entity, and announced with
 * `report.created` (for federation to forward a Flag).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import type { Account } from "../../src/core/accounts.ts";
import type { IsletEvents } from "../../src/core/events.ts";
import { newId } from "../../src/core/ids.ts";
import { reports, statuses } from "../../src/db/schema.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { assertMatchesSchema, openApiSchema } from "../helpers/openapi.ts";

const schema = openApiSchema();
const skipContract = !schema && "../shared/mastodon-openapi absent";

async function remoteAccount(instance: TestInstance, username: string): Promise<Account> {
  return await insertRemoteAccount(instance.islet.core, username, { domain: "spam.example", indexable: false });
}

async function remotePost(instance: TestInstance, account: Account): Promise<bigint> {
  const id = newId();
  await instance.islet.core.db.insert(statuses).values({ id, accountId: account.id, uri: `https://spam.example/statuses/${id}`, content: "<p>buy now</p>" });
  return id;
}

for (const kind of databaseKinds()) {
  describe(`reports (${kind})`, () => {
    let instance: TestInstance;
    let token: string;
    let spammer: Account;
    let other: Account;
    const created: IsletEvents["report.created"][] = [];

    before(async () => {
      instance = await startInstance(kind);
      token = await ownerToken(instance);
      spammer = await remoteAccount(instance, "spammer");
      other = await remoteAccount(instance, "other");
      instance.islet.core.events.on("report.created", (payload) => {
        created.push(payload);
      });
    });
    after(async () => {
      await instance?.close();
    });

    test("a full report: stored, answered in shape, announced", async () => {
      const first = await remotePost(instance, spammer);
      const second = await remotePost(instance, spammer);
      const response = await api(instance, "POST", "/api/v1/reports", {
        token,
        body: {
          account_id: spammer.id.toString(),
          status_ids: [first.toString(), second.toString()],
          comment: "Spam, all of it",
          category: "spam",
          forward: true,
        },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const report = response.body;
      assert.match(report.id, /^\d+$/);
      assert.equal(report.category, "spam");
      assert.equal(report.comment, "Spam, all of it");
      assert.equal(report.forwarded, true);
      assert.equal(report.action_taken, false);
      assert.equal(report.action_taken_at, null);
      assert.deepEqual([...report.status_ids].sort(), [first.toString(), second.toString()].sort());
      assert.equal(report.rule_ids, null);
      assert.equal(report.target_account.acct, "spammer@spam.example");
      assert.ok(Math.abs(Date.parse(report.created_at) - Date.now()) < 60_000);
      if (!skipContract) assertMatchesSchema("Report", report);

      const [row] = await instance.islet.core.db.select().from(reports).where(eq(reports.id, BigInt(report.id)));
      assert.equal(row.accountId, instance.owner!.account.id);
      assert.equal(row.targetAccountId, spammer.id);
      assert.equal(row.forwarded, true);
      assert.deepEqual(created.at(-1), { reportId: BigInt(report.id), accountId: instance.owner!.account.id, targetAccountId: spammer.id });
    });

    test("the least: an account id; category other, not forwarded", async () => {
      const form = new URLSearchParams({ account_id: other.id.toString() });
      const response = await api(instance, "POST", "/api/v1/reports", { token, body: form });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.category, "other");
      assert.equal(response.body.forwarded, false);
      assert.equal(response.body.comment, "");
      assert.deepEqual(response.body.status_ids, []);
      if (!skipContract) assertMatchesSchema("Report", response.body);
    });

    test("form arrays: status_ids[]", async () => {
      const post = await remotePost(instance, other);
      const form = new URLSearchParams({ account_id: other.id.toString(), category: "legal", comment: "illegal" });
      form.append("status_ids[]", post.toString());
      const response = await api(instance, "POST", "/api/v1/reports", { token, body: form });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.status_ids, [post.toString()]);
      assert.equal(response.body.category, "legal");
    });

    test("bad input is refused and nothing is stored", async () => {
      const before = (await instance.islet.core.db.select().from(reports)).length;
      const othersPost = await remotePost(instance, other);
      const cases: [unknown, number][] = [
        [{}, 422],
        [{ account_id: "" }, 422],
        [{ account_id: "abc" }, 422],
        [{ account_id: "999999" }, 404],
        [{ account_id: instance.owner!.account.id.toString() }, 422],
        [{ account_id: spammer.id.toString(), comment: "x".repeat(1001) }, 422],
        [{ account_id: spammer.id.toString(), comment: 5 }, 422],
        [{ account_id: spammer.id.toString(), category: "rude" }, 422],
        [{ account_id: spammer.id.toString(), rule_ids: ["1"] }, 422],
        [{ account_id: spammer.id.toString(), category: "violation", rule_ids: ["1"] }, 422],
        [{ account_id: spammer.id.toString(), status_ids: ["abc"] }, 422],
        [{ account_id: spammer.id.toString(), status_ids: ["999999"] }, 404],
        [{ account_id: spammer.id.toString(), status_ids: [othersPost.toString()] }, 404],
        [{ account_id: spammer.id.toString(), forward: "perhaps" }, 422],
      ];
      for (const [body, status] of cases) {
        const response = await api(instance, "POST", "/api/v1/reports", { token, body });
        assert.equal(response.status, status, JSON.stringify(body));
        assert.equal(typeof response.body.error, "string", JSON.stringify(body));
      }
      assert.equal((await instance.islet.core.db.select().from(reports)).length, before);
      const exactly = await api(instance, "POST", "/api/v1/reports", { token, body: { account_id: spammer.id.toString(), comment: "x".repeat(1000) } });
      assert.equal(exactly.status, 200, "1000 characters is fine");
    });

    test("scope: write:reports", async () => {
      const body = { account_id: spammer.id.toString() };
      assert.equal((await api(instance, "POST", "/api/v1/reports", { body })).status, 401);
      assert.equal((await api(instance, "POST", "/api/v1/reports", { token: await ownerToken(instance, "read"), body })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/reports", { token: await ownerToken(instance, "write:statuses"), body })).status, 403);
      assert.equal((await api(instance, "POST", "/api/v1/reports", { token: await ownerToken(instance, "write:reports"), body })).status, 200);
    });
  });
}
