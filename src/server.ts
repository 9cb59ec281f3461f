/**
 * The HTTP side: one Hono app with the federation, API and web routes, and
 * the Node server around it.
 */
import { createAdaptorServer, type ServerType } from "@hono/node-server";
import { Hono, type MiddlewareHandler } from "hono";
import type { WebSocket } from "ws";
import { cors } from "hono/cors";
import { errorResponse } from "./api/errors.ts";
import { apiRoutes } from "./api/index.ts";
import { ping } from "./db/connect.ts";
import { unavailableCode } from "./db/errors.ts";
import { DocumentCache } from "./federation/document-cache.ts";
import { withRemoteContexts } from "./federation/contexts.ts";
import { guardInboxRequest, isInboxPost } from "./federation/inbox-limit.ts";
import { verifyInboxRequest } from "./federation/inbox-verify.ts";
import { contentNegotiation } from "./federation/negotiation.ts";
import { statusDocumentRoutes } from "./federation/status-documents.ts";
import type { Logger } from "./log.ts";
import type { Islet } from "./islet.ts";
import { DEFAULT_SLOW_REQUEST_LIMITS, limitSlowBodies, slowRequestServerOptions, type SlowRequestLimits } from "./slow-requests.ts";
import { createStreaming, type Streaming } from "./streaming/streaming.ts";
import { removeStaleSocket } from "./unix-socket.ts";
import { authorizeInteractionRoutes } from "./web/authorize-interaction.ts";
import { PUBLIC_CORS_PATHS, publicCors } from "./web/cors.ts";
import { webRoutes } from "./web/profile.ts";
import { settingsRoutes } from "./web/settings/index.ts";
import { htmlSecurityHeaders } from "./web/security-headers.ts";

/** Paths Fedify answers: WebFinger, NodeInfo, actors, inboxes, collections. */
const FEDERATION_PATHS = /^\/(\.well-known\/(webfinger|nodeinfo)|nodeinfo\/|users\/|inbox\/?$)/;

/**
 * The request as the rest of the fediverse addressed it: on the canonical
 * origin, whatever host and scheme it reached Islet with behind a proxy.
 * Fedify builds collection links from it, and RFC 9421 signatures cover
 * the target URI.
 */
