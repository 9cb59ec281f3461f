/**
 * Settings: two-factor sign-in. Setting up shows a QR code (rendered here,
 * as a PNG `data:` URL, which the page policy allows) and the secret for
 * typing in; a code from the app confirms it and the ten recovery codes are
 * shown, this once. Turning it off and new recovery codes ask for the
 * password. The rules live in src/core/two-factor.ts.
 */
import { Hono, type Context } from "hono";
import { CoreError, type CoreContext } from "../../core/context.ts";
import {
  beginTwoFactorSetup,
  confirmTwoFactorSetup,
  disableTwoFactor,
  pendingTwoFactorSetup,
  regenerateRecoveryCodes,
  twoFactorStatus,
} from "../../core/two-factor.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import type { BrowserState } from "../browser.ts";
import { checkFormPassword, csrfField, formAccepted, NOTICES, refused, settingsPage, settingsViewer, signInRedirect, when, type SettingsViewer } from "./page.ts";
import { readForm } from "../forms.ts";

function passwordField(id: string): string {
  return `<label for="${id}">Your password</label>
<input type="password" id="${id}" name="current_password" autocomplete="current-password" required>`;
}

function recoveryCodesBlock(codes: readonly string[]): string {
  return `<p><strong>Keep these recovery codes somewhere safe.</strong> Each one signs you in once instead of a code from the app, if you lose your device. They are not shown again.</p>
<ol class="codes" id="recovery_codes">${codes.map((code) => `<li>${escapeHtml(code)}</li>`).join("")}</ol>
<p><a href="/settings/two_factor">Done</a></p>`;
}

async function twoFactorBody(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer): Promise<string> {
  const status = twoFactorStatus(viewer.owner);
  if (status.enabled) {
    return `<p><strong>Two-factor sign-in is on</strong> (since ${when(status.enabledAt)}). Signing in asks for a code from your authenticator app after the password.</p>
<p class="muted">${status.recoveryCodesLeft} of 10 recovery codes left.</p>
<h2>New recovery codes</h2>
<form method="post" action="/settings/two_factor/recovery_codes">
${csrfField(c, browser, viewer)}
${passwordField("password_codes")}
<button type="submit">Make new recovery codes</button>
</form>
<h2>Turn off</h2>
<form method="post" action="/settings/two_factor/disable">
${csrfField(c, browser, viewer)}
${passwordField("password_disable")}
<button type="submit" class="danger">Turn off two-factor sign-in</button>
</form>`;
  }
  const pending = await pendingTwoFactorSetup(ctx);
  if (pending != null) {
    return `<p>Scan this code with an authenticator app (any app for time-based codes), then enter the six-digit code it shows.</p>
<img class="qr" src="${escapeHtml(pending.qrCode)}" alt="QR code for your authenticator app">
<p class="muted">Can't scan it? Enter this key by hand:</p>
<p class="code" id="otp_secret">${escapeHtml(pending.secret.replace(/(.{4})/g, "$1 ").trim())}</p>
<form method="post" action="/settings/two_factor/confirm">
${csrfField(c, browser, viewer)}
<label for="otp_code">Code from the app</label>
<input type="text" id="otp_code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required>
<button type="submit" class="primary">Turn on</button>
</form>`;
  }
  return `<p>With two-factor sign-in, signing in asks for a code from an authenticator app on your phone after the password, so a password alone is not enough to get in.</p>
<form method="post" action="/settings/two_factor/setup">
${csrfField(c, browser, viewer)}
<button type="submit" class="primary">Set up two-factor sign-in</button>
</form>
<p class="muted">If you lose the device and the recovery codes, <code>islet account 2fa disable</code> on the server turns it off.</p>`;
}

export function twoFactorSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();
  const page = async (c: Context, viewer: SettingsViewer, options: { notice?: string | null; error?: string | null; body?: string; status?: 200 | 422 | 429 } = {}) => {
    // Read again: the page shows the state after the change.
    const fresh = (await settingsViewer(ctx, browser, c)) ?? viewer;
    const response = settingsPage(c, {
      ctx, browser, viewer: fresh, section: "/settings/two_factor", title: "Two-factor sign-in",
      notice: options.notice, error: options.error,
      body: options.body ?? await twoFactorBody(ctx, c, browser, fresh),
    }, options.status ?? 200);
    return response;
  };

  app.get("/settings/two_factor", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return await page(c, viewer, { notice: NOTICES[c.req.query("notice") ?? ""] ?? null });
  });

  app.post("/settings/two_factor/setup", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    try {
      await beginTwoFactorSetup(ctx);
    } catch (error) {
      if (!(error instanceof CoreError)) throw error;
    }
    return c.redirect("/settings/two_factor", 303);
  });

  app.post("/settings/two_factor/confirm", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    let codes: string[] | null;
    try {
      codes = await confirmTwoFactorSetup(ctx, fields.code ?? "");
    } catch (error) {
      if (error instanceof CoreError) return await page(c, viewer, { error: error.message, status: 422 });
      throw error;
    }
    if (codes == null) return await page(c, viewer, { error: "That code is not right. Check the device's clock, and enter the code the app shows now.", status: 422 });
    return await page(c, viewer, { notice: "Two-factor sign-in is on.", body: recoveryCodesBlock(codes) });
  });

  const withPassword = (path: string, action: (viewer: SettingsViewer, c: Context) => Promise<Response>) => {
    app.post(path, async (c) => {
      const viewer = await settingsViewer(ctx, browser, c);
      if (viewer == null) return signInRedirect(c);
      const fields = await readForm(c);
      if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
      const check = await checkFormPassword(ctx, c, fields);
      if (!check.ok) return await page(c, viewer, { error: check.message, status: check.status });
      return await action(viewer, c);
    });
  };

  withPassword("/settings/two_factor/disable", async (_viewer, c) => {
    await disableTwoFactor(ctx);
    return c.redirect("/settings/two_factor?notice=two_factor_disabled", 303);
  });

  withPassword("/settings/two_factor/recovery_codes", async (viewer, c) => {
    try {
      const codes = await regenerateRecoveryCodes(ctx);
      return await page(c, viewer, { notice: "New recovery codes are made; the old ones no longer work.", body: recoveryCodesBlock(codes) });
    } catch (error) {
      if (error instanceof CoreError) return await page(c, viewer, { error: error.message, status: 422 });
      throw error;
    }
  });

  return app;
}
