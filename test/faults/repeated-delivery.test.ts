/**
 * Remote servers deliver at least once, so the same activity can arrive
 * twice (a retry after a lost answer, or two deliveries racing): the inbox
 * must act on it once. A mention delivered twice is one status and one
 * notification.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { startRemote, type RemoteServer } from "../helpers/remote.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

for (const kind of databaseKinds()) {
  describe(`repeated delivery (${kind})`, () => {
    let islet: TestInstance;
    let remote: RemoteServer;

    before(async () => {
      [islet, remote] = await Promise.all([startInstance(kind), startRemote("repeater")]);
    });
    after(async () => {
      await Promise.all([islet?.close(), remote?.close()]);
    });

    function mention(n: string) {
      const owner = `${islet.origin}/users/owner`;
      const object = {
        id: `${remote.origin}/notes/${n}`,
        type: "Note",
        attributedTo: remote.actorId,
        content: `<p><a href="${owner}" class="u-url mention">@owner</a> hello ${n}</p>`,
        published: "2026-11-20T10:00:00Z",
        to: [PUBLIC],
        cc: [owner],
        tag: [{ type: "Mention", href: owner, name: "@owner@localhost" }],
      };
      return { "@context": "https://www.w3.org/ns/activitystreams", id: `${object.id}/activity`, type: "Create", actor: remote.actorId, object, to: object.to, cc: object.cc };
    }

    /** Waits until the queue has nothing left to do (inbox work included). */
    async function drained(): Promise<void> {
      await eventually(async () => {
        const [row] = await islet.islet.core.database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM queue_messages WHERE failed_at IS NULL`);
        return Number(row.n) === 0;
      }, "the queue to drain", 30_000);
    }

    async function counts(uri: string): Promise<{ statuses: number; notifications: number }> {
      const [row] = await islet.islet.core.database.query<{ statuses: number; notifications: number }>(sql`
        SELECT (SELECT count(*) FROM statuses WHERE uri = ${uri})::int AS statuses,
               (SELECT count(*) FROM notifications n JOIN statuses s ON s.id = n.status_id WHERE s.uri = ${uri})::int AS notifications`);
      return { statuses: Number(row.statuses), notifications: Number(row.notifications) };
    }

    test("the same signed Create delivered twice, one after the other: one status, one notification", async () => {
      const activity = mention("again");
      const inbox = `${islet.origin}/users/owner/inbox`;
      assert.equal((await remote.post(inbox, activity)).status, 202);
      await eventually(async () => (await counts(activity.object.id)).statuses === 1, "the status");
      await drained();
      assert.equal((await remote.post(inbox, activity)).status, 202);
      await drained();
      assert.deepEqual(await counts(activity.object.id), { statuses: 1, notifications: 1 });
    });

    test("the same signed Create delivered twice at once, to the personal and the shared inbox: one of each", async () => {
      const activity = mention("racing");
      const [first, second] = await Promise.all([
        remote.post(`${islet.origin}/users/owner/inbox`, activity),
        remote.post(`${islet.origin}/inbox`, activity),
      ]);
      assert.equal(first.status, 202);
      assert.equal(second.status, 202);
      await eventually(async () => (await counts(activity.object.id)).statuses >= 1, "the status");
      await drained();
      assert.deepEqual(await counts(activity.object.id), { statuses: 1, notifications: 1 });
    });
  });
}
