/**
 * CSV imports in Mastodon's export formats, as Mastodon runs them: the
 * file is read and stored as one import with a row each; in overwrite
 * mode what the file does not list is undone first (unfollowed,
 * unblocked, unmuted, unbookmarked; lists not named are deleted and the
 * others emptied); then each row is a job on the durable "imports" queue,
 * worked a few at a time: the account is resolved through federation (or
 * the status fetched), and the follow, block, mute, bookmark or list
 * membership made. A row that fails for a reason that may pass (a server
 * down) is tried again later, a few times; each row keeps its outcome, so
 * the import has a report, and a job that runs twice changes nothing.
 *
 * Federation is not imported here: the worker is handed resolvers.
 */
import { and, asc, count, eq, inArray, isNull, notInArray, sql } from "drizzle-orm";
import type { Database } from "../../db/connect.ts";
import { createJobQueue, type JobQueueOptions } from "../../db/job-queue.ts";
import type { DatabaseMessageQueue } from "../../db/message-queue.ts";
import { accounts, bookmarks, bulkImportRows, bulkImports, follows, listAccounts, lists, mutes, blocks, statuses } from "../../db/schema.ts";
import { requireOwner, type Account } from "../accounts.ts";
import { CoreError, type CoreContext } from "../context.ts";
import { blockDomain, blockedDomains, unblockDomain } from "../domain-blocks.ts";
import { unfollow } from "../follows.ts";
import { newId } from "../ids.ts";
import { bookmarkStatus } from "../interactions.ts";
import { createList } from "../lists.ts";
import { block, followAccount, mute, unblock, unmute } from "../relationships.ts";
import type { StatusRow } from "../statuses.ts";
import { IMPORT_TYPES, parseImportCsv, type ImportRowData, type ImportType, type SkippedRow } from "./csv-formats.ts";

export { IMPORT_TYPES, type ImportType };

export type BulkImport = typeof bulkImports.$inferSelect;
export type BulkImportRow = typeof bulkImportRows.$inferSelect;

/** The queue's name in `queue_messages`. */
export const IMPORT_QUEUE = "imports";
/** How many rows are worked at once, per process. */
export const IMPORT_CONCURRENCY = 4;
/** Tries of one row before it is reported failed. */
export const IMPORT_ROW_ATTEMPTS = 3;
/** The longest one row may take (a WebFinger look-up, an actor, a status). */
const ROW_TIMEOUT_SECONDS = 120;

/** A queued row (its id as a string). */
export interface ImportJob {
  rowId: string;
}

/** The "imports" queue over the shared table. */
export function createImportQueue(database: Database, options: JobQueueOptions = {}): DatabaseMessageQueue {
  return createJobQueue(
    database,
    // The queue's own limit stays above the rows' own, which report the failure.
    { name: IMPORT_QUEUE, maxAttempts: IMPORT_ROW_ATTEMPTS + 2, visibilityTimeoutSeconds: ROW_TIMEOUT_SECONDS, concurrency: IMPORT_CONCURRENCY },
    options,
  );
}

/** What the worker needs of federation. */
export interface ImportResolvers {
  /** The account a `user@host` address names, stored (fetched if unknown); CoreError not_found if none. */
  account(acct: string): Promise<Account>;
  /** The status an IRI names, stored (fetched if unknown); CoreError not_found if none. */
  status(uri: string): Promise<StatusRow>;
}

export interface NewImport {
  type: ImportType;
  /** The file's text. */
  csv: string;
  overwrite?: boolean;
  filename?: string | null;
}

export interface StartedImport {
  import: BulkImport;
  /** Rows of the file that could not be read, not stored. */
  skipped: SkippedRow[];
}

/** `user@host` of an account, with this server's domain for local ones, in lower case. */
function acctOf(ctx: CoreContext, account: Pick<Account, "username" | "domain">): string {
  return `${account.username}@${account.domain ?? ctx.config.localDomain}`.toLowerCase();
}

/** A row's address in the same form (a bare name is a local account). */
function normalAcct(ctx: CoreContext, acct: string): string {
  const text = acct.replace(/^@/, "").toLowerCase();
  return text.includes("@") ? text : `${text}@${ctx.config.localDomain.toLowerCase()}`;
}

