/**
 * Behind a reverse proxy: Islet builds every URL (pages, redirects, links,
 * ActivityPub IDs, WebFinger, host-meta) and decides the cookies' Secure
 * attribute from its configured origin, so the Host, X-Forwarded-Host and
 * X-Forwarded-Proto a request carries change nothing, from a trusted proxy
 * or not. X-Forwarded-For names the client only when the peer is in
 * TRUSTED_PROXY_IP (the sign-in limit is the visible effect).
 */
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { formFields } from "./browser.ts";

const WEB = "social.example.com";
const HANDLE = "example.com";
const ORIGIN = `https://${WEB}`;

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  text: string;
}

/** A raw HTTP request to the instance, with any Host and forwarded headers. */
function send(instance: TestInstance, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(instance.url);
  return new Promise((done, fail) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path,
      method: options.method ?? "GET",
      headers: options.headers,
      agent: false,
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", fail);
    req.end(options.body);
  });
}

/** What a forged or misconfigured proxy might send. */
const FORGED = { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http", "x-forwarded-port": "8080" };

function cookieHeader(reply: Reply): string {
  return (reply.headers["set-cookie"] ?? []).map((line) => line.split(";")[0]).join("; ");
}

async function failedSignIn(instance: TestInstance, forwardedFor: string): Promise<number> {
  const page = await send(instance, "/auth/sign_in", { headers: { "x-forwarded-for": forwardedFor } });
  const reply = await send(instance, "/auth/sign_in", {
    method: "POST",
    headers: { "x-forwarded-for": forwardedFor, "content-type": "application/x-www-form-urlencoded", cookie: cookieHeader(page) },
    body: new URLSearchParams({ ...formFields(page.text, "/auth/sign_in"), login: "owner", password: "not the password" }).toString(),
  });
  return reply.status;
}

/** URLs and cookies never follow the request's Host or X-Forwarded-* headers. */
function canonicalChecks(name: string, instance: () => TestInstance) {
  test(`${name}: host-meta, WebFinger and the actor use the configured origin`, async () => {
    const hostMeta = await send(instance(), "/.well-known/host-meta", { headers: FORGED });
    assert.equal(hostMeta.status, 200);
    assert.match(hostMeta.text, /template="https:\/\/social\.example\.com\/\.well-known\/webfinger\?resource=\{uri\}"/);
    assert.doesNotMatch(hostMeta.text, /evil/);

    const finger = await send(instance(), "/.well-known/webfinger?resource=acct:owner@example.com", { headers: FORGED });
    assert.equal(finger.status, 200, finger.text);
    const jrd = JSON.parse(finger.text) as { subject: string; links: { rel: string; href?: string }[] };
    assert.equal(jrd.subject, "acct:owner@example.com");
    assert.equal(jrd.links.find((l) => l.rel === "self")?.href, `${ORIGIN}/users/owner`);
    assert.doesNotMatch(finger.text, /evil|"href":"http:/);

    const actor = await send(instance(), "/users/owner", { headers: { ...FORGED, accept: "application/activity+json" } });
    assert.equal(actor.status, 200);
    const document = JSON.parse(actor.text) as { id: string; inbox: string };
    assert.equal(document.id, `${ORIGIN}/users/owner`);
    assert.equal(document.inbox, `${ORIGIN}/users/owner/inbox`);
  });

  test(`${name}: the profile page, redirects and the instance's URLs`, async () => {
    const page = await send(instance(), "/@owner", { headers: { ...FORGED, accept: "text/html" } });
    assert.equal(page.status, 200);
    assert.match(page.text, /href="https:\/\/social\.example\.com\/users\/owner"/);
    assert.doesNotMatch(page.text, /evil\.example|http:\/\/social/);
    const root = await send(instance(), "/", { headers: FORGED });
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, "/@owner", "redirects stay on whatever host the browser used: relative");
    const info = JSON.parse((await send(instance(), "/api/v2/instance", { headers: FORGED })).text) as { domain: string; configuration: { urls: { streaming: string } } };
    assert.equal(info.domain, HANDLE);
    assert.equal(info.configuration.urls.streaming, `wss://${WEB}`);
    const metadata = JSON.parse((await send(instance(), "/.well-known/oauth-authorization-server", { headers: FORGED })).text) as { authorization_endpoint: string };
    assert.equal(metadata.authorization_endpoint, `${ORIGIN}/oauth/authorize`);
  });

  test(`${name}: cookies are Secure with the __Host- prefix, though the request came over http`, async () => {
    const page = await send(instance(), "/auth/sign_in", { headers: FORGED });
    assert.equal(page.status, 200);
    const cookies = page.headers["set-cookie"] ?? [];
    assert.equal(cookies.length, 1, cookies.join("\n"));
    assert.match(cookies[0], /^__Host-islet_csrf=/);
    assert.match(cookies[0], /;\s*Secure/i);
    assert.match(cookies[0], /;\s*Path=\//i);
    assert.doesNotMatch(cookies[0], /Domain=/i);
  });

  test(`${name}: the handle domain's WebFinger and host-meta answer too (for a proxy that passes them on)`, async () => {
    const finger = await send(instance(), "/.well-known/webfinger?resource=acct:owner@example.com", { headers: { host: HANDLE } });
    assert.equal(finger.status, 200);
    assert.match(finger.text, /"href":"https:\/\/social\.example\.com\/users\/owner"/);
    const hostMeta = await send(instance(), "/.well-known/host-meta", { headers: { host: HANDLE } });
    assert.match(hostMeta.text, /https:\/\/social\.example\.com\/\.well-known\/webfinger/);
  });
}

for (const kind of databaseKinds()) {
  describe(`behind a trusted proxy (${kind})`, () => {
    let instance: TestInstance;
    before(async () => {
      instance = await startInstance(kind, { env: { LOCAL_DOMAIN: HANDLE, WEB_DOMAIN: WEB, TRUSTED_PROXY_IP: "127.0.0.1" } });
    });
    after(async () => {
      await instance?.close();
    });

    canonicalChecks("trusted peer", () => instance);

    test("X-Forwarded-For names the client: each address has its own sign-in limit", async () => {
      for (let i = 0; i < 5; i++) assert.equal(await failedSignIn(instance, "192.0.2.10"), 422);
      assert.equal(await failedSignIn(instance, "192.0.2.10"), 429);
      assert.equal(await failedSignIn(instance, "192.0.2.11"), 422, "another client behind the same proxy is not held back");
      // Hops are read from the right: a client cannot pick an address by prepending one.
      assert.equal(await failedSignIn(instance, "192.0.2.11, 192.0.2.10"), 429, "the hop the proxy added counts");
    });
  });

  describe(`reached directly, X-Forwarded-* not trusted (${kind})`, () => {
    let instance: TestInstance;
    before(async () => {
      instance = await startInstance(kind, { env: { LOCAL_DOMAIN: HANDLE, WEB_DOMAIN: WEB } });
    });
    after(async () => {
      await instance?.close();
    });

    canonicalChecks("untrusted peer", () => instance);

    test("X-Forwarded-For is ignored: every attempt counts against the socket's address", async () => {
      for (let i = 0; i < 5; i++) assert.equal(await failedSignIn(instance, `198.51.100.${i}`), 422);
      assert.equal(await failedSignIn(instance, "198.51.100.99"), 429, "a new claimed address does not escape the limit");
    });
  });
}
