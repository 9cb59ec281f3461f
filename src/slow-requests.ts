/**
 * Time limits for what a client sends, so that slow connections cannot
 * hold the server's sockets: the headers must arrive within a deadline,
 * and a request body must keep arriving at a minimum rate. A body that the
 * server itself has not read yet (its buffer is full while a handler
 * waits) is never held against the client.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from "node:http";
import type { Http2Server } from "node:http2";

export interface SlowRequestLimits {
  /** All request headers must arrive within this many milliseconds. */
  headersTimeoutMs: number;
  /** The whole request, body included, within this many milliseconds. */
  requestTimeoutMs: number;
  /** How often a body's progress is measured. */
  windowMs: number;
  /** The fewest body bytes a second a client may send, averaged over a window. */
  minBytesPerSecond: number;
}

/** Headers within 20 s; a body at 1 KiB/s at least (a 100 MB upload at 400 KB/s still fits in 5 minutes). */
export const DEFAULT_SLOW_REQUEST_LIMITS: SlowRequestLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  windowMs: 10_000,
  minBytesPerSecond: 1024,
};

function refuse(request: IncomingMessage, response: ServerResponse): void {
  if (!response.headersSent) {
    response.writeHead(408, { "Content-Type": "application/json; charset=utf-8", Connection: "close" });
    response.end(JSON.stringify({ error: "The request body arrived too slowly" }));
  }
  // Whatever the client still sends is not read.
  setImmediate(() => request.socket.destroy());
}

/**
 * Options for node:http's createServer: the header and whole-request
 * deadlines, checked often enough to matter (Node checks every 30 s by
 * default, so a deadline of 20 s could hold a socket for 50 s).
 */
export function slowRequestServerOptions(limits: SlowRequestLimits = DEFAULT_SLOW_REQUEST_LIMITS): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Whether a request carries a body at all (HTTP/1.1: a length above zero, or chunked). */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers["content-length"];
  if (length != null) return length.trim() !== "0";
  return request.headers["transfer-encoding"] != null || request.httpVersionMajor >= 2;
}

/** Watches each request body's rate on a Node HTTP server and cuts off the ones below the minimum. */
export function limitSlowBodies(server: Server | Http2Server, limits: SlowRequestLimits = DEFAULT_SLOW_REQUEST_LIMITS): void {
  (server as Server).prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
    if (request.complete || !hasBody(request)) return;
    const socket = request.socket;
    let lastBytes = socket.bytesRead;
    const timer = setInterval(() => {
      if (request.complete || request.destroyed || socket.destroyed) {
        clearInterval(timer);
        return;
      }
      const bytes = socket.bytesRead;
      const arrived = bytes - lastBytes;
      lastBytes = bytes;
      // A full buffer means the server is behind, not the client.
      if (request.readableLength >= request.readableHighWaterMark || request.isPaused()) return;
      if (arrived < (limits.minBytesPerSecond * limits.windowMs) / 1000) {
        clearInterval(timer);
        refuse(request, response);
      }
    }, limits.windowMs);
    timer.unref();
    request.once("end", () => clearInterval(timer));
    request.once("close", () => clearInterval(timer));
  });
}
