/**
 * The deployment files under deploy/, checked by the tools that will read
 * them: nginx -t and a real nginx in front of stand-in upstreams, caddy
 * validate and a real Caddy, systemd-analyze verify and security, the admin
 * wrapper's systemd-run command line, the compose file parsed as YAML and
 * the Dockerfile read against the repository (the NixOS files are
 * nixos.test.ts's). A check whose tool is missing is skipped with the
 * reason; scripts/ci-deps.sh installs them.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from "node:fs";
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { gunzipSync } from "node:zlib";
import { localiseNginx } from "./nginx-config.ts";
import { replaceAll, ROOT, skipUnless, which } from "./tools.ts";

const DEPLOY = join(ROOT, "deploy");
const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------- helpers

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...options });
}

/** What a run printed, for assertion messages. */
function report(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}${result.error ? ` (${result.error.message})` : ""}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

const temps: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `islet-deploy-${name}-`));
  temps.push(dir);
  return dir;
}
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function read(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

/** `count` distinct ports free on 127.0.0.1 right now. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createNetServer());
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.listen(0, "127.0.0.1", done))));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  return ports;
}

async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

let certificate: { cert: string; key: string } | undefined;
/** A self-signed certificate for social.example.com and example.com, made once with openssl. */
function selfSignedCertificate(): { cert: string; key: string } {
  if (certificate != null) return certificate;
  const dir = tempDir("tls");
  chmodSync(dir, 0o755);
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const result = run("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=social.example.com", "-addext", "subjectAltName=DNS:social.example.com,DNS:example.com",
    "-keyout", key, "-out", cert,
  ]);
  assert.equal(result.status, 0, `openssl could not make a certificate\n${report(result)}`);
  certificate = { cert, key };
  return certificate;
}

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** One HTTPS request to 127.0.0.1:port for `host`, certificate checks off. */
function httpsGet(port: number, host: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = httpsRequest({
      host: "127.0.0.1", port, path, method: options.method ?? "GET", servername: host, rejectUnauthorized: false, agent: false,
      headers: { host, ...options.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", fail);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${path}`)));
    req.on("error", fail);
    req.end(options.body);
  });
}

function httpGet(port: number, host: string, path: string): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${path}`)));
    req.on("error", fail);
    req.end();
  });
}

/** Sends a WebSocket handshake and reads the first text frame the server sends. */
function webSocket(port: number, host: string, path: string): Promise<{ status: number; accept: string | undefined; key: string; frame: string }> {
  const key = Buffer.from("islet-deploy-key").toString("base64");
  return new Promise((done, fail) => {
    const req = httpsRequest({
      host: "127.0.0.1", port, path, servername: host, rejectUnauthorized: false, agent: false,
      headers: { host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": key },
    });
    req.setTimeout(10_000, () => req.destroy(new Error("WebSocket handshake timed out")));
    req.on("response", (res) => fail(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.on("upgrade", (res, socket: Socket, head: Buffer) => {
      let data = head;
      const finish = () => {
        if (data.length < 2) return false;
        const length = data[1] & 0x7f;
        if (data.length < 2 + length) return false;
        socket.destroy();
        done({ status: res.statusCode ?? 0, accept: res.headers["sec-websocket-accept"] as string | undefined, key, frame: data.subarray(2, 2 + length).toString() });
        return true;
      };
      if (finish()) return;
      socket.on("data", (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        finish();
      });
      socket.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

/** Reads from a server-sent event stream until `text` arrives (the stream stays open). */
function firstEvent(port: number, host: string, path: string, text: string): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const req = httpsRequest({
      host: "127.0.0.1", port, path, servername: host, rejectUnauthorized: false, agent: false,
      headers: { host, accept: "text/event-stream" },
    }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
        if (body.includes(text)) {
          req.destroy();
          done({ status: res.statusCode ?? 0, body, ms: Date.now() - started });
        }
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`no "${text}" within 5 s: the stream is buffered`)));
    req.on("error", (error) => {
      if (!req.destroyed || !String(error).includes("socket hang up")) fail(error);
    });
    req.end();
  });
}

/** Raw request through TLS: headers only, whatever the declared body. */
function rawTls(port: number, host: string, head: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: host, rejectUnauthorized: false }, () => socket.write(head));
    let data = "";
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer")));
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString();
      if (data.includes("\r\n\r\n")) {
        socket.destroy();
        done(data);
      }
    });
    socket.on("error", fail);
  });
}

function webSocketAccept(key: string): string {
  return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC11B65`).digest("base64");
}

interface Upstream {
  port: number;
  /** Requests seen, as "METHOD url". */
  seen: string[];
  close(): Promise<void>;
}

