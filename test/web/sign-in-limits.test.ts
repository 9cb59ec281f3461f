/**
 * Sign-in limits per account, on top of the per-address ones, kept in the
 * database: failures spread over many addresses (IPv4, and IPv6 in distinct
 * /64s, named by X-Forwarded-For from the trusted loopback proxy) lock the
 * account, after which even the right password from a new address is
 * refused with 429, Retry-After and the wait in words, on the sign-in form
 * and on the OAuth authorize form alike. The owner is mailed once per
 * lock-out. The limits survive a restart on the same database; a lock-out
 * that has passed (its stored end moved into the past: no sleeping) lets
 * the right password in, which clears the count, while a repeated one lasts
 * twice as long. A password reset by mail works during a lock-out and ends
 * it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config.ts";
import { createOwner } from "../../src/core/accounts.ts";
import { accountLimitKey, accountSignInState, type AccountSignInState } from "../../src/core/sign-in-limits.ts";
import { DatabaseKvStore } from "../../src/db/kv-store.ts";
import { openIslet, type Islet } from "../../src/islet.ts";
import { createLogger } from "../../src/log.ts";
import { createApp, listen } from "../../src/server.ts";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../helpers/database.ts";
import { eventually, freePort } from "../helpers/instance.ts";
import { decodeMail, startSmtpServer, type TestSmtpServer } from "../mail/smtp.ts";
import { Browser, formFields, signIn, type Page } from "./browser.ts";

const PASSWORD = "a long test password";
const NEW_PASSWORD = "a brand new passphrase";
const OOB = "urn:ietf:wg:oauth:2.0:oob";

/** One Islet process on a database that outlives it. */
interface Running {
  islet: Islet;
  url: string;
  stop(): Promise<void>;
}

async function serve(database: TestDatabase, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const config = loadConfig({
    DATA_DIR: database.dataDir,
    PORT: String(port),
    ALLOW_PRIVATE_ADDRESS: "true",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error",
    ...(database.databaseUrl == null ? {} : { DATABASE_URL: database.databaseUrl }),
    ...env,
  });
  const islet = await openIslet(config, { database: await database.open(), log: createLogger(config.logLevel) });
  const server = await listen(createApp(islet), port, "127.0.0.1");
  islet.startWorker();
  return {
    islet,
    url: server.url,
    async stop() {
      await server.close();
      await islet.close();
    },
  };
}

/** Moves the stored lock-out's end `ago` ms into the past, as if it had been waited out. */
async function endLockout(running: Running, accountId: bigint): Promise<void> {
  const kv = new DatabaseKvStore(running.islet.core.database);
  const state = await kv.get<AccountSignInState>(accountLimitKey(accountId));
  assert.ok(state?.lockedUntil != null && state.lockedAt != null, `a lock-out is stored: ${JSON.stringify(state)}`);
  const length = state.lockedUntil - state.lockedAt;
  const lockedUntil = Date.now() - 1000;
  await kv.set(accountLimitKey(accountId), { ...state, lockedAt: lockedUntil - length, lockedUntil }, { ttl: { hours: 25 } });
}

/** Each address tries `perAddress` wrong passwords; returns the statuses in order. */
async function failFrom(running: Running, addresses: readonly string[], perAddress: number): Promise<number[]> {
  const statuses: number[] = [];
  for (const address of addresses) {
    const browser = new Browser(running.url, address);
    for (let i = 0; i < perAddress; i++) {
      statuses.push((await signIn(browser, "owner", `wrong guess ${address} ${i}`)).response.status);
    }
  }
  return statuses;
}

function retryAfter(page: Page): number {
  return Number(page.response.headers.get("retry-after"));
}

function lockMails(smtp: TestSmtpServer): string[] {
  return smtp.received.map((mail) => decodeMail(mail.raw)).filter((text) => /^Subject: Sign-in to your account is paused/m.test(text));
}

