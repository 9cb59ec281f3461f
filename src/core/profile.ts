/**
 * The owner's profile: what update_credentials changes (display name, bio,
 * fields, flags, avatar and header) and the posting preferences that go
 * with it (`source[privacy]`, `source[sensitive]`, `source[language]`).
 *
 * The preferences, the hide-collections flag, the plain-text sources of the
 * bio and the fields, and the still versions of animated pictures have no
 * columns: they are kept as one JSON record in `kv_entries` under
 * `["preferences", accountId]`. Pictures are stored through src/media.
 */
import type { KvKey } from "@fedify/fedify";
import { and, asc, count, desc, eq, exists, gt, isNull, lt, max, or, sql, type SQL } from "drizzle-orm";
import { accounts, mediaAttachments, statusPins, statusTags, statuses, tags } from "../db/schema.ts";
import { DatabaseKvStore } from "../db/kv-store.ts";
import { MediaError, tooLargeMessage } from "../media/errors.ts";
import { MEDIA_LIMITS } from "../media/limits.ts";
import { deleteMediaFiles, keyOfMediaUrl, storageFor, storeImage } from "../media/storage.ts";
import type { Account } from "./accounts.ts";
import { findAccountById } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { htmlToPlainText, type FilterMatch } from "./filters.ts";
import { countFollows } from "./follows.ts";
import { statusVisibleTo } from "./search.ts";
import type { UploadedFile } from "./media.ts";
import { formatStatusText } from "./text.ts";
import { loadFilteredPage, type StatusRow } from "./timelines.ts";
import { filterVisible } from "./visibility.ts";
import { escapeHtml } from "../text/escape-html.ts";

export type Visibility = "public" | "unlisted" | "private" | "direct";

/** Limits of update_credentials, as Mastodon has them. */
export const PROFILE_LIMITS = {
  displayName: 30,
  note: 500,
  fields: 4,
  fieldName: 255,
  fieldValue: 255,
  imageDescription: 1500,
} as const;

/** Defaults for new posts, and what the profile keeps besides its columns. */
export interface Preferences {
  /** Default visibility of new posts. */
  privacy: Visibility;
  /** Whether new posts are marked sensitive by default. */
  sensitive: boolean;
  /** Default language of new posts (ISO 639-1), or null. */
  language: string | null;
  /** Whether the follower and following lists are hidden from others. */
  hideCollections: boolean;
  /** The bio as typed (the `note` column holds its HTML); null when never set here. */
  noteSource: string | null;
  /** The fields as typed (the `fields` column holds the values as HTML); null when never set here. */
  fieldsSource: { name: string; value: string }[] | null;
  /** A still picture of an animated avatar or header (the `*_url` columns hold the originals); null: the original. */
  avatarStaticUrl: string | null;
  headerStaticUrl: string | null;
  /** The profile tabs the owner wants shown: media, replies among media, featured. */
  showMedia: boolean;
  showMediaReplies: boolean;
  showFeatured: boolean;
}

const DEFAULT_PREFERENCES: Preferences = {
  privacy: "public",
  sensitive: false,
  language: null,
  hideCollections: false,
  noteSource: null,
  fieldsSource: null,
  avatarStaticUrl: null,
  headerStaticUrl: null,
  showMedia: true,
  showMediaReplies: true,
  showFeatured: true,
};

const VISIBILITIES: readonly Visibility[] = ["public", "unlisted", "private", "direct"];

function preferencesKey(accountId: bigint): KvKey {
  return ["preferences", accountId.toString()];
}

/** The stored preferences of an account, with defaults for what was never set. */
export async function getPreferences(ctx: CoreContext, accountId: bigint): Promise<Preferences> {
  const stored = await new DatabaseKvStore(ctx.database).get<Partial<Preferences>>(preferencesKey(accountId));
  const merged: Preferences = { ...DEFAULT_PREFERENCES, ...(stored ?? {}) };
  if (!VISIBILITIES.includes(merged.privacy)) merged.privacy = "public";
  return merged;
}

/** What a local account shows beyond its row's counters: follow counts, and its preferences. */
export interface LocalAccountStats {
  statusesCount: number;
  followersCount: number;
  followingCount: number;
  /** When its newest status was posted; null without any. */
  lastStatusAt: Date | null;
  preferences: Preferences;
}

/**
 * A local account's statuses counters (stored on its row, see
 * account-counters.ts), its accepted follows counted, and its preferences.
 */
