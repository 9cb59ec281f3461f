/**
 * Inbox ingest: signed Create activities from 100 stand-in remote actors,
 * POSTed to the owner's inbox as fast as the server takes them, by
 * bench/inbox-load.ts in a process of its own (which also serves the
 * actors' documents and generated their keys). Records the accepted (202)
 * rate and p99 latency, then checks that every accepted activity was
 * verified and stored: each Note carries a hashtag of this run, and the
 * hashtag timeline must list all of them (the database itself cannot be
 * opened while the server runs on PGlite). The time the server's queue
 * took to store them all after the last 202 is a row of its own.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { InboxLoadReport, InboxLoadSpec } from "../inbox-load.ts";
import { BENCH_DIR, startNode } from "../lib/children.ts";
import { ownerHeaders } from "../lib/fixtures.ts";
import type { ServerBench, ServerContext } from "../lib/types.ts";

const ACTORS = 100;
const PER_ACTOR = 10;
const CONNECTIONS = 10;
const LOAD_LIMIT_MS = 180_000;
const STORE_LIMIT_MS = 240_000;

/** Statuses on the hashtag timeline of `tag`, counted page by page. */
async function countTagged(context: ServerContext, tag: string): Promise<number> {
  const ids = new Set<string>();
  let maxId: string | null = null;
  for (;;) {
    const query = maxId == null ? "limit=40" : `limit=40&max_id=${maxId}`;
    const response = await fetch(`${context.server.url}/api/v1/timelines/tag/${tag}?${query}`, { headers: ownerHeaders(context.target) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /api/v1/timelines/tag/${tag} answered ${response.status}: ${text.slice(0, 300)}`);
    const page = JSON.parse(text) as { id: string }[];
    if (page.length === 0) return ids.size;
    for (const status of page) ids.add(status.id);
    maxId = page[page.length - 1].id;
  }
}

export const inboxIngest: ServerBench = {
  kind: "server",
  name: "inbox ingest",
  async run(context) {
    const { server, target } = context;
    const tag = `inboxbench${Date.now().toString(36)}`;
    const spec: InboxLoadSpec = {
      inbox: `${server.url}/users/${target.username}/inbox`,
      owner: `http://${target.host}/users/${target.username}`,
      actors: ACTORS,
      perActor: PER_ACTOR,
      connections: CONNECTIONS,
      tag,
    };
    const cpuBefore = server.cpuMs();
    const child = startNode([join(BENCH_DIR, "inbox-load.ts"), JSON.stringify(spec)], {});
    let report: InboxLoadReport;
    try {
      const begin = performance.now();
      for (;;) {
        const line = child.stdout().split("\n").find((l) => l.startsWith("{"));
        if (line != null) {
          report = JSON.parse(line) as InboxLoadReport;
          break;
        }
        if (!child.alive()) throw new Error(`bench/inbox-load.ts exited early:\n${child.output()}`);
        if (performance.now() - begin > LOAD_LIMIT_MS) throw new Error(`bench/inbox-load.ts gave no report within ${LOAD_LIMIT_MS / 1000} s:\n${child.output()}`);
        await sleep(100);
      }
      const loadCpuMs = server.cpuMs() - cpuBefore;
      // Every accepted activity must end up stored; the queue does that after the 202.
      const storeBegin = performance.now();
      let stored = 0;
      while (stored < report.accepted) {
        stored = await countTagged(context, tag);
        if (stored >= report.accepted) break;
        if (performance.now() - storeBegin > STORE_LIMIT_MS) {
          throw new Error(`only ${stored} of ${report.accepted} accepted activities were stored ${STORE_LIMIT_MS / 1000} s after the last one`);
        }
        await sleep(1_000);
      }
      const storeSeconds = (performance.now() - storeBegin) / 1000;
      const errors = report.sent - report.accepted;
      const answers = Object.entries(report.statuses).map(([status, n]) => `${n}× ${status === "0" ? "network error" : status}`).join(", ");
      context.record({
        id: "inbox.rps",
        row: `Inbox ingest, ${CONNECTIONS} conns: accepted`,
        value: report.rps,
        unit: "req/s",
        how: `${report.sent} signed Creates (draft-cavage) from ${ACTORS} actors, ${report.accepted} answered 202 in ${report.seconds.toFixed(1)} s (${answers}); ` +
          `server CPU ${(loadCpuMs / Math.max(1, report.sent)).toFixed(2)} ms/req; ${report.actorFetches} actor fetches; load gen ${(report.cpuMs / 10 / Math.max(0.001, report.seconds)).toFixed(0)}%`,
      });
      context.record({ id: "inbox.p99", row: `Inbox ingest, ${CONNECTIONS} conns: p99 latency`, value: report.p99, unit: "ms", how: `same run (p50 ${report.p50.toFixed(1)} ms, max ${report.max.toFixed(0)} ms)` });
      context.record({
        id: "inbox.stored",
        row: "Inbox ingest: all stored after the last 202",
        value: storeSeconds,
        unit: "s",
        how: `until the hashtag timeline listed all ${report.accepted} (polled every 1 s); ${stored} stored`,
      });
      if (errors > 0) context.note(`Inbox ingest on ${target.database}: ${errors} of ${report.sent} not accepted (${answers}) ${report.errorMessages.join("; ")}`);
      context.progress(`  inbox: ${report.rps.toFixed(0)} accepted/s, p99 ${report.p99.toFixed(0)} ms, ${report.accepted}/${report.sent} accepted; all stored ${storeSeconds.toFixed(1)} s later`);
    } finally {
      await child.stop(5_000);
    }
  },
};
