/**
 * The owner's content filters (Mastodon 4's server-side filters): a filter
 * has a title, the contexts it applies in, an action (`warn`, `hide`,
 * `blur`), an optional expiry, and keywords and statuses that trigger it.
 *
 * {@link filterResults} computes Mastodon's FilterResult for statuses about
 * to be shown; {@link applyFilters} also drops the statuses a `hide` filter
 * matched. Expired filters are kept (and listed) but never applied. Every
 * change emits `filters.changed`.
 */
import { and, asc, eq, inArray, isNull, gt, or, sql } from "drizzle-orm";
import type { Db } from "../db/db.ts";
import { filterKeywords, filters, filterStatuses, mediaAttachments, polls, statuses } from "../db/schema.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";

export type FilterRow = typeof filters.$inferSelect;
export type FilterKeywordRow = typeof filterKeywords.$inferSelect;
export type FilterStatusRow = typeof filterStatuses.$inferSelect;

/** Why a status matched one of the viewer's filters (Mastodon's FilterResult, before rendering). */
export interface FilterMatch {
  filter: FilterRow;
  /** The filter's keywords found in the status, or null. */
  keywordMatches: string[] | null;
  /** The status ids (of the status or the boosted one) the filter names, or null. */
  statusMatches: string[] | null;
}

type StatusRow = typeof statuses.$inferSelect;

export const FILTER_CONTEXTS = ["home", "notifications", "public", "thread", "account"] as const;
export type FilterContext = (typeof FILTER_CONTEXTS)[number];

export const FILTER_ACTIONS = ["warn", "hide", "blur"] as const;
export type FilterAction = (typeof FILTER_ACTIONS)[number];

export const MAX_TITLE_LENGTH = 256;
export const MAX_KEYWORD_LENGTH = 512;

/** A filter with the keywords and statuses that trigger it. */
export interface FilterWithRules {
  filter: FilterRow;
  keywords: FilterKeywordRow[];
  statuses: FilterStatusRow[];
}

/** One entry of `keywords_attributes`: a new keyword, a change, or a removal. */
export interface KeywordAttributes {
  /** An existing keyword of the filter (updates or removal). */
  id?: bigint;
  keyword?: string;
  wholeWord?: boolean;
  /** Remove the keyword `id` (a new one is simply not added). */
  destroy?: boolean;
}

export interface FilterInput {
  title?: string;
  context?: readonly string[];
  /** `warn`, `hide` or `blur` (`blur_media` is read as `blur`). */
  filterAction?: string;
  /** Seconds from now; null for never; undefined leaves it as it is. */
  expiresIn?: number | null;
  keywords?: readonly KeywordAttributes[];
}

function isActive(filter: FilterRow, now = new Date()): boolean {
  return filter.expiresAt == null || filter.expiresAt.getTime() > now.getTime();
}

function checkTitle(title: string | undefined): string {
  if (title == null || title.trim() === "") throw new CoreError("invalid", "Title can't be blank");
  if ([...title].length > MAX_TITLE_LENGTH) throw new CoreError("invalid", `Title is too long (maximum is ${MAX_TITLE_LENGTH} characters)`);
  return title;
}

function checkContext(context: readonly string[] | undefined): string[] {
  if (context == null || context.length === 0) throw new CoreError("invalid", "Context can't be blank, Context None or invalid context supplied");
  const unique = [...new Set(context)];
  if (!unique.every((value) => (FILTER_CONTEXTS as readonly string[]).includes(value))) {
    throw new CoreError("invalid", "Context None or invalid context supplied");
  }
  return unique;
}

function checkAction(action: string): FilterAction {
  const value = action === "blur_media" ? "blur" : action;
  if (!(FILTER_ACTIONS as readonly string[]).includes(value)) throw new CoreError("invalid", "Filter action is not included in the list");
  return value as FilterAction;
}

function checkKeyword(keyword: string | undefined): string {
  if (keyword == null || keyword.trim() === "") throw new CoreError("invalid", "Keyword can't be blank");
  if ([...keyword].length > MAX_KEYWORD_LENGTH) throw new CoreError("invalid", `Keyword is too long (maximum is ${MAX_KEYWORD_LENGTH} characters)`);
  return keyword;
}

