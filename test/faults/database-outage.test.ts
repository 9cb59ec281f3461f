/**
 * PostgreSQL going away under load: a TCP proxy between the server and
 * PostgreSQL drops every connection, then hangs up on new ones and refuses
 * them for a few seconds while clients keep posting. During the outage the API answers 503 with
 * `{"error": ...}` (never a 500, never a hang); afterwards the server is
 * back by itself, and every post it acknowledged is stored.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually } from "../helpers/instance.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { prepareInstance, type PreparedInstance } from "../helpers/server-instance.ts";

const WRITERS = 3;
const OUTAGE_MS = 4_000;

interface Answer {
  phase: "before" | "outage" | "after";
  status: number;
  body: string;
}

describe("PostgreSQL outage under load", { skip: !databaseKinds().includes("postgres") && "needs TEST_DATABASE_URL" }, () => {
  let instance: PreparedInstance | undefined;
  let server: ServerProcess | undefined;
  let proxy: TcpProxy | undefined;

  after(async () => {
    await server?.kill("SIGKILL");
    await proxy?.close();
    await instance?.database.drop();
  });

  test("writes during the outage get a clean 503; acknowledged writes are all there afterwards", async () => {
    instance = await prepareInstance("postgres");
    const direct = new URL(instance.database.databaseUrl!);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const viaProxy = new URL(direct);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    server = await startServerProcess({ ...instance.env, DATABASE_URL: viaProxy.toString() });
    const { url, token } = instance;

    let phase: Answer["phase"] = "before";
    let stop = false;
    const answers: Answer[] = [];
    const acknowledged: string[] = [];
    let n = 0;
    const writer = async () => {
      while (!stop) {
        const sentIn = phase;
        let answer: Answer;
        try {
          const response = await fetch(`${url}/api/v1/statuses`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ status: `post ${n++}` }),
            signal: AbortSignal.timeout(30_000),
          });
          answer = { phase: sentIn, status: response.status, body: await response.text() };
        } catch (error) {
          answer = { phase: sentIn, status: 0, body: String(error) };
        }
        answers.push(answer);
        if (answer.status === 200) acknowledged.push((JSON.parse(answer.body) as { id: string }).id);
        else await sleep(50);
      }
    };
    const writers = Array.from({ length: WRITERS }, writer);
    const summary = () => JSON.stringify(answers.map((a) => `${a.phase}:${a.status}`).reduce<Record<string, number>>((counts, key) => {
      counts[key] = (counts[key] ?? 0) + 1;
      return counts;
    }, {}));
    try {
      await eventually(async () => acknowledged.length >= 10, "posts before the outage");
      phase = "outage";
      // First a server that hangs up on every new connection, then one
      // that refuses them: the two ways a restarting PostgreSQL looks.
      proxy.hangUp();
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => {
        throw new Error(`no answer from /health during the outage (${error}); server output:\n${server!.output().slice(-3000)}`);
      });
      assert.equal(health.status, 503, "the health check sees the outage");
      await sleep(OUTAGE_MS / 2);
      await proxy.cut();
      await sleep(OUTAGE_MS / 2);
      await proxy.restore();
      phase = "after";
      const ackedBefore = acknowledged.length;
      await eventually(async () => acknowledged.length >= ackedBefore + 10, `posts after the outage (so far ${summary()})`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nserver output:\n${server.output().slice(-4000)}`);
    } finally {
      stop = true;
      await Promise.all(writers);
    }

    try {
      const unclean = answers.filter((a) => a.status !== 200 && a.status !== 503);
      assert.deepEqual(unclean.slice(0, 5), [], `every answer is a 200 or a 503 (${summary()})`);
      const outage = answers.filter((a) => a.status === 503);
      assert.ok(outage.length > 0, "some posts were refused during the outage");
      for (const answer of outage) {
        const body = JSON.parse(answer.body) as { error?: unknown };
        assert.equal(typeof body.error, "string", answer.body);
      }
      assert.match(server.output(), /WARN database unreachable \([A-Z0-9_]+\): \d+ request\(s\) answered 503/, "the outage is logged with its reason");

      const missing: string[] = [];
      for (const id of acknowledged) {
        const response = await fetch(`${url}/api/v1/statuses/${id}`, { headers: { authorization: `Bearer ${token}` } });
        const text = await response.text();
        if (response.status !== 200) missing.push(`${id} (${response.status} ${text})`);
      }
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged posts are missing`);
      assert.equal((await fetch(`${url}/health`)).status, 200);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nserver output:\n${server.output().slice(-6000)}`);
    }
    await server.kill();
    assert.equal(await server.exited, 0, "the server stops cleanly after the outage");
  });
});
