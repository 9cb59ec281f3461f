/**
 * Changes to stored data that SQL migrations cannot make, run right after
 * them wherever they are applied (server start, `islet migrate`): inside
 * the same advisory lock on PostgreSQL, so that processes starting together
 * run each once. Each runs once per database: a row in `kv_entries` says
 * how far it got (the last id of each pass, committed with that batch) and
 * that it is done, so an interrupted run resumes where it stopped. A
 * database with nothing for it to look at gets no row, so a new database
 * stays empty.
 */
import { and, asc, eq, gt, isNotNull, isNull, sql, type SQL } from "drizzle-orm";
import type { Db } from "./db.ts";
import { accounts, kvEntries, statusEdits, statuses, type ProfileField } from "./schema.ts";
import { remoteWebUrl, sanitizeRemoteHtml } from "../text/sanitize-html.ts";

/** Rows read and written per transaction. */
export const DATA_MIGRATION_BATCH = 200;

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/**
 * One pass over a table in id order: `load` reads the batch after an id,
 * `fix` rewrites a row when it has to. Returns the rows changed.
 */
interface Pass<Row extends { id: bigint }> {
  name: string;
  load(tx: Tx, after: bigint, limit: number): Promise<Row[]>;
  fix(tx: Tx, row: Row): Promise<boolean>;
}

export interface DataMigration {
  /** Stable name; the record that it ran is kept under it. */
  name: string;
  passes: Pass<{ id: bigint }>[];
}

interface Progress {
  done: boolean;
  /** The last id handled by each pass, as a decimal string. */
  after: Record<string, string>;
  changed: Record<string, number>;
}

function progressKey(name: string): SQL {
  return sql`ARRAY['islet'::text, 'data-migration'::text, ${name}::text]::text[]`;
}

async function readProgress(db: Db | Tx, name: string): Promise<Progress | null> {
  const rows = await db.select({ value: kvEntries.value }).from(kvEntries).where(sql`${kvEntries.key} = ${progressKey(name)}`);
  return rows.length === 0 ? null : rows[0].value as Progress;
}

async function writeProgress(tx: Tx, name: string, progress: Progress): Promise<void> {
  await tx.execute(sql`
    INSERT INTO kv_entries (key, value, expires_at)
    VALUES (${progressKey(name)}, ${JSON.stringify(progress)}::jsonb, NULL)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = NULL
  `);
}

// ---------------------------------------------------------------- remote HTML cleanup

/** escapeHtml undone: what older versions did to remote field names. */
function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_match, name: string) =>
    ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name]!);
}

type AccountRow = { id: bigint; url: string | null; note: string; fields: ProfileField[] };
type StatusRow = { id: bigint; url: string | null; content: string };
type EditRow = { id: bigint; content: string };

const cleanAccounts: Pass<AccountRow> = {
  name: "accounts",
  async load(tx, after, limit) {
    return await tx.select({ id: accounts.id, url: accounts.url, note: accounts.note, fields: accounts.fields })
      .from(accounts)
      .where(and(isNotNull(accounts.domain), gt(accounts.id, after)))
      .orderBy(asc(accounts.id))
      .limit(limit);
  },
  async fix(tx, row) {
    const note = sanitizeRemoteHtml(row.note);
    // Older versions stored field names HTML-escaped; they are plain text.
    const fields = row.fields.map((field) => ({ ...field, name: unescapeHtml(field.name), value: sanitizeRemoteHtml(field.value) }));
    const url = remoteWebUrl(row.url);
    if (note === row.note && url === row.url && JSON.stringify(fields) === JSON.stringify(row.fields)) return false;
    await tx.update(accounts).set({ note, fields, url }).where(eq(accounts.id, row.id));
    return true;
  },
};

const cleanStatuses: Pass<StatusRow> = {
  name: "statuses",
  async load(tx, after, limit) {
    return await tx.select({ id: statuses.id, url: statuses.url, content: statuses.content })
      .from(statuses)
      .innerJoin(accounts, eq(accounts.id, statuses.accountId))
      .where(and(isNotNull(accounts.domain), gt(statuses.id, after)))
      .orderBy(asc(statuses.id))
      .limit(limit);
  },
  async fix(tx, row) {
    const content = sanitizeRemoteHtml(row.content);
    const url = remoteWebUrl(row.url);
    if (content === row.content && url === row.url) return false;
    await tx.update(statuses).set({ content, url }).where(eq(statuses.id, row.id));
    return true;
  },
};

