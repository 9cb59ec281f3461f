/**
 * Seeds the target's database before its long-running server starts:
 * 1,000 remote accounts the owner follows and 100,000 public statuses by
 * them over the last 30 days, and 100,000 of the owner's own over the 30
 * days before (INSERT … SELECT generate_series, then
 * ANALYZE), plus an OAuth token for the owner. It runs bench/lib/seed-db.ts
 * in a child process: on PGlite no other process may have the data dir open,
 * and the process benches (cold start) have stopped their servers by now.
 * Records how long that took; the token goes to bench/lib/fixtures.ts for
 * the home timeline and status creation rows.
 */
import { join } from "node:path";
import { BENCH_DIR, startNode } from "../lib/children.ts";
import { setFixture } from "../lib/fixtures.ts";
import type { SeedReport, SeedSpec } from "../lib/seed-db.ts";
import type { ProcessBench } from "../lib/types.ts";

export const SEED: SeedSpec = { accounts: 1_000, statuses: 100_000, ownStatuses: 100_000 };

const LIMIT_MS = 120_000;

export const seedTimeline: ProcessBench = {
  kind: "process",
  name: "seeding 100,000 statuses",
  async run(context) {
    const { target } = context;
    const begin = performance.now();
    const child = startNode([join(BENCH_DIR, "lib", "seed-db.ts"), JSON.stringify(SEED)], target.env);
    const timer = setTimeout(() => child.process.kill("SIGKILL"), LIMIT_MS);
    const { code, signal } = await child.exited;
    clearTimeout(timer);
    const seconds = (performance.now() - begin) / 1000;
    if (code !== 0) throw new Error(`bench/lib/seed-db.ts failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
    const report = JSON.parse(child.stdout().trim().split("\n").pop() ?? "") as SeedReport;
    if (report.statuses < SEED.statuses || report.accounts !== SEED.accounts) {
      throw new Error(`seeding left ${report.statuses} statuses and ${report.accounts} followees, expected ${SEED.statuses} and ${SEED.accounts}`);
    }
    setFixture(target, report);
    const ms = (value: number) => `${(value / 1000).toFixed(1)} s`;
    context.record({
      id: "seed",
      row: "Seeding: 1,000 followees, 100,000 statuses, 100,000 own (SQL)",
      value: seconds,
      unit: "s",
      how: `child process, server stopped: open ${ms(report.openMs)}, INSERT … SELECT generate_series ${ms(report.insertMs)}, ANALYZE ${ms(report.analyzeMs)}, rest is Node start and close`,
    });
    context.progress(`  seeded ${report.statuses} statuses by ${report.accounts} followees in ${seconds.toFixed(1)} s`);
  },
};