function expiresAt(expiresIn: number | null): Date | null {
  if (expiresIn == null) return null;
  if (!Number.isFinite(expiresIn)) throw new CoreError("invalid", "Expires in must be a number");
  return new Date(Date.now() + expiresIn * 1000);
}

async function changed(ctx: CoreContext, accountId: bigint): Promise<void> {
  await ctx.events.emit("filters.changed", { accountId });
}

async function withRules(ctx: CoreContext, rows: FilterRow[]): Promise<FilterWithRules[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [keywords, statusRows] = await Promise.all([
    ctx.db.select().from(filterKeywords).where(inArray(filterKeywords.filterId, ids)).orderBy(asc(filterKeywords.id)),
    ctx.db.select().from(filterStatuses).where(inArray(filterStatuses.filterId, ids)).orderBy(asc(filterStatuses.id)),
  ]);
  return rows.map((filter) => ({
    filter,
    keywords: keywords.filter((k) => k.filterId === filter.id),
    statuses: statusRows.filter((s) => s.filterId === filter.id),
  }));
}

/** Every filter of the account, expired ones included, oldest first. */
export async function listFilters(ctx: CoreContext, accountId: bigint): Promise<FilterWithRules[]> {
  const rows = await ctx.db.select().from(filters).where(eq(filters.accountId, accountId)).orderBy(asc(filters.id));
  return await withRules(ctx, rows);
}

async function ownFilter(ctx: CoreContext, accountId: bigint, filterId: bigint): Promise<FilterRow> {
  const rows = await ctx.db.select().from(filters).where(and(eq(filters.id, filterId), eq(filters.accountId, accountId))).limit(1);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  return rows[0];
}

/** One filter of the account; not_found when it is someone else's or unknown. */
export async function getFilter(ctx: CoreContext, accountId: bigint, filterId: bigint): Promise<FilterWithRules> {
  const [result] = await withRules(ctx, [await ownFilter(ctx, accountId, filterId)]);
  return result;
}

/**
 * Creates a filter with its keywords. A keyword attribute naming an `id`
 * is not_found (there is nothing to update yet); one marked `destroy` is
 * skipped.
 */
export async function createFilter(ctx: CoreContext, accountId: bigint, input: FilterInput): Promise<FilterWithRules> {
  const title = checkTitle(input.title);
  const context = checkContext(input.context);
  const filterAction = checkAction(input.filterAction ?? "warn");
  const keywords: { keyword: string; wholeWord: boolean }[] = [];
  for (const attributes of input.keywords ?? []) {
    if (attributes.id != null) throw new CoreError("not_found", "Record not found");
    if (attributes.destroy) continue;
    keywords.push({ keyword: checkKeyword(attributes.keyword), wholeWord: attributes.wholeWord ?? true });
  }
  const id = newId();
  await ctx.db.transaction(async (tx) => {
    await tx.insert(filters).values({ id, accountId, title, context, filterAction, expiresAt: expiresAt(input.expiresIn ?? null) });
    if (keywords.length > 0) {
      await tx.insert(filterKeywords).values(keywords.map((k) => ({ id: newId(), filterId: id, ...k })));
    }
  });
  await changed(ctx, accountId);
  return await getFilter(ctx, accountId, id);
}

/**
 * Changes what is given of a filter. Keyword attributes with an `id` change
 * or (with `destroy`) remove that keyword of this filter, not_found when it
 * is not one of its keywords; without an `id` they add one.
 */
