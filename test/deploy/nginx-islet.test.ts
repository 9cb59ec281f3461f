/**
 * The shipped nginx configuration in front of a real Islet (`islet serve`
 * in a child process), over TLS with a certificate made here: pages, the
 * API with a token got through the real OAuth flow, WebFinger on the handle
 * domain and on WEB_DOMAIN, an uploaded file served by nginx from
 * DATA_DIR/media, the client address reaching Islet through
 * X-Forwarded-For (TRUSTED_PROXY_IP=127.0.0.1), Secure cookies, the
 * password reset link, and a WebSocket to /api/v1/streaming carrying an
 * event. Skipped, with the reason, when nginx or openssl is missing
 * (scripts/ci-deps.sh installs them).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import { solidPng } from "../../src/web/placeholder.ts";
import { runIslet, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { eventually, freePort } from "../helpers/instance.ts";
import { decodeMail, startSmtpServer, type TestSmtpServer } from "../mail/smtp.ts";
import { writeNginxConfig } from "./nginx-config.ts";
import { ROOT, selfSignedCertificate, skipUnless, which } from "./tools.ts";
import { SiteCookies, tlsRequest, type TlsReply, type TlsRequestOptions } from "./tls-client.ts";

const WEB = "social.example.com";
const HANDLE = "example.com";
const PASSWORD = "a long test password";
const OOB = "urn:ietf:wg:oauth:2.0:oob";
/** Where the test's browser connects from: not the proxy's own address. */
const CLIENT = "127.0.0.2";

type Json = Record<string, any>;

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name]!);
}

