/**
 * The targets of the rows that have one (issue 16, "toward the physical
 * limit"): the table prints each beside its figure with whether it holds.
 * A target names a measurement id and the database it is for: PostgreSQL
 * unless another is named, as in the issue; the first matching entry
 * applies. Targets are read on a quiet
 * 2-core machine: on a busy one a miss may be the neighbours' doing, which
 * the machine row's load average shows.
 */
import type { Measurement } from "./types.ts";

export interface Goal {
  id: string;
  /** The database it is for; absent: PostgreSQL. */
  database?: Measurement["database"];
  /** The figure must be at most this (latency, time, memory)... */
  max?: number;
  /** ...or at least this (throughput). */
  min?: number;
}

export const GOALS: readonly Goal[] = [
  { id: "home.c10.p99", max: 10 },
  { id: "home.c10.rps", min: 1000 },
  { id: "home-own.c10.p99", max: 10 },
  { id: "post.text.c10.p99", max: 15 },
  { id: "inbox.rps", database: "PGlite", min: 300 },
  { id: "inbox.rps", min: 1000 },
  { id: "inbox.stored", database: "PGlite", max: 2 },
  { id: "inbox.stored", max: 2 },
  { id: "fanout.1000", max: 2 },
  { id: "fanout.shared", max: 15 },
  { id: "rss.idle", database: "PGlite", max: 160 },
  { id: "rss.idle", max: 100 },
  { id: "streaming.per_connection", max: 20 },
  { id: "streaming.c1000.p99", max: 50 },
  { id: "profile-page.c10.p99", max: 10 },
  { id: "post-page.c10.p99", max: 10 },
];

/** The goal of a measurement, if it has one. */
export function goalOf(row: Pick<Measurement, "id" | "database">): Goal | null {
  return GOALS.find((goal) => goal.id === row.id && (goal.database ?? "PostgreSQL") === row.database) ?? null;
}

/** "≤ 10" or "≥ 1000", in the row's unit. */
export function describeGoal(goal: Goal): string {
  return goal.max != null ? `≤ ${goal.max}` : `≥ ${goal.min}`;
}

/** Whether the figure meets the goal; null without a figure. */
export function goalHolds(goal: Goal, value: number | null): boolean | null {
  if (value == null || !Number.isFinite(value)) return null;
  return (goal.max == null || value <= goal.max) && (goal.min == null || value >= goal.min);
}
