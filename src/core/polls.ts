/**
 * Polls: the rules for a new poll, and votes. A vote comes from the owner
 * (on anyone's poll) or from a remote account (on the owner's poll, through
 * the inbox); both go through {@link votePoll}.
 */
import { and, eq, exists, gt, inArray, lte, or, sql } from "drizzle-orm";
import { accounts, notifications, polls, pollVotes, statuses } from "../db/schema.ts";
import { getOwner, type Account } from "./accounts.ts";
import type { CoreContext } from "./context.ts";
import { CoreError } from "./context.ts";
import { newId } from "./ids.ts";
import type { StatusRow } from "./statuses/rows.ts";
import { graphemeLength } from "./text.ts";
import { canView } from "./visibility.ts";

export type PollRow = typeof polls.$inferSelect;

/** Mastodon's poll limits, as the instance API reports them. */
export const POLL_LIMITS = {
  maxOptions: 4,
  maxCharactersPerOption: 50,
  minExpiration: 300,
  maxExpiration: 2_629_746,
} as const;

export interface PollInput {
  options: string[];
  /** Seconds the poll stays open. */
  expiresIn: number;
  multiple?: boolean;
  hideTotals?: boolean;
}

/** Why a new poll is unacceptable, or null. */
export function pollInputProblem(input: PollInput): string | null {
  const { options } = input;
  if (options.length < 2) return "Poll options must have more than one item";
  if (options.length > POLL_LIMITS.maxOptions) return `Poll options can't contain more than ${POLL_LIMITS.maxOptions} items`;
  if (options.some((option) => option.trim() === "")) return "Poll options can't be blank";
  if (options.some((option) => graphemeLength(option) > POLL_LIMITS.maxCharactersPerOption)) {
    return `Poll options cannot be longer than ${POLL_LIMITS.maxCharactersPerOption} characters each`;
  }
  if (new Set(options).size !== options.length) return "Poll options contain duplicate items";
  if (!Number.isInteger(input.expiresIn)) return "Poll expiration must be a whole number of seconds";
  if (input.expiresIn < POLL_LIMITS.minExpiration) return "Poll duration is too short";
  if (input.expiresIn > POLL_LIMITS.maxExpiration) return "Poll duration is too long";
  return null;
}

/** The input with what cannot be stored (NUL characters) taken out of its options. */
export function cleanPollInput(input: PollInput): PollInput {
  return { ...input, options: input.options.map((option) => option.replace(/\0/g, "")) };
}

/** Throws a CoreError("invalid") when the poll breaks a rule. */
export function checkPollInput(input: PollInput): void {
  const problem = pollInputProblem(input);
  if (problem != null) throw new CoreError("invalid", problem);
}

export function isPollExpired(poll: Pick<PollRow, "expiresAt">, now = new Date()): boolean {
  return poll.expiresAt != null && poll.expiresAt.getTime() <= now.getTime();
}

export async function findPoll(ctx: CoreContext, id: bigint): Promise<PollRow | null> {
  const rows = await ctx.db.select().from(polls).where(eq(polls.id, id)).limit(1);
  return rows[0] ?? null;
}

export async function findPollByStatus(ctx: CoreContext, statusId: bigint): Promise<PollRow | null> {
  const rows = await ctx.db.select().from(polls).where(eq(polls.statusId, statusId)).limit(1);
  return rows[0] ?? null;
}

/** The choices each of these polls got from the account, in the order cast. */
export async function ownVotes(ctx: CoreContext, pollIds: readonly bigint[], accountId: bigint): Promise<Map<bigint, number[]>> {
  const result = new Map<bigint, number[]>();
  if (pollIds.length === 0) return result;
  const rows = await ctx.db
    .select({ pollId: pollVotes.pollId, choice: pollVotes.choice })
    .from(pollVotes)
    .where(and(eq(pollVotes.accountId, accountId), inArray(pollVotes.pollId, [...pollIds])))
    .orderBy(pollVotes.id);
  for (const row of rows) {
    if (!result.has(row.pollId)) result.set(row.pollId, []);
    result.get(row.pollId)!.push(row.choice);
  }
  return result;
}

