/**
 * A logical dump of Islet's tables that PGlite and PostgreSQL both write and
 * both load: one JSON-lines file per table, each line an object of the
 * row's columns as PostgreSQL's own text forms (or null). Text forms keep
 * every type exact (64-bit IDs, timestamps to the microsecond, jsonb as
 * stored, arrays, floats), and loading casts them back to the column types.
 * Tables are written and loaded parents first, so foreign keys hold.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { is, sql, type SQL } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { migrationsFolder, type Database } from "../db/connect.ts";
import * as schema from "../db/schema.ts";
import { CliError } from "./errors.ts";

/** Every table of the schema, each after the tables it references. */
export function tablesInLoadOrder(): string[] {
  const references = new Map<string, Set<string>>();
  for (const value of Object.values(schema)) {
    if (!is(value, PgTable)) continue;
    const config = getTableConfig(value);
    const parents = new Set<string>();
    for (const foreignKey of config.foreignKeys) {
      const parent = getTableConfig(foreignKey.reference().foreignTable).name;
      if (parent !== config.name) parents.add(parent);
    }
    references.set(config.name, parents);
  }
  const ordered: string[] = [];
  const placed = new Set<string>();
  const place = (name: string, path: Set<string>) => {
    if (placed.has(name)) return;
    if (path.has(name)) throw new Error(`foreign keys form a cycle through ${name}`);
    path.add(name);
    for (const parent of [...(references.get(name) ?? [])].sort()) place(parent, path);
    path.delete(name);
    placed.add(name);
    ordered.push(name);
  };
  for (const name of [...references.keys()].sort()) place(name, new Set());
  return ordered;
}

/** Rows of a raw query on a transaction, whichever driver is underneath. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

interface Executor {
  execute(query: SQL): Promise<unknown>;
}

async function run<T = Record<string, unknown>>(db: Executor, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

/** The columns of a table in this database, in order, with their types; empty when it does not exist. */
async function columnsOf(db: Executor, table: string): Promise<{ name: string; type: string }[]> {
  return await run<{ name: string; type: string }>(db, sql`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a
    WHERE a.attrelid = to_regclass(${`"${table}"`}) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`);
}

export interface AppliedMigration {
  hash: string;
  /** The journal's `when` of the migration (milliseconds). */
  createdAt: number;
}

