/**
 * Importing a Mastodon account archive ("Request your archive"): the
 * owner's posts from outbox.json with their dates, content warnings,
 * media and descriptions, polls, hashtags, mentions and the threads among
 * them; boosts whose original still resolves; favourites (likes.json) and
 * bookmarks (bookmarks.json); the profile from actor.json with its avatar
 * and header.
 *
 * Imported posts get new ids dated from their original time and this
 * server's URIs, and are written without the `status.created` event: they
 * show on the profile and in the outbox, but nothing is delivered, pushed
 * or notified, and favourites are stored without sending a Like. The
 * outbox is read item by item from disk; each post's original IRI is kept
 * (imported_statuses), so replies find their parents and a second run
 * skips what the first stored.
 */
import { copyFile, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { isAbsolute, join, normalize, relative } from "node:path";
import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/connect.ts";
import { favourites, bookmarks, importedStatuses, statuses } from "../../db/schema.ts";
import { sanitizeRemoteHtml } from "../../text/sanitize-html.ts";
import { countStatusAdded } from "../account-counters.ts";
import { findAccountByUri, requireOwner, type Account } from "../accounts.ts";
import { CoreError, type CoreContext } from "../context.ts";
import { newId } from "../ids.ts";
import { createMedia, type UploadedFile } from "../media.ts";
import { updateProfile, type ProfileUpdate } from "../profile.ts";
import { findStatusByUri } from "../remote-statuses.ts";
import { localReblogUris, localStatusUris, type StatusRow, type Visibility } from "../statuses/rows.ts";
import { writeStatus, type NewPoll, type StatusData } from "../statuses/store.ts";
import { MAX_MEDIA_ATTACHMENTS, MAX_MEDIA_DESCRIPTION, type MediaRow } from "../statuses/media.ts";
import type { ImportResolvers } from "./bulk-imports.ts";
import { readCollectionItems } from "./collection-items.ts";
import { extractZip } from "./zip.ts";

const PUBLIC = new Set(["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"]);
/** Posts written per transaction. */
const POST_BATCH = 50;
/** Skipped items listed one by one at most; the rest are counted. */
const MAX_LISTED_SKIPS = 500;

export interface ArchiveProgress {
  /** What is being read: outbox.json, likes.json or bookmarks.json. */
  file: string;
  bytesRead: number;
  totalBytes: number;
}

export interface ArchiveImportOptions {
  resolvers: ImportResolvers;
  onProgress?: (progress: ArchiveProgress) => void;
  /** Stops the import between two items (what was stored stays; a later run skips it). */
  signal?: AbortSignal;
}

export interface ArchiveImportReport {
  posts: number;
  boosts: number;
  /** Posts and boosts a previous run stored. */
  alreadyImported: number;
  media: number;
  favourites: number;
  bookmarks: number;
  profile: boolean;
  skipped: { item: string; reason: string }[];
  /** Skips beyond those listed. */
  moreSkipped: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value != null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : value == null ? [] : [value]);
const idOf = (value: unknown): string | null => (typeof value === "string" ? value : isObject(value) && typeof value.id === "string" ? value.id : null);

/** Plain text of a little HTML (a bio, a field, a post's source): paragraphs and line breaks kept. */
export function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p[^>]*>/gi, "\n\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .trim();
}

/**
 * An archive given as a folder, or a .tar.gz extracted into a private
 * folder under DATA_DIR (removed by `close`). A .zip (what newer Mastodon
 * versions write) is asked to be unzipped first.
 */
export async function openArchive(ctx: CoreContext, path: string): Promise<{ dir: string; extracted: boolean; close(): Promise<void> }> {
  const info = await stat(path).catch(() => null);
  if (info == null) throw new CoreError("not_found", `${path} does not exist`);
  if (info.isDirectory()) return { dir: path, extracted: false, close: async () => {} };
  const zip = /\.zip$/i.test(path);
  if (!zip && !/\.(tar\.gz|tgz|tar)$/i.test(path)) throw new CoreError("invalid", `${path} is not an archive (.zip, .tar.gz, .tgz, or an extracted folder)`);
  const parent = join(ctx.config.dataDir, "tmp");
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(parent, "archive-"));
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    if (zip) {
      await extractZip(path, dir);
    } else {
      const { x } = await import("tar");
      // Plain files and folders only: no links, no paths out of the folder.
      await x({ file: path, cwd: dir, strict: true, preservePaths: false, filter: (_path, entry) => "type" in entry && (entry.type === "File" || entry.type === "Directory") });
    }
  } catch (error) {
    await close();
    throw new CoreError("invalid", `${path} could not be read as a ${zip ? "zip" : "tar"} archive (${(error as Error).message})`);
  }
  return { dir, extracted: true, close };
}

