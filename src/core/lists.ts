/**
 * The owner's lists: named groups of followed accounts, each with its own
 * timeline. Only accounts the owner follows (or asked to follow) may be
 * members, as on Mastodon.
 */
import { and, asc, count, desc, eq, gt, inArray, lt, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { accounts, follows, listAccounts, lists } from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";

export type List = typeof lists.$inferSelect;
export type RepliesPolicy = List["repliesPolicy"];

export const REPLIES_POLICIES: readonly RepliesPolicy[] = ["followed", "list", "none"];
/** As many lists as Mastodon allows one account. */
export const MAX_LISTS = 50;
export const MAX_LIST_TITLE_LENGTH = 256;

/** A page of rows by a bigint cursor, newest first (or oldest first after `minId`). */
export interface PageQuery {
  maxId?: bigint;
  sinceId?: bigint;
  minId?: bigint;
  /** Null: every row. */
  limit: number | null;
}

function titleProblem(title: string): string | null {
  if (title.trim() === "") return "Title can't be blank";
  if ([...title].length > MAX_LIST_TITLE_LENGTH) return `Title is too long (maximum is ${MAX_LIST_TITLE_LENGTH} characters)`;
  return null;
}

/** The owner's lists, oldest first (as Mastodon orders them). */
export async function getLists(ctx: CoreContext, ownerId: bigint): Promise<List[]> {
  return await ctx.db.select().from(lists).where(eq(lists.accountId, ownerId)).orderBy(asc(lists.id));
}

/** One of the owner's lists, or null when there is none such (or it is someone else's). */
export async function findList(ctx: CoreContext, ownerId: bigint, listId: bigint): Promise<List | null> {
  const rows = await ctx.db.select().from(lists).where(and(eq(lists.id, listId), eq(lists.accountId, ownerId))).limit(1);
  return rows[0] ?? null;
}

/** Like {@link findList}, but a missing list is a not_found CoreError. */
export async function requireList(ctx: CoreContext, ownerId: bigint, listId: bigint): Promise<List> {
  const list = await findList(ctx, ownerId, listId);
  if (list == null) throw new CoreError("not_found", "Record not found");
  return list;
}

export interface ListInput {
  title?: string;
  repliesPolicy?: RepliesPolicy;
  exclusive?: boolean;
}

export async function createList(ctx: CoreContext, ownerId: bigint, input: ListInput): Promise<List> {
  const problem = titleProblem(input.title ?? "");
  if (problem != null) throw new CoreError("invalid", problem);
  if (input.repliesPolicy != null && !REPLIES_POLICIES.includes(input.repliesPolicy)) {
    throw new CoreError("invalid", `Replies policy must be one of ${REPLIES_POLICIES.join(", ")}`);
  }
  const existing = await ctx.db.select({ n: count() }).from(lists).where(eq(lists.accountId, ownerId));
  if (Number(existing[0]?.n ?? 0) >= MAX_LISTS) throw new CoreError("invalid", `You cannot have more than ${MAX_LISTS} lists`);
  const rows = await ctx.db
    .insert(lists)
    .values({
      id: newId(),
      accountId: ownerId,
      title: input.title!,
      repliesPolicy: input.repliesPolicy ?? "list",
      exclusive: input.exclusive ?? false,
    })
    .returning();
  return rows[0];
}

/** Changes what is given; the rest stays. */
export async function updateList(ctx: CoreContext, ownerId: bigint, listId: bigint, input: ListInput): Promise<List> {
  const list = await requireList(ctx, ownerId, listId);
  const changes: Partial<Pick<List, "title" | "repliesPolicy" | "exclusive">> = {};
  if (input.title !== undefined) {
    const problem = titleProblem(input.title);
    if (problem != null) throw new CoreError("invalid", problem);
    changes.title = input.title;
  }
  if (input.repliesPolicy !== undefined) {
    if (!REPLIES_POLICIES.includes(input.repliesPolicy)) {
      throw new CoreError("invalid", `Replies policy must be one of ${REPLIES_POLICIES.join(", ")}`);
    }
    changes.repliesPolicy = input.repliesPolicy;
  }
  if (input.exclusive !== undefined) changes.exclusive = input.exclusive;
  if (Object.keys(changes).length === 0) return list;
  const rows = await ctx.db.update(lists).set(changes).where(eq(lists.id, list.id)).returning();
  return rows[0] ?? list;
}

export async function deleteList(ctx: CoreContext, ownerId: bigint, listId: bigint): Promise<void> {
  const list = await requireList(ctx, ownerId, listId);
  // Members go with the list (ON DELETE CASCADE).
  await ctx.db.delete(lists).where(eq(lists.id, list.id));
}

function cursorConditions(column: AnyPgColumn, page: PageQuery): SQL[] {
  const conditions: SQL[] = [];
  if (page.maxId != null) conditions.push(lt(column, page.maxId));
  if (page.minId != null) conditions.push(gt(column, page.minId));
  else if (page.sinceId != null) conditions.push(gt(column, page.sinceId));
  return conditions;
}

/**
 * One page of a list's members, newest account id first; the account id is
 * the cursor. A `limit` of null returns every member.
 */
export async function getListAccounts(ctx: CoreContext, ownerId: bigint, listId: bigint, page: PageQuery): Promise<Account[]> {
  const list = await requireList(ctx, ownerId, listId);
  const query = ctx.db
    .select({ account: accounts })
    .from(listAccounts)
    .innerJoin(accounts, eq(accounts.id, listAccounts.accountId))
    .where(and(eq(listAccounts.listId, list.id), ...cursorConditions(accounts.id, page)))
    .orderBy(page.minId != null ? asc(accounts.id) : desc(accounts.id));
  const rows = page.limit == null ? await query : await query.limit(page.limit);
  const result = rows.map((row) => row.account);
  return page.minId != null ? result.reverse() : result;
}

/** The ids of a list's members (for the list timeline). */
export async function listMemberIds(ctx: CoreContext, listId: bigint): Promise<bigint[]> {
  const rows = await ctx.db.select({ id: listAccounts.accountId }).from(listAccounts).where(eq(listAccounts.listId, listId));
  return rows.map((row) => row.id);
}

/** The accounts that are members of any of the owner's exclusive lists (kept out of home). */
export async function exclusiveListMemberIds(ctx: CoreContext, ownerId: bigint): Promise<bigint[]> {
  const rows = await ctx.db
    .selectDistinct({ id: listAccounts.accountId })
    .from(listAccounts)
    .innerJoin(lists, eq(lists.id, listAccounts.listId))
    .where(and(eq(lists.accountId, ownerId), eq(lists.exclusive, true)));
  return rows.map((row) => row.id);
}

/**
 * Adds accounts to a list. Every account must exist (not_found otherwise),
 * be followed by the owner, pending or accepted (invalid otherwise), and not
 * be a member already (invalid, as Mastodon answers). All or nothing.
 */
export async function addListAccounts(ctx: CoreContext, ownerId: bigint, listId: bigint, accountIds: readonly bigint[]): Promise<void> {
  const list = await requireList(ctx, ownerId, listId);
  const ids = [...new Set(accountIds)];
  if (ids.length === 0) throw new CoreError("invalid", "Account ids can't be blank");
  const known = await ctx.db.select({ id: accounts.id }).from(accounts).where(inArray(accounts.id, ids));
  if (known.length !== ids.length) throw new CoreError("not_found", "Record not found");
  const followed = await ctx.db
    .select({ id: follows.targetAccountId })
    .from(follows)
    .where(and(eq(follows.accountId, ownerId), inArray(follows.targetAccountId, ids)));
  const followedIds = new Set(followed.map((row) => row.id));
  const notFollowed = ids.filter((id) => !followedIds.has(id));
  if (notFollowed.length > 0) {
    throw new CoreError("invalid", "Account must be followed before it can be added to a list");
  }
  const members = await ctx.db
    .select({ id: listAccounts.accountId })
    .from(listAccounts)
    .where(and(eq(listAccounts.listId, list.id), inArray(listAccounts.accountId, ids)));
  if (members.length > 0) throw new CoreError("invalid", "Account has already been taken");
  await ctx.db
    .insert(listAccounts)
    .values(ids.map((accountId) => ({ listId: list.id, accountId })))
    .onConflictDoNothing();
}

/** Removes accounts from a list; accounts not in it are ignored. */
export async function removeListAccounts(ctx: CoreContext, ownerId: bigint, listId: bigint, accountIds: readonly bigint[]): Promise<void> {
  const list = await requireList(ctx, ownerId, listId);
  if (accountIds.length === 0) return;
  await ctx.db.delete(listAccounts).where(and(eq(listAccounts.listId, list.id), inArray(listAccounts.accountId, [...accountIds])));
}

/** The owner's lists that have this account as a member. */
export async function listsContaining(ctx: CoreContext, ownerId: bigint, accountId: bigint): Promise<List[]> {
  const rows = await ctx.db
    .select({ list: lists })
    .from(listAccounts)
    .innerJoin(lists, eq(lists.id, listAccounts.listId))
    .where(and(eq(lists.accountId, ownerId), eq(listAccounts.accountId, accountId)))
    .orderBy(asc(lists.id));
  return rows.map((row) => row.list);
}

/**
 * Takes accounts out of every list of the owner: what an unfollow (or a
 * domain block) implies, as Mastodon drops list members one stops following.
 */
export async function removeFromAllLists(ctx: CoreContext, ownerId: bigint, accountIds: readonly bigint[]): Promise<void> {
  if (accountIds.length === 0) return;
  const owned = ctx.db.select({ id: lists.id }).from(lists).where(eq(lists.accountId, ownerId));
  await ctx.db.delete(listAccounts).where(and(inArray(listAccounts.listId, owned), inArray(listAccounts.accountId, [...accountIds])));
}