function canonicalRequest(request: Request, origin: string): Request {
  const url = new URL(request.url);
  const canonical = new URL(`${url.pathname}${url.search}`, origin);
  if (canonical.href === url.href) return request;
  // Copy method, headers and body only: `new Request(url, request)` would
  // tie the copy to the original's AbortSignal, which undici keeps alive in
  // a FinalizationRegistry; under load that grew the heap without bound.
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  return new Request(canonical, {
    method: request.method,
    headers: request.headers,
    body: hasBody ? request.body : undefined,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

function federationMiddleware(islet: Islet): MiddlewareHandler {
  // With AUTHORIZED_FETCH the answer depends on who asks: no cache then.
  const cache = islet.config.authorizedFetch ? null : new DocumentCache();
  if (cache != null) {
    islet.core.events.on("account.updated", () => cache.clear());
  }
  return async (c, next) => {
    if (!FEDERATION_PATHS.test(c.req.path)) return await next();
    // An inbox POST over 1 MiB gets 413 and one from a suspended domain 403,
    // before Fedify reads, parses or verifies anything (no key is fetched).
    const guarded = await guardInboxRequest(islet.core, canonicalRequest(c.req.raw, islet.config.origin));
    if (guarded instanceof Response) return guarded;
    const request = guarded;
    // An inbox POST whose signature does not verify gets 401 before any
    // JSON-LD is read; until a signature verifies no remote context is fetched.
    const signature = await verifyInboxRequest(islet.federation, request);
    if (signature.verdict === "refused") return signature.response;
    const key = cache?.keyOf(request) ?? null;
    if (key != null) {
      const cached = cache!.get(key);
      if (cached != null) return cached;
    }
    let passOn = false;
    const response = await withRemoteContexts(isInboxPost(request) && signature.verdict === "verified", () => islet.federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => {
        passOn = true;
        return new Response(null, { status: 404 });
      },
      onNotAcceptable: () => {
        passOn = true;
        return new Response(null, { status: 406 });
      },
    }));
    if (!passOn) return key == null ? response : await cache!.put(key, response);
    await next();
  };
}

function hostMeta(origin: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="${origin}/.well-known/webfinger?resource={uri}"/>
</XRD>
`;
}

/** The streaming API of each app, for {@link listen} to hand WebSocket upgrades to. */
const streamingOf = new WeakMap<Hono, Streaming>();

/** Clients such as Mastodon.py ask for `/api/v1/instance/`: route without the trailing slash. */
function newApp(): Hono {
  return new Hono({ getPath: (request) => {
    const path = new URL(request.url).pathname;
    return path.length > 1 && path.endsWith("/") ? path.replace(/\/+$/, "") || "/" : path;
  } });
}

/**
 * A warning when requests are answered 503 because the database cannot be
 * reached: the first at once with its reason, then at most one every ten
 * seconds with how many requests were refused since, so an outage under
 * load does not flood the log.
 */
function databaseOutageLog(log: Logger): (error: unknown) => void {
  let lastAt = 0;
  let refused = 0;
  return (error) => {
    refused++;
    const now = Date.now();
    if (now - lastAt < 10_000) return;
    log.warn(`database unreachable (${unavailableCode(error) ?? "unknown"}): ${refused} request(s) answered 503 since the last warning`);
    lastAt = now;
    refused = 0;
  };
}

function healthRoute(app: Hono, islet: Islet): void {
  app.get("/health", async (c) => {
    const ok = await ping(islet.core.database);
    c.header("Cache-Control", "no-store");
    return ok ? c.text("OK") : c.text("database unreachable", 503);
  });
}

export function createApp(islet: Islet): Hono {
  const { core } = islet;
  const app = newApp();
  const streaming = createStreaming(core);
  streamingOf.set(app, streaming);

  app.use("/api/*", cors({ origin: "*", exposeHeaders: ["Link", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining"] }));
  app.use("/oauth/*", cors({ origin: "*" }));
  for (const path of PUBLIC_CORS_PATHS) app.use(path, publicCors());
  app.use(htmlSecurityHeaders());
  app.use(federationMiddleware(islet));
  // `/@owner` and `/@owner/ID` answer ActivityPub requests too, before the pages.
  app.use(contentNegotiation(core, islet.federation, (request) => app.fetch(request)));

  healthRoute(app, islet);
  app.get("/.well-known/host-meta", (c) => c.body(hostMeta(core.config.origin), 200, { "Content-Type": "application/xrd+xml; charset=utf-8" }));

  // Before the API, whose token check would answer streaming's refusals in other words.
  app.route("/", streaming.routes);
  app.route("/", apiRoutes({ core }));
  app.route("/", statusDocumentRoutes(islet.federation, core));
  app.route("/", authorizeInteractionRoutes(core));
  app.route("/", settingsRoutes(core));
  app.route("/", webRoutes(core));

  app.notFound((c) => {
    if (/^\/(api|oauth)\//.test(c.req.path)) return c.json({ error: "Record not found" }, 404);
    return c.text("Not found", 404);
  });
  const outageLog = databaseOutageLog(core.log);
  app.onError((error, c) => {
    const handled = errorResponse(c, error);
    if (handled?.status === 503) outageLog(error);
    if (handled != null) return handled;
    core.log.error(`${c.req.method} ${c.req.path} failed`, error);
    if (/^\/(api|oauth)\//.test(c.req.path)) return c.json({ error: "Internal server error" }, 500);
    return c.text("Internal server error", 500);
  });
  return app;
}

/**
 * The app of a streaming-only process (`islet serve --role streaming`):
 * the streaming API and the health check, nothing else.
 */
export function createStreamingApp(islet: Islet): Hono {
  const app = newApp();
  const streaming = createStreaming(islet.core);
  streamingOf.set(app, streaming);
  app.use("/api/*", cors({ origin: "*" }));
  healthRoute(app, islet);
  app.route("/", streaming.routes);
  app.notFound((c) => c.json({ error: "Not found" }, 404));
  app.onError((error, c) => {
    islet.core.log.error(`${c.req.method} ${c.req.path} failed`, error);
    return c.json({ error: "Internal server error" }, 500);
  });
  return app;
}

export interface RunningServer {
  /** The base URL the server listens at. */
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on `port` (0 for any free port) at `bind`, or on the Unix socket
 * `{ socket }` (open to every local user, like a loopback port; the folder
 * it is in decides who reaches it). WebSocket upgrades go to the app's
 * streaming API, on whichever port they arrive. Slow headers and bodies are
 * cut off by `limits`.
 */
export async function listen(
  app: Hono,
  port: number | { socket: string },
  bind: string,
  limits: SlowRequestLimits = DEFAULT_SLOW_REQUEST_LIMITS,
): Promise<RunningServer & { server: ServerType }> {
  const streaming = streamingOf.get(app) ?? null;
  await streaming?.start();
  const sockets = new Set<WebSocket>();
  try {
    if (typeof port !== "number") await removeStaleSocket(port.socket);
    return await new Promise((resolve, reject) => {
      const server = createAdaptorServer({ fetch: app.fetch, hostname: bind, serverOptions: slowRequestServerOptions(limits) });
      const listening = () => {
        const info = server.address();
        const url = info == null || typeof info === "string"
          ? `unix:${info ?? ""}`
          : `http://${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`;
        resolve({
          server,
          url,
          close: async () => {
            const closed = new Promise<void>((done) => server.close(() => done()));
            for (const socket of sockets) socket.terminate();
            if ("closeAllConnections" in server) server.closeAllConnections();
            await closed;
            await streaming?.stop();
          },
        });
      };
      if (typeof port === "number") server.listen(port, bind, listening);
      else server.listen({ path: port.socket, readableAll: true, writableAll: true }, listening);
      limitSlowBodies(server, limits);
      server.on("upgrade", (request, socket, head) => {
        if (streaming == null) socket.destroy();
        else void streaming.handleUpgrade(request, socket, head, sockets);
      });
      server.once("error", reject);
    });
  } catch (error) {
    await streaming?.stop();
    throw error;
  }
}
