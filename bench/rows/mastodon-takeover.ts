/**
 * Mastodon takeover: `islet import mastodon` into an empty Islet from a
 * Mastodon database of 10,000 statuses by the owner (one in ten with an
 * image file on disk), 100 remote followers and a few lists, filters and
 * blocks. The figures are the command's wall time, from spawn to exit, and
 * its peak resident memory (VmHWM, read every 20 ms while it runs).
 *
 * A process bench with its own empty Islet beside the target's (the import
 * refuses an Islet that has an owner): a fresh DATA_DIR, and on PostgreSQL a
 * throwaway database on the target's server, migrated by `islet migrate`
 * before the clock starts (as a running Islet's would be). The Mastodon
 * database is always PostgreSQL, on BENCH_DATABASE_URL's server.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import sharp from "sharp";
import { createMastodonDatabase, mastodonKeyPair, writePaperclipFile } from "../../test/helpers/mastodon-database.ts";
import { startNode } from "../lib/children.ts";
import { procStatusMiB } from "../lib/server.ts";
import { DEFAULT_ADMIN_URL, freePort } from "../lib/targets.ts";
import type { ProcessBench } from "../lib/types.ts";

const STATUSES = 10_000;
const FOLLOWERS = 100;
const LIMIT_MS = 600_000;

export const mastodonTakeover: ProcessBench = {
  kind: "process",
  name: "mastodon takeover",
  async run(context) {
    const adminUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_ADMIN_URL;
    const root = mkdtempSync(join(tmpdir(), "islet-bench-takeover-"));
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const env: Record<string, string> = { DATA_DIR: join(root, "data"), PORT: String(port), LOG_LEVEL: "warning" };
    let dropIslet = async () => {};
    const mastodon = await createMastodonDatabase(adminUrl);
    try {
      if (context.target.database === "PostgreSQL") {
        const name = `islet_bench_${randomBytes(6).toString("hex")}`;
        const url = new URL(context.target.env.DATABASE_URL!);
        const admin = () => postgres(url.toString(), { max: 1, onnotice: () => {} });
        const sql = admin();
        await sql.unsafe(`CREATE DATABASE ${name}`);
        await sql.end();
        dropIslet = async () => {
          const sql = admin();
          await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await sql.end();
        };
        url.pathname = `/${name}`;
        env.DATABASE_URL = url.toString();
      }
      // Islet is installed and started before the import (the guide's first
      // step): its database exists and is migrated, outside the clock.
      const migrate = startNode(["bin/islet.js", "migrate"], env);
      const migrated = await migrate.exited;
      if (migrated.code !== 0) throw new Error(`islet migrate failed:\n${migrate.output()}`);
      context.progress(`  filling a Mastodon database with ${STATUSES.toLocaleString("en")} statuses`);
      await fillMastodon(mastodon, origin);

      const child = startNode(
        ["bin/islet.js", "import", "mastodon", "--database", mastodon.url, "--media", mastodon.mediaDir, "--account", "bench"],
        env,
      );
      const begin = performance.now();
      let peak = 0;
      const poll = setInterval(() => {
        try {
          peak = Math.max(peak, procStatusMiB(child.pid, "VmHWM"));
        } catch {
          // exited between two reads
        }
      }, 20);
      const timer = setTimeout(() => child.process.kill("SIGKILL"), LIMIT_MS);
      const { code, signal } = await child.exited;
      const elapsed = performance.now() - begin;
      clearInterval(poll);
      clearTimeout(timer);
      if (code !== 0) throw new Error(`islet import mastodon failed (${signal ?? `exit code ${code}`}):\n${child.output()}`);
      if (!new RegExp(`\\n  posts: ${STATUSES}\\n`).test(child.stdout())) throw new Error(`the import did not report ${STATUSES} posts:\n${child.stdout()}`);
      context.record({
        id: "mastodon-takeover.time",
        row: `Mastodon takeover, ${STATUSES.toLocaleString("en")} statuses: time`,
        value: elapsed / 1000,
        unit: "s",
        how: `islet import mastodon, spawn to exit; ${STATUSES / 10} image files copied, ${FOLLOWERS} followers`,
      });
      context.record({
        id: "mastodon-takeover.rss",
        row: `Mastodon takeover, ${STATUSES.toLocaleString("en")} statuses: peak RSS`,
        value: peak,
        unit: "MiB",
        how: "VmHWM of the import process, read every 20 ms",
      });
      context.progress(`  takeover: ${(elapsed / 1000).toFixed(1)} s, peak ${peak.toFixed(0)} MiB`);
    } finally {
      await mastodon.drop();
      await dropIslet().catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
  },
};

/** The owner `bench` with STATUSES posts a minute apart, written with generate_series. */
export async function fillMastodon(m: Awaited<ReturnType<typeof createMastodonDatabase>>, origin: string): Promise<void> {
  const sql = m.sql;
  const keys = mastodonKeyPair();
  const startMs = Date.now() - (STATUSES + 10) * 60_000;
  const ownerId = (BigInt(startMs) << 16n).toString();
  await sql`INSERT INTO accounts (id, username, private_key, public_key, created_at, display_name, note, discoverable)
    VALUES (${ownerId}, 'bench', ${keys.privatePem}, ${keys.publicPem}, now(), 'Bench', 'A bench account #bench', true)`;
  await sql`INSERT INTO users (email, account_id) VALUES ('bench@example.com', ${ownerId})`;
  await sql`INSERT INTO accounts (id, username, domain, uri, url, inbox_url, shared_inbox_url, created_at)
    SELECT ${ownerId}::bigint + g, 'follower' || g, 'f' || (g % 10) || '.example', 'https://f' || (g % 10) || '.example/users/follower' || g,
      'https://f' || (g % 10) || '.example/@follower' || g, 'https://f' || (g % 10) || '.example/users/follower' || g || '/inbox',
      'https://f' || (g % 10) || '.example/inbox', now()
    FROM generate_series(1, ${FOLLOWERS}) g`;
  await sql`INSERT INTO follows (account_id, target_account_id, uri) SELECT ${ownerId}::bigint + g, ${ownerId}, 'https://f.example/follows/' || g FROM generate_series(1, ${FOLLOWERS}) g`;
  await sql`INSERT INTO statuses (id, uri, text, created_at, updated_at, account_id, visibility, local, language)
    SELECT ((${startMs}::bigint + g * 60000) << 16), ${origin} || '/users/bench/statuses/' || ((${startMs}::bigint + g * 60000) << 16),
      'Post number ' || g || ', about #bench and https://example.com/' || g, to_timestamp((${startMs}::bigint + g * 60000) / 1000.0),
      to_timestamp((${startMs}::bigint + g * 60000) / 1000.0), ${ownerId}, (g % 4 = 0)::int, true, 'en'
    FROM generate_series(1, ${STATUSES}) g`;
  await sql`INSERT INTO status_stats (status_id, favourites_count) SELECT id, 1 FROM statuses`;
  await sql`INSERT INTO tags (name) VALUES ('bench')`;
  await sql`INSERT INTO statuses_tags (status_id, tag_id) SELECT id, (SELECT id FROM tags) FROM statuses`;
  const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#336699" } }).jpeg().toBuffer();
  const withMedia = await sql`SELECT id FROM statuses ORDER BY id`;
  for (let i = 0; i < withMedia.length; i += 10) {
    const statusId = BigInt(withMedia[i]!.id);
    const mediaId = statusId + 1n;
    writePaperclipFile(m.mediaDir, "media_attachments", "files", mediaId, "original", "photo.jpg", image);
    writePaperclipFile(m.mediaDir, "media_attachments", "files", mediaId, "small", "photo.jpg", image);
    await sql`INSERT INTO media_attachments (id, status_id, account_id, file_file_name, file_content_type, file_file_size, type, created_at, description)
      VALUES (${mediaId.toString()}, ${statusId.toString()}, ${ownerId}, 'photo.jpg', 'image/jpeg', ${image.length}, 0, now(), 'a blue rectangle')`;
  }
  const [list] = await sql`INSERT INTO lists (account_id, title) VALUES (${ownerId}, 'Followers') RETURNING id`;
  await sql`INSERT INTO list_accounts (list_id, account_id) SELECT ${list!.id}, ${ownerId}::bigint + g FROM generate_series(1, 20) g`;
  await sql`INSERT INTO custom_filters (account_id, phrase, context) VALUES (${ownerId}, 'Spoilers', ARRAY['home'])`;
  await sql`INSERT INTO blocks (account_id, target_account_id) VALUES (${ownerId}, ${ownerId}::bigint + ${FOLLOWERS})`;
}
