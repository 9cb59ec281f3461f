/**
 * Slow clients cannot hold the server's sockets: a body trickled below the
 * minimum rate gets 408 and the connection is closed, headers that never
 * finish are cut off, and a body that keeps arriving at a modest rate is
 * still read whole. Short windows keep the test quick; production uses the
 * defaults in src/slow-requests.ts.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { Hono } from "hono";
import { listen, type RunningServer } from "../../src/server.ts";

const LIMITS = { headersTimeoutMs: 1_000, requestTimeoutMs: 60_000, windowMs: 300, minBytesPerSecond: 2_000 };

/** Opens a raw connection and collects what the server sends until it closes. */
function rawConnection(url: string): { socket: Socket; closed: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => {});
  let received = "";
  socket.on("data", (chunk) => {
    received += chunk.toString("latin1");
  });
  const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  return { socket, closed };
}

describe("slow clients", () => {
  let server: RunningServer;

  before(async () => {
    const app = new Hono();
    app.post("/echo", async (c) => c.json({ length: (await c.req.arrayBuffer()).byteLength }));
    app.get("/ok", (c) => c.text("ok"));
    server = await listen(app, 0, "127.0.0.1", LIMITS);
  });
  after(async () => {
    await server?.close();
  });

  test("bodies trickled below the minimum rate get 408 and their connections close; the server still answers", async () => {
    const trickles = Array.from({ length: 20 }, () => rawConnection(server.url));
    const timers: NodeJS.Timeout[] = [];
    for (const { socket } of trickles) {
      socket.write("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n");
      // One byte every 50 ms: 20 bytes a second, far below the minimum.
      timers.push(setInterval(() => socket.writable && socket.write("x"), 50));
    }
    try {
      const answers = await Promise.all(trickles.map(({ closed }) => closed));
      for (const answer of answers) {
        assert.match(answer, /^HTTP\/1\.1 408 /);
        assert.match(answer, /"error":"The request body arrived too slowly"/);
      }
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
    const sentinel = await fetch(`${server.url}/ok`);
    assert.equal(await sentinel.text(), "ok");
  });

  test("headers that never finish are cut off", async () => {
    const { socket, closed } = rawConnection(server.url);
    socket.write("GET /ok HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
    const timer = setInterval(() => socket.writable && socket.write("a"), 100);
    try {
      const answer = await closed;
      assert.doesNotMatch(answer, /HTTP\/1\.1 200/, "no answer to a request whose headers never ended");
    } finally {
      clearInterval(timer);
    }
  });

  test("a body that keeps arriving at a modest rate over several windows is read whole", async () => {
    const chunk = 4_000;
    const chunks = 12; // 48 kB over about 1.2 s: 40 kB/s, four windows long.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent++ >= chunks) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.enqueue(new Uint8Array(chunk));
      },
    });
    let sent = 0;
    const response = await fetch(`${server.url}/echo`, { method: "POST", body, duplex: "half" } as RequestInit);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { length: chunk * chunks });
  });
});