/**
 * Stands in for Islet: /health, an activity+json document, uploads, an echo
 * of the request (headers included), server-sent events and a WebSocket
 * handshake on /api/v1/streaming. `name` tells which upstream answered.
 */
async function startUpstream(name: string): Promise<Upstream> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const url = req.url ?? "/";
    if (url === "/health") {
      res.writeHead(200, { "content-type": "text/plain" }).end("OK");
    } else if (url === "/activity") {
      const document = { "@context": "https://www.w3.org/ns/activitystreams", type: "OrderedCollection", items: Array.from({ length: 40 }, (_, i) => `https://social.example.com/statuses/${i}`) };
      res.writeHead(200, { "content-type": "application/activity+json" }).end(JSON.stringify(document));
    } else if (url === "/upload") {
      let size = 0;
      req.on("data", (chunk: Buffer) => (size += chunk.length));
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ size })));
    } else if (url.startsWith("/api/v1/streaming") && (req.headers.accept ?? "").includes("text/event-stream")) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(`event: update\ndata: from ${name}\n\n`); // and the stream stays open
    } else {
      res.writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ server: name, method: req.method, url, headers: req.headers }));
    }
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    seen.push(`UPGRADE ${req.url}`);
    const key = String(req.headers["sec-websocket-key"] ?? "");
    const text = Buffer.from(name);
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${webSocketAccept(key)}\r\n\r\n`,
    );
    socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => done());
    }),
  };
}

/** Starts a long-running process; resolves once `ready()` does. */
async function startProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }, ready: () => Promise<boolean>): Promise<{ child: ChildProcess; output: () => string }> {
  let output = "";
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((done) => child.on("exit", () => done()));
  cleanups.push(async () => {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((done) => setTimeout(done, 3000))]);
      if (child.exitCode == null && child.signalCode == null) child.kill("SIGKILL");
    }
  });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`${command} exited with ${child.exitCode}\n${output}`);
    if (await ready().catch(() => false)) return { child, output: () => output };
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${command} did not become ready\n${output}`);
}

/** Media under a temporary DATA_DIR/media readable by nginx's worker user. */
function makeMedia(dir: string): string {
  const media = join(dir, "media");
  mkdirSync(join(media, "media_attachments", "files"), { recursive: true });
  writeFileSync(join(media, "media_attachments", "files", "hello.txt"), "hello from disk\n");
  mkdirSync(join(media, "private"), { recursive: true });
  writeFileSync(join(media, "private", "secret.txt"), "not for nginx\n");
  // Workers of a root nginx run as nobody: let them walk to the files, but
  // not into private/, to show that an unreadable file falls back to Islet.
  for (const path of [dir, media, join(media, "media_attachments"), join(media, "media_attachments", "files")]) chmodSync(path, 0o755);
  chmodSync(join(media, "media_attachments", "files", "hello.txt"), 0o644);
  chmodSync(join(media, "private"), 0o700);
  return media;
}

// ------------------------------------------------------------------ nginx

interface NginxSetup {
  dir: string;
  conf: string;
  https: number;
  http: number;
}

/**
 * The shipped nginx files, as an admin fills them in: islet.conf for
 * WEB_DOMAIN=social.example.com (or example.com), islet-handle-domain.conf
 * for LOCAL_DOMAIN=example.com, certificate paths and ports replaced, in an
 * nginx.conf of its own that needs no system folders.
 */
