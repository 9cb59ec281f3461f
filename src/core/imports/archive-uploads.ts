/**
 * Account archives uploaded on the settings pages. An upload is checked
 * to be a zip or tar archive (by its first bytes), kept under
 * DATA_DIR/imports, recorded as an archive import, and queued on the
 * durable "archive_imports" queue: reading 10,000 posts takes minutes, so
 * the worker does it, not the request. The worker keeps the import's
 * progress (the file being read, how far) and, at the end, its report or
 * the reason it failed; the uploaded file is deleted either way.
 *
 * A worker stopped half-way (a restart) leaves the queued job to be
 * claimed again; the archive import skips what the first run stored.
 */
import { copyFile, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../db/connect.ts";
import { createJobQueue, type JobQueueOptions } from "../../db/job-queue.ts";
import type { DatabaseMessageQueue } from "../../db/message-queue.ts";
import { archiveImports } from "../../db/schema.ts";
import { requireOwner } from "../accounts.ts";
import { CoreError, type CoreContext } from "../context.ts";
import { newId } from "../ids.ts";
import { importArchive, openArchive, type ArchiveImportReport, type ArchiveProgress } from "./archive.ts";
import type { ImportResolvers } from "./bulk-imports.ts";

export type ArchiveImport = typeof archiveImports.$inferSelect;

/** The queue's name in `queue_messages`. */
export const ARCHIVE_IMPORT_QUEUE = "archive_imports";
/** Runs of one import that end in an unexpected error before it is reported failed. */
export const ARCHIVE_IMPORT_ATTEMPTS = 3;
/** How often, at most, the progress is written while a file is read. */
const PROGRESS_INTERVAL_MS = 1000;

/** A queued import (its id as a string). */
export interface ArchiveImportJob {
  importId: string;
}

/**
 * The "archive_imports" queue: one import at a time per process, its lease
 * renewed while it runs (however long that is).
 */
export function createArchiveImportQueue(database: Database, options: JobQueueOptions = {}): DatabaseMessageQueue {
  return createJobQueue(
    database,
    // The queue's own limit stays above the import's, which reports the failure.
    { name: ARCHIVE_IMPORT_QUEUE, maxAttempts: ARCHIVE_IMPORT_ATTEMPTS + 2, visibilityTimeoutSeconds: 300, concurrency: 1 },
    options,
  );
}

/** Where uploaded archives wait for their import. */
export function archiveUploadDir(ctx: Pick<CoreContext, "config">): string {
  return join(ctx.config.dataDir, "imports");
}

/** The kind of archive a file's first bytes show, as a file name ending; null when none. */
export function archiveKind(head: Uint8Array): ".zip" | ".tar.gz" | ".tar" | null {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06)) return ".zip";
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return ".tar.gz";
  if (head.length >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar") return ".tar";
  return null;
}