export async function updateFilter(ctx: CoreContext, accountId: bigint, filterId: bigint, input: FilterInput): Promise<FilterWithRules> {
  const current = await getFilter(ctx, accountId, filterId);
  const set: Partial<typeof filters.$inferInsert> = {};
  if (input.title !== undefined) set.title = checkTitle(input.title);
  if (input.context !== undefined) set.context = checkContext(input.context);
  if (input.filterAction !== undefined) set.filterAction = checkAction(input.filterAction);
  if (input.expiresIn !== undefined) set.expiresAt = expiresAt(input.expiresIn);

  const known = new Map(current.keywords.map((k) => [k.id, k]));
  const removals: bigint[] = [];
  const changes: { id: bigint; keyword: string; wholeWord: boolean }[] = [];
  const additions: { keyword: string; wholeWord: boolean }[] = [];
  for (const attributes of input.keywords ?? []) {
    if (attributes.id != null) {
      const existing = known.get(attributes.id);
      if (existing == null) throw new CoreError("not_found", "Record not found");
      if (attributes.destroy) {
        removals.push(existing.id);
      } else {
        changes.push({
          id: existing.id,
          keyword: attributes.keyword === undefined ? existing.keyword : checkKeyword(attributes.keyword),
          wholeWord: attributes.wholeWord ?? existing.wholeWord,
        });
      }
    } else if (!attributes.destroy) {
      additions.push({ keyword: checkKeyword(attributes.keyword), wholeWord: attributes.wholeWord ?? true });
    }
  }

  await ctx.db.transaction(async (tx) => {
    if (Object.keys(set).length > 0) await tx.update(filters).set(set).where(eq(filters.id, filterId));
    if (removals.length > 0) await tx.delete(filterKeywords).where(and(eq(filterKeywords.filterId, filterId), inArray(filterKeywords.id, removals)));
    for (const change of changes) {
      await tx.update(filterKeywords).set({ keyword: change.keyword, wholeWord: change.wholeWord }).where(eq(filterKeywords.id, change.id));
    }
    if (additions.length > 0) {
      await tx.insert(filterKeywords).values(additions.map((k) => ({ id: newId(), filterId, ...k })));
    }
  });
  await changed(ctx, accountId);
  return await getFilter(ctx, accountId, filterId);
}

export async function deleteFilter(ctx: CoreContext, accountId: bigint, filterId: bigint): Promise<void> {
  const rows = await ctx.db.delete(filters).where(and(eq(filters.id, filterId), eq(filters.accountId, accountId))).returning({ id: filters.id });
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  await changed(ctx, accountId);
}

// Keywords

export async function listKeywords(ctx: CoreContext, accountId: bigint, filterId: bigint): Promise<FilterKeywordRow[]> {
  await ownFilter(ctx, accountId, filterId);
  return await ctx.db.select().from(filterKeywords).where(eq(filterKeywords.filterId, filterId)).orderBy(asc(filterKeywords.id));
}

export async function addKeyword(
  ctx: CoreContext,
  accountId: bigint,
  filterId: bigint,
  input: { keyword?: string; wholeWord?: boolean },
): Promise<FilterKeywordRow> {
  await ownFilter(ctx, accountId, filterId);
  const keyword = checkKeyword(input.keyword);
  const rows = await ctx.db
    .insert(filterKeywords)
    .values({ id: newId(), filterId, keyword, wholeWord: input.wholeWord ?? true })
    .returning();
  await changed(ctx, accountId);
  return rows[0];
}

/** A keyword of one of the account's filters, with that filter. */
export async function getKeyword(ctx: CoreContext, accountId: bigint, keywordId: bigint): Promise<{ keyword: FilterKeywordRow; filter: FilterRow }> {
  const rows = await ctx.db
    .select({ keyword: filterKeywords, filter: filters })
    .from(filterKeywords)
    .innerJoin(filters, eq(filters.id, filterKeywords.filterId))
    .where(and(eq(filterKeywords.id, keywordId), eq(filters.accountId, accountId)))
    .limit(1);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  return rows[0];
}

export async function updateKeyword(
  ctx: CoreContext,
  accountId: bigint,
  keywordId: bigint,
  input: { keyword?: string; wholeWord?: boolean },
): Promise<FilterKeywordRow> {
  const { keyword: current } = await getKeyword(ctx, accountId, keywordId);
  const keyword = input.keyword === undefined ? current.keyword : checkKeyword(input.keyword);
  const rows = await ctx.db
    .update(filterKeywords)
    .set({ keyword, wholeWord: input.wholeWord ?? current.wholeWord })
    .where(eq(filterKeywords.id, keywordId))
    .returning();
  await changed(ctx, accountId);
  return rows[0];
}

export async function deleteKeyword(ctx: CoreContext, accountId: bigint, keywordId: bigint): Promise<void> {
  await getKeyword(ctx, accountId, keywordId);
  await ctx.db.delete(filterKeywords).where(eq(filterKeywords.id, keywordId));
  await changed(ctx, accountId);
}

