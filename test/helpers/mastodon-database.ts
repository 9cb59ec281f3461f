/**
 * A throwaway Mastodon database for takeover tests: the tables and columns
 * the takeover reads, as Mastodon 4.x's db/schema.rb declares them, on the
 * test PostgreSQL server; and a media folder laid out as Paperclip does.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { idPartition } from "../../src/core/takeover/paperclip.ts";

const TABLES = `
CREATE TABLE accounts (
  id bigint PRIMARY KEY, username varchar NOT NULL DEFAULT '', domain varchar, private_key text, public_key text NOT NULL DEFAULT '',
  created_at timestamp NOT NULL, updated_at timestamp NOT NULL DEFAULT now(), note text NOT NULL DEFAULT '', display_name varchar NOT NULL DEFAULT '',
  uri varchar NOT NULL DEFAULT '', url varchar, avatar_file_name varchar, avatar_remote_url varchar, header_file_name varchar,
  header_remote_url varchar NOT NULL DEFAULT '', locked boolean NOT NULL DEFAULT false, inbox_url varchar NOT NULL DEFAULT '',
  outbox_url varchar NOT NULL DEFAULT '', shared_inbox_url varchar NOT NULL DEFAULT '', followers_url varchar NOT NULL DEFAULT '',
  memorial boolean NOT NULL DEFAULT false, moved_to_account_id bigint, featured_collection_url varchar, fields jsonb, actor_type varchar,
  discoverable boolean, also_known_as varchar[], suspended_at timestamp, hide_collections boolean, indexable boolean NOT NULL DEFAULT false,
  following_url varchar NOT NULL DEFAULT ''
);
CREATE TABLE users (
  id bigserial PRIMARY KEY, email varchar NOT NULL DEFAULT '', created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(),
  encrypted_password varchar NOT NULL DEFAULT '', locale varchar, account_id bigint NOT NULL, settings text
);
CREATE TABLE statuses (
  id bigint PRIMARY KEY, uri varchar, text text NOT NULL DEFAULT '', created_at timestamp NOT NULL, updated_at timestamp NOT NULL,
  in_reply_to_id bigint, reblog_of_id bigint, url varchar, sensitive boolean NOT NULL DEFAULT false, visibility integer NOT NULL DEFAULT 0,
  spoiler_text text NOT NULL DEFAULT '', reply boolean NOT NULL DEFAULT false, language varchar, conversation_id bigint, local boolean,
  account_id bigint NOT NULL, application_id bigint, in_reply_to_account_id bigint, poll_id bigint, deleted_at timestamp, edited_at timestamp,
  ordered_media_attachment_ids bigint[]
);
CREATE TABLE status_stats (
  id bigserial PRIMARY KEY, status_id bigint NOT NULL, replies_count bigint NOT NULL DEFAULT 0, reblogs_count bigint NOT NULL DEFAULT 0,
  favourites_count bigint NOT NULL DEFAULT 0, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE media_attachments (
  id bigint PRIMARY KEY, status_id bigint, file_file_name varchar, file_content_type varchar, file_file_size integer,
  remote_url varchar NOT NULL DEFAULT '', created_at timestamp NOT NULL, updated_at timestamp NOT NULL DEFAULT now(), type integer NOT NULL DEFAULT 0,
  file_meta json, account_id bigint, description text, blurhash varchar
);
CREATE TABLE polls (
  id bigserial PRIMARY KEY, account_id bigint NOT NULL, status_id bigint NOT NULL, expires_at timestamp, options varchar[] NOT NULL DEFAULT '{}',
  cached_tallies bigint[] NOT NULL DEFAULT '{}', multiple boolean NOT NULL DEFAULT false, hide_totals boolean NOT NULL DEFAULT false,
  votes_count bigint NOT NULL DEFAULT 0, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(), voters_count bigint
);
CREATE TABLE status_edits (
  id bigserial PRIMARY KEY, status_id bigint NOT NULL, account_id bigint, text text NOT NULL DEFAULT '', spoiler_text text NOT NULL DEFAULT '',
  created_at timestamp NOT NULL, updated_at timestamp NOT NULL DEFAULT now(), ordered_media_attachment_ids bigint[], media_descriptions text[],
  poll_options varchar[], sensitive boolean
);
CREATE TABLE mentions (id bigserial PRIMARY KEY, status_id bigint NOT NULL, account_id bigint NOT NULL, silent boolean NOT NULL DEFAULT false,
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE tags (id bigserial PRIMARY KEY, name varchar NOT NULL DEFAULT '', display_name varchar,
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE statuses_tags (status_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (tag_id, status_id));
CREATE TABLE status_pins (id bigserial PRIMARY KEY, account_id bigint NOT NULL, status_id bigint NOT NULL, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE favourites (id bigserial PRIMARY KEY, account_id bigint NOT NULL, status_id bigint NOT NULL, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE bookmarks (id bigserial PRIMARY KEY, account_id bigint NOT NULL, status_id bigint NOT NULL, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE follows (id bigserial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(),
  account_id bigint NOT NULL, target_account_id bigint NOT NULL, show_reblogs boolean NOT NULL DEFAULT true, uri varchar,
  notify boolean NOT NULL DEFAULT false, languages varchar[]);
CREATE TABLE follow_requests (id bigserial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(),
  account_id bigint NOT NULL, target_account_id bigint NOT NULL, show_reblogs boolean NOT NULL DEFAULT true, uri varchar,
  notify boolean NOT NULL DEFAULT false, languages varchar[]);
CREATE TABLE blocks (id bigserial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(),
  account_id bigint NOT NULL, target_account_id bigint NOT NULL, uri varchar);
CREATE TABLE mutes (id bigserial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(),
  hide_notifications boolean NOT NULL DEFAULT true, account_id bigint NOT NULL, target_account_id bigint NOT NULL, expires_at timestamp);
CREATE TABLE account_domain_blocks (id bigserial PRIMARY KEY, domain varchar NOT NULL, created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now(), account_id bigint NOT NULL);
CREATE TABLE lists (id bigserial PRIMARY KEY, account_id bigint NOT NULL, title varchar NOT NULL DEFAULT '', created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now(), replies_policy integer NOT NULL DEFAULT 0, exclusive boolean NOT NULL DEFAULT false);
CREATE TABLE list_accounts (id bigserial PRIMARY KEY, list_id bigint NOT NULL, account_id bigint NOT NULL, follow_id bigint);
CREATE TABLE custom_filters (id bigserial PRIMARY KEY, account_id bigint NOT NULL, expires_at timestamp, phrase text NOT NULL DEFAULT '',
  context varchar[] NOT NULL DEFAULT '{}', created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now(), action integer NOT NULL DEFAULT 0);
CREATE TABLE custom_filter_keywords (id bigserial PRIMARY KEY, custom_filter_id bigint NOT NULL, keyword text NOT NULL DEFAULT '',
  whole_word boolean NOT NULL DEFAULT true, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE custom_filter_statuses (id bigserial PRIMARY KEY, custom_filter_id bigint NOT NULL, status_id bigint NOT NULL,
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE markers (id bigserial PRIMARY KEY, user_id bigint NOT NULL, timeline varchar NOT NULL DEFAULT '', last_read_id bigint NOT NULL DEFAULT 0,
  lock_version integer NOT NULL DEFAULT 0, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE tag_follows (id bigserial PRIMARY KEY, tag_id bigint NOT NULL, account_id bigint NOT NULL, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE featured_tags (id bigserial PRIMARY KEY, account_id bigint NOT NULL, tag_id bigint NOT NULL, statuses_count bigint NOT NULL DEFAULT 0,
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE account_notes (id bigserial PRIMARY KEY, account_id bigint NOT NULL, target_account_id bigint NOT NULL, comment text NOT NULL,
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE account_aliases (id bigserial PRIMARY KEY, account_id bigint NOT NULL, acct varchar NOT NULL DEFAULT '', uri varchar NOT NULL DEFAULT '',
  created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE domain_blocks (id bigserial PRIMARY KEY, domain varchar NOT NULL DEFAULT '', created_at timestamp NOT NULL DEFAULT now(),
  updated_at timestamp NOT NULL DEFAULT now(), severity integer DEFAULT 0, reject_media boolean NOT NULL DEFAULT false, private_comment text);
CREATE TABLE notifications (id bigserial PRIMARY KEY, activity_id bigint NOT NULL, activity_type varchar NOT NULL, account_id bigint NOT NULL,
  from_account_id bigint NOT NULL, type varchar, created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp NOT NULL DEFAULT now());
`;

export interface MastodonDatabase {
  url: string;
  sql: postgres.Sql;
  /** The `public/system` folder. */
  mediaDir: string;
  drop(): Promise<void>;
}

