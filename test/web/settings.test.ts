/**
 * The settings pages over HTTP: signed-out requests go to the sign-in page;
 * a form without this session's CSRF token, or sent from another site, is
 * refused and changes nothing; two-factor sign-in once on asks for a code
 * after the password (sign-in page and authorize flow), refuses a wrong or
 * replayed code, counts wrong codes as failed sign-ins (429 after the
 * address's limit), takes a recovery code once, and `islet account 2fa
 * disable`'s core function turns it off; revoking an app makes its token
 * 401 and drops its push subscription; changing the e-mail mails a link to
 * the new address, which confirms it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eq } from "drizzle-orm";
import { getOwner } from "../../src/core/accounts.ts";
import { ADDRESS_MAX_FAILURES } from "../../src/core/sign-in-limits.ts";
import { disableTwoFactor, timeStep, totpCode } from "../../src/core/two-factor.ts";
import { pushSubscriptions, oauthTokens } from "../../src/db/schema.ts";
import { newId } from "../../src/core/ids.ts";
import { hashToken } from "../../src/core/token-hash.ts";
import { databaseKinds } from "../helpers/database.ts";
import { eventually, startInstance, type TestInstance } from "../helpers/instance.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { decodeMail, startSmtpServer, type TestSmtpServer } from "../mail/smtp.ts";
import { Browser, formFields, signIn, unescapeHtml, type Page } from "./browser.ts";

const PASSWORD = "a long test password";

/** Posts the form of `page` that posts to `action`, with its hidden fields and `values`. */
async function submit(browser: Browser, page: Page, action: string, values: Record<string, string> = {}): Promise<Page> {
  return await browser.post(action, { ...formFields(page.text, action), ...values });
}

/** The TOTP secret shown on the set-up page. */
function shownSecret(html: string): string {
  const match = /<p class="code" id="otp_secret">([A-Z2-7 ]+)<\/p>/.exec(html);
  assert.ok(match != null, `the secret on:\n${html.slice(0, 3000)}`);
  return match[1].replace(/ /g, "");
}

function recoveryCodes(html: string): string[] {
  const list = /<ol class="codes" id="recovery_codes">([\s\S]*?)<\/ol>/.exec(html);
  assert.ok(list != null, "the recovery codes are shown");
  return [...list[1].matchAll(/<li>([^<]+)<\/li>/g)].map((m) => unescapeHtml(m[1]));
}

/** Signs in through the password step and returns the code page. */
async function passwordStep(browser: Browser, returnTo = "/settings/profile"): Promise<Page> {
  const page = await signIn(browser, "owner", PASSWORD, returnTo);
  assert.equal(page.response.status, 200, page.text.slice(0, 500));
  assert.match(page.text, /Two-factor sign-in/);
  return page;
}

