/**
 * Cold start: spawn `node bin/islet.js serve` (the esbuild bundle) on the
 * already-initialised database, and time until /health first answers 200,
 * polling every 10 ms. Median of three starts; each server is stopped (and
 * has exited) before the next starts.
 */
import { startServer } from "../lib/server.ts";
import type { ProcessBench } from "../lib/types.ts";

const RUNS = 3;

export const coldStart: ProcessBench = {
  kind: "process",
  name: "cold start",
  async run(context) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const server = await startServer(context.target, { pollMs: 10, onRebuild: (why) => context.note(`cold start on ${context.target.database}, run ${i + 1}: ${why}`) });
      times.push(server.startMs);
      await server.stop();
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    context.record({
      id: "cold-start",
      row: "Cold start: spawn to first 200 /health",
      value: median,
      unit: "ms",
      how: `median of ${RUNS} (${times.map((t) => t.toFixed(0)).join(", ")} ms); bundle; poll every 10 ms`,
    });
    context.progress(`  cold start: ${times.map((t) => `${t.toFixed(0)} ms`).join(", ")}`);
  },
};
