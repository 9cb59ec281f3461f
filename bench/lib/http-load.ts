/**
 * Runs bench/load.ts in a child process against the server, and turns its
 * report into rows: throughput, p50 and p99 latency, and the server's RSS
 * right after the load. The throughput row also gives the server's CPU per
 * request and, on a local PostgreSQL, its backends' CPU (bench/lib/db-cpu.ts).
 * Every HTTP row goes through {@link measureLoad}, so that all read alike.
 */
import { join } from "node:path";
import type { LoadReport, LoadSpec } from "../load.ts";
import { BENCH_DIR, startNode } from "./children.ts";
import { backendCpu, backendCpuBetween } from "./db-cpu.ts";
import type { ServerContext } from "./types.ts";

export const LOAD_DEFAULTS = { durationSeconds: 5, warmupSeconds: 1, maxRequests: 1_000_000 } as const;

export async function runLoad(spec: LoadSpec): Promise<LoadReport> {
  // Fields left undefined keep their defaults.
  const given = Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as LoadSpec;
  const full = { ...LOAD_DEFAULTS, ...given };
  const argument = JSON.stringify(full);
  // Linux limits one argument to 128 KiB.
  if (Buffer.byteLength(argument) > 120 * 1024) throw new Error(`load spec too large to pass as an argument (${Buffer.byteLength(argument)} bytes)`);
  const child = startNode([join(BENCH_DIR, "load.ts"), argument], {});
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
  /**
   * A counted run instead of a timed one: one body per request, each sent
   * once, the first `warmupRequests` not counted (see bench/load.ts).
   */
  bodies?: string[];
  warmupRequests?: number;
  /** The timed window (default 5 s), or the time limit of a counted run. */
  durationSeconds?: number;
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
  const backendsBefore = await backendCpu(context.target);
  const cpuBefore = server.cpuMs();
  const report = await runLoad({
    url: `${server.url}${row.path}`,
    method: row.method,
    headers: row.headers,
    body: row.body,
    bodies: row.bodies,
    warmupRequests: row.warmupRequests,
    durationSeconds: row.durationSeconds,
    connections: row.connections,
  });
  const rssAfter = server.rss();
  const serverCpuMs = server.cpuMs() - cpuBefore;
  const backendsMs = backendCpuBetween(backendsBefore, await backendCpu(context.target));
  const perRequest = (ms: number) => (report.allAnswered > 0 ? ms / report.allAnswered : 0).toFixed(2);
  const core = (cpuMs: number) => `${(cpuMs / 10 / report.wallSeconds).toFixed(0)}%`;
  const backends = backendsMs == null ? "" : `, PostgreSQL backends ${perRequest(backendsMs)} ms/req (${core(backendsMs)})`;
  const cpu = `server CPU ${perRequest(serverCpuMs)} ms/req (${core(serverCpuMs)} of a core)${backends}, load gen ${core(report.cpuMs)}`;
  const window = row.bodies == null
    ? `${report.seconds.toFixed(0)} s after ${LOAD_DEFAULTS.warmupSeconds} s warm-up, ${row.connections} keep-alive conns`
    : `${row.bodies.length - (row.warmupRequests ?? 0)} requests in ${report.seconds.toFixed(1)} s after ${row.warmupRequests ?? 0} warm-up requests, ${row.connections} keep-alive conns`;
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
  if (!report.complete) context.note(`${row.name} on ${context.target.database}: the ${row.durationSeconds ?? LOAD_DEFAULTS.durationSeconds} s limit ended the run before every request was answered (${report.count} counted)`);
  if (report.capped) context.note(`${row.name} on ${context.target.database}: hit the ${LOAD_DEFAULTS.maxRequests}-request cap; window shortened to ${report.seconds.toFixed(2)} s`);
  context.progress(`  ${row.name}: ${report.rps.toFixed(0)} req/s, p50 ${report.p50.toFixed(2)} ms, p99 ${report.p99.toFixed(2)} ms, ${report.errors} errors, RSS ${rssAfter.toFixed(1)} MiB; ${cpu}`);
  return report;
}
