/**
 * Fedify's key–value store over the `kv_entries` table, for PGlite and
 * PostgreSQL alike. Keys are string arrays kept in a `text[]` primary key,
 * values are JSON kept as `jsonb`. An entry may expire: expired rows are
 * invisible at once and removed by {@link DatabaseKvStore.deleteExpired}.
 */
import type { KvKey, KvStore, KvStoreListEntry } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "./connect.ts";

/** A duration as Fedify passes it (polyfilled or native Temporal). */
export type TtlDuration = Temporal.Duration | Temporal.DurationLike;

export interface DatabaseKvStoreSetOptions {
  /** How long the entry lives; forever when absent. */
  ttl?: TtlDuration;
}

/** Milliseconds in a duration; calendar units count from now, in UTC. */
export function durationToMilliseconds(duration: TtlDuration): number {
  const parsed = Temporal.Duration.from(duration);
  return parsed.total({ unit: "millisecond", relativeTo: Temporal.Now.zonedDateTimeISO("UTC") });
}

/** `ARRAY[$1, $2, …]::text[]` for a key. */
function keyArray(key: readonly string[]): SQL {
  return sql`ARRAY[${sql.join(key.map((part) => sql`${part}::text`), sql`, `)}]::text[]`;
}

/** The JSON of a value as a `jsonb` parameter. */
function jsonValue(value: unknown): SQL {
  return sql`${JSON.stringify(value)}::jsonb`;
}

/** `expires_at` for a TTL: computed by the database clock, like the checks. */
function expiresAt(options: DatabaseKvStoreSetOptions | undefined): SQL {
  if (options?.ttl == null) return sql`NULL::timestamptz`;
  const ms = durationToMilliseconds(options.ttl);
  return sql`now() + (${ms}::double precision * interval '1 millisecond')`;
}

const LIVE = sql`(expires_at IS NULL OR expires_at > now())`;

function checkKey(key: readonly string[]): void {
  if (!Array.isArray(key) || key.length === 0 || key.some((part) => typeof part !== "string")) {
    throw new TypeError("a key must be a non-empty array of strings");
  }
}

export class DatabaseKvStore implements KvStore {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    checkKey(key);
    const rows = await this.#database.query<{ value: string }>(
      sql`SELECT value::text AS value FROM kv_entries WHERE key = ${keyArray(key)} AND ${LIVE}`,
    );
    return rows.length === 0 ? undefined : JSON.parse(rows[0].value) as T;
  }

  async set(key: KvKey, value: unknown, options?: DatabaseKvStoreSetOptions): Promise<void> {
    checkKey(key);
    if (value === undefined) {
      await this.delete(key);
      return;
    }
    await this.#database.query(sql`
      INSERT INTO kv_entries (key, value, expires_at)
      VALUES (${keyArray(key)}, ${jsonValue(value)}, ${expiresAt(options)})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
    `);
  }

  async delete(key: KvKey): Promise<void> {
    checkKey(key);
    await this.#database.query(sql`DELETE FROM kv_entries WHERE key = ${keyArray(key)}`);
  }

  /**
   * Sets `key` to `newValue` only if its current value equals `expectedValue`
   * as JSON (`undefined` meaning absent or expired), in one statement.
   */
  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: DatabaseKvStoreSetOptions): Promise<boolean> {
    checkKey(key);
    const k = keyArray(key);
    let rows: unknown[];
    if (expectedValue === undefined && newValue === undefined) {
      // Nothing to write: succeeds when there is no live entry.
      rows = await this.#database.query(sql`
        SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM kv_entries WHERE key = ${k} AND ${LIVE})
      `);
    } else if (expectedValue === undefined) {
      // Insert, or take over a row that has expired; a live row wins.
      rows = await this.#database.query(sql`
        INSERT INTO kv_entries AS e (key, value, expires_at)
        VALUES (${k}, ${jsonValue(newValue)}, ${expiresAt(options)})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
          WHERE e.expires_at IS NOT NULL AND e.expires_at <= now()
        RETURNING 1 AS ok
      `);
    } else if (newValue === undefined) {
      rows = await this.#database.query(sql`
        DELETE FROM kv_entries
        WHERE key = ${k} AND value = ${jsonValue(expectedValue)} AND ${LIVE}
        RETURNING 1 AS ok
      `);
    } else {
      rows = await this.#database.query(sql`
        UPDATE kv_entries SET value = ${jsonValue(newValue)}, expires_at = ${expiresAt(options)}
        WHERE key = ${k} AND value = ${jsonValue(expectedValue)} AND ${LIVE}
        RETURNING 1 AS ok
      `);
    }
    return rows.length > 0;
  }

  /** Live entries whose key starts with `prefix` (all when absent), by key. */
  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    let where = LIVE;
    if (prefix != null && prefix.length > 0) {
      checkKey(prefix);
      where = sql`${where} AND key[1:${prefix.length}::int] = ${keyArray(prefix)}`;
    }
    const rows = await this.#database.query<{ key: string; value: string }>(
      sql`SELECT array_to_json(key)::text AS key, value::text AS value FROM kv_entries WHERE ${where} ORDER BY kv_entries.key`,
    );
    for (const row of rows) {
      yield { key: JSON.parse(row.key) as KvKey, value: JSON.parse(row.value) };
    }
  }

  /** Removes the rows that have expired; returns how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.#database.query<{ count: number }>(sql`
      WITH gone AS (DELETE FROM kv_entries WHERE expires_at IS NOT NULL AND expires_at <= now() RETURNING 1)
      SELECT count(*)::int AS count FROM gone
    `);
    return Number(rows[0]?.count ?? 0);
  }
}
