/**
 * Settings: the password and the e-mail address, each changed with the
 * current password. A new password signs every other browser out; a new
 * address is confirmed by a link mailed to it when mail is set up (the
 * link's page is here too). The rules live in src/core/credentials.ts.
 */
import { Hono, type Context } from "hono";
import { CoreError, type CoreContext } from "../../core/context.ts";
import { changeOwnerPassword, confirmEmailChange, mailEnabled, requestEmailChange } from "../../core/credentials.ts";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../../core/passwords.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { errorPage } from "../authorize.ts";
import type { BrowserState } from "../browser.ts";
import { checkFormPassword, csrfField, formAccepted, NOTICES, refused, SETTINGS_PAGE_HEADERS, settingsPage, settingsViewer, signInRedirect, type SettingsViewer } from "./page.ts";
import { readForm } from "../forms.ts";

function accountBody(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer): string {
  const user = viewer.owner.user;
  const waiting = user.unconfirmedEmail == null
    ? ""
    : `<p class="muted">Waiting for confirmation: <strong>${escapeHtml(user.unconfirmedEmail)}</strong>. Follow the link mailed there to make it your address.</p>`;
  return `<h2 style="border:0;padding-top:0;margin-top:0">Password</h2>
<form method="post" action="/settings/account/password">
${csrfField(c, browser, viewer)}
<label for="current_password">Current password</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
<label for="password">New password <span class="muted">(${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters)</span></label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}" required>
<label for="password_confirmation">The new password again</label>
<input type="password" id="password_confirmation" name="password_confirmation" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}" required>
<button type="submit" class="primary">Change the password</button>
</form>
<h2>E-mail address</h2>
<p>Now: <strong>${escapeHtml(user.email)}</strong></p>
${waiting}
<form method="post" action="/settings/account/email">
${csrfField(c, browser, viewer)}
<label for="email">New address</label>
<input type="email" id="email" name="email" autocomplete="email" autocapitalize="none" spellcheck="false" maxlength="320" required>
<label for="current_password_email">Current password</label>
<input type="password" id="current_password_email" name="current_password" autocomplete="current-password" required>
<button type="submit">Change the address</button>
</form>
<p class="muted">${mailEnabled(ctx) ? "A link is mailed to the new address; it becomes yours once the link is followed." : "This server has no mail set up, so the new address is used at once."}</p>`;
}

export function accountSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();
  const page = (c: Context, viewer: SettingsViewer, notice: string | null, error: string | null = null, status: 200 | 422 | 429 = 200) =>
    settingsPage(c, {
      ctx, browser, viewer, section: "/settings/account", title: "Password and e-mail", notice, error,
      body: accountBody(ctx, c, browser, viewer),
    }, status);

  app.get("/settings/account", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return page(c, viewer, NOTICES[c.req.query("notice") ?? ""] ?? null);
  });

  /** The form, checked: guard and current password. */
  const checked = async (c: Context) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    const check = await checkFormPassword(ctx, c, fields);
    if (!check.ok) return page(c, viewer, null, check.message, check.status);
    return { viewer, fields, owner: check.owner };
  };

  app.post("/settings/account/password", async (c) => {
    const form = await checked(c);
    if (form instanceof Response) return form;
    if ((form.fields.password ?? "") !== (form.fields.password_confirmation ?? "")) {
      return page(c, form.viewer, null, "The new password and its repetition differ.", 422);
    }
    try {
      await changeOwnerPassword(ctx, form.owner, form.fields.password ?? "", form.viewer.sessionId);
    } catch (error) {
      if (error instanceof CoreError) return page(c, form.viewer, null, error.message, 422);
      throw error;
    }
    return c.redirect("/settings/account?notice=password", 303);
  });

  app.post("/settings/account/email", async (c) => {
    const form = await checked(c);
    if (form instanceof Response) return form;
    let outcome: Awaited<ReturnType<typeof requestEmailChange>>;
    try {
      outcome = await requestEmailChange(ctx, form.owner, form.fields.email ?? "");
    } catch (error) {
      if (error instanceof CoreError) return page(c, form.viewer, null, error.message, 422);
      throw error;
    }
    return c.redirect(`/settings/account${outcome === "confirmation_sent" ? "?notice=email_sent" : outcome === "changed" ? "?notice=email" : ""}`, 303);
  });

  // The mailed link: it holds its own secret, so it works signed in or not.
  app.get("/settings/account/confirm_email", async (c) => {
    const email = await confirmEmailChange(ctx, c.req.query("confirmation_token") ?? "");
    if (email == null) {
      return c.html(errorPage("Link not valid", "This confirmation link is unknown, was used already or has expired. Ask for a new one in the settings.", { href: "/settings/account", text: "Password and e-mail settings" }), 404, SETTINGS_PAGE_HEADERS);
    }
    c.header("Cache-Control", "no-store");
    return c.redirect("/settings/account?notice=email_confirmed", 303);
  });

  return app;
}
