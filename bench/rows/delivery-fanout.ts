/**
 * Delivery fan-out: one public post by the owner to 1,000 followers, each
 * with an inbox of its own (no shared inbox), all served by one sink on a
 * loopback port of the bench process that answers 202 at once. The figure
 * is the time from sending `POST /api/v1/statuses` until every inbox has
 * received the Create.
 *
 * A process bench: the followers are written into the database before the
 * server starts (bench/lib/followers-db.ts, in a child process), the server
 * is started for this row alone, and the followers are removed again after
 * it stops, so that the rows after it see an owner without followers.
 * Needs the token from the seeding step, so it runs after it.
 */
import { createServer } from "node:http";
import { join } from "node:path";
import { BENCH_DIR, startNode } from "../lib/children.ts";
import { ownerHeaders } from "../lib/fixtures.ts";
import { startServer } from "../lib/server.ts";
import type { ProcessBench, TargetContext } from "../lib/types.ts";

const FOLLOWERS = 1_000;
const LIMIT_MS = 240_000;

async function followersDb(context: TargetContext, spec: Record<string, unknown>): Promise<number> {
  const child = startNode([join(BENCH_DIR, "lib", "followers-db.ts"), JSON.stringify(spec)], context.target.env);
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`bench/lib/followers-db.ts failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
  return (JSON.parse(child.stdout().trim().split("\n").pop() ?? "{}") as { followers: number }).followers;
}

interface Sink {
  origin: string;
  /** Inboxes (by path) that have received the activity `id`. */
  reached(id: string): number;
  /** Resolves once `count` inboxes have `id`; the time of that moment. */
  whenReached(id: string, count: number): Promise<number>;
  posts: number;
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const byId = new Map<string, Set<string>>();
  const waiters: { id: string; count: number; resolve: (at: number) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      sink.posts++;
      res.writeHead(202).end();
      let id = "";
      try {
        id = String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: unknown }).id ?? "");
      } catch {
        return;
      }
      const paths = byId.get(id) ?? new Set<string>();
      paths.add(req.url ?? "");
      byId.set(id, paths);
      for (const waiter of waiters) {
        if (waiter.id === id && paths.size >= waiter.count) waiter.resolve(performance.now());
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const sink: Sink = {
    origin: `http://127.0.0.1:${typeof address === "object" && address != null ? address.port : 0}`,
    reached: (id) => byId.get(id)?.size ?? 0,
    whenReached: (id, count) => new Promise((resolve) => {
      if ((byId.get(id)?.size ?? 0) >= count) resolve(performance.now());
      else waiters.push({ id, count, resolve });
    }),
    posts: 0,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return sink;
}

export const deliveryFanout: ProcessBench = {
  kind: "process",
  name: "delivery fan-out",
  async run(context) {
    const { target } = context;
    const sink = await startSink();
    let postedId: string | undefined;
    try {
      const followers = await followersDb(context, { add: FOLLOWERS, inboxBase: `${sink.origin}/inbox/` });
      if (followers !== FOLLOWERS) throw new Error(`the owner has ${followers} followers, expected ${FOLLOWERS}`);
      const server = await startServer(target, { onRebuild: (why) => context.note(`delivery fan-out on ${target.database}: ${why}`) });
      let seconds: number;
      let cpuMs: number;
      let activityId: string;
      try {
        const cpuBefore = server.cpuMs();
        const begin = performance.now();
        const response = await fetch(`${server.url}/api/v1/statuses`, {
          method: "POST",
          headers: ownerHeaders(target, { "content-type": "application/json" }),
          body: JSON.stringify({ status: "Fan-out benchmark: one post to every follower.", visibility: "public" }),
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`POST /api/v1/statuses answered ${response.status}: ${text.slice(0, 300)}`);
        const posted = JSON.parse(text) as { id: string; uri: string };
        postedId = posted.id;
        activityId = `${posted.uri}/activity`;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`only ${sink.reached(activityId)} of ${FOLLOWERS} inboxes had the post after ${LIMIT_MS / 1000} s`)), LIMIT_MS);
        });
        try {
          seconds = ((await Promise.race([sink.whenReached(activityId, FOLLOWERS), timeout])) - begin) / 1000;
        } finally {
          clearTimeout(timer);
        }
        cpuMs = server.cpuMs() - cpuBefore;
      } finally {
        await server.stop();
      }
      context.record({
        id: "fanout.1000",
        row: `Delivery fan-out: 1 post to ${FOLLOWERS.toLocaleString("en")} inboxes`,
        value: seconds,
        unit: "s",
        how: `from POST /api/v1/statuses until every inbox (one per follower, no shared inbox) had the Create; local sink answering 202; ` +
          `${sink.posts} POSTs received; server CPU ${(cpuMs / FOLLOWERS).toFixed(2)} ms/delivery (${(cpuMs / 10 / seconds).toFixed(0)}% of a core)`,
      });
      context.progress(`  fan-out: ${FOLLOWERS} inboxes in ${seconds.toFixed(1)} s (${(FOLLOWERS / seconds).toFixed(0)} deliveries/s)`);
    } finally {
      try {
        const left = await followersDb(context, { remove: true, statusId: postedId });
        if (left !== 0) context.note(`delivery fan-out on ${target.database}: ${left} followers left after clean-up`);
      } finally {
        await sink.close();
      }
    }
  },
};
