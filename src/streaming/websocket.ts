/**
 * The multiplexed WebSocket at /api/v1/streaming, as Mastodon serves it:
 * authenticated at the upgrade (401 without a valid user token), then
 * `{"type":"subscribe"|"unsubscribe","stream":...,"tag":...,"list":...}`
 * messages; `?stream=` subscribes at once (clients with one socket per
 * stream use it). Each event is sent as `{"stream":[...],"event":...,
 * "payload":"<JSON text>"}`; a refused subscription as `{"error":...,
 * "status":...}`. Sockets are pinged every 30 s and dropped when a ping
 * goes unanswered.
 */
import type { IncomingMessage } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { CoreContext } from "../core/context.ts";
import { authenticateStreaming } from "./auth.ts";
import type { StreamClient, StreamingHub } from "./hub.ts";
import type { StreamMessage } from "./render.ts";
import { resolveStream, StreamError, type Stream, type StreamParams, type StreamViewer } from "./streams.ts";

export const WEBSOCKET_PATH = "/api/v1/streaming";

const PING_INTERVAL_MS = 30_000;

/** The WebSocket frame of one stream message. */
export function websocketFrame(stream: Stream, message: StreamMessage): string {
  return JSON.stringify({ stream: stream.label, event: message.event, payload: message.payload });
}

/**
 * Frames already encoded, by message and stream label: the hub hands the
 * same message to every client of a stream, so a thousand clients cost one
 * encoding.
 */
const encodedFrames = new WeakMap<StreamMessage, Map<string, Buffer>>();

function encodedFrame(stream: Stream, message: StreamMessage): Buffer {
  let byLabel = encodedFrames.get(message);
  if (byLabel == null) encodedFrames.set(message, (byLabel = new Map()));
  const label = stream.label.join("\u0000");
  let frame = byLabel.get(label);
  if (frame == null) byLabel.set(label, (frame = Buffer.from(websocketFrame(stream, message))));
  return frame;
}

/** A client this far behind is dropped rather than buffered for without end. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Refuses an upgrade with a bare HTTP answer, as Mastodon does. */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    "Connection: close",
    "Content-Type: text/plain",
    "Content-Length: 0",
    `X-Error-Message: ${message.replace(/[\r\n]/g, " ")}`,
  ];
  socket.once("finish", () => socket.destroy());
  socket.end(`${head.join("\r\n")}\r\n\r\n`);
}

class WebSocketSession implements StreamClient {
  readonly viewer: StreamViewer;
  readonly socket: WebSocket;
  alive = true;
  /** Subscription requests are handled in the order they came. */
  pending: Promise<void> = Promise.resolve();

  constructor(viewer: StreamViewer, socket: WebSocket) {
    this.viewer = viewer;
    this.socket = socket;
  }

  send(stream: Stream, message: StreamMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.terminate();
      return;
    }
    this.socket.send(encodedFrame(stream, message), { binary: false });
  }

  /** Reports a refused subscription: `{"error":...,"status":...}`. */
  sendError(error: unknown): void {
    const body = error instanceof StreamError ? { error: error.message, status: error.status } : { error: "Internal Server Error", status: 500 };
    this.sendRaw(body);
  }

  sendRaw(body: unknown): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(body));
  }
}

export class WebSocketEndpoint {
  readonly #ctx: CoreContext;
  readonly #hub: StreamingHub;
  // The first offered subprotocol is selected: masto.js offers its token
  // there and fails unless the server echoes it.
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly #sessions = new Set<WebSocketSession>();
  #pinger: NodeJS.Timeout | null = null;

  constructor(ctx: CoreContext, hub: StreamingHub) {
    this.#ctx = ctx;
    this.#hub = hub;
  }