const cleanStatusEdits: Pass<EditRow> = {
  name: "status_edits",
  async load(tx, after, limit) {
    return await tx.select({ id: statusEdits.id, content: statusEdits.content })
      .from(statusEdits)
      .innerJoin(accounts, eq(accounts.id, statusEdits.accountId))
      .where(and(isNotNull(accounts.domain), gt(statusEdits.id, after)))
      .orderBy(asc(statusEdits.id))
      .limit(limit);
  },
  async fix(tx, row) {
    const content = sanitizeRemoteHtml(row.content);
    if (content === row.content) return false;
    await tx.update(statusEdits).set({ content }).where(eq(statusEdits.id, row.id));
    return true;
  },
};

/**
 * Remote bios, field values, post content and edit history stored before
 * all remote HTML went through the sanitiser; remote field names stored
 * HTML-escaped; `url`s that are not web addresses.
 */
export const SANITIZE_REMOTE_HTML: DataMigration = {
  name: "2026-12-sanitize-remote-html",
  passes: [cleanAccounts, cleanStatuses, cleanStatusEdits] as Pass<{ id: bigint }>[],
};

// ---------------------------------------------------------------- local account counters

const countLocalStatuses: Pass<{ id: bigint }> = {
  name: "local_accounts",
  async load(tx, after, limit) {
    return await tx.select({ id: accounts.id })
      .from(accounts)
      .where(and(isNull(accounts.domain), gt(accounts.id, after)))
      .orderBy(asc(accounts.id))
      .limit(limit);
  },
  async fix(tx, row) {
    await tx.execute(sql`
      UPDATE accounts SET
        statuses_count = (SELECT count(*)::int FROM statuses s WHERE s.account_id = accounts.id),
        last_status_at = (SELECT s.created_at FROM statuses s WHERE s.account_id = accounts.id ORDER BY s.id DESC LIMIT 1)
      WHERE id = ${row.id.toString()}::bigint
    `);
    return true;
  },
};

/**
 * The owner's statuses_count and last_status_at became stored counters
 * (src/core/account-counters.ts): counted once for what was there before.
 */
export const COUNT_LOCAL_STATUSES: DataMigration = {
  name: "2026-12-local-status-counters",
  passes: [countLocalStatuses],
};

export const DATA_MIGRATIONS: readonly DataMigration[] = [SANITIZE_REMOTE_HTML, COUNT_LOCAL_STATUSES];

export interface DataMigrationResult {
  name: string;
  /** Rows changed by each pass, over every run of it. */
  changed: Record<string, number>;
}

/**
 * Runs one data migration to its end unless it has finished before;
 * returns what it changed, or null when it had already run.
 */
export async function runDataMigration(db: Db, migration: DataMigration, batchSize = DATA_MIGRATION_BATCH): Promise<DataMigrationResult | null> {
  let progress = await readProgress(db, migration.name) ?? { done: false, after: {}, changed: {} };
  if (progress.done) return null;
  for (const pass of migration.passes) {
    for (;;) {
      const after = BigInt(progress.after[pass.name] ?? "-1");
      const finished = await db.transaction(async (tx) => {
        const rows = await pass.load(tx, after, batchSize);
        let changed = 0;
        for (const row of rows) {
          if (await pass.fix(tx, row)) changed++;
        }
        const last = rows.at(-1);
        progress = {
          ...progress,
          after: last == null ? progress.after : { ...progress.after, [pass.name]: last.id.toString() },
          changed: { ...progress.changed, [pass.name]: (progress.changed[pass.name] ?? 0) + changed },
        };
        if (rows.length > 0) await writeProgress(tx, migration.name, progress);
        return rows.length < batchSize;
      });
      if (finished) break;
    }
  }
  // A database that held nothing to look at gets no record: it stays empty
  // for `islet restore`, and rows restored into it later are cleaned at the
  // next start.
  if (Object.keys(progress.after).length === 0) return { name: migration.name, changed: progress.changed };
  progress = { ...progress, done: true };
  await db.transaction(async (tx) => writeProgress(tx, migration.name, progress));
  return { name: migration.name, changed: progress.changed };
}

/**
 * Records every data migration as run, without running it: for a writer
 * that filled the database with rows already in the form they leave
 * (a takeover, which sanitises what it stores), so that the next start
 * does not read them all again for nothing.
 */
export async function markDataMigrationsDone(db: Db | Tx): Promise<void> {
  for (const migration of DATA_MIGRATIONS) {
    const progress = await readProgress(db, migration.name);
    if (progress?.done) continue;
    await db.transaction(async (tx) => writeProgress(tx, migration.name, { done: true, after: progress?.after ?? {}, changed: progress?.changed ?? {} }));
  }
}

/** Runs every data migration not run before on this database, in order. */
export async function runDataMigrations(db: Db): Promise<DataMigrationResult[]> {
  const results: DataMigrationResult[] = [];
  for (const migration of DATA_MIGRATIONS) {
    const result = await runDataMigration(db, migration);
    if (result != null) results.push(result);
  }
  return results;
}
