/**
 * "A new application was authorized on your account": mailed when the
 * owner presses Authorize on the consent page, with the app's name,
 * website, scopes, time and the address it was done from (X-Forwarded-For
 * believed from a trusted proxy only). Denying mails nothing; a down SMTP
 * server holds nothing up.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { after, before, describe, test } from "node:test";
import { queueMessages } from "../../src/db/schema.ts";
import { api } from "../helpers/api.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { Browser, formFields, signIn } from "../web/browser.ts";
import { decodeMail, startSmtpServer, unusedPort, type TestSmtpServer } from "./smtp.ts";

const PASSWORD = "a long test password";
const OOB = "urn:ietf:wg:oauth:2.0:oob";

interface App {
  client_id: string;
  client_secret: string;
}

async function registerApp(instance: TestInstance, name: string, website: string | null): Promise<App> {
  const body: Record<string, string> = { client_name: name, redirect_uris: OOB, scopes: "read write follow" };
  if (website != null) body.website = website;
  const response = await api<App>(instance, "POST", "/api/v1/apps", { body });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

/** Signs in and answers the consent page; returns the page shown after the decision. */
async function decide(browser: Browser, app: App, scope: string, decision: "authorize" | "deny") {
  const path = `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: app.client_id, redirect_uri: OOB, scope })}`;
  assert.equal((await signIn(browser, "owner", PASSWORD, path)).response.status, 303);
  const consent = await browser.get(path);
  assert.equal(consent.response.status, 200, consent.text);
  return await browser.post("/oauth/authorize", { ...formFields(consent.text, "/oauth/authorize"), decision });
}

function smtpEnv(port: number): Record<string, string> {
  return { SMTP_SERVER: "127.0.0.1", SMTP_PORT: String(port), SMTP_ENABLE_STARTTLS: "never", SMTP_AUTH_METHOD: "none" };
}

for (const kind of databaseKinds()) {
  describe(`app authorized mail (${kind})`, () => {
    let smtp: TestSmtpServer;
    let instance: TestInstance;

    before(async () => {
      smtp = await startSmtpServer();
      instance = await startInstance(kind, { env: { ...smtpEnv(smtp.port), TRUSTED_PROXY_IP: "127.0.0.1" } });
    });
    after(async () => {
      await instance?.close();
      await smtp?.close();
    });

    test("authorizing an app mails its name, website, scopes, time and the client address", async () => {
      const app = await registerApp(instance, "Elk <b>", "https://elk.example/");
      const browser = new Browser(instance.url, "203.0.113.5");
      const started = Date.now();
      const decided = await decide(browser, app, "read write", "authorize");
      assert.equal(decided.response.status, 200);
      assert.match(decided.text, /Authorization code/);

      const mail = await eventually(async () => smtp.received[0], "the mail");
      assert.deepEqual(mail.to, ["owner@example.com"]);
      const text = decodeMail(mail.raw);
      assert.match(text, /^Subject: A new application was authorized on your account: Elk <b>$/m);
      assert.match(text, /Elk <b> was given access to your account on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
      const at = /on (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/.exec(text)![1];
      const when = Date.parse(`${at.replace(" ", "T")}Z`);
      assert.ok(when >= Math.floor(started / 1000) * 1000 && when <= Date.now(), `the time of the authorization: ${at}`);
      assert.match(text, /Permissions: read, write/);
      assert.match(text, /Authorized from the address 203\.0\.113\.5/);
      assert.match(text, /The app's website: https:\/\/elk\.example\//);
      assert.match(text, /Elk &lt;b&gt;/, "the HTML part escapes the app's name");

      // The code is exchanged as usual; no second mail for that.
      const code = />([A-Za-z0-9_-]{43})</.exec(decided.text)![1];
      const token = await api(instance, "POST", "/oauth/token", {
        body: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: OOB },
      });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const other = await registerApp(instance, "Second app", null);
      await decide(new Browser(instance.url, "203.0.113.6"), other, "read", "authorize");
      const second = await eventually(async () => smtp.received[1], "the second app's mail");
      assert.match(decodeMail(second.raw), /^Subject: A new application was authorized on your account: Second app$/m);
      assert.equal(smtp.received.length, 2, "exchanging the first code sent nothing");
      assert.doesNotMatch(decodeMail(second.raw), /website/);
    });

    test("denying mails nothing", async () => {
      const before = smtp.received.length;
      const app = await registerApp(instance, "Denied app", null);
      const denied = await decide(new Browser(instance.url, "203.0.113.7"), app, "read", "deny");
      assert.match(denied.text, /Authorization denied/);
      // A later authorization's mail arrives alone: the denial queued none before it.
      const later = await registerApp(instance, "Later app", null);
      await decide(new Browser(instance.url, "203.0.113.8"), later, "read", "authorize");
      await eventually(async () => smtp.received.length > before, "the later app's mail");
      assert.equal(smtp.received.length, before + 1);
      assert.match(decodeMail(smtp.received.at(-1)!.raw), /Later app/);
    });
  });
}

describe("app authorized mail with the SMTP server down, behind no trusted proxy", () => {
  let instance: TestInstance;
  before(async () => {
    instance = await startInstance("pglite", { env: smtpEnv(await unusedPort()) });
  });
  after(async () => {
    await instance?.close();
  });

  test("the authorization goes through; the mail waits with the socket's address, not a claimed one", async () => {
    const app = await registerApp(instance, "Phanpy", null);
    const decided = await decide(new Browser(instance.url, "203.0.113.99"), app, "read", "authorize");
    assert.equal(decided.response.status, 200);
    assert.match(decided.text, /Authorization code/);
    const rows = await eventually(async () => {
      const found = await instance.islet.core.db.select().from(queueMessages).where(eq(queueMessages.queue, "mail"));
      return found.length > 0 ? found : undefined;
    }, "the queued mail");
    const payload = JSON.stringify(rows[0].payload);
    assert.match(payload, /A new application was authorized on your account: Phanpy/);
    assert.match(payload, /Authorized from the address 127\.0\.0\.1/);
    assert.doesNotMatch(payload, /203\.0\.113\.99/, "X-Forwarded-For from an untrusted peer is ignored");
  });
});

describe("app authorized mail without SMTP", () => {
  let instance: TestInstance;
  before(async () => {
    instance = await startInstance("pglite");
  });
  after(async () => {
    await instance?.close();
  });

  test("nothing is queued", async () => {
    const app = await registerApp(instance, "Tusky", null);
    const decided = await decide(new Browser(instance.url), app, "read", "authorize");
    assert.match(decided.text, /Authorization code/);
    assert.equal((await instance.islet.core.db.select().from(queueMessages).where(eq(queueMessages.queue, "mail"))).length, 0);
  });
});
