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
    avatarUrl: text("avatar_url"),
    headerUrl: text("header_url"),
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
    /** Counts a remote server reports; local counts are computed. */
    followersCount: integer("followers_count").notNull().default(0),
    followingCount: integer("following_count").notNull().default(0),
    statusesCount: integer("statuses_count").notNull().default(0),
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
    reblogOfId: id("reblog_of_id"),
    createdAt: createdAt(),
    editedAt: timestamp("edited_at", { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("statuses_account_idx").on(t.accountId, t.id),
    check("statuses_visibility_check", sql`${t.visibility} in ('public', 'unlisted', 'private', 'direct')`),
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
