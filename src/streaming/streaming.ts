/**
 * Mastodon's streaming API for one process: the WebSocket endpoint, the
 * server-sent-events routes, and the hub they share. The HTTP server hands
 * upgrades to {@link Streaming.handleUpgrade} on every port it listens on.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Hono } from "hono";
import type { WebSocket } from "ws";
import type { CoreContext } from "../core/context.ts";
import { StreamingHub } from "./hub.ts";
import { streamingRoutes } from "./sse.ts";
import { WebSocketEndpoint } from "./websocket.ts";

export interface Streaming {
  readonly hub: StreamingHub;
  /** The SSE streams and the health check. */
  readonly routes: Hono;
  /** Starts receiving events; matched by one {@link stop} per call. */
  start(): Promise<void>;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, connections: Set<WebSocket>): Promise<void>;
  /** Stops receiving events once every starter has stopped. */
  stop(): Promise<void>;
}

export function createStreaming(ctx: CoreContext): Streaming {
  const hub = new StreamingHub(ctx);
  const websocket = new WebSocketEndpoint(ctx, hub);
  let running = 0;
  return {
    hub,
    routes: streamingRoutes(ctx, hub),
    async start() {
      await hub.acquire();
      running++;
    },
    async handleUpgrade(request, socket, head, connections) {
      try {
        await websocket.handleUpgrade(request, socket, head, connections);
      } catch (error) {
        ctx.log.error("streaming: upgrade failed", error);
        socket.destroy();
      }
    },
    async stop() {
      running = Math.max(0, running - 1);
      if (running === 0) websocket.close();
      await hub.release();
    },
  };
}
