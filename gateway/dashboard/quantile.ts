/**
 * Quantiles of a cumulative histogram, the way Prometheus's
 * `histogram_quantile` computes them: find the bucket the rank falls in and
 * interpolate linearly inside it. A rank in the open `+Inf` bucket answers
 * the highest finite bound, since nothing better is known.
 */

/** Cumulative buckets: upper bound (ascending, Infinity last) and the count at or below it. */
export type CumulativeBuckets = ReadonlyArray<readonly [le: number, count: number]>;

/** The `q` quantile (0–1) of `buckets`, or null when they hold no observation. */
export function histogramQuantile(q: number, buckets: CumulativeBuckets): number | null {
  const total = buckets.length > 0 ? buckets[buckets.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** `now - then`, bucket by bucket (a bucket `then` lacks counts from zero); counters never go back, so negatives become 0. */
export function bucketDelta(now: CumulativeBuckets, then: CumulativeBuckets | undefined): Array<[number, number]> {
  const before = new Map(then ?? []);
  return now.map(([le, count]) => [le, Math.max(0, count - (before.get(le) ?? 0))]);
}
