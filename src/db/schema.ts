/**
 * The database schema, shared by PGlite and PostgreSQL. Migrations under
 * ./migrations are generated from it by drizzle-kit (`npm run db:generate`).
 * Use nothing newer than PostgreSQL 15.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const id = (name = "id") => bigint(name, { mode: "bigint" });
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export interface ProfileField {
  name: string;
  value: string;
  verifiedAt?: string | null;
}

/** Every actor Islet knows: the owner (domain null) and remote accounts. */
export const accounts = pgTable(
  "accounts",
  {
    id: id().primaryKey(),
    username: text("username").notNull(),
    /** Null for the local owner; the handle's host for remote accounts. */
    domain: text("domain"),
    /** The ActivityPub actor IRI. */
    uri: text("uri").notNull().unique(),
    /** The profile page. */
    url: text("url"),
    actorType: text("actor_type").notNull().default("Person"),
    displayName: text("display_name").notNull().default(""),
    /** Biography as HTML. */
    note: text("note").notNull().default(""),
    /** The owner's: a `/system/` URL here. A remote account's: the picture on its server, never shown to clients as such. */
    avatarUrl: text("avatar_url"),
    headerUrl: text("header_url"),
    /** Alt text of the avatar and the header (Mastodon's `avatar_description`, `header_description`). */
    avatarDescription: text("avatar_description").notNull().default(""),
    headerDescription: text("header_description").notNull().default(""),
    /**
     * A remote account's avatar in the media cache (src/media/profile-cache.ts):
     * the processed picture's key, a still of an animated one (null when the
     * picture is still), the remote URL it was downloaded from (the copy is
     * current while that equals `avatarUrl`), and when; pruned with the rest
     * of the cache. Null for the owner.
     */
    avatarFileKey: text("avatar_file_key"),
    avatarStaticKey: text("avatar_static_key"),
    avatarFileSource: text("avatar_file_source"),
    avatarCachedAt: timestamp("avatar_cached_at", { withTimezone: true }),
    /** The same for a remote account's header. */
    headerFileKey: text("header_file_key"),
    headerStaticKey: text("header_static_key"),
    headerFileSource: text("header_file_source"),
    headerCachedAt: timestamp("header_cached_at", { withTimezone: true }),
    inboxUrl: text("inbox_url"),
    sharedInboxUrl: text("shared_inbox_url"),
    outboxUrl: text("outbox_url"),
    followersUrl: text("followers_url"),
    followingUrl: text("following_url"),
    featuredUrl: text("featured_url"),
    locked: boolean("locked").notNull().default(false),
    bot: boolean("bot").notNull().default(false),
    discoverable: boolean("discoverable").notNull().default(true),
    indexable: boolean("indexable").notNull().default(false),
    fields: jsonb("fields").$type<ProfileField[]>().notNull().default([]),
    alsoKnownAs: jsonb("also_known_as").$type<string[]>().notNull().default([]),
    movedToAccountId: id("moved_to_account_id"),
    /**
     * Counts: what a remote server reports. For the owner, statusesCount is
     * kept by the core in the transaction of each write that changes it
     * (src/core/account-counters.ts); the owner's follow counts are counted
     * when shown, and these two stay 0.
     */
    followersCount: integer("followers_count").notNull().default(0),
    followingCount: integer("following_count").notNull().default(0),
    statusesCount: integer("statuses_count").notNull().default(0),
    /** The owner's newest status's time (null without any); kept with statusesCount. */
    lastStatusAt: timestamp("last_status_at", { withTimezone: true }),
    publishedAt: timestamp("published_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** When a remote actor document was last fetched. */
    fetchedAt: timestamp("fetched_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("accounts_username_domain_idx").on(sql`lower(${t.username})`, sql`coalesce(${t.domain}, '')`),
    index("accounts_domain_idx").on(t.domain),
  ],
);

/** The owner's login. At most one row, enforced by the database. */
export const users = pgTable(
  "users",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().unique().references(() => accounts.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    locale: text("locale").notNull().default("en"),
    /** A pending password reset: the hash of the emailed token, and when it was sent. */
    resetPasswordTokenHash: text("reset_password_token_hash"),
    resetPasswordSentAt: timestamp("reset_password_sent_at", { withTimezone: true }),
    /** A new address waiting for its confirmation link to be followed: the address, the link's token hash, when it was sent. */
    unconfirmedEmail: text("unconfirmed_email"),
    confirmationTokenHash: text("confirmation_token_hash"),
    confirmationSentAt: timestamp("confirmation_sent_at", { withTimezone: true }),
    /**
     * Two-factor sign-in (TOTP, RFC 6238): the secret sealed under a key
     * from SECRET_KEY_BASE (set while being set up, before `otpEnabledAt`),
     * the last time step a code was accepted for (no replay), and the
     * SHA-256 hashes of the unused recovery codes.
     */
    otpSecret: text("otp_secret"),
    otpEnabledAt: timestamp("otp_enabled_at", { withTimezone: true }),
    otpLastTimeStep: bigint("otp_last_time_step", { mode: "number" }),
    otpRecoveryCodeHashes: text("otp_recovery_code_hashes").array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("users_single_owner_idx").on(sql`(true)`)],
);

/** Key pairs of local accounts, as JWK. */
export const accountKeys = pgTable(
  "account_keys",
  {
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** `RSASSA-PKCS1-v1_5` or `Ed25519`. */
    algorithm: text("algorithm").notNull(),
    privateKey: jsonb("private_key").$type<JsonWebKey>().notNull(),
    publicKey: jsonb("public_key").$type<JsonWebKey>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.algorithm] })],
);

