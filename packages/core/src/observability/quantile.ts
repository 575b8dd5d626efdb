/** Quantiles of Prometheus histograms, for the dashboard's latencies. */

/**
 * The `q` quantile (0..1) of cumulative histogram buckets, as Prometheus's `histogram_quantile` computes
 * it: `buckets` maps each upper bound `le` (in seconds, `Infinity` for `+Inf`) to its cumulative count;
 * the answer, in milliseconds, is interpolated within the bucket that holds the rank. `undefined` when
 * nothing was observed.
 *
 * @example
 * histogramQuantileMs(new Map([[0.01, 5], [0.1, 10], [Infinity, 10]]), 0.5) // 10 (ms)
 */
export function histogramQuantileMs(buckets: ReadonlyMap<number, number>, q: number): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return previousLe * 1000;
      const inBucket = count - previousCount;
      const share = inBucket > 0 ? (rank - previousCount) / inBucket : 0;
      return (previousLe + (le - previousLe) * share) * 1000;
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe * 1000;
}
