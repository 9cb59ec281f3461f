/**
 * Settings: import and export. A CSV file in one of Mastodon's export
 * formats (follows, blocks, mutes, blocked domains, bookmarks, lists) is
 * uploaded, merged or overwriting; the server's imports worker works its
 * rows, and this page shows each import's state and counts, and a report
 * of the rows that failed and why. Each export downloads as the CSV file
 * Mastodon's "Data export" page gives, under the same name, and the
 * account archive (written by federation through `core.archives`).
 *
 * An account archive (Mastodon's "Request your archive") is uploaded too:
 * streamed to a file, never held in memory, refused past its size limit;
 * the server's archive imports worker reads it, and this page shows how
 * far it got, then what was imported and skipped, or why it failed.
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
import { archiveImportReport, listArchiveImports, scheduleArchiveImport, type ArchiveImport } from "../../core/imports/archive-uploads.ts";
import { describeRow, findImport, importProgress, importReport, IMPORT_TYPES, listImports, startImport, type BulkImport, type ImportType } from "../../core/imports/bulk-imports.ts";
import { CoreError, type CoreContext } from "../../core/context.ts";
import { lazyUploadTmpDir } from "../../media/storage.ts";
import { BodyTooLargeError, isMultipart, receiveMultipart } from "../../media/upload.ts";
import { escapeHtml } from "../../text/escape-html.ts";
import type { BrowserState } from "../browser.ts";
import { csrfField, formAccepted, NOTICES, pathId, refused, sameOrigin, SETTINGS_PAGE_HEADERS, settingsPage, settingsViewer, signInRedirect, when, type SettingsViewer } from "./page.ts";

/** The largest file taken (Mastodon's limit of rows fits well within it). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** The largest account archive taken: posts and some gigabytes of media. */
export const MAX_ARCHIVE_BYTES = 8 * 1024 * 1024 * 1024;
/** Room for the form's fields and the multipart framing around the archive. */
const ARCHIVE_FORM_BYTES = 64 * 1024;

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
  failed: "Failed",
};

/** Whether a write failed for want of room (the disk, or a quota). */
const diskFull = (error: unknown) => ["ENOSPC", "EDQUOT"].includes((error as NodeJS.ErrnoException | null)?.code ?? "");

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function gibibytes(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 3)} GB`;
}

/** One archive import: its state, how far it got, then its counts and skips, or why it failed. */
function archiveItem(item: ArchiveImport): string {
  const report = archiveImportReport(item);
  const state = `<span class="state">${escapeHtml(STATE_NAMES[item.state] ?? item.state)}</span>`;
  let detail: string;
  if (item.state === "failed") {
    detail = `<div>${state}: <span class="failure">${escapeHtml(item.error ?? "the import failed.")}</span></div>`;
  } else if (report != null) {
    const skipped = report.skipped.length + report.moreSkipped;
    const counts = `${plural(report.posts, "post")}, ${plural(report.boosts, "boost")}, ${plural(report.media, "media file")}, ${plural(report.favourites, "favourite")} and ${plural(report.bookmarks, "bookmark")} imported` +
      `${report.profile ? "; profile updated" : ""}; ${report.alreadyImported} already there, ${skipped} skipped`;
    const skips = skipped === 0
      ? ""
      : `<details class="skipped"><summary>${plural(skipped, "item")} skipped</summary><ul>${report.skipped.map((skip) =>
        `<li><span class="item">${escapeHtml(skip.item)}</span>: ${escapeHtml(skip.reason)}</li>`
      ).join("")}${report.moreSkipped > 0 ? `<li>and ${report.moreSkipped} more</li>` : ""}</ul></details>`;
    detail = `<div>${state} · <span class="counts">${escapeHtml(counts)}</span></div>${skips}`;
  } else if (item.progress != null && item.progress.totalBytes > 0) {
    const percent = Math.min(100, Math.floor((item.progress.bytesRead / item.progress.totalBytes) * 100));
    detail = `<div>${state}</div><label class="progress">Reading ${escapeHtml(item.progress.file)} <progress max="100" value="${percent}">${percent}%</progress> ${percent}%</label>`;
  } else {
    detail = `<div>${state} · <span class="muted">waiting to be read</span></div>`;
  }
  const running = item.state === "scheduled" || item.state === "in_progress";
  return `<li class="archive-import" data-archive-import-id="${item.id}"${running ? " data-running" : ""}><strong>Account archive</strong>${item.originalFilename == null ? "" : ` <span class="muted">${escapeHtml(item.originalFilename)}</span>`}
