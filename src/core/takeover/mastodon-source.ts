/**
 * Reading a stopped Mastodon's PostgreSQL database (4.2 to 4.5): the one
 * account being taken over and everything around it. Columns that not every
 * version has are looked up in information_schema and read only when there.
 * Nothing is written to the Mastodon database.
 */
import postgres from "postgres";
import { CoreError } from "../context.ts";

type Row = Record<string, unknown>;

export interface MastodonSource {
  /** The owner's account and user rows joined (`user_*` for the user's columns). */
  owner: Row;
  /** Remote (and other local) accounts referenced by anything read, by id. */
  accounts: Map<string, Row>;
  /** The owner's statuses, not deleted; oldest first. */
  statuses: Row[];
  /** Other accounts' statuses the owner replied to, boosted, favourited or bookmarked. */
  referencedStatuses: Row[];
  media: Row[];
  polls: Row[];
  edits: Row[];
  mentions: Row[];
  statusTags: Row[];
  pins: Row[];
  favourites: Row[];
  bookmarks: Row[];
  follows: Row[];
  followRequests: Row[];
  blocks: Row[];
  mutes: Row[];
  domainBlocks: Row[];
  lists: Row[];
  listAccounts: Row[];
  filters: Row[];
  filterKeywords: Row[];
  filterStatuses: Row[];
  markers: Row[];
  tagFollows: Row[];
  featuredTags: Row[];
  accountNotes: Row[];
  aliases: Row[];
  /** The server's own domain blocks (Mastodon's admin blocks). */
  serverDomainBlocks: Row[];
  /** Things there that Islet does not take over, counted: `{ "scheduled posts": 2 }`. */
  leftBehind: Record<string, number>;
}

