/**
 * A write the server acknowledged survives a crash: statuses are posted
 * through the API by several clients at once, the server is killed
 * (SIGKILL) in the middle of it, and after a restart every status that was
 * answered with a 200 is there. This matters most for the embedded
 * database, which must have flushed each commit before the answer.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually } from "../helpers/instance.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";

const WRITERS = 4;
/** Acknowledged posts before the kill. */
const ACKNOWLEDGED_BEFORE_KILL = 40;

for (const kind of databaseKinds()) {
  describe(`kill -9 during a stream of writes (${kind})`, () => {
    let instance: PreparedInstance | undefined;
    let server: ServerProcess | undefined;

    after(async () => {
      await server?.kill("SIGKILL");
      await instance?.database.drop();
    });

    test("every acknowledged post is there after a restart", async () => {
      instance = await prepareInstance(kind);
      const { url, token } = instance;
      server = await startServerProcess(instance.env);
      const acknowledged: string[] = [];
      let stop = false;
      let sent = 0;
      const writer = async (w: number) => {
        while (!stop) {
          const n = sent++;
          try {
            const response = await fetch(`${url}/api/v1/statuses`, {
              method: "POST",
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
              body: JSON.stringify({ status: `write ${n} from writer ${w}` }),
            });
            const text = await response.text();
            if (response.status === 200) acknowledged.push((JSON.parse(text) as { id: string }).id);
          } catch {
            // The connection died with the server: not acknowledged.
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      await eventually(async () => acknowledged.length >= ACKNOWLEDGED_BEFORE_KILL, "the first acknowledged posts");
      await server.kill("SIGKILL");
      stop = true;
      await Promise.all(writers);
      assert.ok(sent > acknowledged.length, "some posts were in flight when the server died");

      server = await startServerProcess(instance.env);
      const missing: string[] = [];
      for (const id of acknowledged) {
        const response = await fetch(`${url}/api/v1/statuses/${id}`, { headers: { authorization: `Bearer ${token}` } });
        await response.body?.cancel();
        if (response.status !== 200) missing.push(`${id} (${response.status})`);
      }
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged posts are missing`);
      // The database is whole: it takes new writes.
      const after = await fetch(`${url}/api/v1/statuses`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ status: "after the restart" }),
      });
      assert.equal(after.status, 200, await after.text());
      await server.kill();
    });
  });
}