/** A poll with its status and the status's author, or null when it is gone. */
export async function findPollWithStatus(ctx: CoreContext, pollId: bigint): Promise<{ poll: PollRow; status: StatusRow; author: Account } | null> {
  const rows = await ctx.db
    .select({ poll: polls, status: statuses, author: accounts })
    .from(polls)
    .innerJoin(statuses, eq(statuses.id, polls.statusId))
    .innerJoin(accounts, eq(accounts.id, statuses.accountId))
    .where(eq(polls.id, pollId))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * Casts the voter's choices (indices into the options). One vote per
 * account (a multiple-choice poll takes further choices later, never the
 * same one twice); one choice unless the poll is multiple-choice; not on an expired
 * poll, nor on one's own. Emits `poll.voted`.
 */
export async function votePoll(
  ctx: CoreContext,
  voter: Account,
  pollId: bigint,
  choices: readonly number[],
  options: { uri?: string | null } = {},
): Promise<PollRow> {
  const row = await findPollWithStatus(ctx, pollId);
  if (row == null || !(await canView(ctx, row.status, voter.id))) throw new CoreError("not_found", "Record not found");
  if (choices.length === 0) throw new CoreError("invalid", "Choices can't be blank");
  const unique = [...new Set(choices)];
  if (unique.length !== choices.length) throw new CoreError("invalid", "Choices contain duplicate items");
  if (unique.some((choice) => !Number.isInteger(choice) || choice < 0 || choice >= row.poll.options.length)) {
    throw new CoreError("invalid", "The chosen vote option does not exist");
  }
  if (!row.poll.multiple && unique.length > 1) throw new CoreError("invalid", "This poll allows only one choice");
  if (row.status.accountId === voter.id) throw new CoreError("invalid", "You cannot vote in your own polls");

  const updated = await ctx.db.transaction(async (tx) => {
    const locked = await tx.select().from(polls).where(eq(polls.id, pollId)).for("update");
    const poll = locked[0];
    if (poll == null) throw new CoreError("not_found", "Record not found");
    if (isPollExpired(poll)) throw new CoreError("invalid", "The poll has already ended");
    // As Mastodon: on a multiple-choice poll a voter may add other choices
    // later (remote servers send one vote per choice); never the same twice.
    const previous = await tx
      .select({ choice: pollVotes.choice })
      .from(pollVotes)
      .where(and(eq(pollVotes.pollId, pollId), eq(pollVotes.accountId, voter.id)));
    const repeated = poll.multiple ? previous.some((vote) => unique.includes(vote.choice)) : previous.length > 0;
    if (repeated) throw new CoreError("invalid", "You have already voted on this poll");
    await tx.insert(pollVotes).values(unique.map((choice, i) => ({
      id: newId(),
      pollId,
      accountId: voter.id,
      choice,
      uri: unique.length === 1 ? (options.uri ?? null) : options.uri == null ? null : `${options.uri}#${i}`,
    })));
    const counts = poll.options.map((_, i) => (poll.votesCounts[i] ?? 0) + (unique.includes(i) ? 1 : 0));
    const rows = await tx
      .update(polls)
      .set({ votesCounts: counts, votersCount: (poll.votersCount ?? 0) + (previous.length === 0 ? 1 : 0), updatedAt: new Date() })
      .where(eq(polls.id, pollId))
      .returning();
    return rows[0];
  });
  await ctx.events.emit("poll.voted", { pollId, statusId: row.status.id, accountId: voter.id, choices: unique });
  return updated;
}

/** How far back a closed poll still gets its `poll.expired`. */
const EXPIRED_LOOKBACK_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Emits `poll.expired` for each poll the owner made or voted in that has
 * closed (in the last week) and that the owner has not yet been told of:
 * no `poll` notification for its status. Run periodically by the worker;
 * returns how many were emitted.
 */
export async function announceExpiredPolls(ctx: CoreContext, now = new Date(), limit = 100): Promise<number> {
  const owner = await getOwner(ctx);
  if (owner == null) return 0;
  const ownerId = owner.account.id;
  const rows = await ctx.db
    .select({ pollId: polls.id, statusId: polls.statusId })
    .from(polls)
    .innerJoin(statuses, eq(statuses.id, polls.statusId))
    .where(and(
      lte(polls.expiresAt, now),
      gt(polls.expiresAt, new Date(now.getTime() - EXPIRED_LOOKBACK_MS)),
      or(
        eq(statuses.accountId, ownerId),
        exists(ctx.db.select({ one: sql`1` }).from(pollVotes).where(and(eq(pollVotes.pollId, polls.id), eq(pollVotes.accountId, ownerId)))),
      ),
      sql`not exists (select 1 from ${notifications} where ${notifications.accountId} = ${ownerId}
        and ${notifications.type} = 'poll' and ${notifications.statusId} = ${polls.statusId})`,
    ))
    .limit(limit);
  for (const row of rows) await ctx.events.emit("poll.expired", row);
  return rows.length;
}