async function readHead(path: string, length: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Renames, or copies across file systems. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

export interface UploadedArchive {
  /** The received file; it is moved away (or left, when refused, for the caller to remove). */
  path: string;
  size: number;
  /** As the person's browser named it: shown on the page, never used as a path. */
  filename: string | null;
}

/**
 * Keeps an uploaded archive and queues its import. A file that is not a
 * zip or tar archive is refused (CoreError "invalid") before anything is
 * stored.
 */
export async function scheduleArchiveImport(ctx: CoreContext, upload: UploadedArchive, queue: Pick<DatabaseMessageQueue, "enqueue"> = createArchiveImportQueue(ctx.database)): Promise<ArchiveImport> {
  const { account: owner } = await requireOwner(ctx);
  const kind = archiveKind(await readHead(upload.path, 512));
  if (kind == null) throw new CoreError("invalid", "The file is not an account archive: Mastodon gives a .zip (or a .tar.gz from older versions).");
  const id = newId();
  const dir = archiveUploadDir(ctx);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `archive-${id}${kind}`);
  await moveFile(upload.path, path);
  try {
    const rows = await ctx.db
      .insert(archiveImports)
      .values({ id, accountId: owner.id, originalFilename: upload.filename, filePath: path, size: upload.size })
      .returning();
    await queue.enqueue({ importId: id.toString() } satisfies ArchiveImportJob);
    return rows[0]!;
  } catch (error) {
    await ctx.db.delete(archiveImports).where(eq(archiveImports.id, id)).catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
}

export async function findArchiveImport(ctx: CoreContext, id: bigint): Promise<ArchiveImport | null> {
  const rows = await ctx.db.select().from(archiveImports).where(eq(archiveImports.id, id)).limit(1);
  return rows[0] ?? null;
}

/** The owner's archive imports, newest first. */
export async function listArchiveImports(ctx: CoreContext, accountId: bigint, limit = 10): Promise<ArchiveImport[]> {
  return await ctx.db.select().from(archiveImports).where(eq(archiveImports.accountId, accountId)).orderBy(desc(archiveImports.id)).limit(limit);
}

/** A finished import's report, as stored. */
export function archiveImportReport(item: ArchiveImport): ArchiveImportReport | null {
  return item.report == null ? null : (item.report as unknown as ArchiveImportReport);
}

/** An error as the person reads it: the server's file names replaced by the one they uploaded. */
function describeFailure(error: unknown, item: ArchiveImport): string {
  let message = error instanceof Error ? error.message : String(error);
  if (item.filePath != null) message = message.split(item.filePath).join(item.originalFilename ?? "the file");
  message = message.replace(/^the archive/, "The archive");
  return message;
}

/** Ends an import, finished or failed, and deletes its file. */
async function end(ctx: CoreContext, item: ArchiveImport, outcome: { report: ArchiveImportReport } | { error: string }): Promise<void> {
  if (item.filePath != null) await rm(item.filePath, { force: true });
  await ctx.db
    .update(archiveImports)
    .set({
      state: "report" in outcome ? "finished" : "failed",
      report: "report" in outcome ? (outcome.report as unknown as Record<string, unknown>) : null,
      error: "error" in outcome ? outcome.error : null,
      filePath: null,
      finishedAt: new Date(),
    })
    .where(eq(archiveImports.id, item.id));
}

/**
 * Runs one queued import to its end: its progress is written as the
 * archive is read, then its report, or why it failed. An import already
 * ended is left alone. An unexpected error (the database gone a moment)
 * is thrown for the queue to run it again, a few times.
 */
export async function processArchiveImport(ctx: CoreContext, resolvers: ImportResolvers, id: bigint, signal?: AbortSignal): Promise<void> {
  const claimed = await ctx.db
    .update(archiveImports)
    .set({ state: "in_progress", attempts: sql`${archiveImports.attempts} + 1` })
    .where(and(eq(archiveImports.id, id), inArray(archiveImports.state, ["scheduled", "in_progress"])))
    .returning();
  const item = claimed[0];
  if (item == null) return;
  if (item.filePath == null) return await end(ctx, item, { error: "The uploaded file is gone." });

  let last = 0;
  let lastFile = "";
  let writing: Promise<unknown> = Promise.resolve();
  const onProgress = (progress: ArchiveProgress) => {
    const now = Date.now();
    if (progress.file === lastFile && progress.bytesRead < progress.totalBytes && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    lastFile = progress.file;
    writing = writing.then(() => ctx.db.update(archiveImports).set({ progress }).where(eq(archiveImports.id, id))).catch((error: unknown) => ctx.log.warn("archive import: cannot record progress", error));
  };

  let archive: Awaited<ReturnType<typeof openArchive>> | null = null;
  try {
    archive = await openArchive(ctx, item.filePath);
    const report = await importArchive(ctx, archive, { resolvers, onProgress, signal });
    await writing;
    await end(ctx, item, { report });
  } catch (error) {
    await writing;
    if (signal?.aborted) {
      // Stopped with the process: not a failed run; the queue hands it out again.
      await ctx.db.update(archiveImports).set({ attempts: sql`${archiveImports.attempts} - 1` }).where(eq(archiveImports.id, id));
      throw error;
    }
    if (error instanceof CoreError || item.attempts >= ARCHIVE_IMPORT_ATTEMPTS) {
      await end(ctx, item, { error: describeFailure(error, item) });
      return;
    }
    throw error;
  } finally {
    await archive?.close();
  }
}

/** Runs the archive imports worker until `signal` aborts. */
export function startArchiveImportWorker(ctx: CoreContext, queue: DatabaseMessageQueue, resolvers: ImportResolvers, signal: AbortSignal): Promise<void> {
  return queue.listen(
    async (message) => {
      const job = message as Partial<ArchiveImportJob>;
      if (typeof job.importId !== "string" || !/^\d+$/.test(job.importId)) return;
      await processArchiveImport(ctx, resolvers, BigInt(job.importId), signal);
    },
    { signal },
  );
}