/** The hidden fields of the form posting to `action`. */
function hiddenFields(html: string, action: string): Record<string, string> {
  const form = [...html.matchAll(/<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].find((m) => unescapeHtml(m[1]) === action);
  assert.ok(form != null, `a form posting to ${action} in:\n${html.slice(0, 1500)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescapeHtml(input[1])] = unescapeHtml(input[2]);
  return fields;
}

function json(reply: TlsReply): Json {
  assert.match(String(reply.headers["content-type"]), /json/, `${reply.status} ${reply.text.slice(0, 300)}`);
  return JSON.parse(reply.text) as Json;
}

describe("nginx in front of a real Islet", { skip: skipUnless("nginx", "openssl") }, () => {
  const temps: string[] = [];
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let islet: ServerProcess | undefined;
  let nginx: ChildProcess | undefined;
  let nginxDir: string;
  let https: number;
  let token: string;

  /** A browser (or app) on the internet, talking to nginx from {@link CLIENT}. */
  const cookies = new SiteCookies();
  const browse = async (path: string, options: TlsRequestOptions & { host?: string; keepCookies?: boolean } = {}): Promise<TlsReply> => {
    const headers = { ...(options.keepCookies === false ? {} : cookies.header()), ...options.headers };
    const reply = await tlsRequest(https, options.host ?? WEB, path, { from: CLIENT, ...options, headers });
    if (options.keepCookies !== false) cookies.absorb(reply);
    return reply;
  };
  const form = (fields: Record<string, string>): TlsRequestOptions => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const nginxLog = () => {
    const path = join(nginxDir, "error.log");
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  };

  before(async () => {
    const kind = databaseKinds().at(-1)!;
    database = await createTestDatabase(kind);
    smtp = await startSmtpServer();
    const port = await freePort();
    https = await freePort();
    const http = await freePort();
    const env: Record<string, string | undefined> = {
      LOCAL_DOMAIN: HANDLE,
      WEB_DOMAIN: WEB,
      PORT: String(port),
      BIND: "127.0.0.1",
      DATA_DIR: database.dataDir,
      DATABASE_URL: database.databaseUrl ?? undefined,
      TRUSTED_PROXY_IP: "127.0.0.1",
      SMTP_SERVER: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      SMTP_ENABLE_STARTTLS: "never",
      SMTP_AUTH_METHOD: "none",
      LOG_LEVEL: "warning",
    };
    const setup = await runIslet(["setup", "--username", "owner", "--email", "owner@example.com", "--password-file", "-"], { env, input: `${PASSWORD}\n` });
    assert.equal(setup.code, 0, setup.stderr);
    islet = await startServerProcess(env);

    nginxDir = mkdtempSync(join(tmpdir(), "islet-nginx-e2e-"));
    temps.push(nginxDir);
    const { cert, key } = selfSignedCertificate(nginxDir, [WEB, HANDLE]);
    // Serving media from disk needs nginx's workers to read DATA_DIR/media:
    // here they run as the user Islet runs as (deploy/README.md, "Media from disk").
    const conf = writeNginxConfig({ dir: nginxDir, cert, key, https, http, upstream: port, media: join(database.dataDir, "media"), webDomain: WEB, user: "root" });
    const child = spawn(which("nginx")!, ["-e", join(nginxDir, "error.log"), "-p", nginxDir, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
    nginx = child;
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output += c));
    child.stderr!.on("data", (c: Buffer) => (output += c));
    await eventually(async () => {
      if (child.exitCode != null) throw new Error(`nginx exited with ${child.exitCode}\n${output}\n${nginxLog()}`);
      return (await tlsRequest(https, WEB, "/health").catch(() => null))?.status === 200;
    }, "nginx and Islet to answer /health");
  });

  after(async () => {
    if (nginx != null && nginx.exitCode == null) {
      const exited = new Promise((done) => nginx!.once("exit", done));
      nginx.kill("SIGTERM");
      await exited;
    }
    await islet?.kill();
    await smtp?.close();
    await database?.drop();
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  test("the profile page, over TLS with HSTS", async () => {
    const page = await browse("/@owner", { headers: { accept: "text/html" } });
    assert.equal(page.status, 200, page.text.slice(0, 300));
    assert.match(page.text, /@owner@example\.com/);
    assert.match(page.text, new RegExp(`href="https://${WEB.replace(/\./g, "\\.")}/users/owner"`), "absolute URLs are on WEB_DOMAIN over https");
    assert.equal(page.headers["strict-transport-security"], "max-age=63072000");
    const root = await browse("/");
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, "/@owner");
  });

  test("WebFinger: the handle domain redirects to WEB_DOMAIN, which answers for @owner@example.com", async () => {
    const resource = "acct:owner@example.com";
    const onHandle = await browse(`/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, { host: HANDLE, keepCookies: false });
    assert.equal(onHandle.status, 301);
    const target = new URL(String(onHandle.headers.location));
    assert.equal(target.origin, `https://${WEB}`);
    const answer = await browse(`${target.pathname}${target.search}`, { keepCookies: false });
    assert.equal(answer.status, 200, answer.text);
    const jrd = JSON.parse(answer.text) as Json;
    assert.equal(jrd.subject, resource);
    const self = (jrd.links as Json[]).find((link) => link.rel === "self");
    assert.equal(self?.href, `https://${WEB}/users/owner`);

    const hostMeta = await browse("/.well-known/host-meta", { keepCookies: false });
    assert.equal(hostMeta.status, 200);
    assert.match(hostMeta.text, new RegExp(`template="https://${WEB.replace(/\./g, "\\.")}/\\.well-known/webfinger\\?resource=\\{uri\\}"`));

    const actor = await browse("/users/owner", { headers: { accept: "application/activity+json" }, keepCookies: false });
    assert.equal(actor.status, 200);
    assert.equal(json(actor).id, `https://${WEB}/users/owner`, "ActivityPub IDs are on the canonical origin, whatever Host nginx passes");
  });

  test("OAuth through the proxy: Secure cookies, a token, and the client's address in the new-app mail", async () => {
    const registered = await browse("/api/v1/apps", {
      ...form({ client_name: "Proxy test app", redirect_uris: OOB, scopes: "read write" }),
      keepCookies: false,
    });
    assert.equal(registered.status, 200, registered.text);
    const app = json(registered);
    const authorize = `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: app.client_id, redirect_uri: OOB, scope: "read write" })}`;
    // A forged X-Forwarded-For from the client is not believed: nginx adds the
    // address it sees, and only nginx (127.0.0.1) is trusted.
    const spoof = { "x-forwarded-for": "203.0.113.50" };
    const signInPage = await browse(authorize, { headers: spoof });
    assert.equal(signInPage.status, 200);
    const csrfCookie = cookies.setCookieLines.find((line) => line.startsWith("__Host-islet_csrf="));
    assert.ok(csrfCookie != null, cookies.setCookieLines.join("\n"));
    assert.match(csrfCookie, /;\s*Secure/i, "Secure: the origin is https, though nginx reaches Islet over http");
    const signedIn = await browse("/auth/sign_in", { ...form({ ...hiddenFields(signInPage.text, "/auth/sign_in"), login: "owner", password: PASSWORD }), headers: { ...form({}).headers, ...spoof } });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 500));
    assert.match(cookies.setCookieLines.find((line) => line.startsWith("__Host-islet_session=")) ?? "", /;\s*Secure/i);
    const consent = await browse(String(signedIn.headers.location), { headers: spoof });
    assert.equal(consent.status, 200);
    const decided = await browse("/oauth/authorize", { ...form({ ...hiddenFields(consent.text, "/oauth/authorize"), decision: "authorize" }), headers: { ...form({}).headers, ...spoof } });
    assert.equal(decided.status, 200, decided.text.slice(0, 500));
    const code = />([A-Za-z0-9_-]{43})</.exec(decided.text)?.[1];
    assert.ok(code != null, decided.text);
    const issued = await browse("/oauth/token", {
      ...form({ grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: OOB }),
      keepCookies: false,
    });
    assert.equal(issued.status, 200, issued.text);
    token = json(issued).access_token;

    const mail = await eventually(async () => smtp.received.find((m) => /Proxy test app/.test(decodeMail(m.raw))), "the new-app mail");
    const text = decodeMail(mail.raw);
    assert.match(text, /Authorized from the address 127\.0\.0\.2\b/, "the client's address, as nginx saw it");
    assert.doesNotMatch(text, /203\.0\.113\.50/);
  });

  test("the API: instance and verify_credentials with the token", async () => {
    assert.ok(token, "a token from the OAuth test");
    const instance = json(await browse("/api/v1/instance", { keepCookies: false }));
    assert.equal(instance.uri, HANDLE);
    assert.equal(instance.urls.streaming_api, `wss://${WEB}`);
    const me = await browse("/api/v1/accounts/verify_credentials", { headers: { authorization: `Bearer ${token}` }, keepCookies: false });
    assert.equal(me.status, 200, me.text);
    const account = json(me);
    assert.equal(account.username, "owner");
    assert.equal(account.acct, "owner");
    assert.equal(account.url, `https://${WEB}/@owner`);
    const noToken = await browse("/api/v1/accounts/verify_credentials", { keepCookies: false });
    assert.equal(noToken.status, 401);
  });

  test("an uploaded file is served by nginx from DATA_DIR/media, with Islet's headers", async () => {
    assert.ok(token, "a token from the OAuth test");
    const png = solidPng(32, 24, [200, 40, 90]);
    const boundary = `----islet${Date.now()}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nA red rectangle\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="red.png"\r\nContent-Type: image/png\r\n\r\n`),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const uploaded = await browse("/api/v1/media", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
      keepCookies: false,
    });
    assert.equal(uploaded.status, 200, uploaded.text);
    const media = json(uploaded);
    const url = new URL(media.url);
    assert.equal(url.origin, `https://${WEB}`);
    assert.match(url.pathname, /^\/system\/media_attachments\//);
    const onDisk = readFileSync(join(database.dataDir, "media", url.pathname.slice("/system/".length)));

    const file = await browse(url.pathname, { keepCookies: false });
    assert.equal(file.status, 200, `${file.text.slice(0, 200)}\n${nginxLog()}`);
    assert.ok(file.body.equals(onDisk), "the bytes of the stored file");
    assert.equal(file.headers["content-type"], "image/png");
    assert.match(String(file.headers["content-security-policy"]), /form-action 'none'/, "nginx's own headers: the file came from disk");
    assert.match(String(file.headers["cache-control"]), /max-age=31536000/);
    assert.equal(file.headers["x-content-type-options"], "nosniff");
    assert.equal(file.headers["access-control-allow-origin"], "*", "web clients may read media from another origin, as Islet allows");
    assert.doesNotMatch(nginxLog(), /Permission denied/);

    const missing = await browse("/system/media_attachments/000/000/000/1/original.png", { keepCookies: false });
    assert.equal(missing.status, 404, "a file not on disk is asked of Islet, which has none either");
  });

  test("the password reset link in the mail works through the proxy", async () => {
    const before = smtp.received.length;
    const page = await browse("/auth/password/new");
    assert.equal(page.status, 200);
    const sent = await browse("/auth/password", form({ ...hiddenFields(page.text, "/auth/password"), email: "owner@example.com" }));
    assert.equal(sent.status, 200, sent.text.slice(0, 300));
    const mail = await eventually(async () => smtp.received.slice(before).find((m) => /Reset your Islet password/.test(m.raw)), "the reset mail");
    const link = /(https:\/\/[^\s"<>]+\/auth\/password\/edit\?reset_password_token=[A-Za-z0-9_%-]+)/.exec(decodeMail(mail.raw))?.[1];
    assert.ok(link != null, decodeMail(mail.raw));
    const url = new URL(link);
    assert.equal(url.host, WEB, "the link is on WEB_DOMAIN");
    const edit = await browse(`${url.pathname}${url.search}`);
    assert.equal(edit.status, 200, edit.text.slice(0, 300));
    assert.match(edit.text, /Choose a new password/);
  });

  test("a WebSocket to /api/v1/streaming upgrades through nginx and carries an event", {
    skip: !existsSync(join(ROOT, "src", "streaming")) && "Islet has no streaming endpoint yet (src/streaming/)",
  }, async () => {
    assert.ok(token, "a token from the OAuth test");
    // `servername` (SNI) goes on to tls.connect, though ws's types do not list it.
    const tlsOptions: Record<string, unknown> = { servername: WEB };
    const socket = new WebSocket(`wss://127.0.0.1:${https}/api/v1/streaming?stream=user`, [token], {
      headers: { host: WEB },
      rejectUnauthorized: false,
      localAddress: CLIENT,
      ...tlsOptions,
    });
    const frames: Json[] = [];
    let upgradeStatus = 0;
    socket.on("upgrade", (response) => (upgradeStatus = response.statusCode ?? 0));
    socket.on("message", (data) => frames.push(JSON.parse(data.toString()) as Json));
    try {
      await new Promise<void>((done, fail) => {
        socket.once("open", () => done());
        socket.once("unexpected-response", (_req, res) => fail(new Error(`no upgrade: HTTP ${res.statusCode}`)));
        socket.once("error", fail);
      });
      assert.equal(upgradeStatus, 101);
      assert.equal(socket.protocol, token, "the token offered as the subprotocol is echoed back");
      const posted = await browse("/api/v1/statuses", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ status: "Hello through nginx", visibility: "public" }),
        keepCookies: false,
      });
      assert.equal(posted.status, 200, posted.text);
      const id = json(posted).id as string;
      const frame = await eventually(async () => frames.find((f) => f.event === "update"), "an update frame");
      assert.deepEqual(frame.stream, ["user"]);
      const status = JSON.parse(frame.payload as string) as Json;
      assert.equal(status.id, id);
      assert.match(status.content, /Hello through nginx/);
    } finally {
      socket.terminate();
    }
  });
});
