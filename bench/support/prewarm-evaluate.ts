/**
 * Runs pre-warm policies over slices of the prepared trace and scores them:
 * the share of each unit's calls that start cold (p50/p75/p90 over units),
 * the share of all calls that start cold, and wasted warm minutes relative to
 * fixed-10, plain and weighted by memory. Scores take a multiplicity per app,
 * so the bootstrap rescores resampled apps without replaying anything.
 */
import type { KeepAlivePolicy } from "../../sdk/prewarm/policies";
import { replay, toArrivals, type Arrivals } from "../../sdk/prewarm/simulate";
import { byApp, type TraceUnit } from "../../sdk/prewarm/trace";
import type { MemoryWeights } from "./prewarm-memory";
import type { Slice } from "./prewarm-splits";

/** An app or a function, ready to replay. */
export interface ReplayUnit {
  /** Index of its app in `PreparedTrace.appIds`. */
  app: number;
  arrivals: Arrivals;
  memoryMb: number;
}

/** The units of one level. */
export type Level = "app" | "function";

/** The trace, parsed and turned into arrivals once. */
export interface PreparedTrace {
  appIds: string[];
  minutes: number;
  units: Record<Level, ReplayUnit[]>;
}

/** Makes a fresh policy for a unit. */
export type PolicyFactory = (unit: ReplayUnit) => KeepAlivePolicy;

/** Apps and functions with at least one call; units without a memory row weigh the median of those with one. */
export function prepareTrace(functions: readonly TraceUnit[], memory: MemoryWeights): PreparedTrace {
  const active = (unit: TraceUnit) => unit.counts.some((count) => count > 0);
  const apps = byApp(functions).filter(active);
  const appIds = apps.map((unit) => unit.app);
  const appIndex = new Map(appIds.map((id, index) => [id, index]));
  const level = (units: TraceUnit[], weights: Map<string, number>, key: (unit: TraceUnit) => string): ReplayUnit[] => {
    const known = units.map((unit) => weights.get(key(unit))).filter((mb): mb is number => mb !== undefined);
    const median = medianOf(known) ?? 1;
    return units.map((unit) => ({
      app: appIndex.get(unit.app)!,
      arrivals: toArrivals(unit.counts),
      memoryMb: weights.get(key(unit)) ?? median,
    }));
  };
  return {
    appIds,
    minutes: functions[0]?.counts.length ?? 0,
    units: {
      app: level(apps, memory.byApp, (unit) => unit.app),
      function: level(functions.filter(active), memory.byFunction, (unit) => unit.fn),
    },
  };
}

/** The median of some numbers (the upper of the middle two), undefined for none. */
export function medianOf(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** The units of a level that belong to a slice's apps. */
export function sliceUnits(trace: PreparedTrace, level: Level, slice: Slice): ReplayUnit[] {
  const inSlice = new Uint8Array(trace.appIds.length);
  for (const app of slice.apps) inSlice[app] = 1;
  return trace.units[level].filter((unit) => inSlice[unit.app] === 1);
}

/** Per-unit outcomes of one policy on one slice (aligned with the slice's units). */
export interface PolicyRun {
  invocations: Int32Array;
  coldStarts: Int32Array;
  wasted: Int32Array;
}

/** Replays every unit through a fresh policy from `make`, scoring the slice's minutes. */
export function runPolicy(units: readonly ReplayUnit[], slice: Slice, make: PolicyFactory): PolicyRun {
  const run: PolicyRun = {
    invocations: new Int32Array(units.length),
    coldStarts: new Int32Array(units.length),
    wasted: new Int32Array(units.length),
  };
  units.forEach((unit, i) => {
    const result = replay(unit.arrivals, make(unit), slice.scored);
    run.invocations[i] = result.invocations;
    run.coldStarts[i] = result.coldStarts;
    run.wasted[i] = result.wastedMinutes;
  });
  return run;
}

/** A policy's numbers on a slice. */
export interface Score {
  /** Share of a unit's calls that start cold, at p50/p75/p90 over units with calls. */
  p50: number;
  p75: number;
  p90: number;
  /** Share of all calls that start cold. */
  overall: number;
  coldStarts: number;
  /** Wasted warm minutes relative to the baseline (fixed-10): plain, and weighted by memory. */
  wasted: number;
  weighted: number;
}

/**
 * Scores runs against a baseline run on the same units. Each run's units are
 * ordered by cold share once, so a score under any app multiplicity is one
 * pass over the units, with no sort.
 */
export class Scorer {
  private readonly orders: Int32Array[];
  private readonly shares: Float64Array[];

  constructor(
    private readonly units: readonly ReplayUnit[],
    private readonly runs: readonly PolicyRun[],
    private readonly baseline: PolicyRun,
  ) {
    this.shares = runs.map((run) => Float64Array.from(run.invocations, (calls, i) => (calls > 0 ? run.coldStarts[i] / calls : NaN)));
    this.orders = this.shares.map((shares) =>
      Int32Array.from([...shares.keys()].filter((i) => !Number.isNaN(shares[i])).sort((a, b) => shares[a] - shares[b])),
    );
  }

  /** Run `k`'s score, each unit counted as often as its app (all once when omitted). */
  score(k: number, multiplicity?: Int32Array): Score {
    const times = (i: number) => (multiplicity ? multiplicity[this.units[i].app] : 1);
    const run = this.runs[k];
    let calls = 0;
    let cold = 0;
    let wasted = 0;
    let weighted = 0;
    let baseWasted = 0;
    let baseWeighted = 0;
    for (let i = 0; i < this.units.length; i++) {
      const m = times(i);
      if (m === 0) continue;
      const mb = this.units[i].memoryMb;
      calls += m * run.invocations[i];
      cold += m * run.coldStarts[i];
      wasted += m * run.wasted[i];
      weighted += m * run.wasted[i] * mb;
      baseWasted += m * this.baseline.wasted[i];
      baseWeighted += m * this.baseline.wasted[i] * mb;
    }
    const [p50, p75, p90] = this.quantiles(k, times, [0.5, 0.75, 0.9]);
    return { p50, p75, p90, overall: cold / calls, coldStarts: cold, wasted: wasted / baseWasted, weighted: weighted / baseWeighted };
  }

  /**
   * Quantiles of the cold share over units (lower neighbour, as
   * `sorted[floor(q (n - 1))]`), each unit repeated `times(i)` times.
   */
  private quantiles(k: number, times: (i: number) => number, qs: number[]): number[] {
    const order = this.orders[k];
    let n = 0;
    for (const i of order) n += times(i);
    return qs.map((q) => {
      const rank = Math.floor(q * (n - 1));
      let seen = 0;
      for (const i of order) {
        seen += times(i);
        if (seen > rank) return this.shares[k][i];
      }
      return NaN;
    });
  }
}