// Statuses

export async function listFilterStatuses(ctx: CoreContext, accountId: bigint, filterId: bigint): Promise<FilterStatusRow[]> {
  await ownFilter(ctx, accountId, filterId);
  return await ctx.db.select().from(filterStatuses).where(eq(filterStatuses.filterId, filterId)).orderBy(asc(filterStatuses.id));
}

/** Adds a status to a filter: not_found for an unknown status, invalid when it is there already. */
export async function addFilterStatus(ctx: CoreContext, accountId: bigint, filterId: bigint, statusId: bigint): Promise<FilterStatusRow> {
  await ownFilter(ctx, accountId, filterId);
  const status = await ctx.db.select({ id: statuses.id }).from(statuses).where(eq(statuses.id, statusId)).limit(1);
  if (status.length === 0) throw new CoreError("not_found", "Record not found");
  const existing = await ctx.db
    .select({ id: filterStatuses.id })
    .from(filterStatuses)
    .where(and(eq(filterStatuses.filterId, filterId), eq(filterStatuses.statusId, statusId)))
    .limit(1);
  if (existing.length > 0) throw new CoreError("invalid", "Status has already been taken");
  const rows = await ctx.db.insert(filterStatuses).values({ id: newId(), filterId, statusId }).returning();
  await changed(ctx, accountId);
  return rows[0];
}

export async function getFilterStatus(ctx: CoreContext, accountId: bigint, id: bigint): Promise<FilterStatusRow> {
  const rows = await ctx.db
    .select({ row: filterStatuses })
    .from(filterStatuses)
    .innerJoin(filters, eq(filters.id, filterStatuses.filterId))
    .where(and(eq(filterStatuses.id, id), eq(filters.accountId, accountId)))
    .limit(1);
  if (rows.length === 0) throw new CoreError("not_found", "Record not found");
  return rows[0].row;
}

export async function deleteFilterStatus(ctx: CoreContext, accountId: bigint, id: bigint): Promise<void> {
  await getFilterStatus(ctx, accountId, id);
  await ctx.db.delete(filterStatuses).where(eq(filterStatuses.id, id));
  await changed(ctx, accountId);
}

// The v1 API: every keyword seen as a filter of one phrase.

export interface V1FilterInput {
  phrase?: string;
  context?: readonly string[];
  irreversible?: boolean;
  wholeWord?: boolean;
  expiresIn?: number | null;
}

/** Every keyword of the account's filters, with its filter, oldest first. */
export async function listV1Filters(ctx: CoreContext, accountId: bigint): Promise<{ keyword: FilterKeywordRow; filter: FilterRow }[]> {
  return await ctx.db
    .select({ keyword: filterKeywords, filter: filters })
    .from(filterKeywords)
    .innerJoin(filters, eq(filters.id, filterKeywords.filterId))
    .where(eq(filters.accountId, accountId))
    .orderBy(asc(filterKeywords.id));
}

/** Creates a filter titled with the phrase, holding that one keyword. */
export async function createV1Filter(ctx: CoreContext, accountId: bigint, input: V1FilterInput): Promise<{ keyword: FilterKeywordRow; filter: FilterRow }> {
  const phrase = checkKeyword(input.phrase);
  const created = await createFilter(ctx, accountId, {
    title: phrase.length > MAX_TITLE_LENGTH ? phrase.slice(0, MAX_TITLE_LENGTH) : phrase,
    context: input.context,
    filterAction: input.irreversible ? "hide" : "warn",
    expiresIn: input.expiresIn ?? null,
    keywords: [{ keyword: phrase, wholeWord: input.wholeWord ?? false }],
  });
  return { keyword: created.keywords[0], filter: created.filter };
}

/**
 * Changes a keyword and, when its filter holds nothing else, the filter's
 * context, action and expiry; changing those of a filter shared by several
 * keywords is refused, as Mastodon does.
 */
