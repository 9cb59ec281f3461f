/**
 * Streaming fan-out: 1,000 WebSocket clients subscribed to `user` at
 * `/api/v1/streaming?stream=user`, all with the owner's token, held open by
 * a separate load process (this file, run as a script), which then posts
 * a status through the API one at a time and times each from the start of
 * the POST until every client has received its `update` (5 warm-up posts,
 * then 50 measured). Posts and clients share the load process's clock.
 *
 * The server's RSS is read before the clients connect and once they are all
 * subscribed (the load process waits for a line on stdin before posting),
 * which gives the memory per connection.
 *
 *   node bench/rows/streaming.ts '{"url":"http://127.0.0.1:3000","token":"…","clients":1000,"posts":50,"warmup":5}'
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startNode } from "../lib/children.ts";
import { fixture } from "../lib/fixtures.ts";
import type { ServerBench } from "../lib/types.ts";
import { percentile } from "../lib/percentile.ts";

const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);

const CLIENTS = 1_000;
const POSTS = 50;
const WARMUP = 5;
/** Handshakes in flight at once while connecting. */
const CONNECT_CONCURRENCY = 50;
/** The longest a post may take to reach every client before the run fails. */
const DELIVERY_LIMIT_MS = 30_000;
const RUN_LIMIT_MS = 5 * 60 * 1000;

interface LoadSpec {
  url: string;
  token: string;
  clients: number;
  posts: number;
  warmup: number;
}

interface FanOutReport {
  clients: number;
  connectSeconds: number;
  /** Post-to-last-client latencies of the measured posts, in ms. */
  latencies: number[];
  /** Post-to-first-client latencies of the measured posts, in ms. */
  firstLatencies: number[];
  /** Events received that were not expected (duplicates, other events). */
  unexpected: number;
  cpuMs: number;
}

// ---------------------------------------------------------------------------
// The load process.

