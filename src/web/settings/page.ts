/**
 * What every settings page shares: the owner's session (or a redirect to
 * sign in), the form guard (a CSRF token bound to the session, and a
 * same-origin check on the Origin and Sec-Fetch-Site headers), reading a
 * form, and the page frame with its navigation, in the sign-in pages' look.
 * The pages' Referrer-Policy is `same-origin` (not the sign-in pages'
 * `no-referrer`, under which browsers send `Origin: null` with a form), so
 * that a form sent from them names this origin, and other sites learn nothing.
 */
import type { Context } from "hono";
import { getOwner, type Owner } from "../../core/accounts.ts";
import { noteSessionUsed } from "../../core/authorized-apps.ts";
import type { CoreContext } from "../../core/context.ts";
import { checkCurrentPassword } from "../../core/credentials.ts";
import type { WebSession } from "../../core/oauth.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { AUTH_PAGE_HEADERS, describeWait, errorPage, hidden, layout } from "../authorize.ts";
import type { BrowserState } from "../browser.ts";
import { clientIp, rateLimitKey } from "../client-ip.ts";

/**
 * The settings pages' policy: the sign-in pages' one, plus the one script
 * of the settings (`/settings/settings.js`, served from here) and `blob:`
 * pictures for the preview of a chosen file.
 */
export const SETTINGS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...AUTH_PAGE_HEADERS,
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data: blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "Referrer-Policy": "same-origin",
};

const SECTIONS = [
  { path: "/settings/profile", name: "Profile" },
  { path: "/settings/preferences", name: "Preferences" },
  { path: "/settings/apps", name: "Apps and sessions" },
  { path: "/settings/two_factor", name: "Two-factor sign-in" },
  { path: "/settings/account", name: "Password and e-mail" },
  { path: "/settings/import", name: "Import and export" },
  { path: "/settings/migration", name: "Account migration" },
] as const;

export type SettingsSection = (typeof SECTIONS)[number]["path"];

/** The signed-in owner of a settings request. */
export interface SettingsViewer {
  owner: Owner;
  sessionId: string;
  session: WebSession;
}

export interface SettingsPageOptions {
  section: SettingsSection;
  title: string;
  body: string;
  viewer: SettingsViewer;
  browser: BrowserState;
  ctx: CoreContext;
  notice?: string | null;
  error?: string | null;
}

/** Messages of `?notice=…` after a change (fixed texts: nothing from the URL is shown). */
export const NOTICES: Readonly<Record<string, string>> = {
  profile: "Your profile is saved.",
  featured_tag_added: "The hashtag is featured on your profile.",
  featured_tag_removed: "The hashtag is no longer featured.",
  preferences: "Your preferences are saved.",
  app_revoked: "The app's access is revoked.",
  password: "Your password is changed. Other browsers were signed out.",
  email: "Your e-mail address is changed.",
  email_sent: "A confirmation link was mailed to the new address. The address changes once it is followed.",
  email_confirmed: "Your new e-mail address is confirmed.",
  two_factor_disabled: "Two-factor sign-in is off.",
  import_started: "The import has started. Its progress shows below.",
  archive_import_started: "The archive is uploaded. It is being read; its progress shows below.",
  alias_added: "The alias is added.",
  alias_removed: "The alias is removed.",
  moved: "Your account is marked as moved. Your followers are told.",
  move_undone: "Your account is no longer marked as moved.",
};

export function noticeBlock(text: string | null | undefined): string {
  return text == null ? "" : `<p class="notice" role="status">${escapeHtml(text)}</p>`;
}

export function errorBlock(text: string | null | undefined): string {
  return text == null ? "" : `<p class="error" role="alert">${escapeHtml(text)}</p>`;
}

/** The whole page: navigation, the section's heading and body, the sign-out link. */
export function settingsPage(c: Context, options: SettingsPageOptions, status: 200 | 403 | 404 | 422 | 429 = 200): Response {
  const { viewer, ctx } = options;
  const links = SECTIONS.map((section) =>
    `<a href="${section.path}"${section.path === options.section ? ` aria-current="page"` : ""}>${escapeHtml(section.name)}</a>`
  ).join("\n");
  const handle = `@${viewer.owner.account.username}@${ctx.config.localDomain}`;
  const nav = `<nav class="settings" aria-label="Settings">
<a href="/@${escapeHtml(viewer.owner.account.username)}">← Profile page</a>
${links}
</nav>
`;
  const body = `<h1>${escapeHtml(options.title)}</h1>
${noticeBlock(options.notice)}
${errorBlock(options.error)}
${options.body}
<div class="muted" style="margin-top:2rem">Signed in as ${escapeHtml(handle)}.
<form class="inline" method="post" action="/auth/sign_out">
${hidden({ authenticity_token: options.browser.csrfToken(c, "sign_out", viewer.sessionId), return_to: "/auth/sign_in" })}
<button type="submit">Sign out</button>
</form></div>
<script src="/settings/settings.js" defer></script>`;
  return c.html(layout(`${options.title} · Settings`, body, { wide: true, nav }), status, SETTINGS_PAGE_HEADERS);
}

