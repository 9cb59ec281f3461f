/**
 * The pages of the OAuth authorization flow: the owner's sign-in form, the
 * consent page that names the app and what it asks for, the page that shows
 * an out-of-band code, and error pages. Plain HTML, no script; every value
 * that comes from a request or an app is escaped.
 */
import { escapeHtml } from "../text/escape-html.ts";

/** Headers every one of these pages is sent with. */
export const AUTH_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

/**
 * A whole page of the sign-in family: a small card with `body` (HTML) in
 * it; the settings pages use a wider card (`wide`) with their navigation
 * (`nav`, HTML) above it.
 */
export function layout(title: string, body: string, options: { wide?: boolean; nav?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #222; background: #fafafa; }
main { background: #fff; border: 1px solid #ddd; border-radius: 10px; padding: 1.5rem; }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
input[type=text], input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; border: 1px solid #aaa; border-radius: 6px; }
button { font: inherit; padding: 0.5rem 1.2rem; border-radius: 6px; border: 1px solid #555; background: #eee; cursor: pointer; margin-top: 1.2rem; }
button.primary { background: #2b5fd9; border-color: #2b5fd9; color: #fff; }
.error { color: #a30000; background: #fff0f0; border: 1px solid #e3b3b3; border-radius: 6px; padding: 0.5rem 0.75rem; }
.muted { color: #666; font-size: 0.9rem; }
ul.scopes { padding-left: 1.2rem; }
ul.scopes code { font-size: 0.85rem; color: #555; }
.code { font: 1.1rem ui-monospace, monospace; word-break: break-all; background: #f2f2f2; padding: 0.75rem; border-radius: 6px; user-select: all; }
.actions { display: flex; gap: 0.75rem; }
form.inline { display: inline; }
form.inline button { margin: 0; padding: 0; border: 0; background: none; color: #2b5fd9; text-decoration: underline; font-size: 0.9rem; }
a { color: #2b5fd9; }
body.wide { max-width: 44rem; margin-top: 1.5rem; }
nav.settings { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; margin: 0 0 1rem; padding: 0 0.25rem; }
nav.settings a { text-decoration: none; padding: 0.3rem 0; }
nav.settings a[aria-current=page] { font-weight: 600; color: #222; border-bottom: 2px solid #2b5fd9; }
h2 { font-size: 1.1rem; margin: 1.8rem 0 0.5rem; padding-top: 1rem; border-top: 1px solid #eee; }
textarea, select, input[type=file], input[type=url] { width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; border: 1px solid #aaa; border-radius: 6px; }
input[type=file] { padding: 0.35rem; background: #fafafa; }
textarea { min-height: 6rem; resize: vertical; }
label.check { display: flex; gap: 0.6rem; align-items: flex-start; font-weight: normal; margin: 0.75rem 0 0; }
label.check input { margin-top: 0.35rem; flex: none; }
label.check span small { display: block; color: #666; font-size: 0.85rem; }
.notice { color: #11561f; background: #effaf1; border: 1px solid #a9d8b2; border-radius: 6px; padding: 0.5rem 0.75rem; }
.field-row { display: grid; grid-template-columns: 1fr 2fr; gap: 0.5rem; margin-top: 0.5rem; }
.field-row input { width: 100%; box-sizing: border-box; }
.verified { color: #11561f; font-size: 0.85rem; }
.images { display: grid; grid-template-columns: 1fr; gap: 1rem; }
img.avatar-preview { width: 96px; height: 96px; border-radius: 12px; object-fit: cover; border: 1px solid #ddd; background: #eee; }
img.header-preview { width: 100%; aspect-ratio: 3 / 1; object-fit: cover; border-radius: 8px; border: 1px solid #ddd; background: #eee; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain > li { border: 1px solid #e3e3e3; border-radius: 8px; padding: 0.75rem; margin: 0.6rem 0; overflow-wrap: anywhere; }
ul.plain > li form { margin: 0; }
ul.plain > li button { margin-top: 0.5rem; }
.tags li { display: flex; justify-content: space-between; align-items: center; gap: 0.5rem; }
.tags li button { margin-top: 0; }
button.danger { border-color: #a30000; color: #a30000; background: #fff; }
img.qr { display: block; width: 240px; height: 240px; margin: 0.5rem 0; image-rendering: pixelated; }
ol.codes { font: 1rem ui-monospace, monospace; columns: 2; background: #f2f2f2; border-radius: 6px; padding: 0.75rem 0.75rem 0.75rem 2.2rem; }
.failure { color: #a30000; }
label.progress { display: flex; gap: 0.5rem; align-items: center; font-weight: normal; margin: 0.4rem 0; }
label.progress progress { flex: 1; max-width: 16rem; }
details.skipped { margin: 0.4rem 0; font-size: 0.9rem; }
details.skipped summary { cursor: pointer; }
details.skipped ul { margin: 0.25rem 0; padding-left: 1.2rem; }
@media (min-width: 36rem) { .images { grid-template-columns: auto 1fr; align-items: start; } }
</style>
</head>
<body${options.wide ? ` class="wide"` : ""}>
${options.nav ?? ""}<main>
${body}
</main>
</body>
</html>
`;
}

/** Hidden form fields for the values that are set. */
export function hidden(fields: Readonly<Record<string, string | null | undefined>>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] != null)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("\n");
}

export interface SignInPageOptions {
  /** Where the form posts. */
  action: string;
  /** The local path to return to after signing in. */
  returnTo: string;
  csrfToken: string;
  /** What was typed in the login field, to keep it on a failed attempt. */
  login?: string;
  error?: string | null;
  /** The app that asked, when signing in for an authorization. */
  appName?: string | null;
  /** The server's domain, shown as the place to sign in to. */
  domain: string;
  /** Where "Forgot your password?" leads (default `/auth/password/new`). */
  passwordResetPath?: string;
}

/** The owner's sign-in form. */
export function signInPage(options: SignInPageOptions): string {
  const intro = options.appName == null
    ? `<p>Sign in to ${escapeHtml(options.domain)}.</p>`
    : `<p><strong>${escapeHtml(options.appName)}</strong> wants to use your account on ${escapeHtml(options.domain)}. Sign in first.</p>`;
  const error = options.error == null ? "" : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`;
  return layout("Sign in", `<h1>Sign in</h1>
${intro}
${error}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ authenticity_token: options.csrfToken, return_to: options.returnTo })}
<label for="login">Email or username</label>
<input type="text" id="login" name="login" value="${escapeHtml(options.login ?? "")}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>
<p class="muted"><a href="${escapeHtml(options.passwordResetPath ?? "/auth/password/new")}">Forgot your password?</a></p>`);
}

export interface TwoFactorPageOptions {
  action: string;
  returnTo: string;
  csrfToken: string;
  /** The challenge of this sign-in, issued when the password was right. */
  challenge: string;
  error?: string | null;
}

/** The second step of signing in: the code from the authenticator app, or a recovery code. */
export function twoFactorPage(options: TwoFactorPageOptions): string {
  const error = options.error == null ? "" : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`;
  return layout("Two-factor sign-in", `<h1>Two-factor sign-in</h1>
<p>Enter the six-digit code your authenticator app shows for this account, or one of your recovery codes.</p>
${error}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ authenticity_token: options.csrfToken, return_to: options.returnTo, challenge: options.challenge })}
<label for="otp_attempt">Code</label>
<input type="text" id="otp_attempt" name="otp_attempt" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="20" required autofocus>
<button type="submit" class="primary">Sign in</button>
</form>
<p class="muted">Lost your device and your recovery codes? On the server, <code>islet account 2fa disable</code> turns this step off.</p>`);
}

const SCOPE_NOUNS: Record<string, string> = {
  accounts: "account information",
  blocks: "blocks",
  bookmarks: "bookmarks",
  conversations: "conversations",
  favourites: "favourites",
  filters: "filters",
  follows: "follows",
  lists: "lists",
  media: "media uploads",
  mutes: "mutes",
  notifications: "notifications",
  reports: "reports",
  search: "searches",
  statuses: "posts",
};

const SCOPE_TEXT: Record<string, string> = {
  read: "Read everything in your account: posts, notifications, lists, follows and more",
  write: "Change everything in your account: post, edit and delete, follow, favourite and more",
  follow: "Follow, unfollow, block and mute accounts, and see those lists",
  push: "Receive your notifications as push messages",
  profile: "See who you are: your profile's basic information only",
  "read:search": "Search on your behalf",
  "write:media": "Upload media files",
  "write:reports": "Report accounts and posts",
  "write:statuses": "Publish, edit and delete your posts, and boost others",
};

/** A sentence saying what a scope lets an app do. */
export function describeScope(scope: string): string {
  const known = SCOPE_TEXT[scope];
  if (known != null) return known;
  const [kind, noun] = scope.split(":");
  const what = SCOPE_NOUNS[noun] ?? noun;
  if (kind === "read") return `Read your ${what}`;
  if (kind === "write") return `Change your ${what}`;
  return scope;
}

export interface ConsentPageOptions {
  appName: string;
  website: string | null;
  scopes: readonly string[];
  /** Where the person is sent after deciding; null for out-of-band (code shown). */
  redirectTarget: string | null;
  /** The owner's handle, `@user@domain`. */
  handle: string;
  action: string;
  /** The request's parameters, carried to the decision unchanged. */
  fields: Readonly<Record<string, string | null | undefined>>;
  csrfToken: string;
  signOutAction: string;
  signOutReturnTo: string;
  signOutCsrfToken: string;
}

/** The consent page: the app, what it asks for, Authorize and Deny. */
export function consentPage(options: ConsentPageOptions): string {
  const name = escapeHtml(options.appName);
  const website = options.website == null || !/^https?:\/\//i.test(options.website) ? "" : ` <span class="muted">(<a href="${escapeHtml(options.website)}" rel="noopener noreferrer">${escapeHtml(options.website)}</a>)</span>`;
  const scopes = options.scopes
    .map((scope) => `<li>${escapeHtml(describeScope(scope))} <code>${escapeHtml(scope)}</code></li>`)
    .join("\n");
  let target = "";
  if (options.redirectTarget != null) {
    let where = options.redirectTarget;
    try {
      const url = new URL(options.redirectTarget);
      where = url.host === "" ? `${url.protocol}${url.pathname}` : url.host;
    } catch {
      // shown as it is
    }
    target = `<p class="muted">Either way, you will then be sent to <strong>${escapeHtml(where)}</strong>.</p>`;
  }
  return layout(`Authorize ${options.appName}`, `<h1>Authorize ${name}?</h1>
<p><strong>${name}</strong>${website} asks to use your account <strong>${escapeHtml(options.handle)}</strong>. It will be able to:</p>
<ul class="scopes">
${scopes}
</ul>
<p class="muted">Only authorize apps you trust. You can revoke this later under <a href="/settings/apps">Settings, Apps and sessions</a>.</p>
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ ...options.fields, authenticity_token: options.csrfToken })}
<div class="actions">
<button type="submit" name="decision" value="authorize" class="primary">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>
${target}
<div class="muted">Signed in as ${escapeHtml(options.handle)}.
<form class="inline" method="post" action="${escapeHtml(options.signOutAction)}">
${hidden({ authenticity_token: options.signOutCsrfToken, return_to: options.signOutReturnTo })}
<button type="submit">Not you? Sign out</button>
</form></div>`);
}

/** The out-of-band page: the code to copy into the app. */
export function codePage(appName: string, code: string): string {
  return layout("Authorization code", `<h1>Authorization code</h1>
<p>Copy this code and paste it into <strong>${escapeHtml(appName)}</strong>:</p>
<p class="code" id="code">${escapeHtml(code)}</p>
<p class="muted">It works once, within ten minutes.</p>`);
}

/** What an out-of-band app's person sees after denying. */
export function deniedPage(appName: string): string {
  return layout("Authorization denied", `<h1>Authorization denied</h1>
<p><strong>${escapeHtml(appName)}</strong> was not given access to your account. You can close this page.</p>`);
}

/** An error the person must see (it cannot be handed to the app). */
export function errorPage(title: string, message: string, link?: { href: string; text: string }): string {
  const back = link == null ? "" : `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>`;
  return layout(title, `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
${back}`);
}

/** A wait in words, as the sign-in pages and mail say it: "about 5 minutes". */
export function describeWait(seconds: number): string {
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes === 1) return seconds < 45 ? "less than a minute" : "about a minute";
  if (minutes < 120) return `about ${minutes} minutes`;
  return `about ${Math.round(minutes / 60)} hours`;
}

/**
 * Sign-in refused for a while: too many failed attempts came from this
 * address, or (`limit: "account"`) were made on the account from anywhere.
 */
export function tooManyAttemptsPage(
  retryAfterSeconds: number,
  limit: "address" | "account" = "address",
  passwordResetPath = "/auth/password/new",
): string {
  const wait = describeWait(retryAfterSeconds);
  if (limit === "address") {
    return errorPage("Too many attempts", `Too many failed sign-in attempts came from your address. Try again in ${wait}.`);
  }
  return layout("Sign-in paused", `<h1>Sign-in paused</h1>
<p>Too many failed sign-in attempts were made on this account, so signing in is paused for a while, even with the right password. Try again in ${escapeHtml(wait)}.</p>
<p>Forgot your password? <a href="${escapeHtml(passwordResetPath)}">Reset it by email</a>: that works during the pause, and a new password ends it.</p>`);
}
