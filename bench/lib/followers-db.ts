/**
 * Adds or removes the remote followers of the delivery fan-out row, in a
 * child process while no server runs (PGlite allows one process per data
 * dir):
 *
 *   DATA_DIR=… [DATABASE_URL=…] node bench/lib/followers-db.ts '{"add":1000,"inboxBase":"http://127.0.0.1:4000/inbox/"}'
 *   DATA_DIR=… [DATABASE_URL=…] node bench/lib/followers-db.ts '{"remove":true}'
 *
 * `add` inserts that many remote accounts on domains `fanoutN.example`,
 * each with its own inbox (`inboxBase` + N) and no shared inbox, and an
 * accepted follow from each to the owner. `remove` deletes them again (and
 * their follows, by cascade), so the rows after it see an owner without
 * followers, and with `statusId` the row's post. Prints `{"followers": N}` (the owner's followers afterwards).
 */
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/connect.ts";

interface Spec {
  add?: number;
  inboxBase?: string;
  remove?: boolean;
  /** With `remove`: the row's post, deleted too (the owner's seeded posts stay). */
  statusId?: string;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
  const dataDir = process.env.DATA_DIR;
  if (dataDir == null || dataDir === "") throw new Error("DATA_DIR is not set");
  const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL || null, dataDir, migrate: false, maxConnections: 1 });
  try {
    const owners = await database.query<{ id: string }>(sql`select id::text as id from accounts where domain is null`);
    if (owners.length !== 1) throw new Error(`expected one local account, found ${owners.length}`);
    const ownerId = owners[0].id;
    if (spec.remove) {
      await database.query(sql`delete from accounts where domain like 'fanout%.example'`);
      // The row's post too, so that the home timeline rows see only seeded
      // statuses, and the owner's stored count as seeded.
      if (spec.statusId != null) {
        await database.query(sql`delete from statuses where id = ${spec.statusId}::bigint and account_id = ${ownerId}::bigint`);
        await database.query(sql`update accounts set
          statuses_count = (select count(*)::int from statuses where account_id = ${ownerId}::bigint),
          last_status_at = (select max(created_at) from statuses where account_id = ${ownerId}::bigint)
          where id = ${ownerId}::bigint`);
      }
    }
    if (spec.add != null) {
      if (!Number.isInteger(spec.add) || spec.add < 1 || typeof spec.inboxBase !== "string") throw new Error("add needs a count and an inboxBase");
      const base = Date.now() - 50 * 24 * 60 * 60 * 1000;
      await database.query(sql`
        insert into accounts (id, username, domain, uri, url, inbox_url, fetched_at)
        select ((${base}::bigint + k) << 16) + 7, 'fan' || k, 'fanout' || k || '.example',
          'https://fanout' || k || '.example/users/fan' || k, 'https://fanout' || k || '.example/@fan' || k,
          ${spec.inboxBase}::text || k, now()
        from generate_series(1, ${spec.add}::int) as k`);
      await database.query(sql`
        insert into follows (id, account_id, target_account_id, state)
        select ((${base}::bigint + k) << 16) + 8, ((${base}::bigint + k) << 16) + 7, ${ownerId}::bigint, 'accepted'
        from generate_series(1, ${spec.add}::int) as k`);
    }
    const [row] = await database.query<{ n: number }>(sql`select count(*)::int as n from follows where target_account_id = ${ownerId}::bigint and state = 'accepted'`);
    process.stdout.write(`${JSON.stringify({ followers: Number(row.n) })}\n`);
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`followers-db: ${(error as Error).stack ?? error}\n`);
    process.exit(2);
  });
}
