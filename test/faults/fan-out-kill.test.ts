/**
 * Delivery survives a crash: the server is killed (SIGKILL) while a post is
 * on its way to 200 followers, each with an inbox of its own, and once it
 * is started again every inbox gets the post, at least once.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually } from "../helpers/instance.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";
import { startInboxSink, type InboxSink } from "../helpers/sink.ts";

const FOLLOWERS = 200;
/** Deliveries answered before the sink holds the rest open and the server is killed. */
const ANSWERED_BEFORE_KILL = 30;

for (const kind of databaseKinds()) {
  describe(`kill -9 during a fan-out (${kind})`, () => {
    let instance: PreparedInstance | undefined;
    let sink: InboxSink | undefined;
    let server: ServerProcess | undefined;

    after(async () => {
      await server?.kill("SIGKILL");
      await sink?.close();
      await instance?.database.drop();
    });

    test(`a post to ${FOLLOWERS} inboxes reaches every one after a restart`, async () => {
      sink = await startInboxSink();
      const inboxes = Array.from({ length: FOLLOWERS }, (_, n) => sink!.inbox(n));
      instance = await prepareInstance(kind, { followerInboxes: inboxes, env: { QUEUE_VISIBILITY_TIMEOUT: "2" } });
      sink.answerBudget = ANSWERED_BEFORE_KILL;
      server = await startServerProcess(instance.env);

      const response = await fetch(`${instance.url}/api/v1/statuses`, {
        method: "POST",
        headers: { authorization: `Bearer ${instance.token}`, "content-type": "application/json" },
        body: JSON.stringify({ status: "Going out to everyone", visibility: "public" }),
      });
      assert.equal(response.status, 200);
      const status = await response.json() as { uri: string };
      const activityId = `${status.uri}/activity`;

      // Part of the fan-out is done, the rest is queued or held open by the sink.
      await eventually(async () => sink!.answered >= ANSWERED_BEFORE_KILL, "the first deliveries");
      await server.kill("SIGKILL");
      const before = sink.pathsWith(activityId).size;
      assert.ok(before > 0 && before < FOLLOWERS, `killed mid-fan-out (${before} of ${FOLLOWERS} delivered)`);

      sink.answerBudget = Number.POSITIVE_INFINITY;
      server = await startServerProcess(instance.env);
      await eventually(async () => sink!.pathsWith(activityId).size === FOLLOWERS, `all ${FOLLOWERS} inboxes to have the post`);
      for (let n = 0; n < FOLLOWERS; n++) {
        const ids = sink.received.get(`/inbox/${n}`) ?? [];
        assert.ok(ids.includes(activityId), `inbox ${n} has the Create`);
      }
      await server.kill();
    });
  });
}
