/**
 * Settings: the profile. Display name, bio, four fields (with the
 * verification that link checks found), avatar and header with their alt
 * text, the account's flags, and featured hashtags. Saving calls
 * `updateProfile`, exactly as PATCH /api/v1/accounts/update_credentials does.
 */
import { Hono, type Context } from "hono";
import { CoreError, type CoreContext } from "../../core/context.ts";
import { featureTag, getFeaturedTags, MAX_FEATURED_TAGS, unfeatureTag } from "../../core/featured-tags.ts";
import type { UploadedFile } from "../../core/media.ts";
import { getPreferences, getProfileSource, PROFILE_LIMITS, updateProfile, type ProfileUpdate } from "../../core/profile.ts";
import { MediaError, tooLargeMessage } from "../../media/errors.ts";
import { MEDIA_LIMITS } from "../../media/limits.ts";
import { lazyUploadTmpDir } from "../../media/storage.ts";
import { BodyTooLargeError, isMultipart, receiveMultipart } from "../../media/upload.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import type { BrowserState } from "../browser.ts";
import {
  checkbox,
  csrfField,
  formAccepted,
  NOTICES,
  pathId,
  refused,
  settingsPage,
  settingsViewer,
  signInRedirect,
  type SettingsViewer,
} from "./page.ts";
import { readForm } from "../forms.ts";

/** The form's body at most: two pictures and the text fields. */
const MAX_PROFILE_BODY = 2 * MEDIA_LIMITS.imageSizeLimit + 1024 * 1024;

async function profileForm(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer, values?: Record<string, string>): Promise<string> {
  const account = viewer.owner.account;
  const source = await getProfileSource(ctx, account);
  const preferences = await getPreferences(ctx, account.id);
  const featured = await getFeaturedTags(ctx, account.id);
  const value = (name: string, stored: string) => escapeHtml(values?.[name] ?? stored);
  const flag = (name: string, stored: boolean) => (values == null ? stored : values[name] === "1");

  const fieldRows = Array.from({ length: PROFILE_LIMITS.fields }, (_, i) => {
    const field = source.fields[i] ?? { name: "", value: "" };
    const verifiedAt = account.fields[i]?.name === field.name ? account.fields[i]?.verifiedAt : null;
    const verified = verifiedAt == null
      ? ""
      : `<div class="verified">✓ Verified link (checked ${escapeHtml(verifiedAt.slice(0, 10))})</div>`;
    return `<div class="field-row">
<input type="text" name="field_name_${i}" value="${value(`field_name_${i}`, field.name)}" maxlength="${PROFILE_LIMITS.fieldName}" aria-label="Label ${i + 1}" placeholder="Label">
<input type="text" name="field_value_${i}" value="${value(`field_value_${i}`, field.value)}" maxlength="${PROFILE_LIMITS.fieldValue}" aria-label="Content ${i + 1}" placeholder="Content">
</div>${verified}`;
  }).join("\n");

  const avatar = account.avatarUrl ?? `${ctx.config.origin}/avatars/original/missing.png`;
  const header = account.headerUrl ?? `${ctx.config.origin}/headers/original/missing.png`;
  const tags = featured.length === 0
    ? `<p class="muted">No featured hashtags yet.</p>`
    : `<ul class="plain tags">${featured.map((tag) => `<li><span><strong>#${escapeHtml(tag.tag.name)}</strong> <span class="muted">${tag.statusesCount} post${tag.statusesCount === 1 ? "" : "s"}</span></span>
<form method="post" action="/settings/profile/featured_tags/${tag.id}/remove">${csrfField(c, browser, viewer)}<button type="submit">Remove</button></form></li>`).join("\n")}</ul>`;
  const addTag = featured.length >= MAX_FEATURED_TAGS
    ? `<p class="muted">At most ${MAX_FEATURED_TAGS} hashtags can be featured.</p>`
    : `<form method="post" action="/settings/profile/featured_tags">
${csrfField(c, browser, viewer)}
<label for="featured_tag">Feature a hashtag</label>
<input type="text" id="featured_tag" name="name" maxlength="100" placeholder="#hashtag" autocapitalize="none" spellcheck="false" required>
<button type="submit">Add</button>
</form>`;

  return `<form method="post" action="/settings/profile" enctype="multipart/form-data">
${csrfField(c, browser, viewer)}
<label for="display_name">Display name</label>
<input type="text" id="display_name" name="display_name" value="${value("display_name", account.displayName)}" maxlength="${PROFILE_LIMITS.displayName}">
<label for="note">Bio</label>
<textarea id="note" name="note" maxlength="${PROFILE_LIMITS.note}">${value("note", source.note)}</textarea>

<h2>Extra fields</h2>
<p class="muted">Up to ${PROFILE_LIMITS.fields} label and content pairs shown on your profile. A link to a page that links back to your profile with <code>rel="me"</code> is shown as verified.</p>
${fieldRows}

<h2>Pictures</h2>
<div class="images">
<div>
<img class="avatar-preview" id="avatar_preview" src="${escapeHtml(avatar)}" alt="${escapeHtml(account.avatarDescription || "Your current avatar")}">
</div>
<div>
<label for="avatar">Avatar <span class="muted">(PNG, GIF, JPEG or WebP; cropped to a square)</span></label>
<input type="file" id="avatar" name="avatar" accept="image/png,image/gif,image/jpeg,image/webp" data-preview="avatar_preview">
<label for="avatar_description">Avatar description (alt text)</label>
<input type="text" id="avatar_description" name="avatar_description" value="${value("avatar_description", account.avatarDescription)}" maxlength="${PROFILE_LIMITS.imageDescription}">
${account.avatarUrl == null ? "" : checkbox("remove_avatar", "Remove the avatar", false)}
</div>
</div>
<img class="header-preview" id="header_preview" src="${escapeHtml(header)}" alt="${escapeHtml(account.headerDescription || "Your current header")}" style="margin-top:1rem">
<label for="header">Header <span class="muted">(cropped to 3:1)</span></label>
<input type="file" id="header" name="header" accept="image/png,image/gif,image/jpeg,image/webp" data-preview="header_preview">
<label for="header_description">Header description (alt text)</label>
<input type="text" id="header_description" name="header_description" value="${value("header_description", account.headerDescription)}" maxlength="${PROFILE_LIMITS.imageDescription}">
${account.headerUrl == null ? "" : checkbox("remove_header", "Remove the header", false)}

<h2>Account</h2>
${checkbox("locked", "Approve followers by hand", flag("locked", account.locked), "Follow requests wait for you to accept them.")}
${checkbox("bot", "This is an automated account", flag("bot", account.bot), "Shown to others as a bot.")}
${checkbox("discoverable", "Suggest the account to others", flag("discoverable", account.discoverable), "It may be featured in profile directories and suggestions.")}
${checkbox("indexable", "Let public posts be found by search", flag("indexable", account.indexable), "Servers may put your public posts in their full-text search.")}
${checkbox("hide_collections", "Hide whom you follow and who follows you", flag("hide_collections", preferences.hideCollections))}
<button type="submit" class="primary">Save the profile</button>
</form>

<h2>Featured hashtags</h2>
${tags}
${addTag}`;
}