/** Reads the account `username` and what belongs to it. */
export async function readMastodon(databaseUrl: string, username: string): Promise<MastodonSource> {
  let sql: postgres.Sql;
  try {
    sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  } catch (error) {
    throw new CoreError("invalid", `not a PostgreSQL URL: ${(error as Error).message}`);
  }
  try {
    try {
      await sql`SELECT 1`;
    } catch (error) {
      throw new CoreError("invalid", `cannot connect to the Mastodon database (${(error as Error).message})`);
    }
    const columnRows = await sql<{ table_name: string; column_name: string }[]>`
      SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`;
    const columns = new Map<string, Set<string>>();
    for (const row of columnRows) {
      if (!columns.has(row.table_name)) columns.set(row.table_name, new Set());
      columns.get(row.table_name)!.add(row.column_name);
    }
    for (const table of ["accounts", "users", "statuses", "follows"]) {
      if (!columns.has(table)) throw new CoreError("invalid", `this database has no ${table} table: is it Mastodon's?`);
    }
    const has = (table: string, column?: string) => column == null ? columns.has(table) : columns.get(table)?.has(column) === true;
    /** `name`, or `fallback AS name` when the column is missing. */
    const col = (table: string, alias: string, name: string, fallback = "NULL") =>
      has(table, name) ? `${alias}.${name}` : `${fallback} AS ${name}`;
    const all = async (table: string, query: string, params: unknown[] = []): Promise<Row[]> =>
      has(table) ? [...await sql.unsafe(query, params as never[])] as Row[] : [];

    const accountColumns = (a: string) => [
      "id", "username", "domain", "private_key", "public_key", "note", "display_name", "uri", "url",
      "avatar_file_name", "avatar_remote_url", "header_file_name", "header_remote_url", "locked",
      "inbox_url", "outbox_url", "shared_inbox_url", "followers_url", "featured_collection_url",
      "fields", "actor_type", "discoverable", "also_known_as", "suspended_at", "moved_to_account_id",
      "created_at", "memorial",
    ].map((c) => `${a}.${c}`).concat([
      col("accounts", a, "following_url"),
      col("accounts", a, "indexable", "false"),
      col("accounts", a, "hide_collections"),
    ]).join(", ");

    const owners = await sql.unsafe(
      `SELECT ${accountColumns("a")}, u.id AS user_id, u.email AS user_email, ${col("users", "u", "locale")} , ${col("users", "u", "settings")}
       FROM accounts a JOIN users u ON u.account_id = a.id
       WHERE a.domain IS NULL AND lower(a.username) = lower($1)`,
      [username],
    ) as Row[];
    const owner = owners[0];
    if (owner == null) throw new CoreError("not_found", `no local account @${username} in this Mastodon database`);
    const ownerId = String(owner.id);

    const visibleStatus = `s.deleted_at IS NULL`;
    const statusColumns = (s: string) => [
      "id", "uri", "url", "text", "created_at", "updated_at", "in_reply_to_id", "reblog_of_id", "sensitive",
      "visibility", "spoiler_text", "language", "conversation_id", "local", "account_id", "in_reply_to_account_id",
      "edited_at", "ordered_media_attachment_ids",
    ].map((c) => `${s}.${c}`).join(", ");
    const stats = has("status_stats")
      ? `, coalesce(st.replies_count, 0) AS replies_count, coalesce(st.reblogs_count, 0) AS reblogs_count, coalesce(st.favourites_count, 0) AS favourites_count`
      : `, 0 AS replies_count, 0 AS reblogs_count, 0 AS favourites_count`;
    const statsJoin = has("status_stats") ? `LEFT JOIN status_stats st ON st.status_id = s.id` : "";
    const statuses = await sql.unsafe(
      `SELECT ${statusColumns("s")}${stats} FROM statuses s ${statsJoin} WHERE s.account_id = $1 AND ${visibleStatus} ORDER BY s.id`,
      [ownerId],
    ) as Row[];

    const favourites = await all("favourites", `SELECT id, status_id, created_at FROM favourites WHERE account_id = $1 ORDER BY id`, [ownerId]);
    const bookmarks = await all("bookmarks", `SELECT id, status_id, created_at FROM bookmarks WHERE account_id = $1 ORDER BY id`, [ownerId]);
    const own = new Set(statuses.map((s) => String(s.id)));
    const referencedIds = new Set<string>();
    for (const s of statuses) {
      for (const ref of [s.in_reply_to_id, s.reblog_of_id]) if (ref != null && !own.has(String(ref))) referencedIds.add(String(ref));
    }
    for (const row of [...favourites, ...bookmarks]) if (!own.has(String(row.status_id))) referencedIds.add(String(row.status_id));
    const referencedStatuses = referencedIds.size === 0 ? [] : await sql.unsafe(
      `SELECT ${statusColumns("s")}${stats} FROM statuses s ${statsJoin} WHERE s.id = ANY($1::bigint[]) AND ${visibleStatus} ORDER BY s.id`,
      [[...referencedIds]],
    ) as Row[];
    const ownIds = [...own];
    const referencedList = referencedStatuses.map((s) => String(s.id));
    const mediaFor = [...ownIds, ...referencedList];

    const media = await all("media_attachments",
      `SELECT id, status_id, account_id, file_file_name, file_content_type, file_file_size, remote_url, type, file_meta::text AS file_meta,
              description, blurhash, created_at
       FROM media_attachments WHERE status_id = ANY($1::bigint[]) ORDER BY id`, [mediaFor]);
    const polls = await all("polls",
      `SELECT id, status_id, expires_at, options, cached_tallies, multiple, hide_totals, votes_count, ${col("polls", "polls", "voters_count")}, created_at
       FROM polls WHERE status_id = ANY($1::bigint[])`, [mediaFor]);
    const edits = await all("status_edits",
      `SELECT id, status_id, text, spoiler_text, created_at, ordered_media_attachment_ids, media_descriptions, poll_options, ${col("status_edits", "status_edits", "sensitive")}
       FROM status_edits WHERE status_id = ANY($1::bigint[]) ORDER BY id`, [ownIds]);
    const mentions = await all("mentions", `SELECT id, status_id, account_id, silent FROM mentions WHERE status_id = ANY($1::bigint[])`, [ownIds]);
    const statusTags = has("tags") && has("statuses_tags")
      ? [...await sql.unsafe(`SELECT st.status_id, t.name, ${col("tags", "t", "display_name")} FROM statuses_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = ANY($1::bigint[])`, [ownIds] as never[])] as Row[]
      : [];
    const pins = await all("status_pins", `SELECT id, status_id, created_at FROM status_pins WHERE account_id = $1`, [ownerId]);
    const follows = await all("follows",
      `SELECT id, account_id, target_account_id, uri, show_reblogs, notify, ${col("follows", "follows", "languages")}, created_at
       FROM follows WHERE account_id = $1 OR target_account_id = $1 ORDER BY id`, [ownerId]);
    const followRequests = await all("follow_requests",
      `SELECT id, account_id, target_account_id, uri, show_reblogs, notify, ${col("follow_requests", "follow_requests", "languages")}, created_at
       FROM follow_requests WHERE account_id = $1 OR target_account_id = $1 ORDER BY id`, [ownerId]);
    const blocks = await all("blocks", `SELECT id, account_id, target_account_id, uri, created_at FROM blocks WHERE account_id = $1 OR target_account_id = $1`, [ownerId]);
    const mutes = await all("mutes", `SELECT id, target_account_id, hide_notifications, expires_at, created_at FROM mutes WHERE account_id = $1`, [ownerId]);
    const domainBlocks = await all("account_domain_blocks", `SELECT domain, created_at FROM account_domain_blocks WHERE account_id = $1`, [ownerId]);
    const lists = await all("lists",
      `SELECT id, title, replies_policy, ${col("lists", "lists", "exclusive", "false")}, created_at FROM lists WHERE account_id = $1 ORDER BY id`, [ownerId]);
    const listAccounts = await all("list_accounts",
      `SELECT la.list_id, la.account_id FROM list_accounts la JOIN lists l ON l.id = la.list_id WHERE l.account_id = $1`, [ownerId]);
    const filters = await all("custom_filters",
      `SELECT id, phrase, context, expires_at, ${col("custom_filters", "custom_filters", "action", "0")}, created_at FROM custom_filters WHERE account_id = $1 ORDER BY id`, [ownerId]);
    const filterIds = filters.map((f) => String(f.id));
    const filterKeywords = await all("custom_filter_keywords",
      `SELECT id, custom_filter_id, keyword, whole_word FROM custom_filter_keywords WHERE custom_filter_id = ANY($1::bigint[]) ORDER BY id`, [filterIds]);
    const filterStatuses = await all("custom_filter_statuses",
      `SELECT id, custom_filter_id, status_id FROM custom_filter_statuses WHERE custom_filter_id = ANY($1::bigint[])`, [filterIds]);
    const markers = await all("markers", `SELECT timeline, last_read_id, lock_version, updated_at FROM markers WHERE user_id = $1`, [String(owner.user_id)]);
    const tagFollows = has("tags") ? await all("tag_follows",
      `SELECT tf.id, t.name, ${col("tags", "t", "display_name")}, tf.created_at FROM tag_follows tf JOIN tags t ON t.id = tf.tag_id WHERE tf.account_id = $1`, [ownerId]) : [];
    const featuredTags = has("tags") ? await all("featured_tags",
      `SELECT ft.id, t.name, ${col("tags", "t", "display_name")}, ft.created_at FROM featured_tags ft JOIN tags t ON t.id = ft.tag_id WHERE ft.account_id = $1`, [ownerId]) : [];
    const accountNotes = await all("account_notes", `SELECT target_account_id, comment, updated_at FROM account_notes WHERE account_id = $1`, [ownerId]);
    const aliases = await all("account_aliases", `SELECT uri FROM account_aliases WHERE account_id = $1`, [ownerId]);
    const serverDomainBlocks = await all("domain_blocks",
      `SELECT domain, severity, ${col("domain_blocks", "domain_blocks", "private_comment")}, created_at FROM domain_blocks ORDER BY id`);

    // Every account something above points at.
    const accountIds = new Set<string>();
    const add = (value: unknown) => {
      if (value != null && String(value) !== ownerId) accountIds.add(String(value));
    };
    for (const s of statuses) add(s.in_reply_to_account_id);
    for (const s of referencedStatuses) add(s.account_id);
    for (const m of mentions) add(m.account_id);
    for (const f of [...follows, ...followRequests, ...blocks]) {
      add(f.account_id);
      add(f.target_account_id);
    }
    for (const m of mutes) add(m.target_account_id);
    for (const l of listAccounts) add(l.account_id);
    for (const n of accountNotes) add(n.target_account_id);
    const accountRows = accountIds.size === 0 ? [] : await sql.unsafe(
      `SELECT ${accountColumns("a")} FROM accounts a WHERE a.id = ANY($1::bigint[])`,
      [[...accountIds]],
    ) as Row[];

    const leftBehind: Record<string, number> = {};
    const count = async (label: string, table: string, where: string) => {
      if (!has(table)) return;
      const [row] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, [ownerId]);
      if (row != null && Number(row.n) > 0) leftBehind[label] = Number(row.n);
    };
    await count("notifications", "notifications", "account_id = $1");
    await count("scheduled posts", "scheduled_statuses", "account_id = $1");
    await count("authorized apps (sign in again)", "oauth_access_tokens", `resource_owner_id = (SELECT id FROM users WHERE account_id = $1) AND revoked_at IS NULL`);
    await count("endorsed accounts", "account_pins", "account_id = $1");
    await count("conversation mutes", "conversation_mutes", "account_id = $1");
    await count("favourites of the owner's posts by others", "favourites", "status_id IN (SELECT id FROM statuses WHERE account_id = $1) AND account_id <> $1");
    await count("boosts of the owner's posts by others", "statuses", "reblog_of_id IN (SELECT id FROM statuses WHERE account_id = $1) AND account_id <> $1");
    await count("quote links of posts (their text stays)", "quotes", "account_id = $1");
    await count("poll votes", "poll_votes", "poll_id IN (SELECT id FROM polls WHERE account_id = $1)");

    return {
      owner,
      accounts: new Map(accountRows.map((row) => [String(row.id), row])),
      statuses,
      referencedStatuses,
      media,
      polls,
      edits,
      mentions,
      statusTags,
      pins,
      favourites,
      bookmarks,
      follows,
      followRequests,
      blocks,
      mutes,
      domainBlocks,
      lists,
      listAccounts,
      filters,
      filterKeywords,
      filterStatuses,
      markers,
      tagFollows,
      featuredTags,
      accountNotes,
      aliases,
      serverDomainBlocks,
      leftBehind,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