/**
 * Reads the file, stores the import and its rows, undoes what overwrite
 * mode says, and queues the rows. The import is worked by whichever
 * process runs the imports worker (the server, or the command).
 */
export async function startImport(ctx: CoreContext, input: NewImport, queue: Pick<DatabaseMessageQueue, "enqueueMany"> = createImportQueue(ctx.database)): Promise<StartedImport> {
  if (!IMPORT_TYPES.includes(input.type)) throw new CoreError("invalid", `unknown import type ${JSON.stringify(input.type)}`);
  const { account: owner } = await requireOwner(ctx);
  const parsed = parseImportCsv(input.type, input.csv);
  const overwrite = input.overwrite === true;
  const id = newId();
  const created = await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .insert(bulkImports)
      .values({ id, accountId: owner.id, type: input.type, overwrite, originalFilename: input.filename ?? null, totalItems: parsed.rows.length, state: "scheduled" })
      .returning();
    for (let offset = 0; offset < parsed.rows.length; offset += 500) {
      const batch = parsed.rows.slice(offset, offset + 500);
      await tx.insert(bulkImportRows).values(batch.map((row) => ({ id: newId(), bulkImportId: id, line: row.line, data: row.data as Record<string, unknown> })));
    }
    return rows[0]!;
  });
  if (overwrite) await overwriteBefore(ctx, owner, input.type, parsed.rows.map((row) => row.data));
  if (parsed.rows.length === 0) {
    await ctx.db.update(bulkImports).set({ state: "finished", finishedAt: new Date() }).where(eq(bulkImports.id, id));
  } else {
    const rowIds = await ctx.db.select({ id: bulkImportRows.id }).from(bulkImportRows).where(eq(bulkImportRows.bulkImportId, id)).orderBy(asc(bulkImportRows.line));
    await queue.enqueueMany(rowIds.map((row) => ({ rowId: row.id.toString() }) satisfies ImportJob));
  }
  return { import: (await findImport(ctx, id)) ?? created, skipped: parsed.skipped };
}

/** Undoes what the file does not list, before its rows are worked. */
async function overwriteBefore(ctx: CoreContext, owner: Account, type: ImportType, rows: ImportRowData[]): Promise<void> {
  const field = (name: string) => rows.map((row) => String((row as Record<string, unknown>)[name]));
  const kept = new Set(type === "domain_blocking" ? field("domain").map((d) => d.toLowerCase()) : type === "bookmarks" ? field("uri") : field("acct").map((a) => normalAcct(ctx, a)));
  const targets = async (table: typeof follows | typeof blocks | typeof mutes) =>
    await ctx.db
      .select({ id: accounts.id, username: accounts.username, domain: accounts.domain })
      .from(table)
      .innerJoin(accounts, eq(accounts.id, table.targetAccountId))
      .where(eq(table.accountId, owner.id));
  switch (type) {
    case "following":
      for (const target of await targets(follows)) if (!kept.has(acctOf(ctx, target))) await unfollow(ctx, owner.id, target.id);
      break;
    case "blocking":
      for (const target of await targets(blocks)) if (!kept.has(acctOf(ctx, target))) await unblock(ctx, owner.id, target.id);
      break;
    case "muting":
      for (const target of await targets(mutes)) if (!kept.has(acctOf(ctx, target))) await unmute(ctx, owner.id, target.id);
      break;
    case "domain_blocking":
      for (const domain of await blockedDomains(ctx, owner.id)) if (!kept.has(domain.toLowerCase())) await unblockDomain(ctx, owner.id, domain);
      break;
    case "bookmarks": {
      const marked = await ctx.db
        .select({ statusId: bookmarks.statusId, uri: statuses.uri })
        .from(bookmarks)
        .innerJoin(statuses, eq(statuses.id, bookmarks.statusId))
        .where(eq(bookmarks.accountId, owner.id));
      const gone = marked.filter((row) => !kept.has(row.uri)).map((row) => row.statusId);
      if (gone.length > 0) await ctx.db.delete(bookmarks).where(and(eq(bookmarks.accountId, owner.id), inArray(bookmarks.statusId, gone)));
      break;
    }
    case "lists": {
      // As Mastodon: lists the file does not name go; the others are emptied and filled from the file.
      const names = [...new Set(field("listName"))];
      await ctx.db.delete(lists).where(and(eq(lists.accountId, owner.id), names.length === 0 ? sql`true` : notInArray(lists.title, names)));
      const remaining = ctx.db.select({ id: lists.id }).from(lists).where(eq(lists.accountId, owner.id));
      await ctx.db.delete(listAccounts).where(inArray(listAccounts.listId, remaining));
      break;
    }
  }
}

