/**
 * A ceiling for the HTTP rows: bench/load.ts against a bare node:http server
 * that answers "OK" (bench/baseline-server.ts), on the same loopback and
 * cores. If an Islet row comes anywhere near this, the harness, not Islet,
 * is what was measured.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BENCH_DIR, startNode } from "../lib/children.ts";
import { LOAD_DEFAULTS, runLoad } from "../lib/http-load.ts";
import type { MachineBench } from "../lib/types.ts";

const CONNECTIONS = 10;

export const loopbackBaseline: MachineBench = {
  kind: "machine",
  name: "loopback baseline",
  async run(recorder) {
    const server = startNode([join(BENCH_DIR, "baseline-server.ts")], {});
    try {
      let port = 0;
      const begin = performance.now();
      while (port === 0) {
        const match = /listening (\d+)/.exec(server.stdout());
        if (match != null) port = Number(match[1]);
        else if (!server.alive() || performance.now() - begin > 10_000) throw new Error(`baseline server did not start:\n${server.output()}`);
        else await sleep(10);
      }
      const report = await runLoad({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS });
      const cpu = `load gen ${(report.cpuMs / 10 / report.wallSeconds).toFixed(0)}% of a core`;
      recorder.record({
        id: "baseline.rps",
        row: `Baseline: bare node:http, ${CONNECTIONS} conns: throughput`,
        value: report.rps,
        unit: "req/s",
        how: `bench/load.ts as above, ${LOAD_DEFAULTS.durationSeconds} s after ${LOAD_DEFAULTS.warmupSeconds} s warm-up; ${report.count} answered, ${report.errors} errors; ${cpu}`,
      });
      recorder.record({ id: "baseline.p50", row: `Baseline: bare node:http, ${CONNECTIONS} conns: p50 latency`, value: report.p50, unit: "ms", how: `same run (p99 ${report.p99.toFixed(2)} ms)` });
      recorder.progress(`  baseline: ${report.rps.toFixed(0)} req/s, p50 ${report.p50.toFixed(2)} ms, p99 ${report.p99.toFixed(2)} ms; ${cpu}`);
    } finally {
      await server.stop(5_000);
    }
  },
};