export async function updateV1Filter(
  ctx: CoreContext,
  accountId: bigint,
  keywordId: bigint,
  input: V1FilterInput,
): Promise<{ keyword: FilterKeywordRow; filter: FilterRow }> {
  const { filter } = await getKeyword(ctx, accountId, keywordId);
  const siblings = await listKeywords(ctx, accountId, filter.id);
  const filterChange: FilterInput = {};
  if (input.context !== undefined) {
    const context = checkContext(input.context);
    if (context.length !== filter.context.length || context.some((value) => !filter.context.includes(value))) filterChange.context = context;
  }
  if (input.irreversible !== undefined) {
    const action = input.irreversible ? "hide" : "warn";
    if (action !== filter.filterAction && !(action === "warn" && filter.filterAction === "blur")) filterChange.filterAction = action;
  }
  if (input.expiresIn !== undefined) filterChange.expiresIn = input.expiresIn;
  if (Object.keys(filterChange).length > 0 && siblings.length > 1) {
    throw new CoreError("invalid", "Cannot change context, irreversible or expires_in of a filter with several keywords: use the v2 API");
  }
  const keyword = await updateKeyword(ctx, accountId, keywordId, { keyword: input.phrase, wholeWord: input.wholeWord });
  const updated = Object.keys(filterChange).length > 0 ? (await updateFilter(ctx, accountId, filter.id, filterChange)).filter : filter;
  return { keyword, filter: updated };
}

/** Removes one keyword from its filter (the filter itself stays, as in Mastodon). */
export async function deleteV1Filter(ctx: CoreContext, accountId: bigint, keywordId: bigint): Promise<void> {
  await deleteKeyword(ctx, accountId, keywordId);
}

// Matching

const WORD_CHAR = /[\p{L}\p{M}\p{N}_]/u;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * The pattern of a keyword. With `wholeWord`, a keyword that starts (ends)
 * with a word character must not be preceded (followed) by one: Mastodon's
 * `\b` on the sides that are words.
 */
export function keywordRegExp(keyword: string, wholeWord: boolean): RegExp {
  let pattern = escapeRegExp(keyword);
  if (wholeWord) {
    const chars = [...keyword];
    if (chars.length > 0 && WORD_CHAR.test(chars[0])) pattern = `(?<![\\p{L}\\p{M}\\p{N}_])${pattern}`;
    if (chars.length > 0 && WORD_CHAR.test(chars[chars.length - 1])) pattern = `${pattern}(?![\\p{L}\\p{M}\\p{N}_])`;
  }
  return new RegExp(pattern, "iu");
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The text of status HTML: tags dropped, line breaks and paragraphs kept, entities decoded. */
export function htmlToPlainText(html: string): string {
  const text = html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p[^>]*>/gi, "\n\n")
    .replace(/<[^>]*>/g, "");
  return decodeEntities(text);
}

interface ActiveFilter {
  filter: FilterRow;
  keywords: { keyword: string; pattern: RegExp }[];
  statusIds: Set<bigint>;
}

/** The filters query of every timeline page, prepared once per database. */
function prepareFilters(db: Db) {
  return db
    .select()
    .from(filters)
    .where(and(
      sql`${filters.accountId} = ${sql.placeholder("account")}::bigint`,
      sql`${sql.placeholder("context")}::text = any(${filters.context})`,
      or(isNull(filters.expiresAt), gt(filters.expiresAt, sql`now()`)),
    ))
    .orderBy(asc(filters.id))
    .prepare("islet_active_filters");
}

const preparedFilters = new WeakMap<Db, ReturnType<typeof prepareFilters>>();

/** The account's unexpired filters for a context, ready to match. */
async function activeFilters(ctx: CoreContext, accountId: bigint, context: FilterContext): Promise<ActiveFilter[]> {
  let query = preparedFilters.get(ctx.db);
  if (query == null) preparedFilters.set(ctx.db, (query = prepareFilters(ctx.db)));
  const rows = await query.execute({ account: accountId.toString(), context });
  const now = new Date();
  const live = rows.filter((row) => isActive(row, now));
  return (await withRules(ctx, live)).map(({ filter, keywords, statuses: statusRows }) => ({
    filter,
    keywords: keywords.map((k) => ({ keyword: k.keyword, pattern: keywordRegExp(k.keyword, k.wholeWord) })),
    statusIds: new Set(statusRows.map((s) => s.statusId)),
  }));
}

