/**
 * Percentile bootstrap over clusters (apps): resample the clusters with
 * replacement, recompute the statistics on each resample, and report the
 * middle `confidence` share of each statistic's resampled values. Resampling
 * whole apps keeps an app's functions together, so function-level intervals
 * do not pretend an app's functions are independent draws.
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

/** A two-sided interval. */
export interface Interval {
  low: number;
  high: number;
}

/** How the bootstrap runs. */
export interface BootstrapOptions {
  /** Resamples drawn. @default 2000 */
  iterations?: number;
  /** Seed of the generator: the same seed gives the same intervals. @default 23 */
  seed?: number;
  /** Share of the resampled values inside the interval. @default 0.95 */
  confidence?: number;
}

/**
 * Intervals for `statistics` over resamples of `clusters` (ids, each a
 * non-negative integer). `statistics` gets how many times each cluster id was
 * drawn (indexed by id) and returns one number per statistic; it must not
 * keep the array, which is reused.
 */
export function clusterBootstrap(
  clusters: readonly number[],
  statistics: (multiplicity: Int32Array) => readonly number[],
  options: BootstrapOptions = {},
): Interval[] {
  const { iterations = 2000, seed = 23, confidence = 0.95 } = options;
  if (clusters.length === 0) throw new RangeError("the bootstrap needs at least one cluster");
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1, not ${confidence}`);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError(`iterations must be a whole number of 1 or more, not ${iterations}`);
  const rng = xoroshiro128plus(seed);
  const multiplicity = new Int32Array(Math.max(...clusters) + 1);
  let samples: Float64Array[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    multiplicity.fill(0);
    for (let draw = 0; draw < clusters.length; draw++) multiplicity[clusters[uniformInt(rng, 0, clusters.length - 1)]]++;
    const values = statistics(multiplicity);
    if (iteration === 0) samples = values.map(() => new Float64Array(iterations));
    values.forEach((value, k) => (samples[k][iteration] = value));
  }
  const tail = (1 - confidence) / 2;
  return samples.map((values) => {
    values.sort();
    return { low: sortedQuantile(values, tail), high: sortedQuantile(values, 1 - tail) };
  });
}

/** The q-quantile of sorted values, interpolated between neighbours. */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}
