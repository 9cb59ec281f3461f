/**
 * The settings pages in a real browser (chromium): sign in, edit the
 * profile (the name only, then the avatar only, then both, each saved),
 * preferences, turn two-factor sign-in on with a code computed here, sign
 * out and in again with a code and then with a recovery code, revoke an
 * app (its token gets 401 and its open streaming WebSocket closes), change
 * the password. Each page is screenshotted (test-output/screenshots/) and
 * checked with axe: no serious or critical violations. The pages are also
 * looked at on a phone-sized screen.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import type { Browser as Chromium, BrowserContext, Page } from "playwright-core";
import { timeStep, totpCode } from "../../src/core/two-factor.ts";
import { api, ownerToken } from "../helpers/api.ts";
import { chromiumSkip, launchChromium, screenshot, seriousAccessibilityViolations } from "../helpers/chromium.ts";
import { databaseKinds } from "../helpers/database.ts";
import { startInstance, type TestInstance } from "../helpers/instance.ts";
import { streamingUrl, WsClient } from "../streaming/helpers.ts";
import { Browser, signIn } from "./browser.ts";

const PASSWORD = "a long test password";
const NEW_PASSWORD = "another long passphrase";
const skip = chromiumSkip();

async function picture(dir: string, name: string, width: number, height: number, color: { r: number; g: number; b: number }): Promise<string> {
  const path = join(dir, name);
  await sharp({ create: { width, height, channels: 3, background: color } }).png().toFile(path);
  return path;
}

for (const kind of databaseKinds()) {
  describe(`settings in the browser (${kind})`, { skip }, () => {
    let instance: TestInstance;
    let chromium: Chromium;
    let context: BrowserContext;
    let page: Page;
    let dir: string;

    before(async () => {
      instance = await startInstance(kind);
      chromium = await launchChromium();
      context = await chromium.newContext({ viewport: { width: 1000, height: 800 } });
      page = await context.newPage();
      dir = mkdtempSync(join(tmpdir(), "islet-settings-"));
    });
    after(async () => {
      await chromium?.close();
      await instance?.close();
      if (dir != null) rmSync(dir, { recursive: true, force: true });
    });

    /**
     * Screenshots the page, then runs axe on a copy of its document (axe is
     * injected as a script, which the page's own policy forbids, so the copy
     * is in a context without it; pages answering a POST cannot be loaded again).
     */
    async function look(name: string): Promise<void> {
      await screenshot(page, `${name}-${kind}`);
      const checker = await chromium.newContext({ bypassCSP: true });
      try {
        const probe = await checker.newPage();
        await probe.setContent(await page.content());
        assert.deepEqual(await seriousAccessibilityViolations(probe), [], `${name}: accessibility`);
      } finally {
        await checker.close();
      }
    }

    async function credentials(token: string) {
      const answer = await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token });
      assert.equal(answer.status, 200);
      return answer.body;
    }

    async function signInWith(code: string | null, password = PASSWORD): Promise<void> {
      await page.goto(`${instance.origin}/settings/profile`);
      assert.match(page.url(), /\/auth\/sign_in\?return_to=%2Fsettings%2Fprofile$/);
      await page.fill("#login", "owner");
      await page.fill("#password", password);
      await page.click("button.primary");
      if (code != null) {
        await page.waitForSelector("#otp_attempt");
        await page.fill("#otp_attempt", code);
        await page.click("button.primary");
      }
      await page.waitForURL(`${instance.origin}/settings/profile`);
    }

    async function signOut(): Promise<void> {
      await page.click("form[action='/auth/sign_out'] button");
      await page.waitForURL(/\/auth\/sign_in$/);
    }

    test("sign in, profile, preferences, two-factor sign-in, apps, password", async () => {
      const token = await ownerToken(instance);

      // Signing in from the settings address comes back to it.
      await page.goto(`${instance.origin}/settings`);
      await screenshot(page, `settings-sign-in-${kind}`);
      await signInWith(null);
      await look("settings-profile");

      // The profile page links to the settings when the owner is signed in.
      await page.goto(`${instance.origin}/@owner`);
      await page.click("footer >> text=Settings");
      await page.waitForURL(`${instance.origin}/settings/profile`);

      // The name only.
      await page.fill("#display_name", "Name Only");
      await page.click("text=Save the profile");
      await page.waitForSelector("p.notice");
      let account = await credentials(token);
      assert.equal(account.display_name, "Name Only");
      const originalAvatar = account.avatar;
      assert.equal(await page.inputValue("#display_name"), "Name Only");

      // The avatar only, with its alt text; the preview shows the chosen file before saving.
      await page.setInputFiles("#avatar", await picture(dir, "avatar.png", 300, 300, { r: 200, g: 60, b: 60 }));
      await page.waitForFunction(() => (document.getElementById("avatar_preview") as HTMLImageElement).src.startsWith("blob:"));
      await page.fill("#avatar_description", "A red square");
      await page.click("text=Save the profile");
      await page.waitForSelector("p.notice");
      account = await credentials(token);
      assert.equal(account.display_name, "Name Only");
      assert.notEqual(account.avatar, originalAvatar);
      assert.equal(account.avatar_description, "A red square");
      const firstAvatar = account.avatar;

      // Both, and a field, a header and a flag.
      await page.fill("#display_name", "Both Changed");
      await page.setInputFiles("#avatar", await picture(dir, "avatar2.png", 300, 300, { r: 40, g: 120, b: 200 }));
      await page.fill("#avatar_description", "A blue square");
      await page.setInputFiles("#header", await picture(dir, "header.png", 900, 300, { r: 30, g: 160, b: 90 }));
      await page.fill("#header_description", "A green band");
      await page.fill("input[name=field_name_0]", "Website");
      await page.fill("input[name=field_value_0]", "https://example.com/me");
      await page.check("input[name=locked]");
      await page.click("text=Save the profile");
      await page.waitForSelector("p.notice");
      account = await credentials(token);
      assert.equal(account.display_name, "Both Changed");
      assert.notEqual(account.avatar, firstAvatar);
      assert.equal(account.avatar_description, "A blue square");
      assert.equal(account.header_description, "A green band");
      assert.equal(account.locked, true);
      assert.equal(account.fields[0].name, "Website");
      assert.ok(await page.isChecked("input[name=locked]"));

      await page.fill("#featured_tag", "#islet");
      await page.click("text=Add");
      await page.waitForSelector("ul.tags li");
      await look("settings-profile-saved");

      // Preferences.
      await page.click("nav >> text=Preferences");
      await page.check("input[value=unlisted]");
      await page.selectOption("#language", "fr");
      await page.click("text=Save the preferences");
      await page.waitForSelector("p.notice");
      const preferences = await api(instance, "GET", "/api/v1/preferences", { token });
      assert.equal(preferences.body["posting:default:visibility"], "unlisted");
      assert.equal(preferences.body["posting:default:language"], "fr");
      await look("settings-preferences");

      // Two-factor sign-in on, with a code computed here.
      await page.click("nav >> text=Two-factor sign-in");
      await look("settings-two-factor-off");
      await page.click("text=Set up two-factor sign-in");
      await page.waitForSelector("img.qr");
      const secret = (await page.textContent("#otp_secret"))!.replace(/\s+/g, "");
      await look("settings-two-factor-setup");
      const turnedOnAt = Date.now();
      await page.fill("#otp_code", totpCode(secret, turnedOnAt));
      await page.click("text=Turn on");
      await page.waitForSelector("#recovery_codes");
      const codes = await page.$$eval("#recovery_codes li", (items) => items.map((item) => item.textContent ?? ""));
      assert.equal(codes.length, 10);
      await look("settings-two-factor-codes");

      // Out, and in again with a code (the next step's: the one used to turn it on is spent).
      await signOut();
      await page.goto(`${instance.origin}/settings/profile`);
      await page.fill("#login", "owner");
      await page.fill("#password", PASSWORD);
      await page.click("button.primary");
      await page.waitForSelector("#otp_attempt");
      await look("sign-in-two-factor");
      // A step after the one spent (the next one, accepted for clock drift, if the clock has not moved on yet).
      const later = timeStep() > timeStep(turnedOnAt) ? Date.now() : turnedOnAt + 30_000;
      await page.fill("#otp_attempt", totpCode(secret, later));
      await page.click("button.primary");
      await page.waitForURL(`${instance.origin}/settings/profile`);

      // And with a recovery code.
      await signOut();
      await signInWith(codes[3]);

      // An app with an open stream, revoked.
      const doomed = await ownerToken(instance, "read");
      const stream = await WsClient.open(streamingUrl(instance.url, { stream: "user", access_token: doomed }));
      const closed = new Promise<number>((resolve) => stream.socket.once("close", (code) => resolve(code)));
      assert.equal((await credentials(doomed)).username, "owner");
      await page.click("nav >> text=Apps and sessions");
      await page.waitForSelector("li.app");
      await look("settings-apps");
      assert.equal(await page.locator("li.app").count(), 2);
      // Both are called "Test client": the doomed one is the one without `write`.
      const doomedItem = page.locator("li.app", { hasNot: page.locator("code", { hasText: /^write$/ }) });
      await doomedItem.locator("button", { hasText: "Revoke" }).click();
      await page.waitForSelector("p.notice");
      await closed;
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token: doomed })).status, 401);
      assert.equal((await api(instance, "GET", "/api/v1/accounts/verify_credentials", { token })).status, 200, "the other app keeps its access");
      assert.equal(await page.locator("li.app").count(), 1);

      // The password.
      await page.click("nav >> text=Password and e-mail");
      await look("settings-account");
      await page.fill("#current_password", PASSWORD);
      await page.fill("#password", NEW_PASSWORD);
      await page.fill("#password_confirmation", NEW_PASSWORD);
      await page.click("text=Change the password");
      await page.waitForSelector("p.notice");
      const old = await signIn(new Browser(instance.url), "owner", PASSWORD);
      assert.equal(old.response.status, 422, "the old password no longer works");

      // On a phone-sized screen.
      await page.setViewportSize({ width: 390, height: 844 });
      for (const path of ["/settings/profile", "/settings/apps", "/settings/two_factor"]) {
        await page.goto(`${instance.origin}${path}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${path} fits a phone's width (overflows by ${overflow}px)`);
      }
      await page.goto(`${instance.origin}/settings/profile`);
      await screenshot(page, `settings-profile-phone-${kind}`);
    });
  });
}
