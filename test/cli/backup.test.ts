/**
 * `islet backup PATH` and `islet restore PATH` as an admin runs them: a
 * populated instance is backed up, then restored into an empty DATA_DIR and
 * a fresh database of each kind, and every table, secret and media file
 * must come back the same.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { is, sql } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { createOwner } from "../../src/core/accounts.ts";
import type { CoreContext } from "../../src/core/context.ts";
import { newId } from "../../src/core/ids.ts";
import { readManifest } from "../../src/cli/backup-archive.ts";
import { journal } from "../../src/cli/database-dump.ts";
import { DatabaseKvStore } from "../../src/db/kv-store.ts";
import * as schema from "../../src/db/schema.ts";
import { attachmentFolder, writeMediaFile } from "../../src/media/storage.ts";
import { insertRemoteAccount } from "../helpers/accounts.ts";
import { runIslet } from "../helpers/cli.ts";
import { createTestDatabase, databaseKinds, type DatabaseKind, type TestDatabase } from "../helpers/database.ts";
import { insertTestStatus } from "../helpers/statuses.ts";
import { assertPlainFailure, envFor, filesBelow, runOnTerminal, terminalAvailable, withCore, type Env } from "./support.ts";

const TABLES = Object.values(schema).filter((value) => is(value, PgTable)).map((table) => getTableConfig(table as PgTable).name).sort();

/** Every row of every table, as PostgreSQL renders it in UTC: the exact stored values. */
async function snapshot(env: Env): Promise<Record<string, string[]>> {
  return await withCore(env, async (core) => {
    return await core.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL TimeZone = 'UTC'`);
      const result: Record<string, string[]> = {};
      for (const table of TABLES) {
        const raw = await tx.execute(sql`SELECT to_jsonb(t)::text AS line FROM ${sql.identifier(table)} t`);
        const rows = (Array.isArray(raw) ? raw : (raw as unknown as { rows: unknown[] }).rows) as { line: string }[];
        result[table] = rows.map((row) => row.line).sort();
      }
      return result;
    });
  });
}

async function populate(core: CoreContext): Promise<void> {
  const owner = await createOwner(core, { username: "owner", email: "owner@example.com", password: "a long test password", displayName: "Ö. Wner" });
  const remote = await insertRemoteAccount(core, "friend", { domain: "remote.example", fields: [{ name: "site", value: "<a>x</a>" }] });
  const first = await insertTestStatus(core, owner.account, { content: "<p>first post, with ümlauts and \"quotes\"\nand a newline</p>" });
  await insertTestStatus(core, owner.account, { inReplyTo: first, mentions: [remote] });
  await insertTestStatus(core, remote, { media: true });
  // A local upload with its files, a focus point (real) and meta (jsonb).
  const mediaId = newId();
  const folder = attachmentFolder(mediaId);
  await writeMediaFile(core.config, `${folder}/original.png`, new Uint8Array(4096).map((_, i) => (i * 7) % 256));
  await writeMediaFile(core.config, `${folder}/small.png`, new Uint8Array(300).fill(9));
  await core.db.insert(schema.mediaAttachments).values({
    id: mediaId, accountId: owner.account.id, statusId: first.id, type: "image", contentType: "image/png",
    fileKey: `${folder}/original.png`, previewKey: `${folder}/small.png`, fileSize: 4096, focusX: 0.1, focusY: -0.3333,
    meta: { original: { width: 64, height: 64, size: "64x64", aspect: 1 } }, description: "a picture",
  });
  // Arrays, JSON null, expiring entries and a serial ID.
  const kv = new DatabaseKvStore(core.database);
  await kv.set(["preferences", owner.account.id.toString()], { privacy: "unlisted", language: null });
  await kv.set(["a", "null value"], null);
  await core.db.insert(schema.filters).values({ id: newId(), accountId: owner.account.id, title: "no spoilers", context: ["home", "public"] });
  await core.database.query(sql`INSERT INTO queue_messages (payload, ordering_key) VALUES ('{"type":"outbox"}'::jsonb, 'k1'), ('[1, 2.5, null]'::jsonb, NULL)`);
}

/** An empty DATA_DIR and database of `kind` to restore into. */
async function emptyTarget(kind: DatabaseKind): Promise<{ env: Env; drop(): Promise<void> }> {
  if (kind === "pglite") {
    const dataDir = join(mkdtempSync(join(tmpdir(), "islet-restore-")), "data");
    return { env: envFor({ dataDir, databaseUrl: null }), drop: async () => rmSync(join(dataDir, ".."), { recursive: true, force: true }) };
  }
  const database = await createTestDatabase("postgres");
  return { env: envFor(database), drop: () => database.drop() };
}

for (const source of databaseKinds()) {
  describe(`islet backup and restore, from ${source}`, () => {
    let database: TestDatabase;
    let env: Env;
    let work: string;
    let archive: string;
    let expected: Record<string, string[]>;

    before(async () => {
      database = await createTestDatabase(source);
      env = envFor(database);
      work = mkdtempSync(join(tmpdir(), "islet-backup-test-"));
      archive = join(work, "islet.tar.gz");
      await withCore(env, populate);
      // An upload in progress is not part of a backup.
      mkdirSync(join(database.dataDir, "media", ".tmp"), { recursive: true });
      writeFileSync(join(database.dataDir, "media", ".tmp", "half.upload"), "partial");
      expected = await snapshot(env);
    });
    after(async () => {
      await database?.drop();
      rmSync(work, { recursive: true, force: true });
    });

    test("backup writes one private archive with a manifest", async () => {
      const result = await runIslet(["backup", archive], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Backed up @owner@localhost:3000 to .*islet\.tar\.gz: \d+ database rows, 2 secret files, 2 media files \(4\.3 KiB\)\.\n$/);
      // Off a terminal: one plain line per stage, no bar.
      assert.doesNotMatch(result.stderr, /\r|\x1b/);
      assert.match(result.stderr, /^Dumping the database: \d+ rows in \d+ tables\nWriting the archive: .* written\n$/);
      assert.equal(statSync(archive).mode & 0o777, 0o600);
      const manifest = await readManifest(archive);
      assert.equal(manifest.database.kind, source);
      assert.equal(manifest.owner, "owner");
      assert.equal(manifest.database.migration?.tag, (await journal()).at(-1)?.tag);
      assert.ok(manifest.database.migrations.length >= 4);
      assert.deepEqual(manifest.secrets, ["secret_key_base", "vapid_keys"]);
      assert.deepEqual(manifest.media, { files: 2, bytes: 4396 });
      const counts = Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows]));
      assert.deepEqual(Object.keys(counts).sort(), TABLES);
      for (const table of TABLES) assert.equal(counts[table], expected[table]!.length, table);
      assert.equal(counts.statuses, 3);
      assert.equal(counts.queue_messages, 2);
    });

    test("on a terminal the backup shows progress bars", { skip: !terminalAvailable() && "needs util-linux script" }, async () => {
      const result = (await runOnTerminal(["backup", join(work, "on-terminal.tar.gz")], env, /^$/, ""))!;
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /\r\x1b\[2KWriting the archive \[[#.]{24}\] +\d+% /);
      assert.match(result.output, /\r\x1b\[2KWriting the archive: .* written/);
      assert.equal((await readManifest(join(work, "on-terminal.tar.gz"))).owner, "owner");
    });

    test("backup will not overwrite an archive unless told to", async () => {
      const before = readFileSync(archive);
      assertPlainFailure(await runIslet(["backup", archive], { env }), /exists already; choose another path or pass --force/);
      assert.deepEqual(readFileSync(archive), before);
      const again = join(work, "again.tar.gz");
      writeFileSync(again, "old");
      const forced = await runIslet(["backup", again, "--force"], { env });
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal((await readManifest(again)).owner, "owner");
      assertPlainFailure(await runIslet(["backup"], { env }), /missing PATH/);
      assertPlainFailure(await runIslet(["backup", join(work, "no", "such", "x.tar.gz")], { env }), /the folder .* does not exist/);
    });

    for (const target of databaseKinds()) {
      test(`restore into an empty DATA_DIR and ${target} gives back the same data, keys and media`, async () => {
        const empty = await emptyTarget(target);
        try {
          const result = await runIslet(["restore", archive], { env: empty.env });
          assert.equal(result.code, 0, result.stderr);
          assert.match(result.stdout, /^Restored @owner@localhost:3000 from /);
          assert.deepEqual(await snapshot(empty.env), expected);
          const from = database.dataDir;
          const to = empty.env.DATA_DIR!;
          for (const name of ["secret_key_base", "vapid_keys"]) {
            assert.deepEqual(readFileSync(join(to, name)), readFileSync(join(from, name)), name);
            assert.equal(statSync(join(to, name)).mode & 0o777, 0o600);
          }
          const sourceMedia = filesBelow(join(from, "media"));
          sourceMedia.delete(join(".tmp", "half.upload"));
          assert.deepEqual(filesBelow(join(to, "media")), sourceMedia);
          // Serial IDs continue after the restored ones.
          await withCore(empty.env, async (core) => {
            const [row] = await core.database.query<{ id: string }>(sql`INSERT INTO queue_messages (payload) VALUES ('{}'::jsonb) RETURNING id::text AS id`);
            const [max] = await core.database.query<{ id: string }>(sql`SELECT max(id)::text AS id FROM queue_messages WHERE payload <> '{}'::jsonb`);
            assert.ok(BigInt(row!.id) > BigInt(max!.id));
          });
          // A second restore finds DATA_DIR in use and changes nothing.
          assertPlainFailure(await runIslet(["restore", archive], { env: empty.env }), /DATA_DIR .* is not empty .*islet reset --yes/);
        } finally {
          await empty.drop();
        }
      });
    }

    // With the embedded database, a database with data means a DATA_DIR with data: refused above.
    test("restore refuses a database that holds data, and leaves DATA_DIR as it found it", { skip: source !== "postgres" }, async () => {
      const dataDir = join(work, "fresh-data");
      const result = await runIslet(["restore", archive], { env: envFor({ dataDir, databaseUrl: database.databaseUrl }) });
      assertPlainFailure(result, /the database already holds data \(in accounts.*islet reset --yes/);
      assert.equal(existsSync(dataDir), false);
    });

    test("restore refuses what is not a backup", async () => {
      const dataDir = join(work, "never");
      const bogus = join(work, "bogus.tar.gz");
      writeFileSync(bogus, "not an archive at all");
      assertPlainFailure(await runIslet(["restore", bogus], { env: envFor({ dataDir, databaseUrl: null }) }), /bogus\.tar\.gz is not an Islet backup/);
      assertPlainFailure(await runIslet(["restore", join(work, "missing.tar.gz")], { env: envFor({ dataDir, databaseUrl: null }) }), /missing\.tar\.gz: no such file/);
      assertPlainFailure(await runIslet(["restore"], { env: envFor({ dataDir, databaseUrl: null }) }), /missing PATH/);
      assert.equal(existsSync(dataDir), false);
    });
  });
}