/** The text keywords are matched against, for each status id given (the originals of boosts). */
async function searchableTexts(ctx: CoreContext, originals: readonly StatusRow[]): Promise<Map<bigint, string>> {
  const ids = originals.map((row) => row.id);
  const texts = new Map<bigint, string[]>();
  for (const row of originals) texts.set(row.id, [row.spoilerText, htmlToPlainText(row.content)]);
  if (ids.length > 0) {
    const [pollRows, mediaRows] = await Promise.all([
      ctx.db.select({ statusId: polls.statusId, options: polls.options }).from(polls).where(inArray(polls.statusId, ids)),
      ctx.db
        .select({ statusId: mediaAttachments.statusId, description: mediaAttachments.description })
        .from(mediaAttachments)
        .where(inArray(mediaAttachments.statusId, ids)),
    ]);
    for (const poll of pollRows) texts.get(poll.statusId)?.push(poll.options.join("\n\n"));
    for (const media of mediaRows) {
      if (media.statusId != null && media.description) texts.get(media.statusId)?.push(media.description);
    }
  }
  return new Map([...texts].map(([id, parts]) => [id, parts.filter((part) => part !== "").join("\n\n")]));
}

/**
 * Mastodon's FilterResults of each status (for a boost, of the boosted
 * status; the result is keyed by both ids) under the account's unexpired
 * filters for `context`. Statuses matching nothing are absent.
 */
export async function filterResults(
  ctx: CoreContext,
  accountId: bigint,
  context: FilterContext,
  rows: readonly StatusRow[],
): Promise<Map<bigint, FilterMatch[]>> {
  const results = new Map<bigint, FilterMatch[]>();
  if (rows.length === 0) return results;
  const active = await activeFilters(ctx, accountId, context);
  if (active.length === 0) return results;

  // The boosted statuses themselves: filters look at what is shown.
  const byId = new Map(rows.map((row) => [row.id, row]));
  const missing = [...new Set(rows.flatMap((row) => (row.reblogOfId != null && !byId.has(row.reblogOfId) ? [row.reblogOfId] : [])))];
  if (missing.length > 0) {
    for (const original of await ctx.db.select().from(statuses).where(inArray(statuses.id, missing))) byId.set(original.id, original);
  }
  const proper = (row: StatusRow): StatusRow => (row.reblogOfId == null ? row : (byId.get(row.reblogOfId) ?? row));
  const needsText = active.some((f) => f.keywords.length > 0);
  const texts = needsText ? await searchableTexts(ctx, [...new Map(rows.map((row) => [proper(row).id, proper(row)])).values()]) : new Map<bigint, string>();

  for (const row of rows) {
    const shown = proper(row);
    const text = texts.get(shown.id) ?? "";
    const matches: FilterMatch[] = [];
    for (const { filter, keywords, statusIds } of active) {
      const keywordMatches = keywords.filter((k) => k.pattern.test(text)).map((k) => k.keyword);
      const statusMatches = [row.id, row.reblogOfId].filter((id): id is bigint => id != null && statusIds.has(id)).map(String);
      if (keywordMatches.length === 0 && statusMatches.length === 0) continue;
      matches.push({
        filter,
        keywordMatches: keywordMatches.length === 0 ? null : keywordMatches,
        statusMatches: statusMatches.length === 0 ? null : statusMatches,
      });
    }
    if (matches.length === 0) continue;
    results.set(row.id, matches);
    if (row.reblogOfId != null) results.set(row.reblogOfId, matches);
  }
  return results;
}

/**
 * Applies the viewer's filters for `context` to statuses about to be shown:
 * those a `hide` filter matched are dropped, the others keep their results
 * in `filtered` (for Status.filtered). No viewer, no filters.
 */
export async function applyFilters(
  ctx: CoreContext,
  accountId: bigint | null,
  context: FilterContext,
  rows: readonly StatusRow[],
): Promise<{ visible: StatusRow[]; filtered: Map<bigint, FilterMatch[]> }> {
  if (accountId == null) return { visible: [...rows], filtered: new Map() };
  const filtered = await filterResults(ctx, accountId, context, rows);
  const visible = rows.filter((row) => !(filtered.get(row.id) ?? []).some((result) => result.filter.filterAction === "hide"));
  return { visible, filtered };
}