for (const kind of databaseKinds()) {
  describe(`sign-in limits per account (${kind})`, () => {
    let smtp: TestSmtpServer;
    let database: TestDatabase;
    let running: Running;
    let accountId: bigint;
    let env: Record<string, string>;

    before(async () => {
      smtp = await startSmtpServer();
      env = {
        SMTP_SERVER: "127.0.0.1",
        SMTP_PORT: String(smtp.port),
        SMTP_ENABLE_STARTTLS: "never",
        SMTP_AUTH_METHOD: "none",
        TRUSTED_PROXY_IP: "127.0.0.1",
      };
      database = await createTestDatabase(kind);
      running = await serve(database, env);
      const owner = await createOwner(running.islet.core, { username: "owner", email: "owner@example.com", password: PASSWORD });
      accountId = owner.account.id;
    });
    after(async () => {
      await running?.stop();
      await database?.drop();
      await smtp?.close();
    });

    test("wrong passwords from many addresses lock the account: the right one from a new address then gets 429 and the wait", async () => {
      // Two guesses from each of five addresses: no address reaches its own limit.
      const addresses = ["192.0.2.10", "198.51.100.20", "2001:db8:a:1::1", "2001:db8:a:2::1", "203.0.113.30"];
      assert.deepEqual(await failFrom(running, addresses, 2), Array(10).fill(422));

      const fresh = new Browser(running.url, "2001:db8:b:1::7");
      const refused = await signIn(fresh, "owner", PASSWORD);
      assert.equal(refused.response.status, 429, refused.text.slice(0, 500));
      assert.ok(retryAfter(refused) > 240 && retryAfter(refused) <= 300, `Retry-After ${retryAfter(refused)}`);
      assert.match(refused.text, /Sign-in paused/);
      assert.match(refused.text, /Try again in about 5 minutes\./);
      assert.match(refused.text, /<a href="\/auth\/password\/new">Reset it by email<\/a>/);
      assert.equal(refused.response.headers.get("cache-control"), "no-store");
      assert.equal(fresh.jar.cookies.has("islet_session"), false, "not signed in");

      // The OAuth authorize form signs in through the same check.
      const registered = await fetch(`${running.url}/api/v1/apps`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Forwarded-For": "192.0.2.99" },
        body: JSON.stringify({ client_name: "Guesser", redirect_uris: OOB, scopes: "read" }),
      });
      assert.equal(registered.status, 200);
      const app = await registered.json() as { client_id: string };
      const authorize = `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: app.client_id, redirect_uri: OOB, scope: "read" })}`;
      const viaApp = new Browser(running.url, "192.0.2.77");
      const form = await viaApp.get(authorize);
      assert.equal(form.response.status, 200);
      assert.match(form.text, /<strong>Guesser<\/strong> wants to use your account/);
      const fromApp = await viaApp.post("/auth/sign_in", { ...formFields(form.text, "/auth/sign_in"), login: "owner@example.com", password: PASSWORD });
      assert.equal(fromApp.response.status, 429);
      assert.match(fromApp.text, /about 5 minutes/);

      const state = await accountSignInState(running.islet.core, accountId);
      assert.equal(state?.failures, 10);
      assert.deepEqual(state?.addresses, addresses, "the failing addresses, as the client addresses they were");

      const mail = await eventually(async () => lockMails(smtp)[0], "the lock-out mail");
      assert.deepEqual(smtp.received[0].to, ["owner@example.com"]);
      assert.match(mail, /^Subject: Sign-in to your account is paused after 10 failed attempts$/m);
      assert.match(mail, /10 attempts in a row to sign in to @owner@localhost:\d+ used a wrong password, so signing in is paused for 5 minutes, until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
      assert.match(mail, /They came from these addresses: 192\.0\.2\.10, 198\.51\.100\.20, 2001:db8:a:1::1, 2001:db8:a:2::1, 203\.0\.113\.30\./);
      assert.match(mail, /Reset your password: http:\/\/localhost:\d+\/auth\/password\/new/);
    });

    test("the lock-out survives a restart; refused attempts during it count for nothing and mail nothing", async () => {
      await running.stop();
      running = await serve(database, env);
      const refused = await signIn(new Browser(running.url, "203.0.113.200"), "owner", PASSWORD);
      assert.equal(refused.response.status, 429, "the restarted server remembers the lock-out");
      assert.ok(retryAfter(refused) > 0 && retryAfter(refused) <= 300);
      assert.match(refused.text, /Try again in (about \d+ minutes|about a minute|less than a minute)\./);
      // More guesses while locked: refused without being counted.
      const during = await failFrom(running, ["192.0.2.50", "2001:db8:c:1::1", "2001:db8:c:2::1"], 3);
      assert.deepEqual(during, Array(9).fill(429));
      assert.equal((await accountSignInState(running.islet.core, accountId))?.failures, 10);
    });

    test("once the lock-out has passed, ten more failures lock it again for twice as long, with one more mail", async () => {
      await endLockout(running, accountId);
      const addresses = ["192.0.2.60", "192.0.2.61", "2001:db8:d:1::1", "2001:db8:d:2::1", "2001:db8:d:3::1"];
      assert.deepEqual(await failFrom(running, addresses, 2), Array(10).fill(422));
      const refused = await signIn(new Browser(running.url, "192.0.2.62"), "owner", PASSWORD);
      assert.equal(refused.response.status, 429);
      assert.ok(retryAfter(refused) > 540 && retryAfter(refused) <= 600, `Retry-After ${retryAfter(refused)}`);
      assert.match(refused.text, /Try again in about 10 minutes\./);

      const second = await eventually(async () => lockMails(smtp)[1], "the second lock-out mail");
      assert.match(second, /paused for 10 minutes/);
      // The first lock-out's refused attempts, before and after the restart, mailed nothing.
      assert.equal(lockMails(smtp).length, 2);
      assert.equal(smtp.received.length, 2);
    });

    test("after the lock-out, the right password works and clears the count", async () => {
      await endLockout(running, accountId);
      const browser = new Browser(running.url, "192.0.2.70");
      const signedIn = await signIn(browser, "owner", PASSWORD);
      assert.equal(signedIn.response.status, 303, signedIn.text.slice(0, 500));
      assert.equal(browser.jar.cookies.has("islet_session"), true);
      assert.equal(await accountSignInState(running.islet.core, accountId), null, "the count is gone");
      // Nine failures now lock nothing: the count started again from zero.
      assert.deepEqual(await failFrom(running, ["192.0.2.71", "192.0.2.72", "192.0.2.73"], 3), Array(9).fill(422));
      assert.equal((await signIn(new Browser(running.url, "192.0.2.74"), "owner", PASSWORD)).response.status, 303);
    });

    test("the per-address limit is kept in the database too, per IPv6 /64", async () => {
      assert.deepEqual(await failFrom(running, ["2001:db8:e:1::1"], 5), Array(5).fill(422));
      await running.stop();
      running = await serve(database, env);
      const sameNetwork = await signIn(new Browser(running.url, "2001:db8:e:1:ffff::2"), "owner", "wrong again");
      assert.equal(sameNetwork.response.status, 429, "another address in the same /64, after a restart");
      assert.match(sameNetwork.text, /Too many failed sign-in attempts came from your address\. Try again in about 5 minutes\./);
      assert.ok(retryAfter(sameNetwork) > 0 && retryAfter(sameNetwork) <= 300);
      assert.equal((await signIn(new Browser(running.url, "2001:db8:e:2::1"), "owner", "wrong again")).response.status, 422, "the next /64 is another client");
      assert.equal((await signIn(new Browser(running.url, "192.0.2.80"), "owner", PASSWORD)).response.status, 303);
    });

    test("a password reset by mail works during a lock-out and ends it", async () => {
      const addresses = ["192.0.2.90", "192.0.2.91", "192.0.2.92", "192.0.2.93", "192.0.2.94"];
      assert.deepEqual(await failFrom(running, addresses, 2), Array(10).fill(422));
      assert.equal((await signIn(new Browser(running.url, "192.0.2.95"), "owner", PASSWORD)).response.status, 429);
      await eventually(async () => lockMails(smtp)[2], "the third lock-out mail");

      const browser = new Browser(running.url, "192.0.2.96");
      const page = await browser.get("/auth/password/new");
      assert.equal(page.response.status, 200);
      const sent = await browser.post("/auth/password", { ...formFields(page.text, "/auth/password"), email: "owner@example.com" });
      assert.equal(sent.response.status, 200, sent.text.slice(0, 500));
      const resetMail = await eventually(async () => smtp.received.map((m) => decodeMail(m.raw)).find((t) => /^Subject: Reset your Islet password$/m.test(t)), "the reset mail");
      const link = /https?:\/\/[^\s"<>]+(\/auth\/password\/edit\?reset_password_token=[A-Za-z0-9_%-]+)/.exec(resetMail);
      assert.ok(link != null, resetMail);
      const edit = await browser.get(link[1]);
      assert.equal(edit.response.status, 200, edit.text.slice(0, 500));
      const done = await browser.post("/auth/password/edit", { ...formFields(edit.text, "/auth/password/edit"), password: NEW_PASSWORD, password_confirmation: NEW_PASSWORD });
      assert.equal(done.response.status, 200, done.text.slice(0, 500));

      const signedIn = await signIn(new Browser(running.url, "192.0.2.97"), "owner", NEW_PASSWORD);
      assert.equal(signedIn.response.status, 303, "the new password signs in at once");
    });
  });
}