function nginxSetup(options: { handleDomain: boolean; https: number; http: number; upstream?: number; streaming?: number; media?: string }): NginxSetup {
  const { https, http } = options;
  const dir = tempDir("nginx");
  chmodSync(dir, 0o755);
  const { cert, key } = selfSignedCertificate();
  const localise = (text: string): string => localiseNginx(text, { cert, key, https, http });
  let main = localise(read("deploy/nginx/islet.conf"));
  if (options.streaming != null) {
    main = replaceAll(main, /(upstream islet_streaming \{\s*server )127\.0\.0\.1:3000;/, `$1127.0.0.1:${options.streaming};`, "the streaming upstream");
  }
  if (options.upstream != null) main = replaceAll(main, "127.0.0.1:3000", `127.0.0.1:${options.upstream}`, "the upstream address");
  if (options.media != null) main = replaceAll(main, "alias /var/lib/islet/media/;", `alias ${options.media}/;`, "the media alias");
  if (options.handleDomain) main = replaceAll(main, /example\.com/g, "social.example.com", "the domain");
  writeFileSync(join(dir, "islet.conf"), main);
  const includes = [`include ${join(dir, "islet.conf")};`];
  if (options.handleDomain) {
    writeFileSync(join(dir, "islet-handle-domain.conf"), localise(read("deploy/nginx/islet-handle-domain.conf")));
    includes.push(`include ${join(dir, "islet-handle-domain.conf")};`);
  }
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, [
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} info;`,
    "worker_processes 1;",
    "events { worker_connections 128; }",
    "http {",
    "  types { text/plain txt; image/png png; application/json json; }",
    "  default_type application/octet-stream;",
    "  access_log off;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    ...includes.map((line) => `  ${line}`),
    "}",
    "",
  ].join("\n"));
  return { dir, conf, https, http };
}

describe("nginx", { skip: skipUnless("nginx", "openssl") }, () => {
  const nginx = which("nginx") ?? "nginx";

  for (const handleDomain of [false, true]) {
    test(`nginx -t accepts islet.conf${handleDomain ? " with islet-handle-domain.conf" : ""}`, async () => {
      const [https, http] = await freePorts(2);
      const setup = nginxSetup({ handleDomain, https, http });
      const result = run(nginx, ["-t", "-q", "-e", join(setup.dir, "error.log"), "-p", setup.dir, "-c", setup.conf]);
      const log = existsSync(join(setup.dir, "error.log")) ? readFileSync(join(setup.dir, "error.log"), "utf8") : "";
      assert.equal(result.status, 0, `nginx -t failed\n${report(result)}\n--- error.log\n${log}`);
      // nginx 1.25.1 and newer prefer `http2 on;` to `listen ... http2` (kept for 1.22, Debian 12's).
      const warnings = (log + result.stderr).split("\n").filter((line) => /\[(warn|emerg|crit)\]/.test(line) && !/"listen \.\.\. http2" directive is deprecated/.test(line));
      assert.deepEqual(warnings, [], `nginx -t warned\n${log}${result.stderr}`);
    });
  }

  test("serves Islet through TLS: headers, streaming, media from disk, uploads, redirects", async () => {
    const web = await startUpstream("web");
    const streaming = await startUpstream("streaming");
    cleanups.push(() => web.close(), () => streaming.close());
    const dataDir = tempDir("nginx-data");
    const media = makeMedia(dataDir);
    const [https, http] = await freePorts(2);
    const setup = nginxSetup({ handleDomain: true, https, http, upstream: web.port, streaming: streaming.port, media });
    const host = "social.example.com";
    await startProcess(nginx, ["-e", join(setup.dir, "error.log"), "-p", setup.dir, "-c", setup.conf, "-g", "daemon off;"], {}, async () =>
      (await httpsGet(setup.https, host, "/health")).status === 200);

    const health = await httpsGet(setup.https, host, "/health");
    assert.equal(health.body.toString(), "OK");
    assert.equal(health.headers["strict-transport-security"], "max-age=63072000");

    const echo = await httpsGet(setup.https, host, "/users/owner?page=2");
    const seen = JSON.parse(echo.body.toString()) as { server: string; url: string; headers: Record<string, string> };
    assert.equal(seen.server, "web");
    assert.equal(seen.url, "/users/owner?page=2");
    assert.equal(seen.headers.host, host, "Host is passed on (HTTP signatures cover it)");
    assert.equal(seen.headers["x-forwarded-proto"], "https");
    assert.equal(seen.headers["x-forwarded-host"], host);
    assert.match(seen.headers["x-forwarded-for"] ?? "", /127\.0\.0\.1/);

    const activity = await httpsGet(setup.https, host, "/activity", { headers: { "accept-encoding": "gzip" } });
    assert.equal(activity.headers["content-encoding"], "gzip", "application/activity+json is compressed");
    assert.equal((JSON.parse(gunzipSync(activity.body).toString()) as { type: string }).type, "OrderedCollection");

    const upload = await httpsGet(setup.https, host, "/upload", { method: "POST", body: Buffer.alloc(3 * 1024 * 1024, 7), headers: { "content-type": "application/octet-stream" } });
    assert.equal(upload.status, 200);
    assert.equal((JSON.parse(upload.body.toString()) as { size: number }).size, 3 * 1024 * 1024);
    const tooLarge = await rawTls(setup.https, host, `POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${101 * 1024 * 1024}\r\n\r\n`);
    assert.match(tooLarge, /^HTTP\/1\.1 413 /, "more than 100 MB is refused up front");

    const before = web.seen.length;
    const file = await httpsGet(setup.https, host, "/system/media_attachments/files/hello.txt");
    assert.equal(file.status, 200);
    assert.equal(file.body.toString(), "hello from disk\n");
    assert.match(String(file.headers["cache-control"]), /max-age=31536000/);
    assert.equal(file.headers["x-content-type-options"], "nosniff");
    assert.equal(file.headers["access-control-allow-origin"], "*", "readable by web clients, as when Islet serves it");
    assert.equal(file.headers["strict-transport-security"], "max-age=63072000", "HSTS also where the location adds headers");
    assert.equal(web.seen.length, before, "the file came from disk, not from Islet");

    const missing = await httpsGet(setup.https, host, "/system/cache/accounts/avatars/1.png");
    assert.equal((JSON.parse(missing.body.toString()) as { url: string }).url, "/system/cache/accounts/avatars/1.png", "a file not on disk is asked of Islet, path intact");
    if (isRoot) {
      // nginx's workers run as nobody here: private/ is closed to them.
      const unreadable = await httpsGet(setup.https, host, "/system/private/secret.txt");
      assert.equal((JSON.parse(unreadable.body.toString()) as { server: string }).server, "web", "an unreadable file is asked of Islet");
    }

    const ws = await webSocket(setup.https, host, "/api/v1/streaming?stream=user");
    assert.equal(ws.status, 101);
    assert.equal(ws.accept, webSocketAccept(ws.key));
    assert.equal(ws.frame, "streaming", "the WebSocket reached the streaming upstream");

    const events = await firstEvent(setup.https, host, "/api/v1/streaming/user", "data: from streaming");
    assert.equal(events.status, 200);

    const redirect = await httpGet(setup.http, host, "/@owner?x=1");
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `https://${host}/@owner?x=1`);

    const finger = await httpsGet(setup.https, "example.com", "/.well-known/webfinger?resource=acct:owner@example.com");
    assert.equal(finger.status, 301);
    assert.equal(finger.headers.location, "https://social.example.com/.well-known/webfinger?resource=acct:owner@example.com");
    const hostMeta = await httpsGet(setup.https, "example.com", "/.well-known/host-meta");
    assert.equal(hostMeta.headers.location, "https://social.example.com/.well-known/host-meta");
    for (const path of ["/.well-known/webfinger?resource=acct:owner@example.com", "/.well-known/host-meta", "/.well-known/nodeinfo"]) {
      const redirected = await httpsGet(setup.https, "example.com", path, { headers: { origin: "https://client.example" } });
      assert.equal(redirected.status, 301, path);
      assert.equal(redirected.headers["access-control-allow-origin"], "*", `${path}: a web client may follow the redirect`);
    }
  });
});

