/** Poll rows as Mastodon's Poll entity. */
import type { CoreContext } from "../../core/context.ts";
import { isPollExpired, ownVotes, type PollRow } from "../../core/polls.ts";

export interface MastodonPoll {
  id: string;
  expires_at: string | null;
  expired: boolean;
  multiple: boolean;
  votes_count: number;
  voters_count: number | null;
  options: { title: string; votes_count: number | null }[];
  emojis: unknown[];
  voted?: boolean;
  own_votes?: number[];
}

export interface PollViewer {
  /** Whether the viewer made the poll (its results always show, and it counts as voted). */
  isAuthor: boolean;
  /** The viewer's choices; null when there is no viewer. */
  ownVotes: number[] | null;
}

/**
 * Serialises a poll. With `hide_totals`, each option's count is null until
 * the poll ends, except for its author.
 */
export function serializePoll(poll: PollRow, viewer: PollViewer, now = new Date()): MastodonPoll {
  const expired = isPollExpired(poll, now);
  const hidden = poll.hideTotals && !expired && !viewer.isAuthor;
  const counts = poll.options.map((_, i) => poll.votesCounts[i] ?? 0);
  const result: MastodonPoll = {
    id: poll.id.toString(),
    expires_at: poll.expiresAt?.toISOString() ?? null,
    expired,
    multiple: poll.multiple,
    votes_count: counts.reduce((a, b) => a + b, 0),
    voters_count: poll.votersCount,
    options: poll.options.map((title, i) => ({ title, votes_count: hidden ? null : counts[i] })),
    emojis: [],
  };
  if (viewer.ownVotes != null) {
    result.voted = viewer.isAuthor || viewer.ownVotes.length > 0;
    result.own_votes = viewer.ownVotes;
  }
  return result;
}

/** Serialises one poll for a viewer, looking up the viewer's votes. */
export async function serializePollFor(ctx: CoreContext, poll: PollRow, authorId: bigint, viewerId: bigint | null): Promise<MastodonPoll> {
  const votes = viewerId == null ? null : ((await ownVotes(ctx, [poll.id], viewerId)).get(poll.id) ?? []);
  return serializePoll(poll, { isAuthor: viewerId != null && viewerId === authorId, ownVotes: votes });
}
