/**
 * The load generator: run in its own process (never in the server's, never
 * in the orchestrator's) so that its work shows up neither in the server's
 * figures nor in its memory.
 *
 *   node bench/load.ts '{"url":"http://127.0.0.1:3000/health","connections":10}'
 *
 * Opens `connections` keep-alive HTTP/1.1 connections and runs one request
 * loop per connection: each loop sends a request, reads the whole response,
 * and sends the next. Requests that start during the warm-up are not
 * counted; after it, every request that starts and completes within
 * `durationSeconds` is (at most `maxRequests`). Prints one line of JSON, a
 * {@link LoadReport}, on stdout.
 *
 * With `bodies` the run is counted, not timed: request i (in the order the
 * loops send them) carries `bodies[i]`, each body is sent once, and the run
 * ends when all have been answered (`durationSeconds` is then only a limit).
 * The first `warmupRequests` are the warm-up; the measured window runs from
 * the start of the first counted request to the end of the last. This is
 * for requests that must differ, such as statuses each attaching its own
 * media.
 */
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { latencySummary } from "./lib/percentile.ts";

export interface LoadSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** One body per request, each sent once; see above. Overrides `body`. */
  bodies?: string[];
  /** With `bodies`: how many of the first requests are the warm-up. */
  warmupRequests?: number;
  connections: number;
  durationSeconds?: number;
  warmupSeconds?: number;
  maxRequests?: number;
  /** Per-request timeout; a request that takes longer is an error. */
  timeoutSeconds?: number;
}

export interface LoadReport {
  connections: number;
  /** The measured window in seconds (shorter than asked if maxRequests was hit). */
  seconds: number;
  /** Requests answered (any status) in the measured window. */
  count: number;
  /** Of those and of failed requests: non-2xx answers plus network errors/timeouts. */
  errors: number;
  /** Errors during the warm-up, not counted above. */
  warmupErrors: number;
  /** 2xx answers per second over the measured window. */
  rps: number;
  /** Latency percentiles over all answered requests, in milliseconds. */
  p50: number;
  p99: number;
  max: number;
  /** Requests answered, warm-up included (for CPU per request). */
  allAnswered: number;
  /** Wall-clock seconds from the first request to the last answer, warm-up included. */
  wallSeconds: number;
  /** CPU this load generator used (user + system), in milliseconds. */
  cpuMs: number;
  /** Answers by status code ("0" for network errors and timeouts). */
  statuses: Record<string, number>;
  /** The first few distinct network error messages. */
  errorMessages: string[];
  capped: boolean;
  /** With `bodies`: false when the time limit ended the run before every body was sent and answered. */
  complete: boolean;
}

type FullSpec = Required<Omit<LoadSpec, "body" | "bodies">> & { body?: string; bodies?: string[] };

function parseSpec(raw: string | undefined): FullSpec {
  if (raw == null) throw new Error("usage: node bench/load.ts '<JSON load spec>'");
  const spec = JSON.parse(raw) as LoadSpec;
  if (typeof spec.url !== "string") throw new Error("load spec: url is required");
  if (spec.bodies != null && (!Array.isArray(spec.bodies) || spec.bodies.some((body) => typeof body !== "string"))) {
    throw new Error("load spec: bodies must be an array of strings");
  }
  if (spec.bodies != null && !(Number.isInteger(spec.warmupRequests ?? 0) && (spec.warmupRequests ?? 0) < spec.bodies.length)) {
    throw new Error("load spec: warmupRequests must be a whole number smaller than the number of bodies");
  }
  if (!Number.isInteger(spec.connections) || spec.connections < 1 || spec.connections > 1000) {
    throw new Error("load spec: connections must be a whole number from 1 to 1000");
  }
  return {
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    body: spec.body,
    bodies: spec.bodies,
    warmupRequests: spec.warmupRequests ?? 0,
    connections: spec.connections,
    durationSeconds: spec.durationSeconds ?? 5,
    warmupSeconds: spec.warmupSeconds ?? 1,
    maxRequests: spec.maxRequests ?? 1_000_000,
    timeoutSeconds: spec.timeoutSeconds ?? 10,
  };
}

