/**
 * Idle RSS: the server process's resident memory (VmRSS in
 * /proc/PID/status) after it has answered /health once and then sat idle.
 * It waits two seconds, then keeps sampling every 250 ms until three samples
 * in a row agree within 2 MiB (at most 8 s more), and reports that settled
 * figure, with the figure at exactly 2 s and the highest seen. (On PGlite,
 * RSS climbs by a few hundred MiB for a second or two after the database
 * opens, then drops: a single read at 2 s lands on either side of that.)
 * Must run first among the server benches.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ServerBench } from "../lib/types.ts";

const IDLE_MS = 2_000;
const SAMPLE_MS = 250;
const SETTLE_LIMIT_MS = 8_000;
const STEADY_MIB = 2;

export const idleMemory: ServerBench = {
  kind: "server",
  name: "idle RSS",
  async run(context) {
    const { server } = context;
    let highest = server.rss();
    const begin = performance.now();
    while (performance.now() - begin < IDLE_MS) {
      await sleep(Math.min(SAMPLE_MS, IDLE_MS - (performance.now() - begin)));
      highest = Math.max(highest, server.rss());
    }
    const atIdle = server.rss();
    highest = Math.max(highest, atIdle);
    const recent = [atIdle];
    const settleBegin = performance.now();
    while (performance.now() - settleBegin < SETTLE_LIMIT_MS) {
      const window = recent.slice(-3);
      if (window.length === 3 && Math.max(...window) - Math.min(...window) <= STEADY_MIB) break;
      await sleep(SAMPLE_MS);
      const rss = server.rss();
      highest = Math.max(highest, rss);
      recent.push(rss);
    }
    const settled = recent[recent.length - 1];
    const waited = (performance.now() - begin) / 1000;
    const steady = recent.length >= 3 && Math.max(...recent.slice(-3)) - Math.min(...recent.slice(-3)) <= STEADY_MIB;
    context.record({
      id: "rss.idle",
      row: "RSS idle after start",
      value: settled,
      unit: "MiB",
      how: `server VmRSS ${steady ? "once steady" : "(never steady)"}, ${waited.toFixed(1)} s after first 200 /health; at 2 s ${atIdle.toFixed(0)}, max ${highest.toFixed(0)} MiB`,
    });
    if (!steady) context.note(`idle RSS on ${context.target.database} did not settle within ${(IDLE_MS + SETTLE_LIMIT_MS) / 1000} s`);
    context.progress(`  idle RSS: ${settled.toFixed(1)} MiB after ${waited.toFixed(1)} s (at 2 s: ${atIdle.toFixed(1)}, max ${highest.toFixed(1)})`);
  },
};
