/**
 * `npm run bench`: measures Islet on this machine and prints one table.
 *
 * For each database (PGlite, then PostgreSQL when reachable) it prepares a
 * fresh instance with an owner, runs the process benches (cold start), then
 * starts one server and runs the server benches against it (idle memory,
 * loads, peak memory), then stops it and throws the database away. The
 * machine benches (RSA) run last, with no server running. Results go to
 * stdout and to bench/results/latest.json; progress goes to stderr.
 */
import { rmSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBundle } from "./lib/bundle.ts";
import { BENCH_DIR, killAllChildren } from "./lib/children.ts";
import { describeMachine, formatMachine } from "./lib/machine.ts";
import { startServer, type ServerHandle } from "./lib/server.ts";
import { describeGoal, goalHolds, goalOf } from "./lib/goals.ts";
import { formatFigure, formatTable, orderRows } from "./lib/table.ts";
import { DEFAULT_ADMIN_URL, describeUrl, openTargets, prepareTarget, probePostgres, type Target } from "./lib/targets.ts";
import type { DatabaseLabel, Measurement, Recorder } from "./lib/types.ts";
import { machineBenches as allMachineBenches, processBenches as allProcessBenches, serverBenches as allServerBenches } from "./rows/index.ts";
import { seedTimeline } from "./rows/seed.ts";
import type { Bench } from "./lib/types.ts";

/** The whole run is killed after this, whatever it is doing. */
const WATCHDOG_MS = 15 * 60 * 1000;

/**
 * `--only WORD[,WORD…]`: run only the benches whose name contains one of
 * the words (case-insensitive), e.g. `npm run bench -- --only inbox,fan-out`.
 * The seeding step always runs, since the API rows need its token.
 */
function onlyWords(argv: string[]): string[] | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg === "--only" ? argv[i + 1] : arg.startsWith("--only=") ? arg.slice("--only=".length) : undefined;
    if (value === undefined) continue;
    const words = value.split(",").map((word) => word.trim().toLowerCase()).filter((word) => word !== "");
    if (words.length === 0) throw new Error("--only needs a bench name (or part of one)");
    return words;
  }
  return null;
}

const only = onlyWords(process.argv.slice(2));
const selected = <T extends Bench>(benches: T[]): T[] =>
  only == null ? benches : benches.filter((bench) => bench === seedTimeline || only.some((word) => bench.name.toLowerCase().includes(word)));
const processBenches = selected(allProcessBenches);
const serverBenches = selected(allServerBenches);
const machineBenches = selected(allMachineBenches);

const rows: Measurement[] = [];
const notes: string[] = [];
let failures = 0;

const progress = (text: string) => process.stderr.write(`${text}\n`);

function recorder(database: DatabaseLabel): Recorder {
  return {
    record: (measurement) => rows.push({ ...measurement, database }),
    note: (text) => notes.push(text),
    progress,
  };
}

function fail(what: string, error: unknown): void {
  failures++;
  const message = error instanceof Error ? error.message : String(error);
  progress(`FAILED: ${what}: ${message}`);
  const short = message.split("\n").filter((line) => line.trim() !== "").slice(0, 4).join(" / ");
  notes.push(`FAILED: ${what}: ${short.length > 600 ? `${short.slice(0, 600)}…` : short}`);
}

