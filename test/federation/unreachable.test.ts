/**
 * Domains whose inboxes keep failing are marked unreachable and skipped
 * until their retry time; an activity from the domain clears the mark.
 * Suspended domains are never delivered to.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { follow } from "../../src/core/follows.ts";
import { blockDomain } from "../../src/core/server-domain-blocks.ts";
import { unreachableDomains } from "../../src/db/schema.ts";
import {
  deliverableAccounts,
  isDomainUnreachable,
  markDomainReachable,
  recordDeliveryFailure,
  UNREACHABLE_AFTER_FAILURES,
} from "../../src/federation/domain-policy.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { followActivity, startRemote, type RemoteServer } from "../helpers/remote.ts";

const HOUR = 60 * 60 * 1000;

for (const kind of databaseKinds()) {
  describe(`unreachable domains (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startRemote("flaky")]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("failures in a row over more than an hour mark a domain; deliveries skip it until retryAt", async () => {
      const core = islet.islet.core;
      const account = await insertRemoteAccount(core, "far", { domain: "far.example", inboxUrl: "https://far.example/users/far/inbox" });
      const start = new Date(Date.now() - 3 * HOUR);
      for (let i = 0; i < UNREACHABLE_AFTER_FAILURES - 1; i++) {
        await recordDeliveryFailure(core, "far.example", new Date(start.getTime() + i * HOUR / 2));
      }
      assert.equal(await isDomainUnreachable(core, "far.example"), false, "not yet");
      await recordDeliveryFailure(core, "far.example");
      assert.equal(await isDomainUnreachable(core, "far.example"), true);
      assert.deepEqual(await deliverableAccounts(core, [account]), []);
      // After retryAt one delivery is tried again.
      assert.equal(await isDomainUnreachable(core, "far.example", new Date(Date.now() + 7 * HOUR)), false);
      await markDomainReachable(core, "far.example");
      assert.deepEqual((await deliverableAccounts(core, [account])).map((a) => a.id), [account.id]);
    });

    test("many failures within minutes are an outage, not unreachability", async () => {
      const core = islet.islet.core;
      for (let i = 0; i < UNREACHABLE_AFTER_FAILURES * 2; i++) await recordDeliveryFailure(core, "blip.example");
      assert.equal(await isDomainUnreachable(core, "blip.example"), false);
    });

    test("failures a day apart do not add up: the quiet time between counts as deliveries that went through", async () => {
      const core = islet.islet.core;
      const start = new Date(Date.now() - 10 * 24 * HOUR);
      for (let i = 0; i < UNREACHABLE_AFTER_FAILURES * 2; i++) {
        await recordDeliveryFailure(core, "sometimes.example", new Date(start.getTime() + i * 25 * HOUR));
      }
      const [row] = await core.db.select().from(unreachableDomains).where(eq(unreachableDomains.domain, "sometimes.example"));
      assert.equal(row.failures, 1);
      assert.equal(await isDomainUnreachable(core, "sometimes.example", new Date(start.getTime() + (UNREACHABLE_AFTER_FAILURES * 2 - 1) * 25 * HOUR)), false);
    });

    test("a failing inbox is counted, and an activity from its domain clears it", async () => {
      const core = islet.islet.core;
      const host = new URL(remote.origin).host;
      const flaky = await resolveAccount(islet.islet.federation, core, remote.actorId);
      remote.behaviour = "fail";
      await follow(core, islet.owner!.account, flaky);
      const row = await eventually(async () => (await core.db.select().from(unreachableDomains).where(eq(unreachableDomains.domain, host)))[0], "the failure recorded");
      assert.ok(row.failures >= 1);
      remote.behaviour = "accept";
      const response = await remote.post(`${islet.origin}/users/owner/inbox`, followActivity(remote, `${islet.origin}/users/owner`));
      assert.equal(response.status, 202);
      await eventually(async () => (await core.db.select().from(unreachableDomains).where(eq(unreachableDomains.domain, host))).length === 0, "the mark cleared");
    });

    test("accounts on suspended domains are never delivered to", async () => {
      const core = islet.islet.core;
      await blockDomain(core, "gone.example");
      const account = await insertRemoteAccount(core, "ghost", { domain: "gone.example", inboxUrl: "https://gone.example/inbox" });
      const elsewhere = await insertRemoteAccount(core, "hidden", { domain: "ok.example", inboxUrl: "https://ok.example/inbox", sharedInboxUrl: "https://sub.gone.example/inbox" });
      const fine = await insertRemoteAccount(core, "fine", { domain: "fine.example", inboxUrl: "https://fine.example/inbox" });
      assert.deepEqual((await deliverableAccounts(core, [account, elsewhere, fine])).map((a) => a.id), [fine.id]);
    });
  });
}