/** The owner signed in on this browser, noting the session's use; null when not signed in. */
export async function settingsViewer(ctx: CoreContext, browser: BrowserState, c: Context): Promise<SettingsViewer | null> {
  const current = await browser.session(c);
  if (current == null) return null;
  const owner = await getOwner(ctx);
  if (owner == null || owner.account.id !== current.session.accountId) return null;
  await noteSessionUsed(ctx, current.id, current.session.lastUsedAt);
  return { owner, sessionId: current.id, session: current.session };
}

/** Where a request without a session is sent: the sign-in page, coming back here after. */
export function signInRedirect(c: Context): Response {
  const url = new URL(c.req.url);
  const back = c.req.method === "GET" ? `${url.pathname}${url.search}` : url.pathname;
  c.header("Cache-Control", "no-store");
  return c.redirect(`/auth/sign_in?return_to=${encodeURIComponent(back)}`, 303);
}

/**
 * Whether the request came from one of this server's own pages: an Origin
 * header, when sent, must be this server's (the canonical origin, or the
 * one the request was made to), and Sec-Fetch-Site must not say cross-site.
 */
export function sameOrigin(ctx: CoreContext, c: Context): boolean {
  const site = c.req.header("Sec-Fetch-Site");
  if (site != null && site !== "same-origin" && site !== "none") return false;
  const origin = c.req.header("Origin");
  if (origin == null) return true;
  return origin === ctx.config.origin || origin === new URL(c.req.url).origin;
}

/** The refusal of a form that failed the guard. */
export function refused(c: Context): Response {
  return c.html(errorPage(
    "Request not accepted",
    "The form had expired or was not sent from this site, so nothing was changed.",
    { href: new URL(c.req.url).pathname.split("/").slice(0, 3).join("/"), text: "Back to the settings" },
  ), 403, SETTINGS_PAGE_HEADERS);
}

/** Whether a posted form passes the guard. */
export function formAccepted(ctx: CoreContext, browser: BrowserState, c: Context, viewer: SettingsViewer, fields: Record<string, string>): boolean {
  return sameOrigin(ctx, c) && browser.checkCsrf(c, "settings", fields.authenticity_token, viewer.sessionId);
}

/** The hidden CSRF field of a settings form. */
export function csrfField(c: Context, browser: BrowserState, viewer: SettingsViewer): string {
  return hidden({ authenticity_token: browser.csrfToken(c, "settings", viewer.sessionId) });
}

/** A checkbox with its label and an optional hint. */
export function checkbox(name: string, label: string, checked: boolean, hint?: string): string {
  return `<label class="check"><input type="checkbox" name="${escapeHtml(name)}" value="1"${checked ? " checked" : ""}><span>${escapeHtml(label)}${hint == null ? "" : `<small>${escapeHtml(hint)}</small>`}</span></label>`;
}

/** A date and time as people read it, in UTC. */
export function when(date: Date | null): string {
  if (date == null) return "never";
  const iso = date.toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

const MAX_ID = 9223372036854775807n;

/** An id from a path (digits only, as the route pattern has it); null past the largest id. */
export function pathId(text: string): bigint | null {
  if (!/^\d{1,19}$/.test(text)) return null;
  const id = BigInt(text);
  return id > MAX_ID ? null : id;
}

/** What a form asking for the current password found: the owner, or what to say (with Retry-After set when throttled). */
export type PasswordCheck = { ok: true; owner: Owner } | { ok: false; message: string; status: 422 | 429 };

/** Checks the form's `current_password`, counted against the sign-in limits of the client's address. */
export async function checkFormPassword(ctx: CoreContext, c: Context, fields: Record<string, string>): Promise<PasswordCheck> {
  const ip = clientIp(c, ctx.config.trustedProxyIps);
  const check = await checkCurrentPassword(ctx, { password: fields.current_password ?? "", clientKey: rateLimitKey(ip), ip });
  if (check.ok) return { ok: true, owner: check.owner };
  if (check.reason === "throttled") {
    c.header("Retry-After", String(check.retryAfterSeconds));
    return { ok: false, message: `Too many wrong passwords. Try again in ${describeWait(check.retryAfterSeconds)}.`, status: 429 };
  }
  return { ok: false, message: "The current password is not right.", status: 422 };
}
