/**
 * Settings: the apps that hold access to the account, each with its scopes
 * and when it was authorized and last used, and "Revoke" (its tokens stop
 * working at once, its open streams close, its push subscription goes);
 * and the browser sessions, with "Sign out everywhere".
 */
import { Hono, type Context } from "hono";
import { endOtherBrowserSessions, listAuthorizedApps, listBrowserSessions, revokeAuthorizedApp } from "../../core/authorized-apps.ts";
import type { CoreContext } from "../../core/context.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import { describeScope } from "../authorize.ts";
import type { BrowserState } from "../browser.ts";
import { csrfField, formAccepted, NOTICES, pathId, refused, settingsPage, settingsViewer, signInRedirect, when, type SettingsViewer } from "./page.ts";
import { readForm } from "../forms.ts";

/** A user agent in a few words: the browser and the system, when recognisable. */
export function describeUserAgent(userAgent: string | null): string {
  if (userAgent == null || userAgent.trim() === "") return "Unknown browser";
  const browser = /Edg\//.test(userAgent) ? "Edge"
    : /Firefox\//.test(userAgent) ? "Firefox"
    : /(Chrome|Chromium)\//.test(userAgent) ? "Chrome"
    : /Safari\//.test(userAgent) ? "Safari"
    : null;
  const system = /Android/.test(userAgent) ? "Android"
    : /iPhone|iPad/.test(userAgent) ? "iOS"
    : /Mac OS X/.test(userAgent) ? "macOS"
    : /Windows/.test(userAgent) ? "Windows"
    : /Linux/.test(userAgent) ? "Linux"
    : null;
  if (browser == null && system == null) return userAgent.slice(0, 60);
  return [browser ?? "A browser", system == null ? "" : ` on ${system}`].join("");
}

async function appsBody(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer): Promise<string> {
  const apps = await listAuthorizedApps(ctx, viewer.owner.account.id);
  const sessions = await listBrowserSessions(ctx, viewer.owner.account.id, viewer.sessionId);
  const appItems = apps.length === 0
    ? `<p class="muted">No app holds access to your account.</p>`
    : `<ul class="plain">${apps.map((app) => {
      const website = app.website != null && /^https?:\/\//i.test(app.website)
        ? ` <a class="muted" href="${escapeHtml(app.website)}" rel="noopener noreferrer">${escapeHtml(app.website)}</a>`
        : "";
      const scopes = app.scopes.map((scope) => `<li>${escapeHtml(describeScope(scope))} <code>${escapeHtml(scope)}</code></li>`).join("");
      return `<li class="app" data-app-id="${app.id}"><strong>${escapeHtml(app.name)}</strong>${website}
<ul class="scopes">${scopes}</ul>
<div class="muted">Authorized ${when(app.authorizedAt)} · last used ${when(app.lastUsedAt)}${app.tokens > 1 ? ` · signed in ${app.tokens} times` : ""}</div>
<form method="post" action="/settings/apps/${app.id}/revoke">${csrfField(c, browser, viewer)}<button type="submit" class="danger">Revoke</button></form></li>`;
    }).join("\n")}</ul>`;
  const sessionItems = `<ul class="plain">${sessions.map((session) => `<li><strong>${escapeHtml(describeUserAgent(session.userAgent))}</strong>${session.current ? ` <span class="muted">(this browser)</span>` : ""}
<div class="muted">${session.ip == null ? "" : `From ${escapeHtml(session.ip)} · `}signed in ${when(session.createdAt)} · last active ${when(session.lastUsedAt ?? session.createdAt)}</div></li>`).join("\n")}</ul>`;
  return `<h2 style="border:0;padding-top:0;margin-top:0">Authorized apps</h2>
<p class="muted">Revoking an app signs it out at once: its access stops working, its open connections close and its push notifications stop.</p>
${appItems}
<h2>Browser sessions</h2>
${sessionItems}
<form method="post" action="/settings/sessions/sign_out_everywhere">
${csrfField(c, browser, viewer)}
<button type="submit" class="danger">Sign out everywhere</button>
</form>
<p class="muted">Signs out every browser, this one too. Apps keep their access: revoke them above.</p>`;
}

export function appsSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();

  app.get("/settings/apps", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return settingsPage(c, {
      ctx, browser, viewer, section: "/settings/apps", title: "Apps and sessions",
      notice: NOTICES[c.req.query("notice") ?? ""] ?? null,
      body: await appsBody(ctx, c, browser, viewer),
    });
  });

  app.post("/settings/apps/:id{[0-9]{1,19}}/revoke", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    const id = pathId(c.req.param("id"));
    if (id != null) await revokeAuthorizedApp(ctx, viewer.owner.account.id, id);
    return c.redirect("/settings/apps?notice=app_revoked", 303);
  });

  app.post("/settings/sessions/sign_out_everywhere", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    await endOtherBrowserSessions(ctx, viewer.owner.account.id, null);
    browser.clearSession(c);
    return c.redirect("/auth/sign_in", 303);
  });

  return app;
}