/** A path the archive names, inside its folder, or null. */
function archivePath(dir: string, name: unknown): string | null {
  if (typeof name !== "string" || name === "" || /^[a-z]+:/i.test(name)) return null;
  const clean = normalize(name.replace(/^\/+/, "").replace(/^system\//, ""));
  const full = join(dir, clean);
  const inside = relative(dir, full);
  if (inside.startsWith("..") || isAbsolute(inside)) return null;
  return full;
}

export async function importArchive(ctx: CoreContext, archive: { dir: string; extracted: boolean }, options: ArchiveImportOptions): Promise<ArchiveImportReport> {
  const { account: owner } = await requireOwner(ctx);
  const report: ArchiveImportReport = { posts: 0, boosts: 0, alreadyImported: 0, media: 0, favourites: 0, bookmarks: 0, profile: false, skipped: [], moreSkipped: 0 };
  const skip = (item: string, reason: string) => {
    if (report.skipped.length < MAX_LISTED_SKIPS) report.skipped.push({ item, reason });
    else report.moreSkipped++;
  };
  const { dir } = archive;
  const actorPath = join(dir, "actor.json");
  let actor: Json = {};
  if ((await stat(actorPath).catch(() => null)) != null) {
    const { readFile } = await import("node:fs/promises");
    try {
      actor = JSON.parse(await readFile(actorPath, "utf8")) as Json;
    } catch {
      throw new CoreError("invalid", "actor.json is not JSON");
    }
  }
  const outboxPath = join(dir, "outbox.json");
  if ((await stat(outboxPath).catch(() => null)) == null) throw new CoreError("invalid", "the archive has no outbox.json");

  const context: PostContext = {
    ctx,
    owner,
    dir,
    extracted: archive.extracted,
    resolvers: options.resolvers,
    actorId: typeof actor.id === "string" ? actor.id : null,
    followersUri: typeof actor.followers === "string" ? actor.followers : null,
    mentionCache: new Map(),
    skip,
    report,
  };

  if (Object.keys(actor).length > 0) {
    try {
      await importProfile(context, actor);
      report.profile = true;
    } catch (error) {
      skip("actor.json", error instanceof Error ? error.message : String(error));
    }
  }

  // Posts are written a batch at a time, one transaction each.
  let batch: PreparedPost[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const written = batch;
    batch = [];
    await writePosts(context, written);
  };
  await readEach(outboxPath, "outbox.json", options, async (item) => {
    if (!isObject(item)) return skip("outbox item", "not an activity");
    try {
      if (item.type === "Create") {
        const prepared = await preparePost(context, item, batch);
        if (prepared != null) batch.push(prepared);
        if (batch.length >= POST_BATCH) await flush();
      } else if (item.type === "Announce") {
        await flush();
        await importBoost(context, item);
      } else skip(idOf(item) ?? "outbox item", `${String(item.type)} activities are not imported`);
    } catch (error) {
      skip(idOf(item.object) ?? idOf(item) ?? "outbox item", error instanceof Error ? error.message : String(error));
    }
  });
  await flush();

  for (const [file, table] of [["likes.json", favourites], ["bookmarks.json", bookmarks]] as const) {
    const path = join(dir, file);
    if ((await stat(path).catch(() => null)) == null) continue;
    await readEach(path, file, options, async (item) => {
      const uri = idOf(item);
      if (uri == null) return skip(file, "an item is not a status IRI");
      const status = await statusFor(context, uri).catch((error: unknown) => {
        skip(uri, `${file}: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      });
      if (status == null) return;
      const inserted = await ctx.db.insert(table).values({ id: newId(), accountId: owner.id, statusId: status.id }).onConflictDoNothing().returning({ id: table.id });
      if (inserted.length === 0) return;
      if (table === favourites) {
        await ctx.db.update(statuses).set({ favouritesCount: sql`${statuses.favouritesCount} + 1` }).where(eq(statuses.id, status.id));
        report.favourites++;
      } else {
        report.bookmarks++;
      }
    });
  }
  return report;
}

async function readEach(path: string, file: string, options: ArchiveImportOptions, each: (item: unknown) => Promise<void>): Promise<void> {
  const totalBytes = (await stat(path)).size;
  try {
    for await (const { item, bytesRead } of readCollectionItems(path)) {
      options.signal?.throwIfAborted();
      await each(item);
      options.onProgress?.({ file, bytesRead, totalBytes });
    }
  } catch (error) {
    if (error instanceof CoreError || options.signal?.aborted) throw error;
    throw new CoreError("invalid", error instanceof Error ? error.message : String(error));
  }
  options.onProgress?.({ file, bytesRead: totalBytes, totalBytes });
}

interface PostContext {
  ctx: CoreContext;
  owner: Account;
  dir: string;
  extracted: boolean;
  resolvers: ImportResolvers;
  actorId: string | null;
  followersUri: string | null;
  /** Mentioned accounts by href: found, or null when they could not be. */
  mentionCache: Map<string, bigint | null>;
  skip(item: string, reason: string): void;
  report: ArchiveImportReport;
}

/** The status an archive's IRI became, if imported. */
async function importedStatus(ctx: CoreContext, originalUri: string, db: Db = ctx.db): Promise<StatusRow | null> {
  const rows = await db
    .select({ status: statuses })
    .from(importedStatuses)
    .innerJoin(statuses, eq(statuses.id, importedStatuses.statusId))
    .where(eq(importedStatuses.originalUri, originalUri))
    .limit(1);
  return rows[0]?.status ?? null;
}

/** A status by IRI: one of the archive's own, one stored here, or fetched. */
async function statusFor(context: PostContext, uri: string): Promise<StatusRow> {
  return (await importedStatus(context.ctx, uri)) ?? (await findStatusByUri(context.ctx, uri)) ?? (await context.resolvers.status(uri));
}

function visibilityOf(activity: Json, followersUri: string | null): Visibility {
  const to = asArray(activity.to).map(idOf);
  const cc = asArray(activity.cc).map(idOf);
  if (to.some((uri) => uri != null && PUBLIC.has(uri))) return "public";
  if (cc.some((uri) => uri != null && PUBLIC.has(uri))) return "unlisted";
  if ([...to, ...cc].some((uri) => uri != null && (uri === followersUri || /\/followers$/.test(uri)))) return "private";
  return "direct";
}

function publishedOf(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : null;
  return date != null && !Number.isNaN(date.getTime()) ? date : new Date();
}

async function mentionedAccount(context: PostContext, tag: Json): Promise<bigint | null> {
  const href = typeof tag.href === "string" ? tag.href : null;
  if (href == null) return null;
  if (href === context.actorId) return context.owner.id;
  if (context.mentionCache.has(href)) return context.mentionCache.get(href)!;
  let found: Account | null = await findAccountByUri(context.ctx, href);
  const name = typeof tag.name === "string" ? tag.name.replace(/^@/, "") : "";
  if (found == null && /^[^@\s]+@[^@\s]+$/.test(name)) found = await context.resolvers.account(name.toLowerCase()).catch(() => null);
  context.mentionCache.set(href, found?.id ?? null);
  return found?.id ?? null;
}

async function importMedia(context: PostContext, attachment: Json, postUri: string): Promise<MediaRow | null> {
  const path = archivePath(context.dir, isObject(attachment.url) ? attachment.url.href : attachment.url);
  const info = path == null ? null : await stat(path).catch(() => null);
  if (path == null || info == null || !info.isFile()) {
    context.skip(postUri, `a media file is missing from the archive (${String(attachment.url)})`);
    return null;
  }
  const file = await ownedCopy(context, path);
  const focal = Array.isArray(attachment.focalPoint) ? attachment.focalPoint.map(Number) : null;
  const focus = focal != null && focal.length === 2 && focal.every((n) => n >= -1 && n <= 1) ? { x: focal[0]!, y: focal[1]! } : null;
  const description = typeof attachment.name === "string" ? [...attachment.name].slice(0, MAX_MEDIA_DESCRIPTION).join("") : null;
  try {
    const row = await createMedia(context.ctx, context.owner.id, { file: { path: file, size: info.size }, description, focus });
    context.report.media++;
    return row;
  } catch (error) {
    await rm(file, { force: true }).catch(() => {});
    context.skip(postUri, `a media file could not be stored (${error instanceof Error ? error.message : String(error)})`);
    return null;
  }
}

/** A file the media store may move: the extracted one itself, or a copy of the person's folder's. */
async function ownedCopy(context: PostContext, path: string): Promise<string> {
  if (context.extracted) return path;
  const parent = join(context.ctx.config.dataDir, "tmp");
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const copy = join(parent, `import-${newId()}`);
  await copyFile(path, copy);
  return copy;
}

function pollOf(object: Json): NewPoll | null {
  if (object.type !== "Question") return null;
  const multiple = Array.isArray(object.anyOf);
  const choices = asArray(multiple ? object.anyOf : object.oneOf).filter(isObject);
  if (choices.length < 2) return null;
  const expires = object.endTime ?? object.closed;
  return {
    options: choices.map((choice) => String(choice.name ?? "")),
    expiresAt: typeof expires === "string" ? publishedOf(expires) : null,
    multiple,
    hideTotals: false,
    votesCounts: choices.map((choice) => (isObject(choice.replies) && typeof choice.replies.totalItems === "number" ? choice.replies.totalItems : 0)),
    votersCount: typeof object.votersCount === "number" ? object.votersCount : null,
  };
}

/** A post read from the archive, ready to write but for its parent. */
interface PreparedPost {
  originalUri: string;
  parentUri: string | null;
  /** The archive's attachments, stored once the post is known to be new. */
  attachments: Json[];
  data: StatusData;
}

/** Reads a Create into a post to write; null when it is there already or not a post. */
async function preparePost(context: PostContext, create: Json, pending: readonly PreparedPost[]): Promise<PreparedPost | null> {
  const { ctx, owner } = context;
  const object = create.object;
  if (!isObject(object) || typeof object.id !== "string") {
    context.skip(idOf(create) ?? "Create", "no object");
    return null;
  }
  if (!["Note", "Question", "Article", "Page"].includes(String(object.type))) {
    context.skip(object.id, `${String(object.type)} objects are not imported`);
    return null;
  }
  if (pending.some((post) => post.originalUri === object.id)) {
    context.report.alreadyImported++;
    return null;
  }
  const published = publishedOf(object.published ?? create.published);
  const id = newId(published);
  const { uri, url } = localStatusUris(ctx.config.origin, owner.username, id);
  const contentMap = isObject(object.contentMap) ? object.contentMap : {};
  const html = typeof object.content === "string" ? object.content : String(Object.values(contentMap)[0] ?? "");
  const language = Object.keys(contentMap)[0] ?? null;

  const mentioned: bigint[] = [];
  const tagNames: string[] = [];
  for (const tag of asArray(object.tag).filter(isObject)) {
    if (tag.type === "Hashtag" && typeof tag.name === "string") tagNames.push(tag.name.replace(/^#/, ""));
    else if (tag.type === "Mention") {
      const accountId = await mentionedAccount(context, tag);
      if (accountId != null && accountId !== owner.id) mentioned.push(accountId);
    }
  }

  return {
    originalUri: object.id,
    parentUri: typeof object.inReplyTo === "string" ? object.inReplyTo : idOf(object.inReplyTo),
    attachments: asArray(object.attachment).filter(isObject).slice(0, MAX_MEDIA_ATTACHMENTS),
    data: {
      id,
      uri,
      url,
      content: sanitizeRemoteHtml(html),
      text: htmlToText(html),
      spoilerText: typeof object.summary === "string" ? object.summary : "",
      sensitive: object.sensitive === true,
      visibility: visibilityOf(object, context.followersUri),
      language: language != null && /^[a-z]{2,3}$/.test(language) ? language : null,
      inReplyTo: null,
      applicationId: null,
      createdAt: published,
      mentionedAccountIds: mentioned,
      tagNames,
      media: [],
      poll: pollOf(object),
    },
  };
}

/**
 * Writes prepared posts in one transaction, each reply after its parent
 * (from the archive, or stored here). Should the batch fail, each post is
 * tried alone, so one bad post costs only itself.
 */
async function writePosts(context: PostContext, prepared: PreparedPost[]): Promise<void> {
  const { ctx, owner } = context;
  // What a previous run stored is skipped (one look for the whole batch).
  const there = new Set(
    (await ctx.db.select({ uri: importedStatuses.originalUri }).from(importedStatuses).where(inArray(importedStatuses.originalUri, prepared.map((post) => post.originalUri))))
      .map((row) => row.uri),
  );
  context.report.alreadyImported += there.size;
  const posts = prepared.filter((post) => !there.has(post.originalUri));
  if (posts.length === 0) return;
  for (const post of posts) {
    for (const attachment of post.attachments) {
      const row = await importMedia(context, attachment, post.originalUri);
      if (row != null) post.data.media.push(row);
    }
  }
  const writeAll = async (db: Db, list: PreparedPost[]) => {
    const written = new Map<string, StatusRow>();
    for (const post of list) {
      let parent: StatusRow | null = null;
      if (post.parentUri != null) {
        parent =
          written.get(post.parentUri) ??
          (await importedStatus(ctx, post.parentUri, db)) ??
          (await db.select().from(statuses).where(eq(statuses.uri, post.parentUri)).limit(1))[0] ??
          null;
      }
      const row = await writeStatus(db, owner, { ...post.data, inReplyTo: parent });
      written.set(post.originalUri, row);
    }
    await db.insert(importedStatuses).values(list.map((post) => ({ originalUri: post.originalUri, statusId: written.get(post.originalUri)!.id })));
  };
  try {
    await ctx.db.transaction((tx) => writeAll(tx, posts));
    context.report.posts += posts.length;
    return;
  } catch {
    // One at a time below.
  }
  for (const post of posts) {
    try {
      await ctx.db.transaction((tx) => writeAll(tx, [post]));
      context.report.posts++;
    } catch (error) {
      context.skip(post.originalUri, error instanceof Error ? error.message : String(error));
    }
  }
}

async function importBoost(context: PostContext, announce: Json): Promise<void> {
  const { ctx, owner } = context;
  const activityId = idOf(announce);
  const objectUri = idOf(announce.object);
  if (activityId == null || objectUri == null) return context.skip(activityId ?? "Announce", "no object");
  if ((await importedStatus(ctx, activityId)) != null) {
    context.report.alreadyImported++;
    return;
  }
  let target: StatusRow;
  try {
    target = await statusFor(context, objectUri);
  } catch {
    return context.skip(objectUri, "the boosted post no longer resolves");
  }
  if (target.reblogOfId != null || target.visibility === "direct" || (target.visibility === "private" && target.accountId !== owner.id)) {
    return context.skip(objectUri, "the boosted post cannot be boosted");
  }
  const existing = await ctx.db
    .select({ id: statuses.id })
    .from(statuses)
    .where(sql`${statuses.accountId} = ${owner.id.toString()}::bigint and ${statuses.reblogOfId} = ${target.id.toString()}::bigint`)
    .limit(1);
  const published = publishedOf(announce.published);
  await ctx.db.transaction(async (tx) => {
    let statusId = existing[0]?.id;
    if (statusId == null) {
      statusId = newId(published);
      const { uri, url } = localReblogUris(ctx.config.origin, owner.username, statusId);
      const visibility = visibilityOf(announce, context.followersUri);
      await tx.insert(statuses).values({
        id: statusId,
        accountId: owner.id,
        uri,
        url,
        content: "",
        visibility: target.visibility === "private" ? "private" : visibility === "unlisted" ? "unlisted" : "public",
        reblogOfId: target.id,
        conversationId: target.conversationId,
        createdAt: published,
        updatedAt: published,
      });
      await tx.update(statuses).set({ reblogsCount: sql`${statuses.reblogsCount} + 1` }).where(eq(statuses.id, target.id));
      await countStatusAdded(tx, owner.id, published);
    }
    await tx.insert(importedStatuses).values({ originalUri: activityId, statusId }).onConflictDoNothing();
  });
  context.report.boosts++;
}

async function importProfile(context: PostContext, actor: Json): Promise<void> {
  const update: ProfileUpdate = {};
  if (typeof actor.name === "string") update.displayName = actor.name;
  if (typeof actor.summary === "string") update.note = htmlToText(actor.summary);
  if (typeof actor.manuallyApprovesFollowers === "boolean") update.locked = actor.manuallyApprovesFollowers;
  if (typeof actor.discoverable === "boolean") update.discoverable = actor.discoverable;
  if (typeof actor.indexable === "boolean") update.indexable = actor.indexable;
  update.bot = actor.type === "Service" || actor.type === "Application";
  const fields = asArray(actor.attachment)
    .filter(isObject)
    .filter((field) => field.type === "PropertyValue")
    .map((field) => ({ name: String(field.name ?? ""), value: htmlToText(String(field.value ?? "")) }));
  if (fields.length > 0) update.fields = fields;
  const image = async (value: unknown): Promise<UploadedFile | undefined> => {
    const path = archivePath(context.dir, isObject(value) ? value.url : null);
    const info = path == null ? null : await stat(path).catch(() => null);
    if (path == null || info == null || !info.isFile()) return undefined;
    return { path: await ownedCopy(context, path), size: info.size };
  };
  update.avatar = await image(actor.icon);
  update.header = await image(actor.image);
  if (update.avatar === undefined) delete update.avatar;
  if (update.header === undefined) delete update.header;
  await updateProfile(context.ctx, context.owner.id, update);
}