export function profileSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();
  const tmpDir = lazyUploadTmpDir(ctx.config);

  const show = async (c: Context, viewer: SettingsViewer, options: { notice?: string | null; error?: string | null; values?: Record<string, string>; status?: 200 | 422 } = {}) =>
    settingsPage(c, {
      ctx,
      browser,
      viewer,
      section: "/settings/profile",
      title: "Profile",
      notice: options.notice,
      error: options.error,
      body: await profileForm(ctx, c, browser, viewer, options.values),
    }, options.status ?? 200);

  app.get("/settings/profile", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return await show(c, viewer, { notice: NOTICES[c.req.query("notice") ?? ""] });
  });

  app.post("/settings/profile", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    let fields: Record<string, string> = {};
    let files: Record<string, UploadedFile> = {};
    let cleanup = async () => {};
    if (isMultipart(c.req.header("Content-Type"))) {
      const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
      const tooLarge = () => {
        c.header("Connection", "close");
        return show(c, viewer, { error: tooLargeMessage(MEDIA_LIMITS.imageSizeLimit), status: 422 });
      };
      if (Number.isFinite(declared) && declared > MAX_PROFILE_BODY) return await tooLarge();
      try {
        const limit = () => MEDIA_LIMITS.imageSizeLimit;
        const form = await receiveMultipart(c.req.raw, { tmpDir: await tmpDir(), files: { avatar: limit, header: limit }, maxBodyBytes: MAX_PROFILE_BODY });
        for (const [name, value] of form.fields) fields[name] = value;
        // A file input left empty arrives as a file without a name or bytes.
        files = Object.fromEntries(Object.entries(form.files).filter(([, file]) => file.size > 0 || file.filename !== ""));
        cleanup = form.cleanup;
      } catch (error) {
        if (error instanceof BodyTooLargeError) return await tooLarge();
        throw error;
      }
    } else {
      fields = await readForm(c);
    }
    try {
      if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
      const update: ProfileUpdate = {
        displayName: fields.display_name ?? "",
        note: fields.note ?? "",
        fields: Array.from({ length: PROFILE_LIMITS.fields }, (_, i) => ({ name: fields[`field_name_${i}`] ?? "", value: fields[`field_value_${i}`] ?? "" })),
        avatarDescription: fields.avatar_description ?? "",
        headerDescription: fields.header_description ?? "",
        locked: fields.locked === "1",
        bot: fields.bot === "1",
        discoverable: fields.discoverable === "1",
        indexable: fields.indexable === "1",
        hideCollections: fields.hide_collections === "1",
      };
      if (files.avatar != null) update.avatar = files.avatar;
      else if (fields.remove_avatar === "1") update.avatar = null;
      if (files.header != null) update.header = files.header;
      else if (fields.remove_header === "1") update.header = null;
      try {
        await updateProfile(ctx, viewer.owner.account.id, update);
      } catch (error) {
        if (error instanceof CoreError || error instanceof MediaError) {
          return await show(c, viewer, { error: error.message, values: fields, status: 422 });
        }
        throw error;
      }
      c.header("Cache-Control", "no-store");
      return c.redirect("/settings/profile?notice=profile", 303);
    } finally {
      await cleanup();
    }
  });

  app.post("/settings/profile/featured_tags", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    try {
      await featureTag(ctx, viewer.owner.account.id, (fields.name ?? "").trim().replace(/^#/, ""));
    } catch (error) {
      if (error instanceof CoreError) return await show(c, viewer, { error: error.message, status: 422 });
      throw error;
    }
    return c.redirect("/settings/profile?notice=featured_tag_added", 303);
  });

  app.post("/settings/profile/featured_tags/:id{[0-9]+}/remove", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const fields = await readForm(c);
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    const id = pathId(c.req.param("id"));
    try {
      if (id != null) await unfeatureTag(ctx, viewer.owner.account.id, id);
    } catch (error) {
      if (!(error instanceof CoreError)) throw error;
    }
    return c.redirect("/settings/profile?notice=featured_tag_removed", 303);
  });

  return app;
}
