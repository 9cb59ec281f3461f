/**
 * Settings: import and export. A CSV file in one of Mastodon's export
 * formats (follows, blocks, mutes, blocked domains, bookmarks, lists) is
 * uploaded, merged or overwriting; the server's imports worker works its
 * rows, and this page shows each import's state and counts, and a report
 * of the rows that failed and why. Each export downloads as the CSV file
 * Mastodon's "Data export" page gives, under the same name, and the
 * account archive (written by federation through `core.archives`).
 */
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { EXPORT_FILES, exportCsv } from "../../core/exports/csv-exports.ts";
import { describeRow, findImport, importProgress, importReport, IMPORT_TYPES, listImports, startImport, type BulkImport, type ImportType } from "../../core/imports/bulk-imports.ts";
import { CoreError, type CoreContext } from "../../core/context.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import type { BrowserState } from "../browser.ts";
import { csrfField, formAccepted, NOTICES, pathId, refused, SETTINGS_PAGE_HEADERS, settingsPage, settingsViewer, signInRedirect, when, type SettingsViewer } from "./page.ts";

/** The largest file taken (Mastodon's limit of rows fits well within it). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

const TYPE_NAMES: Record<ImportType, string> = {
  following: "Following list",
  blocking: "Blocked accounts",
  muting: "Muted accounts",
  domain_blocking: "Blocked domains",
  bookmarks: "Bookmarks",
  lists: "Lists",
};

const STATE_NAMES: Record<string, string> = {
  scheduled: "Scheduled",
  in_progress: "In progress",
  finished: "Finished",
};

async function importItem(ctx: CoreContext, item: BulkImport): Promise<string> {
  const progress = await importProgress(ctx, item.id);
  const name = TYPE_NAMES[item.type as ImportType] ?? item.type;
  return `<li class="import" data-import-id="${item.id}"><strong>${escapeHtml(name)}</strong>${item.originalFilename == null ? "" : ` <span class="muted">${escapeHtml(item.originalFilename)}</span>`}
<div><span class="state">${escapeHtml(STATE_NAMES[progress.state] ?? progress.state)}</span> · ${item.overwrite ? "overwrite" : "merge"} · <span class="counts">${progress.imported} of ${progress.total} imported, ${progress.failed} failed${progress.pending > 0 ? `, ${progress.pending} to go` : ""}</span></div>
<div class="muted">Started ${when(item.createdAt)}${item.finishedAt == null ? "" : ` · finished ${when(item.finishedAt)}`} · <a href="/settings/imports/${item.id}">Report</a></div></li>`;
}

async function importsBody(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer): Promise<string> {
  const recent = await listImports(ctx, viewer.owner.account.id);
  const options = IMPORT_TYPES.map((type) => `<option value="${type}">${escapeHtml(TYPE_NAMES[type])}</option>`).join("");
  const items = recent.length === 0
    ? `<p class="muted">Nothing imported yet.</p>`
    : `<ul class="plain" id="imports">${(await Promise.all(recent.map((item) => importItem(ctx, item)))).join("\n")}</ul>`;
  const downloads = IMPORT_TYPES.map((type) =>
    `<li><a href="/settings/export/${EXPORT_FILES[type]}" download>${escapeHtml(TYPE_NAMES[type])}</a> <span class="muted">${EXPORT_FILES[type]}</span></li>`
  ).join("\n");
  return `<h2 style="border:0;padding-top:0;margin-top:0">Import</h2>
<p class="muted">A CSV file exported from this or another Mastodon-compatible server. Accounts and posts elsewhere are looked up as the rows are worked; that goes on after you leave this page.</p>
<form method="post" action="/settings/import" enctype="multipart/form-data">
${csrfField(c, browser, viewer)}
<label for="import_type">What the file holds</label>
<select id="import_type" name="type">${options}</select>
<label for="import_file">File</label>
<input type="file" id="import_file" name="data" accept=".csv,text/csv" required>
<fieldset><legend>Mode</legend>
<label class="check"><input type="radio" name="mode" value="merge" checked><span>Merge<small>Keep what you have and add what the file lists.</small></span></label>
<label class="check"><input type="radio" name="mode" value="overwrite"><span>Overwrite<small>Replace what you have with what the file lists.</small></span></label>
</fieldset>
<button type="submit" class="primary">Upload</button>
</form>
<h2>Recent imports</h2>
${items}
<h2>Export</h2>
<p class="muted">Your data as CSV files, to import here or on another server.</p>
<ul class="plain" id="exports">${downloads}</ul>
<h3>Archive</h3>
<p class="muted">Your posts, media, favourites and bookmarks as ActivityPub documents, in the archive format Mastodon writes. It is put together as you ask, which takes a while with many posts.</p>
<p><a href="/settings/export/archive.tar.gz" download>Download your archive</a> <span class="muted">archive.tar.gz</span></p>`;
}

async function reportBody(ctx: CoreContext, item: BulkImport): Promise<string> {
  const rows = await importReport(ctx, item.id);
  const failed = rows.filter((row) => row.outcome === "failed");
  const list = failed.length === 0
    ? `<p class="muted">No row failed.</p>`
    : `<table id="failed_rows"><thead><tr><th scope="col">Line</th><th scope="col">Row</th><th scope="col">Reason</th></tr></thead><tbody>${failed.map((row) =>
      `<tr><td>${row.line}</td><td>${escapeHtml(describeRow(row))}</td><td>${escapeHtml(row.error ?? "")}</td></tr>`
    ).join("\n")}</tbody></table>`;
  return `<ul class="plain">${await importItem(ctx, item)}</ul>
<h2>Rows that failed</h2>
${list}
<p><a href="/settings/import">← Import and export</a></p>`;
}

export function importsSettingsRoutes(ctx: CoreContext, browser: BrowserState): Hono {
  const app = new Hono();
  const page = async (c: Context, viewer: SettingsViewer, notice: string | null, error: string | null = null, status: 200 | 422 = 200) =>
    settingsPage(c, {
      ctx, browser, viewer, section: "/settings/import", title: "Import and export", notice, error,
      body: await importsBody(ctx, c, browser, viewer),
    }, status);

  app.get("/settings/import", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    return await page(c, viewer, NOTICES[c.req.query("notice") ?? ""] ?? null);
  });

  // The file and the form's fields; a larger request is refused before it is read.
  const limit = bodyLimit({ maxSize: MAX_FILE_BYTES + 64 * 1024, onError: (c) => c.text("The file is too large", 413) });
  app.post("/settings/import", limit, async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    let body: Record<string, unknown>;
    try {
      body = await c.req.parseBody();
    } catch {
      body = {};
    }
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(body)) if (typeof value === "string") fields[key] = value;
    if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
    const type = fields.type as ImportType;
    if (!IMPORT_TYPES.includes(type)) return await page(c, viewer, null, "Choose what the file holds.", 422);
    const file = body.data;
    if (!(file instanceof File) || file.size === 0) return await page(c, viewer, null, "Choose a CSV file.", 422);
    if (file.size > MAX_FILE_BYTES) return await page(c, viewer, null, "The file is too large.", 422);
    try {
      await startImport(ctx, { type, csv: await file.text(), overwrite: fields.mode === "overwrite", filename: file.name || null });
    } catch (error) {
      if (error instanceof CoreError) return await page(c, viewer, null, error.message, 422);
      throw error;
    }
    return c.redirect("/settings/import?notice=import_started", 303);
  });

  app.get("/settings/imports/:id{[0-9]{1,19}}", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const id = pathId(c.req.param("id"));
    const item = id == null ? null : await findImport(ctx, id);
    if (item == null || item.accountId !== viewer.owner.account.id) {
      return settingsPage(c, { ctx, browser, viewer, section: "/settings/import", title: "Import not found", body: `<p><a href="/settings/import">← Import and export</a></p>` }, 404);
    }
    return settingsPage(c, {
      ctx, browser, viewer, section: "/settings/import", title: `Import: ${TYPE_NAMES[item.type as ImportType] ?? item.type}`,
      body: await reportBody(ctx, item),
    });
  });

  // The archive is written to a file of its own, opened, and unlinked at
  // once: the download reads the open file, and nothing stays behind.
  app.get("/settings/export/archive.tar.gz", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const dir = join(ctx.config.dataDir, "tmp");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `archive-${randomUUID()}.tar.gz`);
    try {
      if ((await ctx.archives.write(file)) == null) return c.json({ error: "No archive can be written here" }, 404);
      const stream = createReadStream(file);
      await once(stream, "open");
      return c.body(Readable.toWeb(stream) as ReadableStream, 200, {
        "Content-Type": "application/gzip",
        "Content-Disposition": `attachment; filename="archive.tar.gz"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      });
    } finally {
      await rm(file, { force: true });
    }
  });

  app.get("/settings/export/:file", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const file = c.req.param("file");
    const type = IMPORT_TYPES.find((candidate) => EXPORT_FILES[candidate] === file);
    if (type == null) return c.json({ error: "Record not found" }, 404);
    return c.body(await exportCsv(ctx, type), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${file}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
  });

  return app;
}
