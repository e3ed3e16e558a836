/**
 * Latency on fixed log-spaced buckets, so counts from every gateway instance
 * add up (a Redis HINCRBY per bucket) into one distribution whose p99 the
 * leader reads. Eight buckets per doubling from 0.5 ms keep an estimate within
 * about 9 % of the true value, interpolated inside its bucket as Prometheus's
 * histogram_quantile does.
 */

/** Upper bound of the first bucket, in milliseconds. */
const FIRST_MS = 0.5;
/** Buckets per doubling of latency. */
const PER_DOUBLING = 8;
/** Bucket count: the last one (past 0.5 ms × 2^19.75, about 7 minutes) takes everything slower. */
export const LATENCY_BUCKETS = 160;

/** The bucket a latency of `ms` falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > FIRST_MS)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.ceil(PER_DOUBLING * Math.log2(ms / FIRST_MS)));
}

/** The upper bound of bucket `index`, in milliseconds. */
export function bucketUpperMs(index: number): number {
  return FIRST_MS * 2 ** (index / PER_DOUBLING);
}

/**
 * The `q` quantile (0–1) of the latencies counted in `buckets` (bucket index
 * to count), in milliseconds; undefined when nothing was counted.
 */
export function quantileMs(buckets: Readonly<Record<number, number>>, q: number): number | undefined {
  const indices = Object.keys(buckets)
    .map(Number)
    .filter((i) => buckets[i] > 0)
    .sort((a, b) => a - b);
  const total = indices.reduce((sum, i) => sum + buckets[i], 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (const index of indices) {
    const count = buckets[index];
    if (below + count >= rank) {
      const lower = index === 0 ? 0 : bucketUpperMs(index - 1);
      return lower + (bucketUpperMs(index) - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bucketUpperMs(indices[indices.length - 1]);
}
