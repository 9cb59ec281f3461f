/**
 * What clients show to help the owner find things: trending tags and posts
 * among what this server has seen, follow suggestions, the profile
 * directory, and the figures of the instance's peers and weekly activity.
 * Everything here is read from stored data; nothing is fetched.
 */
import { and, asc, desc, eq, gt, gte, isNotNull, isNull, notInArray, or, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import {
  accounts,
  blocks,
  domainBlocks,
  follows,
  kvEntries,
  mutes,
  oauthTokens,
  statusTags,
  statuses,
  tags,
  userDomainBlocks,
  users,
  webSessions,
} from "../db/schema.ts";
import type { Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import type { Tag } from "./tags.ts";

export type Status = typeof statuses.$inferSelect;

const DAY_MS = 86_400_000;
/** Trends look at the past week. */
export const TREND_WINDOW_DAYS = 7;

/** Posts that count for trends: public, not boosts, from accounts on no suspended server. */
function trendableStatus(since: Date): SQL {
  return and(
    eq(statuses.visibility, "public"),
    isNull(statuses.reblogOfId),
    gte(statuses.createdAt, since),
    notInArray(
      statuses.accountId,
      sql`(select ${accounts.id} from ${accounts} where ${accounts.domain} in (select ${domainBlocks.domain} from ${domainBlocks} where ${domainBlocks.severity} = 'suspend'))`,
    ),
  )!;
}

/**
 * Tags used in public posts of the past week, by how many accounts used
 * them, then how often, then how recently.
 */
export async function trendingTags(ctx: CoreContext, options: { limit: number; offset: number; now?: Date }): Promise<Tag[]> {
  const since = new Date((options.now ?? new Date()).getTime() - TREND_WINDOW_DAYS * DAY_MS);
  const accountsUsing = sql<number>`count(distinct ${statuses.accountId})`;
  const uses = sql<number>`count(*)`;
  const rows = await ctx.db
    .select({ tag: tags, accountsUsing, uses, last: sql`max(${statuses.createdAt})` })
    .from(statusTags)
    .innerJoin(statuses, eq(statuses.id, statusTags.statusId))
    .innerJoin(tags, eq(tags.id, statusTags.tagId))
    .where(trendableStatus(since))
    .groupBy(tags.id)
    .orderBy(desc(accountsUsing), desc(uses), desc(sql`max(${statuses.createdAt})`), asc(tags.name))
    .limit(options.limit)
    .offset(options.offset);
  return rows.map((row) => row.tag);
}

/**
 * Public posts of the past week that were boosted, favourited or replied
 * to, the most engaged first.
 */
export async function trendingStatuses(ctx: CoreContext, options: { limit: number; offset: number; now?: Date }): Promise<Status[]> {
  const since = new Date((options.now ?? new Date()).getTime() - TREND_WINDOW_DAYS * DAY_MS);
  const engagement = sql<number>`(${statuses.reblogsCount} + ${statuses.favouritesCount} + ${statuses.repliesCount})`;
  return await ctx.db
    .select()
    .from(statuses)
    .where(and(trendableStatus(since), gt(engagement, 0)))
    .orderBy(desc(engagement), desc(statuses.id))
    .limit(options.limit)
    .offset(options.offset);
}

/** Remote domains this server knows accounts of, except the suspended ones; sorted. */
export async function peerDomains(ctx: CoreContext): Promise<string[]> {
  const suspended = ctx.db.select({ domain: domainBlocks.domain }).from(domainBlocks).where(eq(domainBlocks.severity, "suspend"));
  const rows = await ctx.db
    .selectDistinct({ domain: accounts.domain })
    .from(accounts)
    .where(and(isNotNull(accounts.domain), notInArray(accounts.domain, suspended)))
    .orderBy(asc(accounts.domain));
  return rows.map((row) => row.domain!);
}

export interface ActivityWeek {
  /** Monday 00:00 UTC, in Unix seconds. */
  week: number;
  statuses: number;
  logins: number;
  registrations: number;
}

/** Monday 00:00 UTC of the week `at` falls in. */
export function weekStart(at: Date): Date {
  const midnight = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
  const weekday = (new Date(midnight).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(midnight - weekday * DAY_MS);
}

/**
 * Twelve weeks of activity, this week first: local posts, whether the owner
 * signed in or used the API (0 or 1), and registrations.
 */
export async function weeklyActivity(ctx: CoreContext, now: Date = new Date()): Promise<ActivityWeek[]> {
  const current = weekStart(now);
  const weeks = Array.from({ length: 12 }, (_, i) => new Date(current.getTime() - i * 7 * DAY_MS));
  const oldest = weeks[weeks.length - 1];
  const bucket = (column: AnyPgColumn) =>
    sql<string>`extract(epoch from date_trunc('week', ${column} at time zone 'UTC'))::bigint`;

  const statusWeek = bucket(statuses.createdAt);
  const statusRows = await ctx.db
    .select({ week: statusWeek, n: sql<string>`count(*)` })
    .from(statuses)
    .innerJoin(accounts, eq(accounts.id, statuses.accountId))
    .where(and(isNull(accounts.domain), gte(statuses.createdAt, oldest)))
    .groupBy(statusWeek);

  const userWeek = bucket(users.createdAt);
  const registrationRows = await ctx.db
    .select({ week: userWeek, n: sql<string>`count(*)` })
    .from(users)
    .where(gte(users.createdAt, oldest))
    .groupBy(userWeek);

  const tokenWeek = bucket(oauthTokens.lastUsedAt);
  const tokenRows = await ctx.db
    .select({ week: tokenWeek })
    .from(oauthTokens)
    .where(and(isNotNull(oauthTokens.accountId), gte(oauthTokens.lastUsedAt, oldest)))
    .groupBy(tokenWeek);
  const sessionWeek = bucket(webSessions.createdAt);
  const sessionRows = await ctx.db
    .select({ week: sessionWeek })
    .from(webSessions)
    .where(gte(webSessions.createdAt, oldest))
    .groupBy(sessionWeek);

  const byWeek = (rows: { week: string; n?: string }[]) => new Map(rows.map((row) => [Number(row.week), Number(row.n ?? 1)]));
  const statusCounts = byWeek(statusRows);
  const registrationCounts = byWeek(registrationRows);
  const loginWeeks = new Set([...tokenRows, ...sessionRows].map((row) => Number(row.week)));
  return weeks.map((start) => {
    const week = start.getTime() / 1000;
    return {
      week,
      statuses: statusCounts.get(week) ?? 0,
      logins: loginWeeks.has(week) ? 1 : 0,
      registrations: registrationCounts.get(week) ?? 0,
    };
  });
}

/** Accounts the viewer blocks or mutes, or that block the viewer. */
function shunnedBy(viewerId: bigint): SQL {
  return sql`(
    select ${blocks.targetAccountId} from ${blocks} where ${blocks.accountId} = ${viewerId}
    union select ${blocks.accountId} from ${blocks} where ${blocks.targetAccountId} = ${viewerId}
    union select ${mutes.targetAccountId} from ${mutes} where ${mutes.accountId} = ${viewerId}
  )`;
}

/** Accounts on domains the viewer hides. */
function onHiddenDomains(viewerId: bigint): SQL {
  return sql`(select ${userDomainBlocks.domain} from ${userDomainBlocks} where ${userDomainBlocks.accountId} = ${viewerId})`;
}

const DISMISSED_KEY = ["islet", "suggestions", "dismissed"] as const;

/**
 * Follow suggestions: accounts that follow the owner whom the owner does
 * not follow (nor asked to), leaving out blocked, muted and dismissed ones
 * and hidden domains; the most recent followers first.
 */
export async function followSuggestions(ctx: CoreContext, ownerId: bigint, limit: number): Promise<Account[]> {
  const followed = ctx.db.select({ id: follows.targetAccountId }).from(follows).where(eq(follows.accountId, ownerId));
  const dismissed = sql`(select (${kvEntries.key})[5]::bigint from ${kvEntries}
    where (${kvEntries.key})[1:4] = ARRAY[${DISMISSED_KEY[0]}, ${DISMISSED_KEY[1]}, ${DISMISSED_KEY[2]}, ${ownerId.toString()}]::text[])`;
  const rows = await ctx.db
    .select({ account: accounts })
    .from(follows)
    .innerJoin(accounts, eq(accounts.id, follows.accountId))
    .where(and(
      eq(follows.targetAccountId, ownerId),
      eq(follows.state, "accepted"),
      notInArray(follows.accountId, followed),
      notInArray(follows.accountId, shunnedBy(ownerId)),
      notInArray(follows.accountId, dismissed),
      or(isNull(accounts.domain), notInArray(accounts.domain, onHiddenDomains(ownerId))),
      isNull(accounts.movedToAccountId),
    ))
    .orderBy(desc(follows.id))
    .limit(limit);
  return rows.map((row) => row.account);
}

/** Keeps an account out of the owner's suggestions from now on. */
export async function dismissSuggestion(ctx: CoreContext, ownerId: bigint, accountId: bigint): Promise<void> {
  await ctx.db
    .insert(kvEntries)
    .values({ key: [...DISMISSED_KEY, ownerId.toString(), accountId.toString()], value: true })
    .onConflictDoNothing();
}

export interface DirectoryQuery {
  /** Only local accounts. */
  local: boolean;
  /** `active`: most recent post first; `new`: newest profile first. */
  order: "active" | "new";
  offset: number;
  limit: number;
  /** Leave out whom this account blocks, mutes or hides the domain of. */
  viewerId: bigint | null;
}

/** Discoverable accounts this server knows, for the profile directory. */
export async function directory(ctx: CoreContext, query: DirectoryQuery): Promise<Account[]> {
  const conditions: SQL[] = [eq(accounts.discoverable, true), isNull(accounts.movedToAccountId)];
  if (query.local) conditions.push(isNull(accounts.domain));
  conditions.push(or(
    isNull(accounts.domain),
    notInArray(accounts.domain, ctx.db.select({ domain: domainBlocks.domain }).from(domainBlocks)),
  )!);
  if (query.viewerId != null) {
    conditions.push(notInArray(accounts.id, shunnedBy(query.viewerId)));
    conditions.push(or(isNull(accounts.domain), notInArray(accounts.domain, onHiddenDomains(query.viewerId)))!);
  }
  const lastStatus = sql`(select max(${statuses.createdAt}) from ${statuses} where ${statuses.accountId} = ${accounts.id})`;
  const order = query.order === "new"
    ? [desc(sql`coalesce(${accounts.publishedAt}, ${accounts.createdAt})`), desc(accounts.id)]
    : [sql`${lastStatus} desc nulls last`, desc(accounts.id)];
  return await ctx.db
    .select()
    .from(accounts)
    .where(and(...conditions))
    .orderBy(...order)
    .limit(query.limit)
    .offset(query.offset);
}

/** The domains this server refuses to federate with, alphabetically. */
export async function serverDomainBlocks(ctx: CoreContext): Promise<(typeof domainBlocks.$inferSelect)[]> {
  return await ctx.db.select().from(domainBlocks).orderBy(asc(domainBlocks.domain));
}
