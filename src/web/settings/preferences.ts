/**
 * Settings: preferences for new posts (default visibility, sensitive
 * media, language), the values GET /api/v1/preferences reports and
 * `source[…]` of update_credentials sets, through the same `updateProfile`.
 */
import { Hono, type Context } from "hono";
import { CoreError, type CoreContext } from "../../core/context.ts";
import { getPreferences, updateProfile } from "../../core/profile.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import type { BrowserState } from "../browser.ts";
import { checkbox, csrfField, formAccepted, NOTICES, refused, settingsPage, settingsViewer, signInRedirect, type SettingsViewer } from "./page.ts";
import { readForm } from "../forms.ts";

const VISIBILITIES = [
  ["public", "Public", "Everyone, and in public timelines"],
  ["unlisted", "Unlisted", "Everyone, but not in public timelines"],
  ["private", "Followers only", "Only your followers"],
] as const;

/** Languages offered for new posts (ISO 639-1), by their own names. */
const LANGUAGES: readonly [string, string][] = [
  ["ar", "العربية"], ["ca", "Català"], ["cs", "Čeština"], ["cy", "Cymraeg"], ["da", "Dansk"], ["de", "Deutsch"],
  ["el", "Ελληνικά"], ["en", "English"], ["eo", "Esperanto"], ["es", "Español"], ["eu", "Euskara"], ["fa", "فارسی"],
  ["fi", "Suomi"], ["fr", "Français"], ["ga", "Gaeilge"], ["gl", "Galego"], ["he", "עברית"], ["hi", "हिन्दी"],
  ["hu", "Magyar"], ["id", "Bahasa Indonesia"], ["it", "Italiano"], ["ja", "日本語"], ["ko", "한국어"], ["nl", "Nederlands"],
  ["no", "Norsk"], ["pl", "Polski"], ["pt", "Português"], ["ro", "Română"], ["ru", "Русский"], ["sv", "Svenska"],
  ["th", "ไทย"], ["tr", "Türkçe"], ["uk", "Українська"], ["vi", "Tiếng Việt"], ["zh", "中文"],
];

async function preferencesForm(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer): Promise<string> {
  const preferences = await getPreferences(ctx, viewer.owner.account.id);
  const languages = [...LANGUAGES];
  if (preferences.language != null && !languages.some(([code]) => code === preferences.language)) {
    languages.push([preferences.language, preferences.language]);
  }
  const visibility = VISIBILITIES.map(([value, name, hint]) =>
    `<label class="check"><input type="radio" name="privacy" value="${value}"${preferences.privacy === value ? " checked" : ""}><span>${escapeHtml(name)}<small>${escapeHtml(hint)}</small></span></label>`
  ).join("\n");
  const options = [`<option value=""${preferences.language == null ? " selected" : ""}>Not set (each app decides)</option>`,
    ...languages.map(([code, name]) => `<option value="${escapeHtml(code)}"${preferences.language === code ? " selected" : ""}>${escapeHtml(name)} (${escapeHtml(code)})</option>`)].join("\n");
  return `<form method="post" action="/settings/preferences">
${csrfField(c, browser, viewer)}
<fieldset style="border:0;padding:0;margin:0">
<legend style="font-weight:600;margin-top:0.5rem">Default visibility of new posts</legend>
${visibility}
</fieldset>
${checkbox("sensitive", "Mark media as sensitive by default", preferences.sensitive, "Pictures and videos of new posts are hidden behind a warning.")}
<label for="language">Default language of new posts</label>
<select id="language" name="language">
${options}
</select>
<p class="muted">Apps read these through the Mastodon API and use them for new posts. Whether your posts appear in public timelines follows their visibility: unlisted and followers-only posts never do.</p>
<button type="submit" class="primary">Save the preferences</button>
</form>`;
}

export function preferencesSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();
  const show = async (c: Context, viewer: SettingsViewer, notice: string | null, error: string | null = null) =>
    settingsPage(c, {
      ctx, browser, viewer, section: "/settings/preferences", title: "Preferences", notice, error,
      body: await preferencesForm(ctx, c, browser, viewer),
    }, error == null ? 200 : 422);

  app.get("/settings/preferences", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return await show(c, viewer, NOTICES[c.req.query("notice") ?? ""] ?? null);
  });

  app.post("/settings/preferences", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    try {
      await updateProfile(ctx, viewer.owner.account.id, {
        privacy: fields.privacy ?? "public",
        sensitive: fields.sensitive === "1",
        language: fields.language ?? "",
      });
    } catch (error) {
      if (error instanceof CoreError) return await show(c, viewer, null, error.message);
      throw error;
    }
    return c.redirect("/settings/preferences?notice=preferences", 303);
  });

  return app;
}
