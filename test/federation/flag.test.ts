/**
 * Reports across servers: the owner's forwarded report goes out as a Flag
 * to the reported account's server; a Flag about the owner becomes a
 * report with an `admin.report` notification.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { and, eq } from "drizzle-orm";
import { findAccountByUri } from "../../src/core/accounts.ts";
import { createReport } from "../../src/core/reports.ts";
import { createStatus } from "../../src/core/statuses.ts";
import { notifications, reports } from "../../src/db/schema.ts";
import { resolveAccount } from "../../src/federation/lookup.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { insertTestStatus } from "../helpers/statuses.ts";
import { queueSettled } from "../helpers/settle.ts";

for (const kind of databaseKinds()) {
  describe(`Flag (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startRemote("reporter")]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    test("a forwarded report goes to the account's server as a Flag", async () => {
      const core = islet.islet.core;
      const target = await resolveAccount(islet.islet.federation, core, remote.actorId);
      const post = await insertTestStatus(core, target);
      const { report } = await createReport(core, islet.owner!.account.id, {
        targetAccountId: target.id,
        statusIds: [post.id],
        comment: "spam, all of it",
        forward: true,
      });
      assert.equal(report.forwarded, true);
      const flag = await eventually(async () => remote.received.find((r) => r.body.type === "Flag"), "the Flag");
      assert.equal(flag.body.actor, `${islet.origin}/users/owner`);
      assert.deepEqual(flag.body.object, [remote.actorId, post.uri]);
      assert.equal(flag.body.content, "spam, all of it");
      assert.ok(await remote.verify(flag), "the Flag is signed");
    });

    test("a report without forward sends nothing", async () => {
      const core = islet.islet.core;
      const target = (await findAccountByUri(core, remote.actorId))!;
      const before = remote.received.length;
      await createReport(core, islet.owner!.account.id, { targetAccountId: target.id, comment: "kept here" });
      await queueSettled(core);
      assert.equal(remote.received.filter((r) => r.body.type === "Flag").length, 1);
      assert.equal(remote.received.length, before);
    });

    test("a Flag about the owner becomes a report and an admin.report notification", async () => {
      const core = islet.islet.core;
      const mine = await createStatus(core, islet.owner!.account, { text: "reported post" });
      const flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${remote.origin}/flags/${crypto.randomUUID()}`,
        type: "Flag",
        actor: remote.actorId,
        object: [`${islet.origin}/users/owner`, mine.uri, `${remote.origin}/not/ours`],
        content: "they said something",
      };
      const response = await remote.post(`${islet.origin}/inbox`, flag);
      assert.equal(response.status, 202);
      const reporter = (await findAccountByUri(core, remote.actorId))!;
      const report = await eventually(async () => (await core.db.select().from(reports).where(eq(reports.uri, flag.id)))[0], "the report");
      assert.equal(report.accountId, reporter.id);
      assert.equal(report.targetAccountId, islet.owner!.account.id);
      assert.deepEqual(report.statusIds, [String(mine.id)]);
      assert.equal(report.comment, "they said something");
      const notified = await eventually(async () => (await core.db.select().from(notifications).where(and(
        eq(notifications.accountId, islet.owner!.account.id),
        eq(notifications.type, "admin.report"),
      )))[0], "the notification");
      assert.equal(notified.fromAccountId, reporter.id);
      assert.equal(notified.reportId, report.id);
      // Through the API the notification carries the Report entity, as Mastodon's does.
      const token = await ownerToken(islet);
      const listed = await api(islet, "GET", "/api/v1/notifications?types[]=admin.report", { token });
      assert.equal(listed.status, 200);
      const shown = (listed.body as any[]).find((n) => n.id === String(notified.id));
      assert.ok(shown, JSON.stringify(listed.body));
      assert.equal(shown.report.id, String(report.id));
      assert.equal(shown.report.comment, "they said something");
      assert.deepEqual(shown.report.status_ids, [String(mine.id)]);
      assert.equal(shown.report.target_account.id, String(islet.owner!.account.id));

      // Delivered again: still one report.
      assert.equal((await remote.post(`${islet.origin}/inbox`, flag)).status, 202);
      await queueSettled(core);
      assert.equal((await core.db.select().from(reports).where(eq(reports.uri, flag.id))).length, 1);
    });

    test("a Flag about someone else is not kept", async () => {
      const core = islet.islet.core;
      const flag = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${remote.origin}/flags/${crypto.randomUUID()}`,
        type: "Flag",
        actor: remote.actorId,
        object: [`${remote.origin}/users/someone`],
        content: "not about you",
      };
      assert.equal((await remote.post(`${islet.origin}/inbox`, flag)).status, 202);
      await queueSettled(core);
      assert.equal((await core.db.select().from(reports).where(eq(reports.uri, flag.id))).length, 0);
    });
  });
}