async function connectAll(spec: LoadSpec, onMessage: (text: string) => void): Promise<WebSocket[]> {
  const url = new URL("/api/v1/streaming", spec.url.replace(/^http/, "ws"));
  url.searchParams.set("stream", "user");
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < spec.clients) {
      next++;
      const socket = new WebSocket(url, [spec.token], { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
        socket.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused with ${response.statusCode}`)));
      });
      socket.on("message", (data) => onMessage(data.toString()));
      sockets.push(socket);
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
  return sockets;
}

async function runClients(spec: LoadSpec): Promise<void> {
  const cpuBefore = process.cpuUsage();
  let expected: { marker: string; count: number; first: number; done: (at: number) => void } | null = null;
  let unexpected = 0;
  const onMessage = (text: string) => {
    const now = performance.now();
    if (expected != null && text.includes(expected.marker)) {
      if (expected.count === 0) expected.first = now;
      expected.count++;
      if (expected.count === spec.clients) expected.done(now);
      else if (expected.count > spec.clients) unexpected++;
    } else {
      unexpected++;
    }
  };
  const connectBegin = performance.now();
  const sockets = await connectAll(spec, onMessage);
  const connectSeconds = (performance.now() - connectBegin) / 1000;
  process.stdout.write(`${JSON.stringify({ phase: "connected" })}\n`);
  // The orchestrator reads the server's memory, then says go.
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once("line", () => resolve()));
  lines.close();

  const latencies: number[] = [];
  const firstLatencies: number[] = [];
  const posted: string[] = [];
  for (let i = 0; i < spec.warmup + spec.posts; i++) {
    const marker = `streaming-bench-${process.pid}-${i}-${Math.random().toString(36).slice(2)}`;
    let timer: NodeJS.Timeout | undefined;
    const received = new Promise<number>((resolve, reject) => {
      expected = { marker, count: 0, first: 0, done: resolve };
      timer = setTimeout(() => reject(new Error(`post ${i} reached ${expected?.count ?? 0} of ${spec.clients} clients in ${DELIVERY_LIMIT_MS} ms`)), DELIVERY_LIMIT_MS);
    });
    const begin = performance.now();
    const response = await fetch(`${spec.url}/api/v1/statuses`, {
      method: "POST",
      headers: { authorization: `Bearer ${spec.token}`, "content-type": "application/json" },
      body: JSON.stringify({ status: `Streaming benchmark ${marker}`, visibility: "public" }),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`POST /api/v1/statuses answered ${response.status}: ${text.slice(0, 300)}`);
    posted.push((JSON.parse(text) as { id: string }).id);
    const end = await received;
    clearTimeout(timer);
    if (i >= spec.warmup) {
      latencies.push(end - begin);
      firstLatencies.push(expected!.first - begin);
    }
    expected = null;
  }
  const cpu = process.cpuUsage(cpuBefore);
  const report: FanOutReport = { clients: sockets.length, connectSeconds, latencies, firstLatencies, unexpected, cpuMs: (cpu.user + cpu.system) / 1000 };
  for (const socket of sockets) socket.terminate();
  // The posts go again, so that the rows after this one see only their own.
  for (const id of posted) {
    const removed = await fetch(`${spec.url}/api/v1/statuses/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${spec.token}` } });
    await removed.body?.cancel();
    if (removed.status !== 200) throw new Error(`DELETE /api/v1/statuses/${id} answered ${removed.status}`);
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------------------
// The row, run by the orchestrator against the shared server.

/** The server's RSS once three readings 250 ms apart agree within 2 MiB (at most 5 s). */
async function settledRss(read: () => number): Promise<number> {
  const readings = [read()];
  for (let i = 0; i < 20; i++) {
    const window = readings.slice(-3);
    if (window.length === 3 && Math.max(...window) - Math.min(...window) <= 2) break;
    await sleep(250);
    readings.push(read());
  }
  return readings[readings.length - 1];
}

export const streamingFanOut: ServerBench = {
  kind: "server",
  name: "streaming fan-out",
  async run(context) {
    const { server } = context;
    const spec: LoadSpec = { url: server.url, token: fixture(context.target).token, clients: CLIENTS, posts: POSTS, warmup: WARMUP };
    const rssBefore = await settledRss(() => server.rss());
    const cpuBefore = server.cpuMs();
    const child = startNode([fileURLToPath(import.meta.url), JSON.stringify(spec)], {}, { stdio: ["pipe", "pipe", "pipe"] });
    const killer = setTimeout(() => child.process.kill("SIGKILL"), RUN_LIMIT_MS);
    try {
      const lines: string[] = [];
      let buffer = "";
      let wake = () => {};
      child.process.stdout!.on("data", (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          lines.push(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
        }
        wake();
      });
      const nextLine = async (): Promise<string> => {
        while (lines.length === 0) {
          if (!child.alive()) throw new Error(`the streaming load process exited:\n${child.output()}`);
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), child.exited]);
        }
        return lines.shift()!;
      };
      const connected = JSON.parse(await nextLine()) as { phase?: string };
      if (connected.phase !== "connected") throw new Error(`unexpected first line from the load process: ${JSON.stringify(connected)}`);
      const rssConnected = await settledRss(() => server.rss());
      child.process.stdin!.write("go\n");
      const report = JSON.parse(await nextLine()) as FanOutReport;
      const { code, signal } = await child.exited;
      if (code !== 0) throw new Error(`the streaming load process failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);

      const perConnectionKiB = ((rssConnected - rssBefore) * 1024) / report.clients;
      const serverCpuMs = server.cpuMs() - cpuBefore;
      const p50 = percentile(sortedCopy(report.latencies), 0.5);
      const p99 = percentile(sortedCopy(report.latencies), 0.99);
      const firstP50 = percentile(sortedCopy(report.firstLatencies), 0.5);
      const how = `${report.clients} WebSocket clients on \`user\` in a separate process (connected in ${report.connectSeconds.toFixed(1)} s); ` +
        `${report.latencies.length} posts one at a time after ${WARMUP} warm-up, POST start to the last client's update`;
      context.record({ id: "streaming.c1000.p50", row: `Streaming, ${CLIENTS} clients: post to all received, p50`, value: p50, unit: "ms", how: `${how}; to the first client p50 ${firstP50.toFixed(1)} ms` });
      context.record({ id: "streaming.c1000.p99", row: `Streaming, ${CLIENTS} clients: post to all received, p99`, value: p99, unit: "ms", how: `same run (max ${Math.max(...report.latencies).toFixed(1)} ms); server CPU ${(serverCpuMs / 1000).toFixed(1)} s over the whole run, load process ${(report.cpuMs / 1000).toFixed(1)} s` });
      context.record({ id: "streaming.c1000.rss", row: `Streaming, ${CLIENTS} clients: RSS connected`, value: rssConnected, unit: "MiB", how: `server VmRSS with the clients subscribed (before: ${rssBefore.toFixed(0)} MiB)` });
      context.record({ id: "streaming.per_connection", row: "Streaming: memory per connection", value: perConnectionKiB, unit: "KiB", how: `(RSS connected − RSS before) / ${report.clients}` });
      if (report.unexpected > 0) context.note(`streaming fan-out on ${context.target.database}: ${report.unexpected} unexpected messages (duplicates or other events)`);
      context.progress(`  streaming: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms to all ${report.clients}; ${perConnectionKiB.toFixed(1)} KiB per connection (${rssBefore.toFixed(0)} → ${rssConnected.toFixed(0)} MiB)`);
    } finally {
      clearTimeout(killer);
      if (child.alive()) await child.stop(2_000);
    }
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runClients(JSON.parse(process.argv[2] ?? "{}") as LoadSpec).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