export async function localAccountStats(ctx: CoreContext, account: Account): Promise<LocalAccountStats> {
  const [followersCount, followingCount, preferences] = await Promise.all([
    countFollows(ctx, account.id, "followers"),
    countFollows(ctx, account.id, "following"),
    getPreferences(ctx, account.id),
  ]);
  return {
    statusesCount: account.statusesCount,
    followersCount,
    followingCount,
    lastStatusAt: account.lastStatusAt,
    preferences,
  };
}

async function savePreferences(ctx: CoreContext, accountId: bigint, preferences: Preferences): Promise<void> {
  await new DatabaseKvStore(ctx.database).set(preferencesKey(accountId), preferences);
}

/** What update_credentials may change; absent members stay as they are. */
export interface ProfileUpdate {
  displayName?: string;
  /** The bio as plain text; rendered to HTML paragraphs. */
  note?: string;
  locked?: boolean;
  bot?: boolean;
  discoverable?: boolean;
  indexable?: boolean;
  hideCollections?: boolean;
  /** Replaces every field; entries with an empty name and value are dropped. */
  fields?: { name: string; value: string }[];
  privacy?: string;
  sensitive?: boolean;
  /** An ISO 639-1 code; null or "" clears it. */
  language?: string | null;
  /** A new avatar (any image; cropped to a square of at most 400x400); null removes it. */
  avatar?: UploadedFile | null;
  /** A new header (any image; cropped to 3:1, at most 1500x500); null removes it. */
  header?: UploadedFile | null;
  /** Alt text of the avatar and the header ("" clears it). */
  avatarDescription?: string;
  headerDescription?: string;
  showMedia?: boolean;
  showMediaReplies?: boolean;
  showFeatured?: boolean;
}

const length = (text: string) => [...text].length;

/** Why an update is unacceptable, or null. */
export function profileUpdateProblem(update: ProfileUpdate): string | null {
  if (update.displayName != null && length(update.displayName) > PROFILE_LIMITS.displayName) {
    return `Display name is too long (maximum is ${PROFILE_LIMITS.displayName} characters)`;
  }
  if (update.note != null && length(update.note) > PROFILE_LIMITS.note) {
    return `Note is too long (maximum is ${PROFILE_LIMITS.note} characters)`;
  }
  if (update.fields != null) {
    const kept = update.fields.filter((field) => field.name.trim() !== "" || field.value.trim() !== "");
    if (kept.length > PROFILE_LIMITS.fields) return `Fields is too long (maximum is ${PROFILE_LIMITS.fields} fields)`;
    for (const field of kept) {
      if (length(field.name) > PROFILE_LIMITS.fieldName) return `Field name is too long (maximum is ${PROFILE_LIMITS.fieldName} characters)`;
      if (length(field.value) > PROFILE_LIMITS.fieldValue) return `Field value is too long (maximum is ${PROFILE_LIMITS.fieldValue} characters)`;
    }
  }
  if (update.privacy != null && !["public", "unlisted", "private"].includes(update.privacy)) {
    return "Default post privacy must be one of public, unlisted, private";
  }
  if (update.language != null && update.language !== "" && !/^[a-z]{2,3}$/i.test(update.language)) {
    return "Default language is not a language code";
  }
  for (const [name, text] of [["Avatar description", update.avatarDescription], ["Header description", update.headerDescription]] as const) {
    if (text != null && length(text) > PROFILE_LIMITS.imageDescription) {
      return `${name} is too long (maximum is ${PROFILE_LIMITS.imageDescription} characters)`;
    }
  }
  return null;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/giu;

/** A link to a URL as Mastodon shows one in a profile field: the scheme hidden, `rel="me"` for verification. */
function linkTo(url: string): string {
  const match = /^(https?:\/\/(?:www\.)?)(.*)$/i.exec(url);
  const prefix = match?.[1] ?? "";
  const rest = match?.[2] ?? url;
  return `<a href="${escapeHtml(url)}" target="_blank" rel="nofollow noopener noreferrer me" translate="no">` +
    `<span class="invisible">${escapeHtml(prefix)}</span><span class="">${escapeHtml(rest)}</span></a>`;
}

/** A profile field value typed as plain text, as HTML: escaped, URLs linked. */
export function fieldValueToHtml(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    html += escapeHtml(text.slice(last, match.index));
    html += linkTo(match[0]);
    last = match.index + match[0].length;
  }
  return html + escapeHtml(text.slice(last));
}

