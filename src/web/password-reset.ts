/**
 * "Forgot your password?": the pages that reset the owner's password by
 * email, at Mastodon's paths.
 *
 * - `GET /auth/password/new`, `POST /auth/password`: the owner's address in,
 *   a mail with a one-time link out (the answer is the same for any address)
 * - `GET /auth/password/edit?reset_password_token=…`,
 *   `POST /auth/password/edit`: the link's form for a new password
 *
 * Without SMTP the first page says so and points to `islet account password`.
 * Forms carry CSRF tokens like the sign-in form; requests and link tries are
 * rate-limited per client address. The rules live in src/core/password-reset.ts.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { CoreContext } from "../core/context.ts";
import { CoreError } from "../core/context.ts";
import { findPasswordReset, PASSWORD_RESET_LIFETIME_MS, requestPasswordReset, resetPassword } from "../core/password-reset.ts";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../core/passwords.ts";
import { AUTH_PAGE_HEADERS, errorPage, hidden, layout } from "./authorize.ts";
import { BrowserState } from "./browser.ts";
import { clientIp, rateLimitKey } from "./client-ip.ts";
import { readForm } from "./forms.ts";
import { escapeHtml } from "../text/escape-html.ts";

export const PASSWORD_NEW_PATH = "/auth/password/new";
export const PASSWORD_PATH = "/auth/password";
export const PASSWORD_EDIT_PATH = "/auth/password/edit";

function errorBlock(error: string | null | undefined): string {
  return error == null ? "" : `<p class="error" role="alert">${escapeHtml(error)}</p>`;
}

/** The form asking for the owner's address. */
export function requestPage(options: { csrfToken: string; email?: string; error?: string | null; domain: string }): string {
  return layout("Reset your password", `<h1>Reset your password</h1>
<p>Enter the email address of your account on ${escapeHtml(options.domain)}. A link to choose a new password will be mailed to it.</p>
${errorBlock(options.error)}
<form method="post" action="${PASSWORD_PATH}">
${hidden({ authenticity_token: options.csrfToken })}
<label for="email">Email address</label>
<input type="email" id="email" name="email" value="${escapeHtml(options.email ?? "")}" autocomplete="email" autocapitalize="none" spellcheck="false" maxlength="320" required autofocus>
<button type="submit" class="primary">Send the link</button>
</form>
<p class="muted"><a href="/auth/sign_in">Back to sign in</a></p>`);
}

/** What every request is answered with, whether or not the address was the owner's. */
export function requestSentPage(): string {
  const hours = PASSWORD_RESET_LIFETIME_MS / 3_600_000;
  return layout("Check your mail", `<h1>Check your mail</h1>
<p>If that is the address of this server's account, a mail with a link to choose a new password is on its way. The link works once, for ${hours === 1 ? "one hour" : `${hours} hours`}.</p>
<p class="muted">No mail after a few minutes? Look in the spam folder, or ask again.</p>
<p class="muted"><a href="/auth/sign_in">Back to sign in</a></p>`);
}

/** Shown instead of the form when this server cannot send mail. */
export function unavailablePage(): string {
  return layout("Password reset unavailable", `<h1>Reset by email is unavailable</h1>
<p>This server has no mail set up (SMTP_SERVER is not configured), so it cannot mail you a reset link.</p>
<p>Whoever runs the server can set a new password there with:</p>
<p class="code">islet account password</p>
<p class="muted"><a href="/auth/sign_in">Back to sign in</a></p>`);
}

/** The link's form: a new password, twice. */
export function editPage(options: { token: string; csrfToken: string; username: string; error?: string | null }): string {
  return layout("Choose a new password", `<h1>Choose a new password</h1>
<p>For <strong>@${escapeHtml(options.username)}</strong>. Use ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.</p>
${errorBlock(options.error)}
<form method="post" action="${PASSWORD_EDIT_PATH}">
${hidden({ authenticity_token: options.csrfToken, reset_password_token: options.token })}
<label for="password">New password</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}" required autofocus>
<label for="password_confirmation">The same again</label>
<input type="password" id="password_confirmation" name="password_confirmation" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" maxlength="${MAX_PASSWORD_LENGTH}" required>
<button type="submit" class="primary">Change the password</button>
</form>`);
}

/** A link that is unknown, used already or expired. */
export function invalidLinkPage(): string {
  return errorPage(
    "Link not valid",
    "This password reset link is not valid: it was used already, it has expired, or a newer link replaced it. Ask for a new one.",
    { href: PASSWORD_NEW_PATH, text: "Ask for a new link" },
  );
}