export async function findImport(ctx: CoreContext, id: bigint): Promise<BulkImport | null> {
  const rows = await ctx.db.select().from(bulkImports).where(eq(bulkImports.id, id)).limit(1);
  return rows[0] ?? null;
}

/** The owner's imports, newest first. */
export async function listImports(ctx: CoreContext, accountId: bigint, limit = 20): Promise<BulkImport[]> {
  return await ctx.db.select().from(bulkImports).where(eq(bulkImports.accountId, accountId)).orderBy(sql`${bulkImports.id} desc`).limit(limit);
}

export interface ImportProgress {
  state: string;
  total: number;
  imported: number;
  failed: number;
  /** Rows not worked yet. */
  pending: number;
}

export async function importProgress(ctx: CoreContext, id: bigint): Promise<ImportProgress> {
  const found = await findImport(ctx, id);
  if (found == null) throw new CoreError("not_found", "Record not found");
  const counts = await ctx.db
    .select({ outcome: bulkImportRows.outcome, n: count() })
    .from(bulkImportRows)
    .where(eq(bulkImportRows.bulkImportId, id))
    .groupBy(bulkImportRows.outcome);
  const of = (outcome: string | null) => Number(counts.find((row) => row.outcome === outcome)?.n ?? 0);
  return { state: found.state, total: found.totalItems, imported: of("imported"), failed: of("failed"), pending: of(null) };
}

/** Every row with its outcome, in file order: the per-row report. */
export async function importReport(ctx: CoreContext, id: bigint): Promise<BulkImportRow[]> {
  return await ctx.db.select().from(bulkImportRows).where(eq(bulkImportRows.bulkImportId, id)).orderBy(asc(bulkImportRows.line));
}

/** One row as a person reads it: the address, domain or URI it names. */
export function describeRow(row: Pick<BulkImportRow, "data">): string {
  const data = row.data as Record<string, unknown>;
  if (typeof data.listName === "string") return `${data.listName}: ${data.acct}`;
  return String(data.acct ?? data.domain ?? data.uri ?? "");
}

/** Whether an error may pass if the row is tried again later. */
function mayPass(error: unknown): boolean {
  if (error instanceof CoreError) return error.code === "not_found";
  return true;
}