/** A follow between two accounts, in either direction; pending until accepted. */
export const follows = pgTable(
  "follows",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    targetAccountId: id("target_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** The Follow activity's IRI. */
    uri: text("uri").unique(),
    state: text("state", { enum: ["pending", "accepted"] }).notNull().default("pending"),
    showReblogs: boolean("show_reblogs").notNull().default(true),
    notify: boolean("notify").notNull().default(false),
    languages: jsonb("languages").$type<string[] | null>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("follows_account_target_idx").on(t.accountId, t.targetAccountId),
    index("follows_target_idx").on(t.targetAccountId, t.state),
  ],
);

/** Posts, local and remote. */
export const statuses = pgTable(
  "statuses",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    uri: text("uri").notNull().unique(),
    url: text("url"),
    /** Rendered HTML. */
    content: text("content").notNull().default(""),
    /** The source text of a local post. */
    text: text("text"),
    spoilerText: text("spoiler_text").notNull().default(""),
    sensitive: boolean("sensitive").notNull().default(false),
    visibility: text("visibility", { enum: ["public", "unlisted", "private", "direct"] }).notNull().default("public"),
    language: text("language"),
    inReplyToId: id("in_reply_to_id"),
    inReplyToAccountId: id("in_reply_to_account_id"),
    /** A boost: this row is the Announce, the original is `reblogOfId`. */
    reblogOfId: id("reblog_of_id"),
    /** Thread root, shared by every post of one conversation. */
    conversationId: id("conversation_id"),
    /** The OAuth application a local post came from. */
    applicationId: id("application_id"),
    repliesCount: integer("replies_count").notNull().default(0),
    reblogsCount: integer("reblogs_count").notNull().default(0),
    favouritesCount: integer("favourites_count").notNull().default(0),
    /**
     * Who may quote the post with automatic approval: anyone, the author's
     * followers, or nobody but the author. Null for a remote post whose
     * server states no policy.
     */
    quotePolicy: text("quote_policy", { enum: ["public", "followers", "nobody"] }),
    createdAt: createdAt(),
    editedAt: timestamp("edited_at", { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("statuses_account_idx").on(t.accountId, t.id),
    // The newest change to an account's statuses (the profile page's Last-Modified) is one probe.
    index("statuses_account_updated_idx").on(t.accountId, t.updatedAt),
    index("statuses_reply_idx").on(t.inReplyToId),
    index("statuses_reblog_idx").on(t.reblogOfId),
    index("statuses_conversation_idx").on(t.conversationId),
    check("statuses_visibility_check", sql`${t.visibility} in ('public', 'unlisted', 'private', 'direct')`),
  ],
);

/**
 * A post quoting another (FEP-044f, and the older quoteUrl forms): one per
 * quoting post. `state` follows Mastodon's Quote entity; the quoted post's
 * author approves a quote with a QuoteAuthorization stamp at
 * `authorizationUri`, which `requestUri` (the QuoteRequest) asked for.
 */
export const statusQuotes = pgTable(
  "status_quotes",
  {
    id: id().primaryKey(),
    statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
    quotedStatusId: id("quoted_status_id").references(() => statuses.id, { onDelete: "set null" }),
    quotedUri: text("quoted_uri").notNull(),
    state: text("state", { enum: ["pending", "accepted", "rejected", "revoked", "deleted", "unauthorized"] }).notNull().default("pending"),
    authorizationUri: text("authorization_uri"),
    requestUri: text("request_uri"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("status_quotes_status_idx").on(t.statusId),
    index("status_quotes_quoted_idx").on(t.quotedStatusId, t.state, t.id),
    index("status_quotes_authorization_idx").on(t.authorizationUri),
    index("status_quotes_request_idx").on(t.requestUri),
    check("status_quotes_state_check", sql`${t.state} in ('pending', 'accepted', 'rejected', 'revoked', 'deleted', 'unauthorized')`),
  ],
);

/** Fedify's key–value store. */
export const kvEntries = pgTable(
  "kv_entries",
  {
    key: text("key").array().primaryKey(),
    value: jsonb("value").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
  },
  (t) => [index("kv_entries_expires_idx").on(t.expiresAt)],
);

/** The durable message queue: outgoing deliveries, inbox processing, mail. */
export const queueMessages = pgTable(
  "queue_messages",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    queue: text("queue").notNull().default("default"),
    payload: jsonb("payload").notNull(),
    orderingKey: text("ordering_key"),
    /** Not handed out before this time (delays and retry back-off). */
    availableAt: timestamp("available_at", { withTimezone: true }).notNull().defaultNow(),
    /** Claimed by a consumer until this time; visible again after it. */
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** Set when the message was given up on after its last attempt. */
    failedAt: timestamp("failed_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("queue_messages_ready_idx").on(t.queue, t.availableAt).where(sql`${t.failedAt} is null`),
    index("queue_messages_ordering_idx").on(t.orderingKey, t.id).where(sql`${t.orderingKey} is not null`),
  ],
);

/** Apps registered through POST /api/v1/apps. */
export const oauthApplications = pgTable("oauth_applications", {
  id: id().primaryKey(),
  name: text("name").notNull(),
  website: text("website"),
  redirectUris: text("redirect_uris").array().notNull(),
  /** Space-separated scopes the app may ask for. */
  scopes: text("scopes").notNull(),
  clientId: text("client_id").notNull().unique(),
  clientSecret: text("client_secret").notNull(),
  createdAt: createdAt(),
});

/** Authorization codes; stored hashed, single use, short-lived. */
export const oauthAuthorizationCodes = pgTable("oauth_authorization_codes", {
  codeHash: text("code_hash").primaryKey(),
  applicationId: id("application_id").notNull().references(() => oauthApplications.id, { onDelete: "cascade" }),
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  scopes: text("scopes").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge"),
  codeChallengeMethod: text("code_challenge_method"),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
  createdAt: createdAt(),
});

/** Access tokens; stored hashed. `accountId` is null for client credentials. */
export const oauthTokens = pgTable(
  "oauth_tokens",
  {
    id: id().primaryKey(),
    tokenHash: text("token_hash").notNull().unique(),
    applicationId: id("application_id").notNull().references(() => oauthApplications.id, { onDelete: "cascade" }),
    accountId: id("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    scopes: text("scopes").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("oauth_tokens_application_idx").on(t.applicationId)],
);

/** Browser sessions of the owner (sign-in on the authorize page); stored hashed. */
export const webSessions = pgTable("web_sessions", {
  idHash: text("id_hash").primaryKey(),
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  userAgent: text("user_agent"),
  ip: text("ip"),
  createdAt: createdAt(),
  /** Updated at most once a minute while the session is used. */
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});

export interface MediaMeta {
  original?: { width?: number; height?: number; size?: string; aspect?: number; duration?: number; frame_rate?: string; bitrate?: number };
  small?: { width: number; height: number; size: string; aspect: number };
  focus?: { x: number; y: number };
  [key: string]: unknown;
}

/** Uploaded and remote media. Files live under DATA_DIR/media. */
export const mediaAttachments = pgTable(
  "media_attachments",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    statusId: id("status_id").references(() => statuses.id, { onDelete: "set null" }),
    type: text("type", { enum: ["image", "gifv", "video", "audio", "unknown"] }).notNull(),
    contentType: text("content_type").notNull(),
    /** Path of the original below the media root; null for an uncached remote file. */
    fileKey: text("file_key"),
    fileSize: integer("file_size"),
    previewKey: text("preview_key"),
    remoteUrl: text("remote_url"),
    description: text("description"),
    focusX: real("focus_x"),
    focusY: real("focus_y"),
    blurhash: text("blurhash"),
    meta: jsonb("meta").$type<MediaMeta>().notNull().default({}),
    position: integer("position").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("media_attachments_status_idx").on(t.statusId), index("media_attachments_account_idx").on(t.accountId, t.id)],
);

export const mentions = pgTable(
  "mentions",
  {
    id: id().primaryKey(),
    statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    silent: boolean("silent").notNull().default(false),
  },
  (t) => [uniqueIndex("mentions_status_account_idx").on(t.statusId, t.accountId), index("mentions_account_idx").on(t.accountId, t.statusId)],
);

export const tags = pgTable("tags", {
  id: id().primaryKey(),
  /** Lower-cased, for lookups. */
  name: text("name").notNull().unique(),
  displayName: text("display_name").notNull(),
  createdAt: createdAt(),
});

export const statusTags = pgTable(
  "status_tags",
  {
    statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
    tagId: id("tag_id").notNull().references(() => tags.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.statusId, t.tagId] }), index("status_tags_tag_idx").on(t.tagId, t.statusId)],
);

/** A status and an account, once: favourites, bookmarks and pins share this shape. */
const accountStatusTable = (name: string) =>
  pgTable(
    name,
    {
      id: id().primaryKey(),
      accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
      statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
      /** The Like activity, for favourites. */
      uri: text("uri"),
      createdAt: createdAt(),
    },
    (t) => [uniqueIndex(`${name}_account_status_idx`).on(t.accountId, t.statusId), index(`${name}_status_idx`).on(t.statusId)],
  );

export const favourites = accountStatusTable("favourites");
export const bookmarks = accountStatusTable("bookmarks");
export const statusPins = accountStatusTable("status_pins");

/** Earlier versions of edited statuses. */
export const statusEdits = pgTable(
  "status_edits",
  {
    id: id().primaryKey(),
    statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    content: text("content").notNull(),
    spoilerText: text("spoiler_text").notNull().default(""),
    sensitive: boolean("sensitive").notNull().default(false),
    mediaAttachmentIds: jsonb("media_attachment_ids").$type<string[]>().notNull().default([]),
    /** The attachments' descriptions as they were in this version. */
    mediaDescriptions: jsonb("media_descriptions").$type<(string | null)[] | null>(),
    pollOptions: jsonb("poll_options").$type<string[] | null>(),
    createdAt: createdAt(),
  },
  (t) => [index("status_edits_status_idx").on(t.statusId, t.id)],
);

export const polls = pgTable("polls", {
  id: id().primaryKey(),
  statusId: id("status_id").notNull().unique().references(() => statuses.id, { onDelete: "cascade" }),
  expiresAt: timestamp("expires_at", { withTimezone: true }),
  multiple: boolean("multiple").notNull().default(false),
  hideTotals: boolean("hide_totals").notNull().default(false),
  options: jsonb("options").$type<string[]>().notNull(),
  /** Votes per option; for remote polls, what their server reported. */
  votesCounts: jsonb("votes_counts").$type<number[]>().notNull(),
  votersCount: integer("voters_count"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const pollVotes = pgTable(
  "poll_votes",
  {
    id: id().primaryKey(),
    pollId: id("poll_id").notNull().references(() => polls.id, { onDelete: "cascade" }),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    choice: integer("choice").notNull(),
    uri: text("uri"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("poll_votes_unique_idx").on(t.pollId, t.accountId, t.choice)],
);

export const notifications = pgTable(
  "notifications",
  {
    id: id().primaryKey(),
    /** Who is notified: the owner. */
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    fromAccountId: id("from_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    statusId: id("status_id").references(() => statuses.id, { onDelete: "cascade" }),
    reportId: id("report_id"),
    /** Notifications of one kind about one thing share it (grouped notifications). */
    groupKey: text("group_key").notNull(),
    filtered: boolean("filtered").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index("notifications_account_idx").on(t.accountId, t.id), index("notifications_group_idx").on(t.accountId, t.groupKey, t.id)],
);

/** Blocks and mutes between accounts. */
export const blocks = pgTable(
  "blocks",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    targetAccountId: id("target_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    uri: text("uri"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("blocks_account_target_idx").on(t.accountId, t.targetAccountId), index("blocks_target_idx").on(t.targetAccountId)],
);

export const mutes = pgTable(
  "mutes",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    targetAccountId: id("target_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    hideNotifications: boolean("hide_notifications").notNull().default(true),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("mutes_account_target_idx").on(t.accountId, t.targetAccountId)],
);

/** Accounts the owner features on its profile (Mastodon's endorsements, "featured profiles"). */
export const accountEndorsements = pgTable(
  "account_endorsements",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    targetAccountId: id("target_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("account_endorsements_account_target_idx").on(t.accountId, t.targetAccountId)],
);

export const accountNotes = pgTable(
  "account_notes",
  {
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    targetAccountId: id("target_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    comment: text("comment").notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.targetAccountId] })],
);

export const lists = pgTable("lists", {
  id: id().primaryKey(),
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  title: text("title").notNull(),
  repliesPolicy: text("replies_policy", { enum: ["followed", "list", "none"] }).notNull().default("list"),
  exclusive: boolean("exclusive").notNull().default(false),
  createdAt: createdAt(),
});

export const listAccounts = pgTable(
  "list_accounts",
  {
    listId: id("list_id").notNull().references(() => lists.id, { onDelete: "cascade" }),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.listId, t.accountId] }), index("list_accounts_account_idx").on(t.accountId)],
);

export const markers = pgTable(
  "markers",
  {
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    timeline: text("timeline", { enum: ["home", "notifications"] }).notNull(),
    lastReadId: text("last_read_id").notNull(),
    version: integer("version").notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.timeline] })],
);

export const filters = pgTable("filters", {
  id: id().primaryKey(),
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  title: text("title").notNull(),
  context: text("context").array().notNull(),
  filterAction: text("filter_action", { enum: ["warn", "hide", "blur"] }).notNull().default("warn"),
  expiresAt: timestamp("expires_at", { withTimezone: true }),
  createdAt: createdAt(),
});

export const filterKeywords = pgTable("filter_keywords", {
  id: id().primaryKey(),
  filterId: id("filter_id").notNull().references(() => filters.id, { onDelete: "cascade" }),
  keyword: text("keyword").notNull(),
  wholeWord: boolean("whole_word").notNull().default(true),
});

export const filterStatuses = pgTable("filter_statuses", {
  id: id().primaryKey(),
  filterId: id("filter_id").notNull().references(() => filters.id, { onDelete: "cascade" }),
  statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
});

export const tagFollows = pgTable(
  "tag_follows",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    tagId: id("tag_id").notNull().references(() => tags.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("tag_follows_account_tag_idx").on(t.accountId, t.tagId)],
);

export const featuredTags = pgTable(
  "featured_tags",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    tagId: id("tag_id").notNull().references(() => tags.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("featured_tags_account_tag_idx").on(t.accountId, t.tagId)],
);

/** Conversations the owner muted (no notifications from their replies). */
export const conversationMutes = pgTable(
  "conversation_mutes",
  {
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    conversationId: id("conversation_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.conversationId] })],
);

/** Direct-message conversations as the owner sees them. */
export const accountConversations = pgTable(
  "account_conversations",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    conversationId: id("conversation_id").notNull(),
    participantIds: jsonb("participant_ids").$type<string[]>().notNull().default([]),
    lastStatusId: id("last_status_id"),
    unread: boolean("unread").notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("account_conversations_unique_idx").on(t.accountId, t.conversationId)],
);

export const scheduledStatuses = pgTable(
  "scheduled_statuses",
  {
    id: id().primaryKey(),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }).notNull(),
    params: jsonb("params").$type<Record<string, unknown>>().notNull(),
    mediaAttachmentIds: jsonb("media_attachment_ids").$type<string[]>().notNull().default([]),
    createdAt: createdAt(),
  },
  (t) => [index("scheduled_statuses_due_idx").on(t.scheduledAt)],
);

/** Domains the owner hides (Mastodon's user-level domain blocks). */
export const userDomainBlocks = pgTable(
  "user_domain_blocks",
  {
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    domain: text("domain").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.domain] })],
);

/** Domains this server refuses to federate with (`islet domain block`). */
export const domainBlocks = pgTable("domain_blocks", {
  domain: text("domain").primaryKey(),
  severity: text("severity", { enum: ["suspend", "silence"] }).notNull().default("suspend"),
  comment: text("comment"),
  createdAt: createdAt(),
});

export const reports = pgTable("reports", {
  id: id().primaryKey(),
  /** Who reported: the owner, or a remote account (incoming Flag). */
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  targetAccountId: id("target_account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  statusIds: jsonb("status_ids").$type<string[]>().notNull().default([]),
  ruleIds: jsonb("rule_ids").$type<string[]>().notNull().default([]),
  comment: text("comment").notNull().default(""),
  category: text("category").notNull().default("other"),
  forwarded: boolean("forwarded").notNull().default(false),
  uri: text("uri"),
  actionTakenAt: timestamp("action_taken_at", { withTimezone: true }),
  createdAt: createdAt(),
});

/**
 * Web Push subscriptions, one per access token (Mastodon's model): where to
 * send, the browser's keys, and which notifications it wants.
 */
export const pushSubscriptions = pgTable("push_subscriptions", {
  id: id().primaryKey(),
  accessTokenId: id("access_token_id").notNull().unique().references(() => oauthTokens.id, { onDelete: "cascade" }),
  endpoint: text("endpoint").notNull(),
  /** The user agent's P-256 public key and auth secret, base64url. */
  p256dh: text("p256dh").notNull(),
  auth: text("auth").notNull(),
  /** Notification types switched on, e.g. `{ "mention": true }`. */
  alerts: jsonb("alerts").$type<Record<string, boolean>>().notNull().default({}),
  policy: text("policy", { enum: ["all", "followed", "follower", "none"] }).notNull().default("all"),
  /** RFC 8291 (aes128gcm) when true; the older aesgcm draft otherwise. */
  standard: boolean("standard").notNull().default(false),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Emoji reactions to statuses (EmojiReact, as Misskey and Pleroma send them). */
export const statusReactions = pgTable(
  "status_reactions",
  {
    id: id().primaryKey(),
    statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
    accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** A Unicode emoji, or a custom emoji's `:shortcode:`. */
    name: text("name").notNull(),
    /** A custom emoji's image. */
    emojiUrl: text("emoji_url"),
    uri: text("uri").unique(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("status_reactions_unique_idx").on(t.statusId, t.accountId, t.name)],
);

/**
 * Domains whose inboxes stopped answering. Deliveries to them are skipped
 * until `retryAt`; a successful delivery or any activity from the domain
 * clears the row.
 */
export const unreachableDomains = pgTable("unreachable_domains", {
  domain: text("domain").primaryKey(),
  failures: integer("failures").notNull().default(1),
  firstFailedAt: timestamp("first_failed_at", { withTimezone: true }).notNull().defaultNow(),
  lastFailedAt: timestamp("last_failed_at", { withTimezone: true }).notNull().defaultNow(),
  retryAt: timestamp("retry_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A CSV import in one of Mastodon's export formats (Mastodon's
 * `bulk_imports`): its rows are worked through on the "imports" queue.
 */
export const bulkImports = pgTable("bulk_imports", {
  id: id().primaryKey(),
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  /** following, blocking, muting, domain_blocking, bookmarks or lists. */
  type: text("type").notNull(),
  overwrite: boolean("overwrite").notNull().default(false),
  /** scheduled, in_progress or finished. */
  state: text("state").notNull().default("scheduled"),
  originalFilename: text("original_filename"),
  totalItems: integer("total_items").notNull().default(0),
  createdAt: createdAt(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
});

/** One row of a CSV import, with its outcome once worked. */
export const bulkImportRows = pgTable(
  "bulk_import_rows",
  {
    id: id().primaryKey(),
    bulkImportId: id("bulk_import_id").notNull().references(() => bulkImports.id, { onDelete: "cascade" }),
    /** The row's position in the file, from 1. */
    line: integer("line").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    /** null while waiting; imported or failed once worked. */
    outcome: text("outcome"),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [index("bulk_import_rows_import_idx").on(t.bulkImportId, t.outcome)],
);

/**
 * An account archive uploaded on the settings pages, imported by the
 * "archive_imports" queue's worker: the file waits under DATA_DIR until
 * the import ends (finished or failed), then it is deleted.
 */
export const archiveImports = pgTable("archive_imports", {
  id: id().primaryKey(),
  accountId: id("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  /** scheduled, in_progress, finished or failed. */
  state: text("state").notNull().default("scheduled"),
  originalFilename: text("original_filename"),
  /** The uploaded file while it waits or is read; null once deleted. */
  filePath: text("file_path"),
  size: bigint("size", { mode: "number" }).notNull().default(0),
  /** The file being read and how far: { file, bytesRead, totalBytes }. */
  progress: jsonb("progress").$type<{ file: string; bytesRead: number; totalBytes: number }>(),
  /** The import's counts and skipped items once finished. */
  report: jsonb("report").$type<Record<string, unknown>>(),
  /** Why the import failed. */
  error: text("error"),
  attempts: integer("attempts").notNull().default(0),
  createdAt: createdAt(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
});

/**
 * Posts taken from an account archive (`islet import archive`): the IRI
 * they had in the archive and the status they became, so that replies find
 * their parents and a second run skips what the first stored.
 */
export const importedStatuses = pgTable("imported_statuses", {
  originalUri: text("original_uri").primaryKey(),
  statusId: id("status_id").notNull().references(() => statuses.id, { onDelete: "cascade" }),
  createdAt: createdAt(),
});