${detail}
<div class="muted">Started ${when(item.createdAt)}${item.finishedAt == null ? "" : ` · finished ${when(item.finishedAt)}`}</div></li>`;
}

async function importItem(ctx: CoreContext, item: BulkImport): Promise<string> {
  const progress = await importProgress(ctx, item.id);
  const name = TYPE_NAMES[item.type as ImportType] ?? item.type;
  return `<li class="import" data-import-id="${item.id}"${progress.state === "finished" ? "" : " data-running"}><strong>${escapeHtml(name)}</strong>${item.originalFilename == null ? "" : ` <span class="muted">${escapeHtml(item.originalFilename)}</span>`}
<div><span class="state">${escapeHtml(STATE_NAMES[progress.state] ?? progress.state)}</span> · ${item.overwrite ? "overwrite" : "merge"} · <span class="counts">${progress.imported} of ${progress.total} imported, ${progress.failed} failed${progress.pending > 0 ? `, ${progress.pending} to go` : ""}</span></div>
<div class="muted">Started ${when(item.createdAt)}${item.finishedAt == null ? "" : ` · finished ${when(item.finishedAt)}`} · <a href="/settings/imports/${item.id}">Report</a></div></li>`;
}

async function importsBody(ctx: CoreContext, c: Context, browser: BrowserState, viewer: SettingsViewer): Promise<string> {
  const recent = await listImports(ctx, viewer.owner.account.id);
  const archives = await listArchiveImports(ctx, viewer.owner.account.id);
  const options = IMPORT_TYPES.map((type) => `<option value="${type}">${escapeHtml(TYPE_NAMES[type])}</option>`).join("");
  const items = recent.length === 0
    ? archives.length === 0 ? `<p class="muted">Nothing imported yet.</p>` : ""
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
<h2>Import an account archive</h2>
<p class="muted">The archive Mastodon's "Request your archive" gives (a .zip, or a .tar.gz from older versions), up to ${gibibytes(MAX_ARCHIVE_BYTES)}: your posts with their dates, media and polls, your boosts, favourites and bookmarks, and your profile. The posts show on your profile; nobody is sent them as new posts. The archive is read after the upload, which takes some minutes for many posts.</p>
<form method="post" action="/settings/import/archive" enctype="multipart/form-data">
${csrfField(c, browser, viewer)}
<label for="archive_file">Archive</label>
<input type="file" id="archive_file" name="archive" accept=".zip,.tar.gz,.tgz,application/zip,application/gzip" required>
<button type="submit" class="primary">Upload the archive</button>
</form>
<h2>Recent imports</h2>
${archives.length === 0 ? "" : `<ul class="plain" id="archive_imports">${archives.map(archiveItem).join("\n")}</ul>`}
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

  // The archive is streamed to a file; past the limit the request is refused
  // (before it is read, when its declared length says so).
  const tmpDir = lazyUploadTmpDir(ctx.config);
  app.post("/settings/import/archive", async (c) => {
    const viewer = await settingsViewer(ctx, browser, c);
    if (viewer == null) return signInRedirect(c);
    const tooLarge = async () => {
      c.header("Connection", "close");
      return await page(c, viewer, null, `The archive is too large: the limit is ${gibibytes(MAX_ARCHIVE_BYTES)}.`, 422);
    };
    // A form from elsewhere is refused before its file is read (its token is checked after).
    if (!sameOrigin(ctx, c)) return refused(c);
    const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > MAX_ARCHIVE_BYTES + ARCHIVE_FORM_BYTES) return await tooLarge();
    if (!isMultipart(c.req.header("Content-Type"))) return await page(c, viewer, null, "Choose an archive file.", 422);
    const noRoom = () => page(c, viewer, null, "The server's disk has no room for this archive.", 422);
    let form: Awaited<ReturnType<typeof receiveMultipart>>;
    try {
      form = await receiveMultipart(c.req.raw, { tmpDir: await tmpDir(), files: { archive: () => MAX_ARCHIVE_BYTES }, maxBodyBytes: MAX_ARCHIVE_BYTES + ARCHIVE_FORM_BYTES });
    } catch (error) {
      if (error instanceof BodyTooLargeError) return await tooLarge();
      if (error instanceof CoreError) return await page(c, viewer, null, "The upload could not be read; try again.", 422);
      if (diskFull(error)) return await noRoom();
      throw error;
    }
    try {
      const fields = Object.fromEntries(form.fields);
      if (!formAccepted(ctx, browser, c, viewer, fields)) return refused(c);
      const file = form.files.archive;
      if (file == null || (file.size === 0 && !file.tooLarge)) return await page(c, viewer, null, "Choose an archive file.", 422);
      if (file.tooLarge) return await tooLarge();
      try {
        await scheduleArchiveImport(ctx, { path: file.path, size: file.size, filename: file.filename || null });
      } catch (error) {
        if (error instanceof CoreError) return await page(c, viewer, null, error.message, 422);
        if (diskFull(error)) return await noRoom();
        throw error;
      }
      return c.redirect("/settings/import?notice=archive_import_started", 303);
    } finally {
      await form.cleanup();
    }
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
