/**
 * "Forgot your password?" end to end: the link on the sign-in page, the
 * request form, the mail caught by a real SMTP server on loopback, its
 * one-time link, the new password, sessions ended; and the refusals
 * (unknown address answered alike, used and expired links, CSRF, rate
 * limit, mail not set up, SMTP server down).
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { after, before, describe, test } from "node:test";
import { hashToken } from "../../src/core/token-hash.ts";
import { queueMessages, users, webSessions } from "../../src/db/schema.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { decodeMail, startSmtpServer, unusedPort, type TestSmtpServer } from "../mail/smtp.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { Browser, formFields, signIn } from "./browser.ts";

const PASSWORD = "a long test password";
const NEW_PASSWORD = "a brand new passphrase";

function smtpEnv(port: number): Record<string, string> {
  return {
    SMTP_SERVER: "127.0.0.1",
    SMTP_PORT: String(port),
    SMTP_ENABLE_STARTTLS: "never",
    SMTP_AUTH_METHOD: "none",
    TRUSTED_PROXY_IP: "127.0.0.1",
  };
}

/** The reset link in a received mail, as a path and query on the test server. */
function resetLink(raw: string): { path: string; token: string; href: string } {
  const text = decodeMail(raw);
  const match = /(https?:\/\/[^\s"<>]+\/auth\/password\/edit\?reset_password_token=([A-Za-z0-9_%-]+))/.exec(text);
  assert.ok(match != null, `a reset link in:\n${text}`);
  const url = new URL(match[1]);
  return { path: `${url.pathname}${url.search}`, token: decodeURIComponent(match[2]), href: url.href };
}

async function askForReset(browser: Browser, email: string) {
  const page = await browser.get("/auth/password/new");
  assert.equal(page.response.status, 200, page.text);
  return await browser.post("/auth/password", { ...formFields(page.text, "/auth/password"), email });
}

for (const kind of databaseKinds()) {
  describe(`password reset by email (${kind})`, () => {
    let smtp: TestSmtpServer;
    let instance: TestInstance;

    before(async () => {
      smtp = await startSmtpServer();
      instance = await startInstance(kind, { env: smtpEnv(smtp.port) });
    });
    after(async () => {
      await instance?.close();
      await smtp?.close();
    });

    test("the mailed link sets a new password once, ends every browser session and app token, and says so", async () => {
      const appToken = await ownerToken(instance);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token: appToken })).status, 200);
      const signedIn = new Browser(instance.url, "192.0.2.1");
      assert.equal((await signIn(signedIn, "owner", PASSWORD)).response.status, 303);
      assert.equal((await signedIn.get("/auth/sign_in?return_to=/")).response.status, 303, "signed in");

      const browser = new Browser(instance.url, "192.0.2.2");
      const signInPage = await browser.get("/auth/sign_in");
      assert.match(signInPage.text, /<a href="\/auth\/password\/new">Forgot your password\?<\/a>/);

      const sent = await askForReset(browser, "  Owner@Example.COM ");
      assert.equal(sent.response.status, 200);
      assert.match(sent.text, /Check your mail/);
      assert.equal(sent.response.headers.get("cache-control"), "no-store");

      const mail = await eventually(async () => smtp.received[0], "the reset mail");
      assert.deepEqual(mail.to, ["owner@example.com"]);
      assert.match(mail.raw, /^Subject: Reset your Islet password$/m);
      assert.match(decodeMail(mail.raw), /The link works once, for 1 hour\./);
      const link = resetLink(mail.raw);
      assert.equal(new URL(link.href).origin, instance.origin, "the link is on the canonical origin");

      // Only the token's hash is kept.
      const [stored] = await instance.islet.core.db.select().from(users).limit(1);
      assert.equal(stored.resetPasswordTokenHash, hashToken(link.token));
      assert.notEqual(stored.resetPasswordTokenHash, link.token);
      assert.ok(stored.resetPasswordSentAt != null);

      const form = await browser.get(link.path);
      assert.equal(form.response.status, 200, form.text);
      assert.match(form.text, /Choose a new password/);
      assert.match(form.text, /@owner/);
      assert.equal(form.response.headers.get("referrer-policy"), "no-referrer", "the token in the URL is not sent on");
      const fields = formFields(form.text, "/auth/password/edit");
      assert.equal(fields.reset_password_token, link.token);

      const mismatch = await browser.post("/auth/password/edit", { ...fields, password: NEW_PASSWORD, password_confirmation: "something else" });
      assert.equal(mismatch.response.status, 422);
      assert.match(mismatch.text, /not the same/);
      const short = await browser.post("/auth/password/edit", { ...fields, password: "short", password_confirmation: "short" });
      assert.equal(short.response.status, 422);
      assert.match(short.text, /at least 8 characters/);
      const forged = await browser.post("/auth/password/edit", { ...fields, authenticity_token: "forged", password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
      assert.equal(forged.response.status, 403);
      const elsewhere = new Browser(instance.url, "192.0.2.3");
      const noCookie = await elsewhere.post("/auth/password/edit", { ...fields, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
      assert.equal(noCookie.response.status, 403, "a CSRF token without its cookie is refused");
      assert.ok(await instance.islet.core.db.select().from(users).then((rows) => rows[0].resetPasswordTokenHash != null), "refusals left the link usable");

      const done = await browser.post("/auth/password/edit", { ...fields, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
      assert.equal(done.response.status, 200, done.text);
      assert.match(done.text, /Your password is changed/);
      assert.match(done.text, /The one browser that was signed in has been signed out\./);
      assert.match(done.text, /Apps you had authorized are signed out too/);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token: appToken })).status, 401, "the app's token is revoked");

      assert.equal((await instance.islet.core.db.select().from(webSessions)).length, 0, "every session ended");
      assert.equal((await signedIn.get("/auth/sign_in?return_to=/")).response.status, 200, "the other browser is signed out");
      const [after] = await instance.islet.core.db.select().from(users).limit(1);
      assert.equal(after.resetPasswordTokenHash, null);
      assert.equal(after.resetPasswordSentAt, null);
      assert.match(after.passwordHash, /^\$argon2id\$/);

      assert.equal((await signIn(new Browser(instance.url, "192.0.2.4"), "owner", PASSWORD)).response.status, 422, "the old password is gone");
      assert.equal((await signIn(new Browser(instance.url, "192.0.2.5"), "owner", NEW_PASSWORD)).response.status, 303, "the new one works");

      // The link works once.
      const reused = await browser.get(link.path);
      assert.equal(reused.response.status, 404);
      assert.match(reused.text, /not valid/);
      assert.match(reused.text, /href="\/auth\/password\/new"/);
      const again = await browser.post("/auth/password/edit", { ...fields, password: "yet another password", password_confirmation: "yet another password" });
      assert.equal(again.response.status, 404);
      assert.equal((await signIn(new Browser(instance.url, "192.0.2.6"), "owner", NEW_PASSWORD)).response.status, 303);
    });

    test("another address gets the same answer and no mail", async () => {
      const before = smtp.received.length;
      const browser = new Browser(instance.url, "192.0.2.20");
      const stranger = await askForReset(browser, "someone@else.example");
      const owner = await askForReset(browser, "owner@example.com");
      assert.equal(stranger.response.status, owner.response.status);
      assert.equal(stranger.text, owner.text, "the page does not tell whether the address was the owner's");
      // The owner's mail comes; one for the stranger, queued first, would have come before it.
      await eventually(async () => smtp.received.length > before, "the owner's mail");
      assert.equal(smtp.received.length, before + 1);
      assert.deepEqual(smtp.received.at(-1)!.to, ["owner@example.com"]);
    });

    test("a newer link replaces the older one; an expired link is refused", async () => {
      const browser = new Browser(instance.url, "192.0.2.30");
      const core = instance.islet.core;
      // Let the one-a-minute guard pass, as if the last mail were older.
      await core.db.update(users).set({ resetPasswordSentAt: new Date(Date.now() - 2 * 60 * 1000) });
      const before = smtp.received.length;
      const older = resetLink(smtp.received.at(-1)!.raw);
      await askForReset(browser, "owner@example.com");
      const mail = await eventually(async () => smtp.received[before], "a second reset mail");
      const newer = resetLink(mail.raw);
      assert.notEqual(newer.token, older.token);
      assert.equal((await browser.get(older.path)).response.status, 404, "the older link no longer works");
      assert.equal((await browser.get(newer.path)).response.status, 200);

      await core.db.update(users).set({ resetPasswordSentAt: new Date(Date.now() - 61 * 60 * 1000) });
      const expired = await browser.get(newer.path);
      assert.equal(expired.response.status, 404);
      assert.match(expired.text, /expired/);
      await core.db.update(users).set({ resetPasswordSentAt: new Date() });
      const form = await browser.get(newer.path);
      assert.equal(form.response.status, 200);
      await core.db.update(users).set({ resetPasswordSentAt: new Date(Date.now() - 61 * 60 * 1000) });
      const late = await browser.post("/auth/password/edit", {
        ...formFields(form.text, "/auth/password/edit"),
        password: "too late for this",
        password_confirmation: "too late for this",
      });
      assert.equal(late.response.status, 404, "a form opened in time is refused once the link expired");
      assert.equal((await signIn(new Browser(instance.url, "192.0.2.31"), "owner", NEW_PASSWORD)).response.status, 303);
    });

    test("requests are limited per client address; the form needs its CSRF token", async () => {
      const browser = new Browser(instance.url, "198.51.100.7");
      const page = await browser.get("/auth/password/new");
      const fields = formFields(page.text, "/auth/password");
      const forged = await browser.post("/auth/password", { ...fields, authenticity_token: "forged", email: "x@example.com" });
      assert.equal(forged.response.status, 403);
      for (let i = 0; i < 5; i++) {
        assert.equal((await browser.post("/auth/password", { ...fields, email: `nobody${i}@example.com` })).response.status, 200);
      }
      const limited = await browser.post("/auth/password", { ...fields, email: "nobody@example.com" });
      assert.equal(limited.response.status, 429);
      assert.ok(Number(limited.response.headers.get("retry-after")) > 0);
      assert.match(limited.text, /Too many/);
      // Another address is not held back; the limit follows X-Forwarded-For from the trusted proxy.
      assert.equal((await askForReset(new Browser(instance.url, "198.51.100.8"), "nobody@example.com")).response.status, 200);
      // Guessing links counts too, from a browser that once had a real link's form.
      await instance.islet.core.db.update(users).set({ resetPasswordSentAt: new Date() });
      const link = resetLink(smtp.received.at(-1)!.raw);
      const guesser = new Browser(instance.url, "198.51.100.9");
      const form = await guesser.get(link.path);
      assert.equal(form.response.status, 200);
      const fields2 = formFields(form.text, "/auth/password/edit");
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const guess = await guesser.post("/auth/password/edit", { ...fields2, reset_password_token: `guess${i}`, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
        statuses.push(guess.response.status);
      }
      assert.deepEqual(statuses, [404, 404, 404, 404, 404, 429]);
      const real = await guesser.post("/auth/password/edit", { ...fields2, password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
      assert.equal(real.response.status, 429, "held back even with the real link, until the window passes");
      await instance.islet.core.db.update(users).set({ resetPasswordTokenHash: null, resetPasswordSentAt: null });
    });
  });
}

describe("password reset without mail", () => {
  let instance: TestInstance;
  before(async () => {
    instance = await startInstance("pglite");
  });
  after(async () => {
    await instance?.close();
  });

  test("the page says reset by email is unavailable and points to islet account password", async () => {
    const browser = new Browser(instance.url);
    assert.match((await browser.get("/auth/sign_in")).text, /Forgot your password\?/);
    const page = await browser.get("/auth/password/new");
    assert.equal(page.response.status, 200);
    assert.match(page.text, /Reset by email is unavailable/);
    assert.match(page.text, /islet account password/);
    assert.doesNotMatch(page.text, /<form/);
    const posted = await browser.post("/auth/password", { email: "owner@example.com" });
    assert.equal(posted.response.status, 503);
    assert.match(posted.text, /islet account password/);
    const [owner] = await instance.islet.core.db.select().from(users).limit(1);
    assert.equal(owner.resetPasswordTokenHash, null, "no token without a way to mail it");
  });
});

describe("password reset with the SMTP server down", () => {
  let instance: TestInstance;
  before(async () => {
    instance = await startInstance("pglite", { env: smtpEnv(await unusedPort()) });
  });
  after(async () => {
    await instance?.close();
  });

  test("the request is answered at once and the mail waits in the queue", async () => {
    const browser = new Browser(instance.url, "192.0.2.40");
    const sent = await askForReset(browser, "owner@example.com");
    assert.equal(sent.response.status, 200);
    assert.match(sent.text, /Check your mail/);
    const queued = await eventually(async () => {
      const rows = await instance.islet.core.db.select().from(queueMessages).where(eq(queueMessages.queue, "mail"));
      return rows.length > 0 ? rows : undefined;
    }, "the queued mail");
    assert.match(JSON.stringify(queued[0].payload), /Reset your Islet password/);
  });
});