/** A new Mastodon database on the server of `adminUrl` (default TEST_DATABASE_URL). */
export async function createMastodonDatabase(adminUrl = process.env.TEST_DATABASE_URL): Promise<MastodonDatabase> {
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `mastodon_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  await sql.unsafe(TABLES);
  const mediaDir = mkdtempSync(join(tmpdir(), "mastodon-system-"));
  return {
    url: url.toString(),
    sql,
    mediaDir,
    async drop() {
      await sql.end();
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

let sequence = 0;
/** A Mastodon snowflake id for a moment. */
export function snowflake(at: Date): bigint {
  sequence = (sequence + 1) & 0xffff;
  return (BigInt(at.getTime()) << 16n) | BigInt(sequence);
}

/** An RSA key pair as Mastodon stores it: PKCS#1 private, SPKI public, PEM. */
export function mastodonKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

/** Writes a file where Paperclip keeps it; returns the path below `public/system`. */
export function writePaperclipFile(mediaDir: string, kind: string, attachment: string, id: bigint, style: string, fileName: string, data: Uint8Array): string {
  const relative = `${kind}/${attachment}/${idPartition(id)}/${style}/${fileName}`;
  mkdirSync(join(mediaDir, relative, ".."), { recursive: true });
  writeFileSync(join(mediaDir, relative), data);
  return relative;
}
