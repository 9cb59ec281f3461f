/**
 * Starting `islet serve` as a child process, waiting for it to answer, and
 * reading its memory from /proc.
 */
import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureFreshBundle } from "./bundle.ts";
import { startNode, type Child } from "./children.ts";
import type { Target } from "./targets.ts";

export interface ServerHandle {
  child: Child;
  pid: number;
  /** Where requests go: http://127.0.0.1:PORT. */
  url: string;
  /** Milliseconds from spawn to the first 200 from /health. */
  startMs: number;
  /** VmRSS of the server process, in MiB. */
  rss(): number;
  /** VmHWM (peak resident set) of the server process, in MiB. */
  peakRss(): number;
  /** CPU time the server process has used so far (all threads), in milliseconds. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** One GET /health on a fresh connection: the status, or 0 if none came. */
export function getStatus(url: string, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** Reads a "VmXXX:   1234 kB" line of /proc/PID/status, in MiB. */
export function procStatusMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
  if (match == null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of /proc/PID/stat's CPU times. */
function ticksPerSecond(): number {
  if (clockTicks == null) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU time a process has used, all its threads together (user + system), in
 * milliseconds, from /proc/PID/stat; to the clock tick (10 ms).
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which sits in parentheses: state is
  // field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / ticksPerSecond();
}

/**
 * Spawns `node bin/islet.js serve` on the target's database and port (the
 * bundle, not the sources) and polls /health every `pollMs` until it answers
 * 200. Times from just before the spawn.
 */
export async function startServer(target: Target, options: { pollMs?: number; timeoutMs?: number; onRebuild?: (why: string) => void } = {}): Promise<ServerHandle> {
  const pollMs = options.pollMs ?? 10;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const rebuilt = await ensureFreshBundle();
  if (rebuilt != null) options.onRebuild?.(rebuilt);
  const health = `${target.url}/health`;
  const begin = performance.now();
  // BENCH_SERVER_NODE_OPTIONS reaches the servers only (e.g. "--cpu-prof
  // --cpu-prof-dir=/tmp/prof" to profile them under load).
  const nodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
  const child = startNode(["bin/islet.js", "serve"], nodeOptions ? { ...target.env, NODE_OPTIONS: nodeOptions } : target.env);
  let startMs = -1;
  try {
    while (true) {
      if (!child.alive()) {
        const { code, signal } = await child.exited;
        throw new Error(`islet serve exited (${signal ?? code}) before answering /health:\n${child.output()}`);
      }
      const status = await getStatus(health, 2_000);
      if (status === 200 && child.alive()) {
        startMs = performance.now() - begin;
        break;
      }
      if (performance.now() - begin > timeoutMs) {
        throw new Error(`islet serve did not answer 200 on /health within ${timeoutMs / 1000} s:\n${child.output()}`);
      }
      await sleep(pollMs);
    }
  } catch (error) {
    await child.stop(5_000);
    throw error;
  }
  return {
    child,
    pid: child.pid,
    url: target.url,
    startMs,
    rss: () => procStatusMiB(child.pid, "VmRSS"),
    peakRss: () => procStatusMiB(child.pid, "VmHWM"),
    cpuMs: () => processCpuMs(child.pid),
    async stop() {
      const { code, signal } = await child.stop(10_000);
      if (code !== 0) {
        throw new Error(`islet serve did not stop cleanly on SIGTERM (${signal ?? `exit code ${code}`}):\n${child.output()}`);
      }
    },
  };
}