async function main(): Promise<void> {
  const spec = parseSpec(process.argv[2]);
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections });
  const headers: Record<string, string> = { ...spec.headers };
  if (spec.body != null && spec.bodies == null) headers["content-length"] = String(Buffer.byteLength(spec.body));
  const options = {
    agent,
    hostname: target.hostname,
    port: target.port,
    path: `${target.pathname}${target.search}`,
    method: spec.method,
    headers,
  };
  const timeoutMs = spec.timeoutSeconds * 1000;

  /** One request: its status (0 for a network error or timeout). */
  const once = (body: string | undefined): Promise<number> => new Promise((resolve) => {
    const perRequest = spec.bodies == null
      ? options
      : { ...options, headers: { ...headers, "content-length": String(Buffer.byteLength(body ?? "")) } };
    const req = request(perRequest, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", (error) => {
        noteError(error);
        resolve(0);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${spec.timeoutSeconds} s`)));
    req.on("error", (error) => {
      noteError(error);
      resolve(0);
    });
    req.end(body);
  });

  const errorMessages = new Set<string>();
  const noteError = (error: Error) => {
    if (errorMessages.size < 5) errorMessages.add(error.message);
  };

  const latencies = new Float64Array(spec.maxRequests);
  const statuses: Record<string, number> = {};
  let count = 0;
  let allAnswered = 0;
  let ok = 0;
  let errors = 0;
  let warmupErrors = 0;
  let capped = false;
  const bodies = spec.bodies;
  const begin = performance.now();
  // Counted runs (bodies) have no timed warm-up; the duration is a limit.
  const measureFrom = bodies == null ? begin + spec.warmupSeconds * 1000 : begin;
  const deadline = measureFrom + spec.durationSeconds * 1000;
  let measureUntil = deadline;
  let nextBody = 0;
  let firstCountedStart = Number.POSITIVE_INFINITY;
  let lastCountedEnd = Number.NEGATIVE_INFINITY;

  const loop = async () => {
    while (true) {
      if (bodies != null && nextBody >= bodies.length) return;
      const start = performance.now();
      if (start >= deadline || capped) return;
      const index = nextBody++;
      const warmup = bodies == null ? start < measureFrom : index < spec.warmupRequests;
      if (bodies != null && !warmup) firstCountedStart = Math.min(firstCountedStart, start);
      const status = await once(bodies == null ? spec.body : bodies[index]);
      const end = performance.now();
      const failed = status < 200 || status > 299;
      if (status !== 0) allAnswered++;
      if (warmup) {
        if (failed) warmupErrors++;
      } else if (end <= deadline && !capped) {
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (failed) errors++;
        else ok++;
        lastCountedEnd = Math.max(lastCountedEnd, end);
        if (status !== 0) {
          latencies[count++] = end - start;
          if (count === spec.maxRequests) {
            capped = true;
            measureUntil = end;
          }
        }
      }
      // Do not spin on a refused connection.
      if (status === 0) await sleep(10);
    }
  };
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const wallSeconds = (performance.now() - begin) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();

  const seconds = bodies == null
    ? (measureUntil - measureFrom) / 1000
    : Math.max(0, (lastCountedEnd - firstCountedStart) / 1000);
  const counted = bodies == null ? 0 : bodies.length - spec.warmupRequests;
  const report: LoadReport = {
    connections: spec.connections,
    seconds,
    count,
    errors,
    warmupErrors,
    rps: seconds > 0 ? ok / seconds : 0,
    ...latencySummary(latencies, count),
    allAnswered,
    wallSeconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
    statuses,
    errorMessages: [...errorMessages],
    capped,
    complete: bodies == null || (nextBody >= bodies.length && count + (statuses["0"] ?? 0) === counted),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`load: ${(error as Error).stack ?? error}\n`);
    process.exit(2);
  });
}