/** Last-ditch clean-up: kill children, remove temporary folders, drop databases. */
async function abort(why: string, code: number): Promise<never> {
  progress(`bench: ${why}; stopping servers and cleaning up`);
  killAllChildren();
  const cleanup = Promise.allSettled([...openTargets].map((target) => target.dispose()));
  await Promise.race([cleanup, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  process.exit(code);
}

process.on("exit", () => {
  killAllChildren();
  for (const target of openTargets) rmSync(target.tempDir, { recursive: true, force: true });
});
process.on("SIGINT", () => void abort("interrupted", 130));
process.on("SIGTERM", () => void abort("terminated", 143));
setTimeout(() => void abort(`still running after ${WATCHDOG_MS / 60_000} minutes`, 1), WATCHDOG_MS).unref();

async function benchTarget(target: Target): Promise<void> {
  const base = recorder(target.database);
  const context = { ...base, target };
  for (const bench of processBenches) {
    progress(`${target.database}: ${bench.name}`);
    try {
      await bench.run(context);
    } catch (error) {
      fail(`${bench.name} on ${target.database}`, error);
    }
  }
  if (serverBenches.length === 0) return;
  progress(`${target.database}: starting the server for the load rows`);
  let server: ServerHandle;
  try {
    server = await startServer(target, { onRebuild: (why) => notes.push(`${target.database} server: ${why}`) });
  } catch (error) {
    fail(`starting the server on ${target.database}`, error);
    return;
  }
  try {
    for (const bench of serverBenches) {
      progress(`${target.database}: ${bench.name}`);
      try {
        if (!server.child.alive()) throw new Error(`the server has exited:\n${server.child.output()}`);
        await bench.run({ ...context, server });
      } catch (error) {
        fail(`${bench.name} on ${target.database}`, error);
      }
    }
  } finally {
    try {
      await server.stop();
    } catch (error) {
      fail(`stopping the server on ${target.database}`, error);
    }
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const begin = performance.now();

  const adminUrl = process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL;
  const probe = await probePostgres(adminUrl);
  const where = (() => {
    const url = new URL(adminUrl);
    return `${url.hostname}:${url.port || 5432}`;
  })();
  const databases: Target["database"][] = ["PGlite"];
  let postgresLine: string;
  if ("version" in probe) {
    databases.push("PostgreSQL");
    postgresLine = `${probe.version} at ${where} (throwaway database per run)`;
  } else {
    postgresLine = `not used (${probe.error})`;
    notes.push(`PostgreSQL rows skipped: cannot reach ${describeUrl(adminUrl)} (${probe.error}); set BENCH_DATABASE_URL to an admin URL`);
  }
  const machine = describeMachine(postgresLine);

  progress("building the bundle (scripts/build.js)");
  try {
    const ms = await buildBundle();
    progress(`  built in ${ms.toFixed(0)} ms`);
  } catch (error) {
    fail("building the bundle", error);
    databases.length = 0;
  }

  for (const database of databases) {
    progress(`${database}: preparing a fresh instance (islet setup)`);
    let target: Target;
    try {
      target = await prepareTarget(database, adminUrl);
    } catch (error) {
      fail(`preparing ${database}`, error);
      continue;
    }
    try {
      await benchTarget(target);
    } finally {
      try {
        await target.dispose();
      } catch (error) {
        fail(`cleaning up ${database}`, error);
      }
    }
  }

  for (const bench of machineBenches) {
    progress(bench.name);
    try {
      await bench.run(recorder("-"));
    } catch (error) {
      fail(bench.name, error);
    }
  }

  const seconds = (performance.now() - begin) / 1000;
  if (only != null) notes.push(`only the benches matching ${only.map((word) => JSON.stringify(word)).join(", ")} (--only), and the seeding they need`);
  const output = [
    `Islet benchmark, ${startedAt.toISOString()}, took ${seconds.toFixed(0)} s`,
    formatMachine(machine),
    "",
    formatTable(rows),
  ];
  if (notes.length > 0) output.push("", "Notes:", ...notes.map((note) => `- ${note}`));
  process.stdout.write(`${output.join("\n")}\n`);

  const resultsDir = join(BENCH_DIR, "results");
  mkdirSync(resultsDir, { recursive: true });
  const json = {
    startedAt: startedAt.toISOString(),
    seconds,
    machine,
    rows: orderRows(rows).map((row) => {
      const goal = goalOf(row);
      return {
        ...row,
        figure: formatFigure(row.value, row.unit),
        ...(goal == null ? {} : { target: describeGoal(goal), holds: goalHolds(goal, row.value) }),
      };
    }),
    notes,
    failures,
  };
  writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  progress(`wrote bench/results/latest.json`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    fail("the benchmark", error);
    return abort("unexpected error", 1);
  },
);