for (const kind of databaseKinds()) {
  describe(`settings over HTTP (${kind})`, () => {
    let instance: TestInstance;
    let smtp: TestSmtpServer;

    before(async () => {
      smtp = await startSmtpServer();
      instance = await startInstance(kind, {
        env: {
          TRUSTED_PROXY_IP: "127.0.0.1",
          SMTP_SERVER: "127.0.0.1",
          SMTP_PORT: String(smtp.port),
          SMTP_ENABLE_STARTTLS: "never",
          SMTP_AUTH_METHOD: "none",
        },
      });
    });
    after(async () => {
      await instance?.close();
      await smtp?.close();
    });

    test("signed out, a settings page leads to the sign-in page and back", async () => {
      const browser = new Browser(instance.url, "192.0.2.1");
      const page = await browser.get("/settings/apps");
      assert.equal(page.response.status, 303);
      assert.equal(page.response.headers.get("location"), "/auth/sign_in?return_to=%2Fsettings%2Fapps");
      const signedIn = await signIn(browser, "owner", PASSWORD, "/settings/apps");
      assert.equal(signedIn.response.headers.get("location"), "/settings/apps");
      const apps = await browser.get("/settings/apps");
      assert.equal(apps.response.status, 200);
      assert.match(apps.response.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      assert.doesNotMatch(apps.text, /<script>/, "no inline script");
    });

    test("a form without the session's CSRF token, or from another site, changes nothing", async () => {
      const browser = new Browser(instance.url, "192.0.2.2");
      await signIn(browser, "owner", PASSWORD);
      const page = await browser.get("/settings/preferences");
      const fields = formFields(page.text, "/settings/preferences");

      const noToken = await browser.post("/settings/preferences", { privacy: "private" });
      assert.equal(noToken.response.status, 403);
      const wrongToken = await browser.post("/settings/preferences", { authenticity_token: "x".repeat(43), privacy: "private" });
      assert.equal(wrongToken.response.status, 403);

      // The right token, but sent by a page of another site.
      const crossSite = await fetch(`${instance.url}/settings/preferences`, {
        method: "POST",
        redirect: "manual",
        headers: { Cookie: browser.jar.header(), Origin: "https://evil.example", "X-Forwarded-For": "192.0.2.2" },
        body: new URLSearchParams({ ...fields, privacy: "private" }),
      });
      assert.equal(crossSite.status, 403);

      // A token of another browser's session is no good either.
      const other = new Browser(instance.url, "192.0.2.3");
      await signIn(other, "owner", PASSWORD);
      const stolen = await browser.post("/settings/preferences", { ...formFields((await other.get("/settings/preferences")).text, "/settings/preferences"), privacy: "private" });
      assert.equal(stolen.response.status, 403);

      const token = await ownerToken(instance);
      const before = await api(instance, "GET", "/api/v1/preferences", { token });
      assert.equal(before.body["posting:default:visibility"], "public");

      const saved = await browser.post("/settings/preferences", { ...fields, privacy: "private", sensitive: "1", language: "de" });
      assert.equal(saved.response.status, 303);
      const after = await api(instance, "GET", "/api/v1/preferences", { token });
      assert.equal(after.body["posting:default:visibility"], "private");
      assert.equal(after.body["posting:default:sensitive"], true);
      assert.equal(after.body["posting:default:language"], "de");
    });

    test("two-factor sign-in: refused codes, replay, the limit, a recovery code, the authorize flow, and the way back", async () => {
      const browser = new Browser(instance.url, "192.0.2.10");
      await signIn(browser, "owner", PASSWORD);
      const intro = await browser.get("/settings/two_factor");
      const setup = await submit(browser, intro, "/settings/two_factor/setup");
      assert.equal(setup.response.status, 303);
      const pending = await browser.get("/settings/two_factor");
      assert.match(pending.text, /<img class="qr" src="data:image\/png;base64,/);
      const secret = shownSecret(pending.text);

      const wrongSetup = await submit(browser, pending, "/settings/two_factor/confirm", { code: "000000" === totpCode(secret) ? "111111" : "000000" });
      assert.equal(wrongSetup.response.status, 422);
      const now = Date.now();
      const confirmed = await submit(browser, pending, "/settings/two_factor/confirm", { code: totpCode(secret, now) });
      assert.equal(confirmed.response.status, 200);
      const codes = recoveryCodes(confirmed.text);
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      assert.match((await browser.get("/settings/two_factor")).text, /Two-factor sign-in is on/);
      assert.doesNotMatch((await browser.get("/settings/two_factor")).text, new RegExp(codes[0]), "shown once");

      // The password alone no longer signs in.
      const fresh = new Browser(instance.url, "192.0.2.11");
      const codePage = await passwordStep(fresh);
      assert.equal(fresh.jar.cookies.has("islet_session"), false);
      assert.equal((await fresh.get("/settings/profile")).response.status, 303, "not signed in yet");

      // The code used to turn it on is spent: a replay is refused.
      const replayed = await submit(fresh, codePage, "/auth/sign_in", { otp_attempt: totpCode(secret, now) });
      assert.equal(replayed.response.status, 422);
      assert.match(replayed.text, /Wrong or already used code/);
      // A later step's code is accepted (the next one, for clock drift, if the clock has not moved on yet), once.
      const next = totpCode(secret, timeStep() > timeStep(now) ? Date.now() : now + 30_000);
      const accepted = await submit(fresh, replayed, "/auth/sign_in", { otp_attempt: next });
      assert.equal(accepted.response.status, 303, accepted.text.slice(0, 500));
      assert.equal(accepted.response.headers.get("location"), "/settings/profile");
      assert.equal((await fresh.get("/settings/profile")).response.status, 200);

      const again = new Browser(instance.url, "192.0.2.12");
      const againPage = await passwordStep(again);
      const replayedAgain = await submit(again, againPage, "/auth/sign_in", { otp_attempt: next });
      assert.equal(replayedAgain.response.status, 422, "a used code is refused on another browser too");

      // A recovery code works once.
      const recovered = await submit(again, replayedAgain, "/auth/sign_in", { otp_attempt: codes[0].toUpperCase() });
      assert.equal(recovered.response.status, 303);
      const third = new Browser(instance.url, "192.0.2.13");
      const reused = await submit(third, await passwordStep(third), "/auth/sign_in", { otp_attempt: codes[0] });
      assert.equal(reused.response.status, 422);
      const owner = await getOwner(instance.islet.core);
      assert.equal(owner?.user.otpRecoveryCodeHashes.length, 9);

      // The authorize flow asks for the code too, then comes back to the consent page.
      const app = await api(instance, "POST", "/api/v1/apps", { body: { client_name: "Two factor app", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read" } });
      const authorizePath = `/oauth/authorize?response_type=code&client_id=${encodeURIComponent(app.body.client_id)}&redirect_uri=${encodeURIComponent("urn:ietf:wg:oauth:2.0:oob")}&scope=read`;
      const oauthBrowser = new Browser(instance.url, "192.0.2.14");
      const authorizeSignIn = await oauthBrowser.get(authorizePath);
      const afterPassword = await submit(oauthBrowser, authorizeSignIn, "/auth/sign_in", { login: "owner", password: PASSWORD });
      assert.match(afterPassword.text, /Two-factor sign-in/);
      const afterCode = await submit(oauthBrowser, afterPassword, "/auth/sign_in", { otp_attempt: codes[1] });
      assert.equal(afterCode.response.status, 303);
      assert.equal(afterCode.response.headers.get("location"), authorizePath);
      assert.match((await oauthBrowser.get(authorizePath)).text, /Authorize Two factor app\?/);

      // Wrong codes count as failed sign-ins: the address is refused after its limit.
      const guesser = new Browser(instance.url, "192.0.2.15");
      let page = await passwordStep(guesser);
      let status = 0;
      for (let i = 0; i < ADDRESS_MAX_FAILURES + 1 && status !== 429; i++) {
        const guess = await submit(guesser, page, "/auth/sign_in", { otp_attempt: String(100000 + i) });
        status = guess.response.status;
        if (status === 422) page = guess;
      }
      assert.equal(status, 429);
      const stillRefused = await submit(guesser, page, "/auth/sign_in", { otp_attempt: totpCode(secret, Date.now() + 30_000) });
      assert.equal(stillRefused.response.status, 429, "even a right code waits");
      assert.ok(Number(stillRefused.response.headers.get("retry-after")) > 0);

      // The owner's way back in, as `islet account 2fa disable` does it.
      assert.equal(await disableTwoFactor(instance.islet.core), true);
      const plain = new Browser(instance.url, "192.0.2.16");
      assert.equal((await signIn(plain, "owner", PASSWORD)).response.status, 303);
    });

    test("revoking an app: its token gets 401 and its push subscription goes; sign out everywhere", async () => {
      const token = await ownerToken(instance);
      const tokenRow = (await instance.islet.core.db.select().from(oauthTokens).where(eq(oauthTokens.tokenHash, hashToken(token))))[0];
      await instance.islet.core.db.insert(pushSubscriptions).values({
        id: newId(),
        accessTokenId: tokenRow.id,
        endpoint: "https://push.example/endpoint",
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        auth: "BTBZMqHH6r4Tts7J_aSIgg",
      });
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token })).status, 200);

      const browser = new Browser(instance.url, "192.0.2.20");
      await signIn(browser, "owner", PASSWORD);
      const apps = await browser.get("/settings/apps");
      const action = `/settings/apps/${tokenRow.applicationId}/revoke`;
      assert.match(apps.text, /Test client/);
      assert.match(apps.text, /last used <time/);
      // An id past the largest is nobody's app: nothing happens, and no error.
      const tooLarge = await browser.post("/settings/apps/9999999999999999999/revoke", formFields(apps.text, action));
      assert.equal(tooLarge.response.status, 303);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token })).status, 200);
      const revoked = await submit(browser, apps, action);
      assert.equal(revoked.response.status, 303);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token })).status, 401);
      const left = await instance.islet.core.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.accessTokenId, tokenRow.id));
      assert.deepEqual(left, []);
      assert.doesNotMatch((await browser.get("/settings/apps")).text, new RegExp(`/settings/apps/${tokenRow.applicationId}/revoke`));

      const other = new Browser(instance.url, "192.0.2.21");
      await signIn(other, "owner", PASSWORD);
      const sessions = await browser.get("/settings/apps");
      assert.match(sessions.text, /\(this browser\)/);
      const out = await submit(browser, sessions, "/settings/sessions/sign_out_everywhere");
      assert.equal(out.response.status, 303);
      assert.equal((await browser.get("/settings/apps")).response.status, 303);
      assert.equal((await other.get("/settings/apps")).response.status, 303, "the other browser is signed out too");
    });

    test("changing the e-mail address mails a link to the new one, which confirms it", async () => {
      const browser = new Browser(instance.url, "192.0.2.30");
      await signIn(browser, "owner", PASSWORD);
      const page = await browser.get("/settings/account");
      const wrong = await submit(browser, page, "/settings/account/email", { email: "new@example.net", current_password: "not it" });
      assert.equal(wrong.response.status, 422);
      const asked = await submit(browser, page, "/settings/account/email", { email: "new@example.net", current_password: PASSWORD });
      assert.equal(asked.response.status, 303);
      assert.equal((await getOwner(instance.islet.core))?.user.email, "owner@example.com", "not before the link is followed");
      const mail = await eventually(async () => smtp.received.find((m) => m.to.includes("new@example.net")), "the confirmation mail");
      const link = /https?:\/\/[^\s"<>]+\/settings\/account\/confirm_email\?confirmation_token=[A-Za-z0-9_%-]+/.exec(decodeMail(mail.raw));
      assert.ok(link != null);
      const url = new URL(link[0]);
      const followed = await new Browser(instance.url).get(`${url.pathname}${url.search}`);
      assert.equal(followed.response.status, 303);
      assert.equal((await getOwner(instance.islet.core))?.user.email, "new@example.net");
      const again = await new Browser(instance.url).get(`${url.pathname}${url.search}`);
      assert.equal(again.response.status, 404, "the link works once");
    });
  });
}
