/**
 * Seeds an instance's database for the timeline rows, in a child process of
 * its own and while no server runs (PGlite allows one process per data dir):
 *
 *   DATA_DIR=… [DATABASE_URL=…] node bench/lib/seed-db.ts '{"accounts":1000,"statuses":100000}'
 *
 * Adds `accounts` remote accounts that the owner follows (accepted), and
 * `statuses` public statuses by them, spread evenly over the last 30 days
 * and shared round-robin between the accounts; ids are time-sortable like
 * src/core/ids.ts makes them ((epoch ms << 16) + sequence), so they sort by
 * created_at. With `ownStatuses`, the owner gets that many public statuses
 * of their own, spread over the 30 days before those (so the first page of
 * the home timeline still shows only followees), with the owner's
 * statuses_count and last_status_at set as the server keeps them.
 * Everything is plain INSERT … SELECT generate_series, then
 * ANALYZE. Also registers an OAuth application and a token for the owner
 * (stored as its SHA-256 hex, as the server looks it up).
 *
 * Prints one line of JSON, a {@link SeedReport}, on stdout.
 */
import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { openDatabase, type Database } from "../../src/db/connect.ts";
import { markDataMigrationsDone } from "../../src/db/data-migrations.ts";

export interface SeedSpec {
  accounts: number;
  statuses: number;
  /** The owner's own statuses (default none). */
  ownStatuses?: number;
}

