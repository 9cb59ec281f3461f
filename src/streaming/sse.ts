/**
 * Streaming over server-sent events: GET /api/v1/streaming/user,
 * /user/notification, /public (and /local, /remote, `?only_media=true`),
 * /hashtag?tag=, /hashtag/local?tag=, /list?list=, /direct. One stream per
 * request; each message is `event: NAME\ndata: PAYLOAD\n\n`, and a
 * `:thump` comment keeps idle connections open. Also the health check
 * `/api/v1/streaming/health`. Refusals are JSON `{"error":...}` with
 * Mastodon's statuses (400 for an unknown stream, 401 for tokens).
 */
import { Hono, type Context } from "hono";
import type { CoreContext } from "../core/context.ts";
import { authenticateStreaming } from "./auth.ts";
import type { StreamClient, StreamingHub } from "./hub.ts";
import type { StreamMessage } from "./render.ts";
import { resolveStream, StreamError, streamNameFromPath, type Stream, type StreamViewer } from "./streams.ts";

const HEARTBEAT_MS = 15_000;
const MAX_QUEUED_CHUNKS = 10_000;

function isTruthy(value: string | undefined): boolean {
  return value != null && ["1", "t", "true", "on", "y", "yes"].includes(value.trim().toLowerCase());
}

/** The SSE text of one stream message. Mastodon writes a missing payload as `undefined`. */
export function sseFrame(message: StreamMessage): string {
  return `event: ${message.event}\ndata: ${message.payload ?? "undefined"}\n\n`;
}

function refuse(c: Context, error: StreamError): Response {
  return c.json({ error: error.message }, error.status);
}

export function streamingRoutes(ctx: CoreContext, hub: StreamingHub): Hono {
  const app = new Hono();

  app.get("/api/v1/streaming/health", (c) => {
    c.header("Cache-Control", "private, no-store");
    return c.text("OK");
  });

  const serve = async (c: Context): Promise<Response> => {
    const name = streamNameFromPath(c.req.path, isTruthy(c.req.query("only_media")));
    if (name == null) return refuse(c, new StreamError(400, "Unknown channel requested"));
    let viewer: StreamViewer;
    let stream: Stream;
    try {
      viewer = await authenticateStreaming(ctx, {
        authorization: c.req.header("Authorization") ?? null,
        accessToken: c.req.query("access_token") ?? null,
        protocol: null,
      });
      stream = await resolveStream(ctx, viewer, name, { tag: c.req.query("tag"), list: c.req.query("list") });
    } catch (error) {
      if (error instanceof StreamError) return refuse(c, error);
      throw error;
    }
    return eventStream(c, hub, viewer, stream);
  };
  app.get("/api/v1/streaming", serve);
  app.get("/api/v1/streaming/*", serve);
  return app;
}

function eventStream(c: Context, hub: StreamingHub, viewer: StreamViewer, stream: Stream): Response {
  const encoder = new TextEncoder();
  let finish = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const write = (text: string) => {
        if (!open) return;
        // A reader this far behind is dropped rather than buffered for without end.
        if ((controller.desiredSize ?? 0) < -MAX_QUEUED_CHUNKS) {
          finish();
          return;
        }
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          finish();
        }
      };
      const client: StreamClient = { viewer, send: (_stream, message) => write(sseFrame(message)) };
      const heartbeat = setInterval(() => write(":thump\n\n"), HEARTBEAT_MS);
      heartbeat.unref();
      const untrack = hub.closeOnRevoke(viewer.tokenId, () => finish());
      finish = () => {
        if (!open) return;
        open = false;
        untrack();
        clearInterval(heartbeat);
        hub.remove(client);
        try {
          controller.close();
        } catch {
          // Already closed by the reader going away.
        }
      };
      c.req.raw.signal.addEventListener("abort", () => finish(), { once: true });
      write(":)\n");
      hub.subscribe(client, stream);
    },
    cancel() {
      finish();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream",
      "Cache-Control": "private, no-store",
      "X-Accel-Buffering": "no",
    },
  });
}