function reason(error: unknown): string {
  if (error instanceof CoreError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Works one queued row: does what it says, records the outcome, and
 * finishes the import after its last row. A row already worked is left
 * alone. Throws (for the queue to try again later) while a failure may
 * pass and tries remain.
 */
export async function processImportRow(ctx: CoreContext, resolvers: ImportResolvers, rowId: bigint): Promise<void> {
  const claimed = await ctx.db
    .update(bulkImportRows)
    .set({ attempts: sql`${bulkImportRows.attempts} + 1`, updatedAt: new Date() })
    .where(and(eq(bulkImportRows.id, rowId), isNull(bulkImportRows.outcome)))
    .returning();
  const row = claimed[0];
  if (row == null) return;
  const parent = await findImport(ctx, row.bulkImportId);
  if (parent == null) return;
  if (parent.state === "scheduled") await ctx.db.update(bulkImports).set({ state: "in_progress" }).where(and(eq(bulkImports.id, parent.id), eq(bulkImports.state, "scheduled")));
  try {
    await applyRow(ctx, resolvers, parent, row.data as ImportRowData);
    await record(ctx, row, "imported", null);
  } catch (error) {
    if (mayPass(error) && row.attempts < IMPORT_ROW_ATTEMPTS) throw error;
    await record(ctx, row, "failed", reason(error));
  }
}

async function record(ctx: CoreContext, row: BulkImportRow, outcome: "imported" | "failed", error: string | null): Promise<void> {
  await ctx.db.update(bulkImportRows).set({ outcome, error, updatedAt: new Date() }).where(eq(bulkImportRows.id, row.id));
  const left = await ctx.db
    .select({ n: count() })
    .from(bulkImportRows)
    .where(and(eq(bulkImportRows.bulkImportId, row.bulkImportId), isNull(bulkImportRows.outcome)));
  if (Number(left[0]?.n ?? 0) === 0) {
    await ctx.db
      .update(bulkImports)
      .set({ state: "finished", finishedAt: new Date() })
      .where(and(eq(bulkImports.id, row.bulkImportId), sql`${bulkImports.state} <> 'finished'`));
  }
}

/** The account a row's address names: the owner for this server's own domain. */
async function resolveAcct(ctx: CoreContext, resolvers: ImportResolvers, owner: Account, acct: string): Promise<Account> {
  const normal = normalAcct(ctx, acct);
  if (normal === acctOf(ctx, owner)) return owner;
  const domain = normal.slice(normal.lastIndexOf("@") + 1);
  if (domain === ctx.config.localDomain.toLowerCase()) throw new CoreError("invalid", `no account ${acct} on this server`);
  return await resolvers.account(normal);
}

async function applyRow(ctx: CoreContext, resolvers: ImportResolvers, parent: BulkImport, data: ImportRowData): Promise<void> {
  const { account: owner } = await requireOwner(ctx);
  const d = data as Record<string, unknown>;
  switch (parent.type as ImportType) {
    case "following": {
      const target = await resolveAcct(ctx, resolvers, owner, String(d.acct));
      await followAccount(ctx, owner, target, {
        showReblogs: d.showReblogs !== false,
        notify: d.notify === true,
        languages: Array.isArray(d.languages) ? (d.languages as string[]) : null,
      });
      return;
    }
    case "blocking":
      await block(ctx, owner, await resolveAcct(ctx, resolvers, owner, String(d.acct)));
      return;
    case "muting":
      await mute(ctx, owner, await resolveAcct(ctx, resolvers, owner, String(d.acct)), { notifications: d.hideNotifications !== false });
      return;
    case "domain_blocking":
      await blockDomain(ctx, owner.id, String(d.domain));
      return;
    case "bookmarks":
      await bookmarkStatus(ctx, owner, await resolvers.status(String(d.uri)));
      return;
    case "lists": {
      const target = await resolveAcct(ctx, resolvers, owner, String(d.acct));
      const list = await listNamed(ctx, owner.id, String(d.listName));
      // A list holds followed accounts only: as Mastodon, the import follows first.
      const following = await ctx.db
        .select({ id: follows.id })
        .from(follows)
        .where(and(eq(follows.accountId, owner.id), eq(follows.targetAccountId, target.id)))
        .limit(1);
      if (following.length === 0) await followAccount(ctx, owner, target);
      await ctx.db.insert(listAccounts).values({ listId: list.id, accountId: target.id }).onConflictDoNothing();
      return;
    }
    default:
      throw new CoreError("invalid", `unknown import type ${parent.type}`);
  }
}

const creatingLists = new Map<string, Promise<bigint>>();

/** The owner's list of that title, made if missing (once, when rows run side by side). */
async function listNamed(ctx: CoreContext, ownerId: bigint, title: string): Promise<{ id: bigint }> {
  const find = async () => (await ctx.db.select({ id: lists.id }).from(lists).where(and(eq(lists.accountId, ownerId), eq(lists.title, title))).orderBy(asc(lists.id)).limit(1))[0];
  const found = await find();
  if (found != null) return found;
  const key = `${ownerId}:${title}`;
  let pending = creatingLists.get(key);
  if (pending == null) {
    pending = (async () => (await find())?.id ?? (await createList(ctx, ownerId, { title })).id)();
    creatingLists.set(key, pending);
    pending.finally(() => creatingLists.delete(key)).catch(() => {});
  }
  return { id: await pending };
}

/**
 * Runs the imports worker until `signal` aborts: each queued row is
 * worked with the resolvers.
 */
export function startImportWorker(ctx: CoreContext, queue: DatabaseMessageQueue, resolvers: ImportResolvers, signal: AbortSignal): Promise<void> {
  return queue.listen(
    async (message) => {
      const job = message as Partial<ImportJob>;
      if (typeof job.rowId !== "string" || !/^\d+$/.test(job.rowId)) return;
      await processImportRow(ctx, resolvers, BigInt(job.rowId));
    },
    { signal },
  );
}