export interface SeedReport {
  ownerId: string;
  /** A bearer token for the owner, scopes "read write follow push". */
  token: string;
  accounts: number;
  statuses: number;
  /** The owner's own statuses, and the id just above the newest of them (a max_id that pages through them); null without any. */
  ownStatuses: number;
  ownMaxId: string | null;
  /** Milliseconds: opening the database, inserting, ANALYZE. */
  openMs: number;
  insertMs: number;
  analyzeMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SPAN_MS = 30 * DAY_MS;
const DOMAINS = 50;
const SCOPES = "read write follow push";

/** Runs one statement of our own making (only numbers, hex strings and constants are interpolated). */
async function run(database: Database, text: string): Promise<Record<string, unknown>[]> {
  return await database.query(sql.raw(text));
}

async function seed(database: Database, spec: SeedSpec): Promise<Omit<SeedReport, "openMs" | "analyzeMs">> {
  const owners = await run(database, "select id::text as id from accounts where domain is null order by id");
  if (owners.length !== 1) throw new Error(`expected one local account (the owner), found ${owners.length}`);
  const ownerId = String(owners[0].id);

  const now = Date.now();
  // Remote accounts "appeared" 60 days ago, one a millisecond; follows 45 days ago.
  const accountBase = now - 60 * DAY_MS;
  const followBase = now - 45 * DAY_MS;
  const statusBase = now - SPAN_MS;
  const step = SPAN_MS / spec.statuses;
  const accountId = (k: string) => `((${accountBase}::bigint + ${k}) << 16)`;
  const domain = (k: string) => `'remote' || (${k} % ${DOMAINS}) || '.example'`;

  const begin = performance.now();
  await run(database, `
    insert into accounts (id, username, domain, uri, url, display_name, note, inbox_url, shared_inbox_url,
      outbox_url, followers_url, following_url, statuses_count, published_at, fetched_at)
    select ${accountId("k")}, 'user' || k, ${domain("k")},
      'https://' || ${domain("k")} || '/users/user' || k,
      'https://' || ${domain("k")} || '/@user' || k,
      'Remote user ' || k, '<p>Seeded by the benchmark.</p>',
      'https://' || ${domain("k")} || '/users/user' || k || '/inbox',
      'https://' || ${domain("k")} || '/inbox',
      'https://' || ${domain("k")} || '/users/user' || k || '/outbox',
      'https://' || ${domain("k")} || '/users/user' || k || '/followers',
      'https://' || ${domain("k")} || '/users/user' || k || '/following',
      ${Math.ceil(spec.statuses / spec.accounts)}, to_timestamp(${accountBase} / 1000.0), now()
    from generate_series(1, ${spec.accounts}) as k`);
  await run(database, `
    insert into follows (id, account_id, target_account_id, state, created_at, updated_at)
    select ((${followBase}::bigint + k) << 16), ${ownerId}, ${accountId("k")}, 'accepted',
      to_timestamp((${followBase} + k) / 1000.0), to_timestamp((${followBase} + k) / 1000.0)
    from generate_series(1, ${spec.accounts}) as k`);
  // Status n is by account (n % accounts) + 1, at statusBase + n * step ms.
  await run(database, `
    insert into statuses (id, account_id, uri, url, content, visibility, language, created_at, updated_at)
    select (t << 16) + (n % 65536), ${accountId("k")},
      'https://' || ${domain("k")} || '/users/user' || k || '/statuses/' || n,
      'https://' || ${domain("k")} || '/@user' || k || '/' || n,
      '<p>Seeded status ' || n || ' by user' || k || '. Lorem ipsum dolor sit amet, consectetur adipiscing elit, '
        || 'sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>',
      'public', 'en', to_timestamp(t / 1000.0), to_timestamp(t / 1000.0)
    from (
      select n, (n % ${spec.accounts}) + 1 as k, ${statusBase}::bigint + floor(n::bigint * ${step})::bigint as t
      from generate_series(0, ${spec.statuses - 1}) as n
    ) as s`);

  let ownMaxId: string | null = null;
  const own = spec.ownStatuses ?? 0;
  if (own > 0) {
    // Status n of the owner at ownBase + n * ownStep ms, all before the followees' first.
    const ownBase = statusBase - SPAN_MS;
    const ownStep = SPAN_MS / own;
    const [owner] = await run(database, `select uri from accounts where id = ${ownerId}`);
    const ownerUri = String(owner.uri).replace(/'/g, "''");
    await run(database, `
      insert into statuses (id, account_id, uri, url, content, text, visibility, language, conversation_id, created_at, updated_at)
      select id, ${ownerId}, '${ownerUri}/statuses/' || id, null,
        '<p>My own seeded status ' || n || '. Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>',
        'My own seeded status ' || n || '. Lorem ipsum dolor sit amet, consectetur adipiscing elit.',
        'public', 'en', id, to_timestamp(t / 1000.0), to_timestamp(t / 1000.0)
      from (
        select n, t, (t << 16) + (n % 65536) as id
        from (select n, ${ownBase}::bigint + floor(n::bigint * ${ownStep})::bigint as t from generate_series(0, ${own - 1}) as n) as times
      ) as s`);
    const [newest] = await run(database, `
      update accounts set
        statuses_count = (select count(*)::int from statuses where account_id = ${ownerId}),
        last_status_at = (select max(created_at) from statuses where account_id = ${ownerId})
      where id = ${ownerId}
      returning (select (max(id) + 1)::text from statuses where account_id = ${ownerId}) as max_id`);
    ownMaxId = String(newest.max_id);
  }

  const token = randomBytes(32).toString("base64url");
  const applicationId = `((${now}::bigint) << 16)`;
  await run(database, `
    insert into oauth_applications (id, name, redirect_uris, scopes, client_id, client_secret)
    values (${applicationId}, 'Islet benchmark', array['urn:ietf:wg:oauth:2.0:oob'], '${SCOPES}',
      '${randomBytes(16).toString("hex")}', '${randomBytes(16).toString("hex")}')`);
  await run(database, `
    insert into oauth_tokens (id, token_hash, application_id, account_id, scopes)
    values (${applicationId} + 1, '${createHash("sha256").update(token).digest("hex")}', ${applicationId}, ${ownerId}, '${SCOPES}')`);
  const insertMs = performance.now() - begin;

  const [counts] = await run(database, `
    select (select count(*) from statuses)::int as statuses,
      (select count(*) from follows where account_id = ${ownerId} and state = 'accepted')::int as accounts`);
  return { ownerId, token, accounts: Number(counts.accounts), statuses: Number(counts.statuses), ownStatuses: own, ownMaxId, insertMs };
}

async function main(): Promise<void> {
  const raw = process.argv[2];
  if (raw == null) throw new Error("usage: node bench/lib/seed-db.ts '{\"accounts\":1000,\"statuses\":100000}'");
  const spec = JSON.parse(raw) as SeedSpec;
  for (const key of ["accounts", "statuses"] as const) {
    if (!Number.isInteger(spec[key]) || spec[key] < 1) throw new Error(`seed spec: ${key} must be a positive whole number`);
  }
  if (spec.ownStatuses != null && (!Number.isInteger(spec.ownStatuses) || spec.ownStatuses < 0)) throw new Error("seed spec: ownStatuses must be a whole number");
  const dataDir = process.env.DATA_DIR;
  if (dataDir == null || dataDir === "") throw new Error("DATA_DIR is not set");
  const begin = performance.now();
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL || null, dataDir, migrate: false, maxConnections: 1 });
  const openMs = performance.now() - begin;
  try {
    const result = await seed(database, spec);
    // The seeded rows are in today's form: no one-time cleanup at the next start.
    await markDataMigrationsDone(database.db);
    const analyzeBegin = performance.now();
    await run(database, "analyze");
    const analyzeMs = performance.now() - analyzeBegin;
    const report: SeedReport = { ...result, openMs, analyzeMs };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    const cause = (error as Error).cause;
    process.stderr.write(`seed: ${(error as Error).stack ?? error}${cause == null ? "" : `\ncause: ${(cause as Error).message ?? cause}`}\n`);
    process.exit(2);
  });
}