/** After the change. */
export function changedPage(endedSessions: number, revokedTokens: number): string {
  const sessions = endedSessions === 0
    ? "No browser was signed in."
    : endedSessions === 1
      ? "The one browser that was signed in has been signed out."
      : `All ${endedSessions} browsers that were signed in have been signed out.`;
  return layout("Password changed", `<h1>Your password is changed</h1>
<p>${sessions} Sign in with the new password.</p>
<p class="muted">${revokedTokens === 0 ? "No app was signed in." : "Apps you had authorized are signed out too: sign in to them again."}</p>
<p><a href="/auth/sign_in">Sign in</a></p>`);
}

function tooManyPage(retryAfterSeconds: number): string {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return errorPage("Too many attempts", `Too many password reset attempts came from your address. Try again in ${minutes <= 1 ? "a minute" : `${minutes} minutes`}.`);
}

type PageStatus = 200 | 403 | 404 | 422 | 429 | 503;

function html(c: Context, body: string, status: PageStatus = 200, headers: Record<string, string> = {}): Response {
  return c.html(body, status, { ...AUTH_PAGE_HEADERS, ...headers });
}

export function passwordResetRoutes(core: CoreContext): Hono {
  const app = new Hono();
  const browser = new BrowserState(core);
  const mailAvailable = core.config.smtp.server != null;
  const clientKey = (c: Context) => rateLimitKey(clientIp(c, core.config.trustedProxyIps));

  app.use(`${PASSWORD_PATH}/*`, bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("The request body is too large", 413) }));
  app.use(PASSWORD_PATH, bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("The request body is too large", 413) }));

  app.get(PASSWORD_NEW_PATH, (c) => {
    if (!mailAvailable) return html(c, unavailablePage());
    return html(c, requestPage({ csrfToken: browser.csrfToken(c, "password_reset", null), domain: core.config.localDomain }));
  });

  app.post(PASSWORD_PATH, async (c) => {
    if (!mailAvailable) return html(c, unavailablePage(), 503);
    const form = await readForm(c);
    if (!browser.checkCsrf(c, "password_reset", form.authenticity_token, null)) {
      return html(c, requestPage({
        csrfToken: browser.csrfToken(c, "password_reset", null),
        email: form.email,
        error: "The form had expired or was not sent from this site. Try again.",
        domain: core.config.localDomain,
      }), 403);
    }
    const result = await requestPasswordReset(core, { email: form.email ?? "", clientKey: clientKey(c) });
    if (!result.ok) return html(c, tooManyPage(result.retryAfterSeconds), 429, { "Retry-After": String(result.retryAfterSeconds) });
    return html(c, requestSentPage());
  });

  app.get(PASSWORD_EDIT_PATH, async (c) => {
    const token = c.req.query("reset_password_token") ?? "";
    const owner = await findPasswordReset(core, token);
    if (owner == null) return html(c, invalidLinkPage(), 404);
    return html(c, editPage({ token, csrfToken: browser.csrfToken(c, "password_edit", null), username: owner.account.username }));
  });

  app.post(PASSWORD_EDIT_PATH, async (c) => {
    const form = await readForm(c);
    const token = form.reset_password_token ?? "";
    const again = (error: string, status: PageStatus, username: string) => html(c, editPage({
      token,
      csrfToken: browser.csrfToken(c, "password_edit", null),
      username,
      error,
    }), status);
    const owner = await findPasswordReset(core, token);
    if (!browser.checkCsrf(c, "password_edit", form.authenticity_token, null)) {
      if (owner == null) return html(c, invalidLinkPage(), 404);
      return again("The form had expired or was not sent from this site. Try again.", 403, owner.account.username);
    }
    const password = form.password ?? "";
    if (owner != null && password !== (form.password_confirmation ?? "")) {
      return again("The two passwords are not the same.", 422, owner.account.username);
    }
    let result;
    try {
      result = await resetPassword(core, { token, password, clientKey: clientKey(c) });
    } catch (error) {
      if (error instanceof CoreError) {
        if (owner == null) return html(c, invalidLinkPage(), 404);
        const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
        return again(`${message}.`, 422, owner.account.username);
      }
      throw error;
    }
    if (!result.ok) {
      if (result.reason === "throttled") {
        return html(c, tooManyPage(result.retryAfterSeconds), 429, { "Retry-After": String(result.retryAfterSeconds) });
      }
      return html(c, invalidLinkPage(), 404);
    }
    browser.clearSession(c);
    return html(c, changedPage(result.endedSessions, result.revokedTokens));
  });

  return app;
}