/** The source values update_credentials shows back: the bio and fields as typed. */
export interface ProfileSource {
  note: string;
  fields: { name: string; value: string }[];
}

export async function getProfileSource(ctx: CoreContext, account: Account): Promise<ProfileSource> {
  const preferences = await getPreferences(ctx, account.id);
  return {
    note: preferences.noteSource ?? htmlToPlainText(account.note),
    fields: preferences.fieldsSource ?? account.fields.map((field) => ({ name: field.name, value: htmlToPlainText(field.value) })),
  };
}

/**
 * Updates the profile of a local account and its preferences; emits
 * `account.updated`. Returns the stored account.
 */
export async function updateProfile(ctx: CoreContext, accountId: bigint, update: ProfileUpdate): Promise<Account> {
  const problem = profileUpdateProblem(update);
  if (problem != null) throw new CoreError("invalid", problem);
  const account = await findAccountById(ctx, accountId);
  if (account == null || account.domain != null) throw new CoreError("not_found", "no such local account");

  const values: Partial<typeof accounts.$inferInsert> = {};
  if (update.displayName != null) values.displayName = update.displayName.trim();
  // The bio is rendered as a post is: paragraphs, links, mentions of known accounts, hashtags.
  if (update.note != null) values.note = (await formatStatusText(ctx, update.note)).html;
  if (update.locked != null) values.locked = update.locked;
  if (update.bot != null) values.bot = update.bot;
  if (update.discoverable != null) values.discoverable = update.discoverable;
  if (update.indexable != null) values.indexable = update.indexable;
  if (update.avatarDescription != null) values.avatarDescription = update.avatarDescription.trim();
  if (update.headerDescription != null) values.headerDescription = update.headerDescription.trim();
  let fieldsSource: { name: string; value: string }[] | undefined;
  if (update.fields != null) {
    fieldsSource = update.fields
      .map((field) => ({ name: field.name.trim(), value: field.value.trim() }))
      .filter((field) => field.name !== "" || field.value !== "");
    // A field whose value stays the same keeps its verification (link-verification.ts checks the others).
    values.fields = fieldsSource.map((field) => {
      const value = fieldValueToHtml(field.value);
      const verifiedAt = account.fields.find((old) => old.value === value && old.verifiedAt != null)?.verifiedAt;
      return verifiedAt == null ? { name: field.name, value } : { name: field.name, value, verifiedAt };
    });
  }

  const preferences = await getPreferences(ctx, accountId);
  const next: Preferences = { ...preferences };
  if (update.privacy != null) next.privacy = update.privacy as Visibility;
  if (update.sensitive != null) next.sensitive = update.sensitive;
  if (update.language !== undefined) next.language = update.language == null || update.language === "" ? null : update.language.toLowerCase();
  if (update.hideCollections != null) next.hideCollections = update.hideCollections;
  if (update.note != null) next.noteSource = update.note;
  if (fieldsSource != null) next.fieldsSource = fieldsSource;
  if (update.showMedia != null) next.showMedia = update.showMedia;
  if (update.showMediaReplies != null) next.showMediaReplies = update.showMediaReplies;
  if (update.showFeatured != null) next.showFeatured = update.showFeatured;

  // New pictures are stored first: a bad file fails the whole update.
  const written: string[] = [];
  const replaced: (string | null)[] = [];
  try {
    for (const kind of ["avatar", "header"] as const) {
      const file = update[kind];
      if (file === undefined) continue;
      const column = kind === "avatar" ? "avatarUrl" : "headerUrl";
      const staticKey = kind === "avatar" ? "avatarStaticUrl" : "headerStaticUrl";
      replaced.push(account[column], preferences[staticKey]);
      if (file === null) {
        values[column] = null;
        values[kind === "avatar" ? "avatarDescription" : "headerDescription"] = "";
        next[staticKey] = null;
        continue;
      }
      if (file.tooLarge || file.size > MEDIA_LIMITS.imageSizeLimit) throw new MediaError(tooLargeMessage(MEDIA_LIMITS.imageSizeLimit));
      const image = await storeImage(ctx, file.path, kind);
      written.push(image.key, image.previewKey);
      values[column] = localMediaUrl(ctx, image.key);
      next[staticKey] = image.previewKey === image.key ? null : localMediaUrl(ctx, image.previewKey);
    }
  } catch (error) {
    await deleteMediaFiles(ctx.config, written).catch(() => {});
    throw error;
  }

  let stored = account;
  if (Object.keys(values).length > 0) {
    const rows = await ctx.db
      .update(accounts)
      .set({ ...values, updatedAt: new Date() })
      .where(eq(accounts.id, accountId))
      .returning();
    stored = rows[0] ?? account;
  }
  if (JSON.stringify(next) !== JSON.stringify(preferences)) await savePreferences(ctx, accountId, next);
  // The pictures replaced are ours to delete once nothing points at them.
  const oldKeys = replaced.flatMap((url) => {
    const key = localMediaKey(ctx, url);
    return key == null || written.includes(key) ? [] : [key];
  });
  if (oldKeys.length > 0) {
    await deleteMediaFiles(ctx.config, oldKeys).catch((error) => ctx.log.warn("could not delete a replaced profile picture", error));
  }
  await ctx.events.emit("account.updated", { accountId });
  return stored;
}