// ------------------------------------------------------------------ Caddy

function caddyEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") };
}

/** The Caddyfile with its handle-domain block (example.com) uncommented. */
function uncommentHandleDomain(text: string): string {
  const lines = text.split("\n");
  const begin = lines.indexOf("# BEGIN handle-domain");
  const end = lines.indexOf("# END handle-domain");
  assert.ok(begin >= 0 && end > begin, "the Caddyfile marks its handle-domain block");
  for (let i = begin + 1; i < end; i++) lines[i] = lines[i].replace(/^# ?/, "");
  return lines.join("\n");
}

/** The shipped Caddyfile with its handle-domain block uncommented. */
function withHandleDomain(text: string): string {
  return replaceAll(uncommentHandleDomain(text), /^example\.com \{/m, "social.example.com {", "the site address");
}

describe("Caddy", { skip: skipUnless("caddy") }, () => {
  const caddy = which("caddy") ?? "caddy";

  for (const handleDomain of [false, true]) {
    test(`caddy validate accepts the Caddyfile${handleDomain ? " with the handle-domain block" : ""}`, () => {
      const dir = tempDir("caddy");
      const text = read("deploy/caddy/Caddyfile");
      const file = join(dir, "Caddyfile");
      writeFileSync(file, handleDomain ? withHandleDomain(text) : text);
      const result = run(caddy, ["validate", "--adapter", "caddyfile", "--config", file], { env: caddyEnv(dir) });
      assert.equal(result.status, 0, `caddy validate failed\n${report(result)}`);
      assert.doesNotMatch(result.stderr, /"level":"(warn|error)"/, `caddy validate warned\n${result.stderr}`);
      const fmt = run(caddy, ["fmt", file]);
      assert.equal(fmt.stdout, readFileSync(file, "utf8"), "the Caddyfile is as `caddy fmt` writes it");
    });
  }

  test("serves Islet through TLS: headers, streaming, media from disk", async () => {
    const web = await startUpstream("web");
    const streaming = await startUpstream("streaming");
    cleanups.push(() => web.close(), () => streaming.close());
    const dir = tempDir("caddy-run");
    chmodSync(dir, 0o755);
    const media = makeMedia(tempDir("caddy-data"));
    const [https, http] = await freePorts(2);
    let text = read("deploy/caddy/Caddyfile");
    text = replaceAll(text, /(handle \/api\/v1\/streaming\* \{\s*reverse_proxy )127\.0\.0\.1:3000/, `$1127.0.0.1:${streaming.port}`, "the streaming proxy");
    text = replaceAll(text, "127.0.0.1:3000", `127.0.0.1:${web.port}`, "the upstream address");
    text = replaceAll(text, "root * /var/lib/islet/media", `root * ${media}`, "the media root");
    text = replaceAll(text, /^example\.com \{/m, "social.example.com {", "the site address");
    text = uncommentHandleDomain(text);
    // Local certificates instead of ACME, high ports, nothing outside `dir`.
    const global = `{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port ${http}\n\thttps_port ${https}\n\tstorage file_system ${join(dir, "storage")}\n}\n\n`;
    const file = join(dir, "Caddyfile");
    writeFileSync(file, global + text);
    const host = "social.example.com";
    await startProcess(caddy, ["run", "--adapter", "caddyfile", "--config", file], { env: caddyEnv(dir) }, async () =>
      (await httpsGet(https, host, "/health")).status === 200);

    const echo = await httpsGet(https, host, "/users/owner?page=2");
    const seen = JSON.parse(echo.body.toString()) as { server: string; url: string; headers: Record<string, string> };
    assert.equal(seen.url, "/users/owner?page=2");
    assert.equal(seen.headers.host, host);
    assert.equal(seen.headers["x-forwarded-proto"], "https");
    assert.equal(seen.headers["x-forwarded-host"], host);
    assert.match(seen.headers["x-forwarded-for"] ?? "", /127\.0\.0\.1/);
    assert.equal(echo.headers["strict-transport-security"], "max-age=63072000");

    const activity = await httpsGet(https, host, "/activity", { headers: { "accept-encoding": "gzip" } });
    assert.equal(activity.headers["content-encoding"], "gzip", "application/activity+json is compressed");

    const before = web.seen.length;
    const file2 = await httpsGet(https, host, "/system/media_attachments/files/hello.txt");
    assert.equal(file2.body.toString(), "hello from disk\n");
    assert.match(String(file2.headers["cache-control"]), /max-age=31536000/);
    assert.equal(file2.headers["access-control-allow-origin"], "*", "readable by web clients, as when Islet serves it");
    assert.equal(web.seen.length, before, "the file came from disk, not from Islet");
    const missing = await httpsGet(https, host, "/system/cache/accounts/avatars/1.png?v=2");
    assert.equal((JSON.parse(missing.body.toString()) as { url: string }).url, "/system/cache/accounts/avatars/1.png?v=2", "a file not on disk is asked of Islet, path intact");

    const ws = await webSocket(https, host, "/api/v1/streaming?stream=user");
    assert.equal(ws.status, 101);
    assert.equal(ws.frame, "streaming", "the WebSocket reached the streaming upstream");
    const events = await firstEvent(https, host, "/api/v1/streaming/user", "data: from streaming");
    assert.equal(events.status, 200);

    const redirect = await httpGet(http, host, "/@owner");
    assert.equal(redirect.status, 308);
    assert.match(String(redirect.headers.location), /^https:\/\/social\.example\.com(:\d+)?\/@owner$/);

    // The handle domain's redirects carry CORS, so web clients can follow them.
    for (const path of ["/.well-known/webfinger?resource=acct:owner@example.com", "/.well-known/host-meta", "/.well-known/nodeinfo"]) {
      // Caddy may still be getting example.com's local certificate.
      let redirected = await httpsGet(https, "example.com", path, { headers: { origin: "https://client.example" } }).catch(() => null);
      for (let attempt = 0; redirected?.status !== 301 && attempt < 50; attempt++) {
        await new Promise((done) => setTimeout(done, 200));
        redirected = await httpsGet(https, "example.com", path, { headers: { origin: "https://client.example" } }).catch(() => null);
      }
      assert.ok(redirected != null, `${path} on the handle domain answers`);
      assert.equal(redirected.status, 301, path);
      assert.match(String(redirected.headers.location), new RegExp(`^https://social\\.example\\.com${path.replace(/[.?]/g, "\\$&")}$`));
      assert.equal(redirected.headers["access-control-allow-origin"], "*", path);
    }
  });
});

// ---------------------------------------------------------------- systemd

/** islet.service with ExecStart pointing at a stand-in Node in `dir`. */
function unitForVerify(dir: string): string {
  const home = join(dir, "opt", "islet");
  mkdirSync(join(home, "node_modules", ".bin"), { recursive: true });
  mkdirSync(join(home, "bin"), { recursive: true });
  writeFileSync(join(home, "node_modules", ".bin", "node"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  writeFileSync(join(home, "bin", "islet.js"), "");
  const unit = join(dir, "islet.service");
  writeFileSync(unit, replaceAll(read("deploy/systemd/islet.service"), "/opt/islet/", `${home}/`, "/opt/islet"));
  return unit;
}

describe("systemd", () => {
  test("systemd-analyze verify accepts islet.service", { skip: skipUnless("systemd-analyze") }, () => {
    // Checks the syntax and every setting's value (unknown or bad ones are
    // reported, though the exit status stays 0), that ExecStart's program
    // exists and is executable, and the dependencies named.
    const dir = tempDir("systemd");
    const unit = unitForVerify(dir);
    const result = run("systemd-analyze", ["verify", unit], { cwd: dir });
    assert.equal(result.status, 0, `systemd-analyze verify failed\n${report(result)}`);
    const complaints = (result.stderr + result.stdout).split("\n").filter((line) => line.includes("islet.service"));
    assert.deepEqual(complaints, [], `systemd-analyze verify complained\n${report(result)}`);

    // The same with the credential lines uncommented, as an admin does.
    const credentials = join(dir, "credentials");
    mkdirSync(credentials);
    let text = readFileSync(unit, "utf8");
    for (const name of ["SECRET_KEY_BASE", "DATABASE_URL", "SMTP_PASSWORD"]) {
      writeFileSync(join(credentials, name), "x".repeat(40));
      text = replaceAll(text, `#LoadCredential=${name}:/etc/islet/credentials/${name}`, `LoadCredential=${name}:${join(credentials, name)}`, `the ${name} credential line`);
    }
    writeFileSync(unit, text);
    const again = run("systemd-analyze", ["verify", unit], { cwd: dir });
    assert.equal(again.status, 0, report(again));
    assert.deepEqual((again.stderr + again.stdout).split("\n").filter((l) => l.includes("islet.service")), [], report(again));
  });

  test("systemd-analyze security rates islet.service's sandbox OK or better", { skip: skipUnless("systemd-analyze") }, () => {
    const dir = tempDir("systemd-security");
    const unit = unitForVerify(dir);
    const result = run("systemd-analyze", ["security", "--no-pager", "--offline=yes", unit], { cwd: dir });
    if (/unrecognized option|unknown option/i.test(result.stderr)) return; // systemd older than 250
    const level = /Overall exposure level for islet\.service: ([\d.]+)/.exec(result.stdout);
    assert.ok(level, `no exposure level\n${report(result)}`);
    assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]} (2.0 or less expected)\n${result.stdout}`);
  });

  test("islet-admin runs the command with the unit's user, state, environment and credentials", { skip: skipUnless("bash") }, () => {
    const admin = join(DEPLOY, "systemd", "islet-admin");
    assert.ok(statSync(admin).mode & 0o111, "islet-admin is executable");
    const syntax = run("bash", ["-n", admin]);
    assert.equal(syntax.status, 0, report(syntax));

    // The unit as `systemctl cat` prints it after `systemctl edit islet`.
    const dir = tempDir("islet-admin");
    const unitText = `# /etc/systemd/system/islet.service\n${read("deploy/systemd/islet.service")}\n` +
      "# /etc/systemd/system/islet.service.d/override.conf\n[Service]\n" +
      "LoadCredential=DATABASE_URL:/run/secrets/islet-db\n" +
      'Environment="LOG_LEVEL=debug" \\\n  "AUTHORIZED_FETCH=true"\n' +
      "ExecStart=\nExecStart=/usr/local/lib/islet/node_modules/.bin/node /usr/local/lib/islet/bin/islet.js serve --role all\n";
    writeFileSync(join(dir, "unit"), unitText);
    const result = run(admin, ["account", "show"], { env: { ...process.env, ISLET_ADMIN_DRY_RUN: "1", ISLET_ADMIN_UNIT_FILE: join(dir, "unit") } });
    assert.equal(result.status, 0, report(result));
    const words = result.stdout.trim().split("\n");
    assert.equal(words[0], "systemd-run");
    for (const expected of [
      "--wait", "--pipe", "--property=DynamicUser=yes", "--property=User=islet", "--property=StateDirectory=islet",
      "--property=Environment=DATA_DIR=/var/lib/islet", "--property=EnvironmentFile=-/etc/islet/islet.env",
      "--property=LoadCredential=DATABASE_URL:/run/secrets/islet-db",
      "--property=StateDirectory=islet-backups", "--property=WorkingDirectory=/var/lib/islet-backups",
    ]) assert.ok(words.includes(expected), `missing ${expected} in\n${result.stdout}`);
    assert.ok(words.some((w) => w.includes("LOG_LEVEL=debug") && w.includes("AUTHORIZED_FETCH=true")), `continued Environment= line\n${result.stdout}`);
    assert.ok(!words.some((w) => w.includes("Restart") || w.includes("ProtectSystem")), "only identity and environment settings are copied");
    assert.ok(!words.some((w) => w.includes("#LoadCredential")), "commented lines are left out");
    const tail = words.slice(words.indexOf("--") + 1);
    assert.deepEqual(tail, ["/usr/local/lib/islet/node_modules/.bin/node", "/usr/local/lib/islet/bin/islet.js", "account", "show"], "the drop-in's ExecStart wins; `serve` and its options are dropped");

    if (!isRoot) {
      const refused = run(admin, ["doctor"], { env: { ...process.env, ISLET_ADMIN_UNIT_FILE: join(dir, "unit") } });
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /run it as root/);
    }
  });

  test("shellcheck finds nothing in the shell scripts", { skip: skipUnless("shellcheck") }, () => {
    const scripts = ["deploy/systemd/islet-admin", "deploy/container/make-secrets.sh", "scripts/ci-deps.sh"].map((p) => join(ROOT, p));
    const result = run("shellcheck", scripts);
    assert.equal(result.status, 0, `shellcheck\n${report(result)}`);
  });
});

// -------------------------------------------------------------- container

/**
 * Whether a .dockerignore leaves `path` (relative to the context) out:
 * patterns from the context root, `*` and `?` within one path segment, `**`
 * across any number, a matching folder takes its contents along, and a later
 * `!pattern` takes a path back in.
 */
function ignored(patterns: string[], path: string): boolean {
  const toRegex = (pattern: string): RegExp => {
    const parts = pattern.split("/");
    let source = "";
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      if (part === "**") {
        source += last ? ".*" : "(?:.*/)?";
      } else {
        source += part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]") + (last ? "" : "/");
      }
    });
    return new RegExp(`^${source}$`);
  };
  const segments = path.split("/");
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
  let result = false;
  for (const raw of patterns) {
    const negate = raw.startsWith("!");
    const regex = toRegex((negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, ""));
    if (prefixes.some((prefix) => regex.test(prefix))) result = !negate;
  }
  return result;
}

