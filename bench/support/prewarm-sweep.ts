/**
 * The parameter sweep of the pre-warm benchmark: a grid per tunable policy
 * and one objective, evaluated on a tuning slice only (app level). The same
 * sweep tunes the hybrid histogram policy and cloudloom's, so neither gets a
 * hand-picked advantage.
 */
import { CLOUDLOOM_DEFAULTS, CloudloomPolicy, type CloudloomPolicyOptions } from "../../sdk/prewarm/cloudloom";
import { FixedKeepAlive, HybridHistogram, type HybridOptions } from "../../sdk/prewarm/policies";
import { medianOf, runPolicy, Scorer, sliceUnits, type PolicyFactory, type PreparedTrace, type Score } from "./prewarm-evaluate";
import type { Slice } from "./prewarm-splits";

/** The goal corner: p75 app cold share and memory-weighted waste relative to fixed-10. */
export const GOAL = { p75: 0.15, weighted: 0.9 } as const;

/**
 * The objective the sweep minimizes: the larger of the two axes, each over
 * its goal (a Chebyshev distance to the goal corner). Minimizing the larger
 * ratio lands each policy where its own trade-off curve crosses the ray
 * through the goal corner, so two policies tuned by it are compared at the
 * same balance of the two axes, and a better curve shows as a point lower on
 * both. Ties go to the smaller sum.
 */
export function objective(score: Pick<Score, "p75" | "weighted">): number {
  const p75 = score.p75 / GOAL.p75;
  const weighted = score.weighted / GOAL.weighted;
  return Math.max(p75, weighted) + 1e-3 * (p75 + weighted);
}

/** Every combination of the values of each field. */
export function grid<T extends object>(axes: { [K in keyof T]: ReadonlyArray<T[K]> }): T[] {
  return (Object.keys(axes) as Array<keyof T>).reduce<Array<Partial<T>>>(
    (points, key) => points.flatMap((point) => axes[key].map((value) => ({ ...point, [key]: value }))),
    [{}],
  ) as T[];
}

/** A tunable policy: its grid (given the tuning apps' median memory), and how to make it for a unit. */
export interface Tunable<O> {
  name: string;
  grid: (referenceMb: number) => O[];
  make: (options: O) => PolicyFactory;
}

const HYBRID_GRID = grid<HybridOptions>({
  headPercentile: [5, 10, 20, 30],
  tailPercentile: [75, 90, 95, 99],
  margin: [0.1, 0.2],
  minVariation: [0, 1, 2],
  minSamples: [3, 5, 10],
  fallbackKeepAlive: [60, 120, 240],
});

/** The hybrid histogram policy, waiting for `minSamples` idle times before it trusts a histogram. */
export const HYBRID: Tunable<HybridOptions> = {
  name: "hybrid",
  grid: () => HYBRID_GRID,
  make: (options) => () => new HybridHistogram(options),
};

/** The hybrid histogram policy trusting a histogram from its first idle time (CV check only). */
export const HYBRID_NO_WAIT: Tunable<HybridOptions> = {
  name: "hybrid-no-wait",
  grid: () => HYBRID_GRID.filter((options) => options.minSamples === 3).map((options) => ({ ...options, minSamples: 0 })),
  make: HYBRID.make,
};

/** A grid point of cloudloom's policy, before the reference memory is known. */
type CloudloomPoint = Omit<CloudloomPolicyOptions, "referenceMb" | "unitMb">;

/** What both of cloudloom's window rules share in the grid. */
const CLOUDLOOM_SHARED = {
  window: [30],
  minSamples: [5, 11, 15],
  fallbackKeepAlive: [60, 110, 200],
  memoryExponent: [0, 0.5, 1],
  periodicKeepAlive: [4],
  periodStreak: [0, 2],
};

/**
 * cloudloom's grid: each window rule with its own parameters (the other
 * rule's are left at the defaults, where they do nothing).
 */
export const CLOUDLOOM_GRID: CloudloomPoint[] = [
  ...grid<CloudloomPoint>({
    ...CLOUDLOOM_SHARED,
    rule: ["percentile"],
    lower: [0.1, 0.2],
    upper: [0.75, 0.9],
    margin: [0.05],
    coldCost: [CLOUDLOOM_DEFAULTS.coldCost],
  }),
  ...grid<CloudloomPoint>({
    ...CLOUDLOOM_SHARED,
    rule: ["cost"],
    lower: [CLOUDLOOM_DEFAULTS.lower],
    upper: [CLOUDLOOM_DEFAULTS.upper],
    margin: [0],
    coldCost: [10, 20, 40, 80, 160],
  }),
];

/** cloudloom's policy; `referenceMb` is the tuning apps' median memory. */
export const CLOUDLOOM: Tunable<CloudloomPolicyOptions> = {
  name: "cloudloom",
  grid: (referenceMb) => CLOUDLOOM_GRID.map((point) => ({ ...point, referenceMb })),
  make: (options) => (unit) => new CloudloomPolicy({ ...options, unitMb: unit.memoryMb }),
};

/** What a sweep chose, and what it cost. */
export interface SweepResult<O> {
  policy: string;
  options: O;
  score: Score;
  objective: number;
  points: number;
  ms: number;
}

/** The tuning apps' median memory: the reference a memory-aware policy is sized for. */
export function referenceMb(trace: PreparedTrace, slice: Slice): number {
  return medianOf(sliceUnits(trace, "app", slice).map((unit) => unit.memoryMb)) ?? 1;
}

/** Evaluates every grid point on the tuning slice (app level) and keeps the best by `objective`. */
export function sweep<O>(tunable: Tunable<O>, trace: PreparedTrace, tuning: Slice): SweepResult<O> {
  const began = performance.now();
  const units = sliceUnits(trace, "app", tuning);
  const points = tunable.grid(referenceMb(trace, tuning));
  const baseline = runPolicy(units, tuning, () => new FixedKeepAlive(10));
  let best: SweepResult<O> | undefined;
  for (const options of points) {
    const score = new Scorer(units, [runPolicy(units, tuning, tunable.make(options))], baseline).score(0);
    const value = objective(score);
    if (!best || value < best.objective) best = { policy: tunable.name, options, score, objective: value, points: 0, ms: 0 };
  }
  return { ...best!, points: points.length, ms: performance.now() - began };
}