  /**
   * Handles an HTTP upgrade. `connections` collects the sockets accepted
   * on one listener, so that closing it can end them.
   */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, connections: Set<WebSocket>): Promise<void> {
    // Until ws takes the socket over, a client that goes away is no error of ours.
    const ignore = () => {};
    socket.on("error", ignore);
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname.replace(/\/+$/, "") !== WEBSOCKET_PATH) {
      refuseUpgrade(socket, 404, "Not found");
      return;
    }
    let viewer: StreamViewer;
    try {
      viewer = await authenticateStreaming(this.#ctx, {
        authorization: request.headers.authorization ?? null,
        accessToken: url.searchParams.get("access_token"),
        protocol: request.headers["sec-websocket-protocol"] ?? null,
      });
    } catch (error) {
      if (error instanceof StreamError) refuseUpgrade(socket, error.status, error.message);
      else {
        this.#ctx.log.error("streaming: could not authenticate a WebSocket", error);
        refuseUpgrade(socket, 500, "Internal Server Error");
      }
      return;
    }
    if (socket.destroyed) return;
    socket.removeListener("error", ignore);
    this.#server.handleUpgrade(request, socket, head, (ws) => {
      connections.add(ws);
      ws.once("close", () => connections.delete(ws));
      this.#open(ws, viewer, url.searchParams);
    });
  }

  #open(ws: WebSocket, viewer: StreamViewer, query: URLSearchParams): void {
    const session = new WebSocketSession(viewer, ws);
    this.#sessions.add(session);
    const untrack = this.#hub.closeOnRevoke(viewer.tokenId, () => ws.close(1000, "Access token revoked"));
    this.#startPinging();
    ws.on("pong", () => {
      session.alive = true;
    });
    ws.on("error", (error) => this.#ctx.log.debug("streaming: WebSocket error", error));
    ws.on("close", () => {
      untrack();
      this.#sessions.delete(session);
      this.#hub.remove(session);
      if (this.#sessions.size === 0) this.#stopPinging();
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.close(1003, "Binary messages are not supported");
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(rawText(data));
      } catch {
        return;
      }
      if (message == null || typeof message !== "object" || Array.isArray(message)) return;
      const { type, stream, ...params } = message as Record<string, unknown>;
      if (type === "subscribe") this.#then(session, () => this.#subscribe(session, stream, params));
      else if (type === "unsubscribe") this.#then(session, () => this.#unsubscribe(session, stream, params));
    });
    const initial = query.get("stream");
    if (initial != null) {
      const params = { tag: query.get("tag") ?? undefined, list: query.get("list") ?? undefined };
      this.#then(session, () => this.#subscribe(session, initial, params));
    }
  }

  #then(session: WebSocketSession, task: () => Promise<void>): void {
    session.pending = session.pending.then(task);
  }

  async #subscribe(session: WebSocketSession, name: unknown, params: StreamParams): Promise<void> {
    try {
      const stream = await resolveStream(this.#ctx, session.viewer, name, params);
      if (session.socket.readyState === session.socket.OPEN) this.#hub.subscribe(session, stream);
    } catch (error) {
      if (!(error instanceof StreamError)) this.#ctx.log.error("streaming: subscription failed", error);
      session.sendError(error);
    }
  }

  async #unsubscribe(session: WebSocketSession, name: unknown, params: StreamParams): Promise<void> {
    try {
      const stream = await resolveStream(this.#ctx, session.viewer, name, params);
      this.#hub.unsubscribe(session, stream.key);
    } catch (error) {
      if (!(error instanceof StreamError)) this.#ctx.log.error("streaming: unsubscription failed", error);
      session.sendRaw({ error: "Error unsubscribing from channel" });
    }
  }

  #startPinging(): void {
    if (this.#pinger != null) return;
    this.#pinger = setInterval(() => {
      for (const session of this.#sessions) {
        if (!session.alive) {
          session.socket.terminate();
          continue;
        }
        session.alive = false;
        session.socket.ping();
      }
    }, PING_INTERVAL_MS);
    this.#pinger.unref();
  }

  #stopPinging(): void {
    if (this.#pinger != null) clearInterval(this.#pinger);
    this.#pinger = null;
  }

  /** Ends every connection and the keep-alive timer. */
  close(): void {
    for (const session of this.#sessions) session.socket.terminate();
    this.#stopPinging();
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
