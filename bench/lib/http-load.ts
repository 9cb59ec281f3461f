/**
 * Runs bench/load.ts in a child process against the server, and turns its
 * report into rows: throughput, p50 and p99 latency, and the server's RSS
 * right after the load. Later HTTP rows (home timeline, status creation)
 * should go through {@link measureLoad} too, so that all read alike.
 */
import { join } from "node:path";
import type { LoadReport, LoadSpec } from "../load.ts";
import { BENCH_DIR, startNode } from "./children.ts";
import type { ServerContext } from "./types.ts";

export const LOAD_DEFAULTS = { durationSeconds: 5, warmupSeconds: 1, maxRequests: 1_000_000 } as const;

export async function runLoad(spec: LoadSpec): Promise<LoadReport> {
  const full = { ...LOAD_DEFAULTS, ...spec };
  const child = startNode([join(BENCH_DIR, "load.ts"), JSON.stringify(full)], {});
  const limitMs = (full.warmupSeconds + full.durationSeconds) * 1000 + 30_000;
  const timer = setTimeout(() => child.process.kill("SIGKILL"), limitMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench/load.ts failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
  const line = child.stdout().trim().split("\n").pop() ?? "";
  return JSON.parse(line) as LoadReport;
}

export interface LoadRow {
  /** Stable id prefix, e.g. "webfinger.c10". */
  id: string;
  /** Row name prefix, e.g. "WebFinger, 10 conns". */
  name: string;
  path: string;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
  connections: number;
}

function describeErrors(report: LoadReport): string {
  const parts = Object.entries(report.statuses)
    .filter(([status]) => status === "0" || !/^2\d\d$/.test(status))
    .map(([status, n]) => `${n}× ${status === "0" ? "network error" : `HTTP ${status}`}`);
  if (report.errorMessages.length > 0) parts.push(`(${report.errorMessages.join("; ")})`);
  return parts.join(", ");
}

/** Loads one endpoint and records its four rows. Returns the report. */
export async function measureLoad(context: ServerContext, row: LoadRow): Promise<LoadReport> {
  const { server } = context;
  const cpuBefore = server.cpuMs();
  const report = await runLoad({
    url: `${server.url}${row.path}`,
    method: row.method,
    headers: row.headers,
    body: row.body,
    connections: row.connections,
  });
  const rssAfter = server.rss();
  const serverCpuMs = server.cpuMs() - cpuBefore;
  const perRequest = report.allAnswered > 0 ? serverCpuMs / report.allAnswered : 0;
  const core = (cpuMs: number) => `${(cpuMs / 10 / report.wallSeconds).toFixed(0)}%`;
  const cpu = `server CPU ${perRequest.toFixed(2)} ms/req (${core(serverCpuMs)} of a core), load gen ${core(report.cpuMs)}`;
  const window = `${report.seconds.toFixed(0)} s after ${LOAD_DEFAULTS.warmupSeconds} s warm-up, ${row.connections} keep-alive conns`;
  context.record({
    id: `${row.id}.rps`,
    row: `${row.name}: throughput`,
    value: report.rps,
    unit: "req/s",
    how: `${window}; ${report.count} answered, ${report.errors} errors; ${cpu}`,
  });
  context.record({ id: `${row.id}.p50`, row: `${row.name}: p50 latency`, value: report.p50, unit: "ms", how: "same run, all answered requests" });
  context.record({ id: `${row.id}.p99`, row: `${row.name}: p99 latency`, value: report.p99, unit: "ms", how: `same run (max ${report.max.toFixed(1)} ms)` });
  context.record({ id: `${row.id}.rss`, row: `${row.name}: RSS after`, value: rssAfter, unit: "MiB", how: "server VmRSS right after that load" });
  if (report.errors > 0 || report.warmupErrors > 0) {
    context.note(`${row.name} on ${context.target.database}: ${report.errors} errors in the measured window, ${report.warmupErrors} in the warm-up: ${describeErrors(report)}`);
  }
  if (report.capped) context.note(`${row.name} on ${context.target.database}: hit the ${LOAD_DEFAULTS.maxRequests}-request cap; window shortened to ${report.seconds.toFixed(2)} s`);
  context.progress(`  ${row.name}: ${report.rps.toFixed(0)} req/s, p50 ${report.p50.toFixed(2)} ms, p99 ${report.p99.toFixed(2)} ms, ${report.errors} errors, RSS ${rssAfter.toFixed(1)} MiB; ${cpu}`);
  return report;
}
