/** Latency figures, measured the same way by every load generator. */

/** Nearest-rank percentile (`p` from 0 to 1) of values sorted in ascending order; 0 when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** p50, p99 and the largest of the first `count` latencies in `latencies` (sorted in place). */
export function latencySummary(latencies: Float64Array, count: number): { p50: number; p99: number; max: number } {
  const sorted = latencies.subarray(0, count).sort();
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: count > 0 ? sorted[count - 1]! : 0,
  };
}