describe("container", () => {
  const dockerfile = read("deploy/container/Dockerfile");
  const ignore = read("deploy/container/Dockerfile.dockerignore").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));

  test("the Dockerfile builds from the repository root with what it copies", () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1], name: m[2] }));
    assert.equal(stages.length, 3, "build, deps and the runtime image");
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24[\w.-]*$/m, "Node 24");
    const contextCopies = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    for (const source of contextCopies) {
      if (source === ".") continue;
      assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: not in the repository`);
      assert.ok(!ignored(ignore, source), `COPY ${source}: left out by Dockerfile.dockerignore`);
    }
    for (const path of ["src/main.ts", "scripts/build.js", "bin/islet.js", "src/db/migrations"]) {
      assert.ok(!ignored(ignore, path), `${path} must reach the build context`);
    }
    for (const path of ["node_modules/esbuild", "data/db", "dist/islet.js", ".git/HEAD", "test/deploy/deploy.test.ts"]) {
      assert.ok(ignored(ignore, path), `${path} should stay out of the build context`);
    }
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    assert.match(runtime, /^USER node$/m, "runs as the unprivileged node user");
    assert.match(runtime, /^VOLUME \/data$/m);
    assert.match(runtime, /DATA_DIR=\/data/);
    assert.match(runtime, /BIND=0\.0\.0\.0/);
    assert.match(runtime, /PORT=3000/);
    assert.match(runtime, /^EXPOSE 3000$/m);
    assert.match(runtime, /^HEALTHCHECK .*\n?.*CMD \["node", "-e", ".*\/health/m);
    assert.match(runtime, /^ENTRYPOINT \["node", "bin\/islet\.js"\]$/m);
    assert.match(runtime, /^CMD \["serve"\]$/m);
  });

  test("the health check command works against a server answering /health", async () => {
    const upstream = await startUpstream("web");
    cleanups.push(() => upstream.close());
    const command = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile);
    assert.ok(command, "HEALTHCHECK ... CMD [...]");
    const [, flag, script] = JSON.parse(command[1]) as string[];
    // Asynchronously: the server answering is in this process.
    const exitCode = (port: number) => new Promise<number | null>((done) => {
      const child = spawn(process.execPath, [flag, script], { env: { ...process.env, PORT: String(port) }, stdio: "ignore" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.on("exit", (code) => {
        clearTimeout(timer);
        done(code);
      });
    });
    assert.equal(await exitCode(upstream.port), 0, "healthy when /health answers 200");
    assert.equal(await exitCode(await freePort()), 1, "unhealthy when nothing listens");
  });

  test("compose.yaml: Islet and PostgreSQL 15, secrets as files, health checks, named volumes", async () => {
    const text = read("deploy/container/compose.yaml");
    let yaml: { parse(text: string): unknown } | null = null;
    try {
      // Whichever YAML parser node_modules happens to hold (a name in a
      // variable: type-checking must not depend on it).
      const name = "yaml";
      yaml = await import(name) as { parse(text: string): unknown };
    } catch {
      yaml = null; // no YAML parser installed: the structural checks below on the text
    }
    if (yaml == null) {
      assert.match(text, /^services:\n  islet:\n/m);
      assert.match(text, /^  postgres:\n    image: postgres:15$/m);
      for (const name of ["database_url", "secret_key_base", "postgres_password"]) assert.match(text, new RegExp(`^  ${name}:\\n    file: \\./secrets/${name}$`, "m"));
      return;
    }
    interface Service { build?: { context: string; dockerfile: string }; image?: string; environment?: Record<string, string>; secrets?: string[]; volumes?: string[]; healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }>; ports?: string[] }
    const compose = yaml.parse(text) as { services: Record<string, Service>; secrets: Record<string, { file: string }>; volumes: Record<string, unknown> };
    const { islet, postgres } = compose.services;
    assert.ok(islet.build);
    const context = resolve(DEPLOY, "container", islet.build.context);
    assert.equal(context, ROOT, "the build context is the repository root");
    assert.ok(existsSync(join(context, islet.build.dockerfile)), "the Dockerfile path is relative to the context");
    assert.equal(postgres.image, "postgres:15");
    assert.deepEqual(islet.depends_on, { postgres: { condition: "service_healthy" } });
    assert.equal(islet.environment?.DATABASE_URL_FILE, "/run/secrets/database_url");
    assert.equal(islet.environment?.SECRET_KEY_BASE_FILE, "/run/secrets/secret_key_base");
    assert.match(text, /SMTP_PASSWORD_FILE: \/run\/secrets\/smtp_password/, "SMTP_PASSWORD_FILE is shown for mail");
    assert.equal(postgres.environment?.POSTGRES_PASSWORD_FILE, "/run/secrets/postgres_password");
    for (const service of [islet, postgres]) {
      for (const secret of service.secrets ?? []) assert.ok(compose.secrets[secret], `secret ${secret} is declared`);
      assert.ok(service.healthcheck?.test.length, "a health check");
      for (const volume of service.volumes ?? []) {
        const name = volume.split(":")[0];
        assert.ok(name in compose.volumes, `volume ${name} is declared`);
      }
    }
    for (const { file } of Object.values(compose.secrets)) assert.match(file, /^\.\/secrets\//);
    assert.ok(islet.volumes?.includes("islet-data:/data"));
    assert.deepEqual(islet.ports, ["127.0.0.1:3000:3000"], "published on loopback only, for the proxy");
    const variables = Object.keys(islet.environment ?? {});
    const known = new Set(["LOCAL_DOMAIN", "WEB_DOMAIN", "DATABASE_URL_FILE", "SECRET_KEY_BASE_FILE", "TRUSTED_PROXY_IP", "SMTP_PASSWORD_FILE", "ISLET_ADMIN_COMMAND"]);
    for (const variable of variables) assert.ok(known.has(variable), `${variable} is one of Islet's variables`);
  });

  test("make-secrets.sh writes the three secret files once, matching each other", { skip: skipUnless("openssl", "sh") }, () => {
    const dir = tempDir("secrets");
    const script = join(dir, "make-secrets.sh");
    writeFileSync(script, read("deploy/container/make-secrets.sh"), { mode: 0o755 });
    const first = run("sh", [script]);
    assert.equal(first.status, 0, report(first));
    const password = readFileSync(join(dir, "secrets", "postgres_password"), "utf8").trim();
    assert.match(password, /^[0-9a-f]{48}$/);
    assert.equal(readFileSync(join(dir, "secrets", "database_url"), "utf8"), `postgres://islet:${password}@postgres:5432/islet\n`);
    assert.match(readFileSync(join(dir, "secrets", "secret_key_base"), "utf8"), /^[0-9a-f]{128}\n$/);
    const second = run("sh", [script]);
    assert.equal(second.status, 0, report(second));
    assert.equal(readFileSync(join(dir, "secrets", "postgres_password"), "utf8").trim(), password, "kept on a second run");
  });
});

// --------------------------------------------------------------------- CI

test("scripts/ci-deps.sh is valid bash and never fails without apt", { skip: skipUnless("bash") }, () => {
  const script = join(ROOT, "scripts", "ci-deps.sh");
  const syntax = run("bash", ["-n", script]);
  assert.equal(syntax.status, 0, report(syntax));
  // With no apt-get on PATH it says so and exits 0, so CI goes on and the
  // checks above skip.
  const dir = tempDir("ci-deps");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of ["bash", "dirname", "id"]) {
    const path = which(tool);
    if (path) writeFileSync(join(bin, tool), `#!/bin/sh\nexec ${path} "$@"\n`, { mode: 0o755 });
  }
  const result = run(which("bash") ?? "bash", [script], { env: { PATH: bin, HOME: dir } });
  assert.equal(result.status, 0, report(result));
  assert.match(result.stdout + result.stderr, /ci-deps: (no apt-get|.*already installed)/);
});
