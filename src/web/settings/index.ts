/**
 * The owner's settings pages under `/settings`: profile, preferences, apps
 * and sessions, two-factor sign-in, password and e-mail, import and export, account
 * migration. Server-rendered
 * forms that work without script; one small script (`settings.js`) only
 * previews a chosen avatar or header before it is saved, and reloads a page
 * showing a running import. Each page needs
 * the owner's browser session (else: the sign-in page, and back), and each
 * form a CSRF token of that session from this site.
 */
import { Hono, type Context } from "hono";
import type { CoreContext } from "../../core/context.ts";
import { BrowserState } from "../browser.ts";
import { accountSettingsRoutes } from "./account.ts";
import { appsSettingsRoutes } from "./apps.ts";
import { importsSettingsRoutes } from "./imports.ts";
import { migrationSettingsRoutes } from "./migration.ts";
import { preferencesSettingsRoutes } from "./preferences.ts";
import { profileSettingsRoutes } from "./profile.ts";
import { twoFactorSettingsRoutes } from "./two-factor.ts";

/**
 * Shows a picture chosen in a file field in its preview before the form is
 * sent; reloads a page listing a running import now and then, unless a
 * form on it is being filled in.
 */
const SETTINGS_SCRIPT = `"use strict";
for (const input of document.querySelectorAll("input[type=file][data-preview]")) {
  input.addEventListener("change", () => {
    const image = document.getElementById(input.dataset.preview);
    const file = input.files && input.files[0];
    if (image != null && file != null && file.type.startsWith("image/")) image.src = URL.createObjectURL(file);
  });
}
if (document.querySelector("[data-running]") != null) {
  setInterval(() => {
    const busy = document.querySelector("form :focus") != null || [...document.querySelectorAll("input[type=file]")].some((input) => input.files != null && input.files.length > 0);
    if (!busy) location.reload();
  }, 5000);
}
`;

export function settingsRoutes(ctx: CoreContext): Hono {
  const browser = new BrowserState(ctx);
  const app = new Hono();
  app.get("/settings", (c) => c.redirect("/settings/profile", 302));
  app.get("/settings/settings.js", (c) => c.body(SETTINGS_SCRIPT, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=3600",
    "X-Content-Type-Options": "nosniff",
  }));
  app.route("/", profileSettingsRoutes(ctx, browser));
  app.route("/", preferencesSettingsRoutes(ctx, browser));
  app.route("/", appsSettingsRoutes(ctx, browser));
  app.route("/", twoFactorSettingsRoutes(ctx, browser));
  app.route("/", accountSettingsRoutes(ctx, browser));
  app.route("/", importsSettingsRoutes(ctx, browser));
  app.route("/", migrationSettingsRoutes(ctx, browser));
  return app;
}