/** The public URL of a stored media file (`/system/<key>`, or in the S3 bucket). */
function localMediaUrl(ctx: CoreContext, key: string): string {
  return storageFor(ctx.config).url(key);
}

/** The key of a media file this server stored, from its URL; null for anything else. */
function localMediaKey(ctx: CoreContext, url: string | null): string | null {
  storageFor(ctx.config);
  return keyOfMediaUrl(ctx.config.origin, url);
}

/** Options of GET /api/v1/accounts/:id/statuses. */
export interface AccountStatusesQuery {
  pinned?: boolean;
  onlyMedia?: boolean;
  excludeReplies?: boolean;
  excludeReblogs?: boolean;
  /** A hashtag name, without `#`. */
  tagged?: string;
  maxId?: bigint;
  sinceId?: bigint;
  minId?: bigint;
  limit: number;
}

/**
 * One page of an account's statuses as `viewerId` (the owner, or null for
 * anyone) may see them, newest first: public and unlisted ones for anyone;
 * for the owner also private ones of accounts followed, and those that
 * mention the owner; all of the owner's own. The owner's filters of the
 * `account` context apply to other accounts' profiles (`hide` drops,
 * the rest is returned in `filtered`).
 */
export async function listAccountStatuses(
  ctx: CoreContext,
  account: Account,
  viewerId: bigint | null,
  query: AccountStatusesQuery,
): Promise<{ rows: StatusRow[]; filtered: Map<bigint, FilterMatch[]> }> {
  const conditions: (SQL | undefined)[] = [eq(statuses.accountId, account.id), statusVisibleTo(viewerId)];
  if (query.pinned) {
    conditions.push(exists(ctx.db.select({ one: sql`1` }).from(statusPins).where(and(
      eq(statusPins.statusId, statuses.id),
      eq(statusPins.accountId, account.id),
    ))));
  }
  if (query.onlyMedia) {
    conditions.push(exists(ctx.db.select({ one: sql`1` }).from(mediaAttachments).where(eq(mediaAttachments.statusId, statuses.id))));
  }
  if (query.excludeReplies) {
    // Replies to oneself (threads) stay, as on Mastodon.
    conditions.push(or(isNull(statuses.inReplyToId), eq(statuses.inReplyToAccountId, account.id)));
  }
  if (query.excludeReblogs) conditions.push(isNull(statuses.reblogOfId));
  if (query.tagged != null) {
    const name = query.tagged.replace(/^#/, "").normalize("NFKC").toLowerCase();
    conditions.push(exists(ctx.db.select({ one: sql`1` }).from(statusTags).innerJoin(tags, eq(tags.id, statusTags.tagId)).where(and(
      eq(statusTags.statusId, statuses.id),
      eq(tags.name, name),
    ))));
  }
  const load = async (page: AccountStatusesQuery): Promise<StatusRow[]> => {
    const paged = [...conditions];
    if (page.maxId != null) paged.push(lt(statuses.id, page.maxId));
    if (page.minId != null) paged.push(gt(statuses.id, page.minId));
    else if (page.sinceId != null) paged.push(gt(statuses.id, page.sinceId));
    const forward = page.minId != null;
    const rows = await ctx.db
      .select()
      .from(statuses)
      .where(and(...paged))
      .orderBy(forward ? asc(statuses.id) : desc(statuses.id))
      .limit(page.limit);
    if (forward) rows.reverse();
    // A boost shows only when its original may be seen too.
    return await filterVisible(ctx, rows, viewerId);
  };
  const context = viewerId == null || viewerId === account.id ? null : "account";
  const { rows, filtered } = await loadFilteredPage(ctx, viewerId, context, query, load);
  return { rows, filtered };
}