/** Drizzle's record of applied migrations; empty when none ran yet. */
export async function appliedMigrations(db: Executor): Promise<AppliedMigration[]> {
  const [exists] = await run<{ present: boolean }>(db, sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
  if (!exists?.present) return [];
  const rows = await run<{ hash: string; created_at: string }>(db, sql`SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY created_at, id`);
  return rows.map((row) => ({ hash: row.hash, createdAt: Number(row.created_at) }));
}

export interface JournalEntry {
  idx: number;
  tag: string;
  when: number;
}

/** The migrations this version of Islet ships. */
export async function journal(): Promise<JournalEntry[]> {
  const text = await readFile(join(migrationsFolder(), "meta", "_journal.json"), "utf8");
  return (JSON.parse(text) as { entries: JournalEntry[] }).entries;
}

export interface TableCount {
  name: string;
  rows: number;
}

const PAGE_ROWS = 1000;

/**
 * Writes every table to `dir/<table>.jsonl` from one consistent snapshot.
 * Returns the row counts and the applied migrations.
 */
export async function dumpTables(
  database: Database,
  dir: string,
  onRows: (rows: number) => void = () => {},
): Promise<{ tables: TableCount[]; migrations: AppliedMigration[] }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return await database.db.transaction(async (tx) => {
    await tx.execute(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    await tx.execute(sql`SET LOCAL DateStyle = 'ISO, YMD'`);
    await tx.execute(sql`SET LOCAL TimeZone = 'UTC'`);
    await tx.execute(sql`SET LOCAL extra_float_digits = 1`);
    const migrations = await appliedMigrations(tx);
    const tables: TableCount[] = [];
    for (const table of tablesInLoadOrder()) {
      const columns = await columnsOf(tx, table);
      if (columns.length === 0) throw new CliError(`the database has no table ${table}: run \`islet migrate\` first`);
      const select = sql.join(columns.map((c) => sql`t.${sql.identifier(c.name)}::text AS ${sql.identifier(c.name)}`), sql`, `);
      const out = createWriteStream(join(dir, `${table}.jsonl`), { mode: 0o600 });
      let rows = 0;
      let after = "(0,0)";
      try {
        for (;;) {
          const page = await run<{ tid: string; line: string }>(tx, sql`
            SELECT t.ctid::text AS tid, (SELECT row_to_json(r)::text FROM (SELECT ${select}) r) AS line
            FROM ${sql.identifier(table)} t
            WHERE t.ctid > ${after}::tid
            ORDER BY t.ctid
            LIMIT ${PAGE_ROWS}`);
          for (const row of page) {
            if (!out.write(`${row.line}\n`)) await once(out, "drain");
          }
          rows += page.length;
          onRows(page.length);
          if (page.length < PAGE_ROWS) break;
          after = page[page.length - 1]!.tid;
        }
      } finally {
        out.end();
        await once(out, "close");
      }
      tables.push({ name: table, rows });
    }
    return { tables, migrations };
  });
}

/** Islet's tables in this database that hold at least one row. */
export async function tablesWithRows(database: Database): Promise<string[]> {
  const found: string[] = [];
  for (const table of tablesInLoadOrder()) {
    const [exists] = await database.query<{ present: boolean }>(sql`SELECT to_regclass(${`"${table}"`}) IS NOT NULL AS present`);
    if (!exists?.present) continue;
    const [row] = await database.query<{ any: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${sql.identifier(table)}) AS any`);
    if (row?.any) found.push(table);
  }
  return found;
}

/** Applies the migrations of `folder` (drizzle's migrator for the driver in use). */
async function migrateFrom(database: Database, folder: string): Promise<void> {
  if (database.kind === "pglite") {
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    await migrate(database.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder: folder });
  } else {
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    await migrate(database.db as unknown as Parameters<typeof migrate>[0], { migrationsFolder: folder });
  }
}

/**
 * Applies this Islet's migrations up to and including the one made at
 * `upTo` (a journal `when`); all of them when null.
 */
export async function migrateUpTo(database: Database, upTo: number | null): Promise<void> {
  const source = migrationsFolder();
  if (upTo == null) {
    await migrateFrom(database, source);
    return;
  }
  const entries = (await journal()).filter((entry) => entry.when <= upTo);
  const folder = await mkdtemp(join(tmpdir(), "islet-migrations-"));
  try {
    await mkdir(join(folder, "meta"));
    const full = JSON.parse(await readFile(join(source, "meta", "_journal.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(folder, "meta", "_journal.json"), JSON.stringify({ ...full, entries }));
    for (const entry of entries) await copyFile(join(source, `${entry.tag}.sql`), join(folder, `${entry.tag}.sql`));
    await migrateFrom(database, folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const BATCH_ROWS = 500;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Loads `dir/<table>.jsonl` for the given tables, in one transaction, into
 * empty tables of the current schema; then moves any serial sequence past
 * the loaded IDs.
 */
export async function loadTables(database: Database, dir: string, tables: readonly string[], onRows: (rows: number) => void = () => {}): Promise<void> {
  const order = tablesInLoadOrder();
  const known = new Set(order);
  for (const table of tables) {
    if (!known.has(table)) throw new CliError(`the backup holds a table this version of Islet does not know: ${table}`);
  }
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL DateStyle = 'ISO, YMD'`);
    await tx.execute(sql`SET LOCAL TimeZone = 'UTC'`);
    for (const table of order) {
      if (!tables.includes(table)) continue;
      const types = new Map((await columnsOf(tx, table)).map((c) => [c.name, c.type]));
      let columns: string[] | null = null;
      let batch: string[] = [];
      let bytes = 0;
      const flush = async () => {
        if (batch.length === 0 || columns == null) return;
        const values = sql.join(
          columns.map((c) => sql`CAST(r ->> ${c} AS ${sql.raw(types.get(c)!)})`),
          sql`, `,
        );
        const names = sql.join(columns.map((c) => sql.identifier(c)), sql`, `);
        await tx.execute(sql`
          INSERT INTO ${sql.identifier(table)} (${names})
          SELECT ${values} FROM jsonb_array_elements(${`[${batch.join(",")}]`}::jsonb) AS r`);
        onRows(batch.length);
        batch = [];
        bytes = 0;
      };
      const lines = createInterface({ input: createReadStream(join(dir, `${table}.jsonl`)), crlfDelay: Infinity });
      for await (const line of lines) {
        if (line === "") continue;
        if (columns == null) {
          columns = Object.keys(JSON.parse(line) as Record<string, unknown>);
          const missing = columns.filter((c) => !types.has(c));
          if (missing.length > 0) {
            throw new CliError(`the backup's ${table} has columns this database lacks (${missing.join(", ")}): is it from a newer Islet?`);
          }
        }
        batch.push(line);
        bytes += line.length;
        if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
      }
      await flush();
    }
    const serials = await run<{ table_name: string; column_name: string }>(tx, sql`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`);
    for (const serial of serials) {
      if (!known.has(serial.table_name)) continue;
      const column = sql.identifier(serial.column_name);
      const table = sql.identifier(serial.table_name);
      await tx.execute(sql`
        SELECT setval(pg_get_serial_sequence(${`"${serial.table_name}"`}, ${serial.column_name}),
          COALESCE((SELECT max(${column}) FROM ${table}), 1),
          (SELECT max(${column}) FROM ${table}) IS NOT NULL)`);
    }
  });
}

/** Drops every table Islet made, and drizzle's record of migrations. */
export async function dropIsletTables(database: Database): Promise<void> {
  await database.db.transaction(async (tx) => {
    for (const table of [...tablesInLoadOrder()].reverse()) {
      await tx.execute(sql`DROP TABLE IF EXISTS ${sql.identifier(table)} CASCADE`);
    }
    await tx.execute(sql`DROP TABLE IF EXISTS drizzle.__drizzle_migrations`);
    // The schema drizzle made for it goes too when nothing else is left in it.
    const [left] = await run<{ n: number }>(tx, sql`
      SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'drizzle'`);
    if (left != null && Number(left.n) === 0) await tx.execute(sql`DROP SCHEMA IF EXISTS drizzle`);
  });
}
