/**
 * One report of the pre-warm benchmark: every policy on one slice, at app
 * and function level, with bootstrap intervals over apps for the p75 cold
 * share and the memory-weighted waste, and paired intervals for cloudloom
 * against each tuned hybrid.
 */
import { FixedKeepAlive } from "../../sdk/prewarm/policies";
import { clusterBootstrap, type Interval } from "./bootstrap";
import { runPolicy, Scorer, sliceUnits, type Level, type PolicyFactory, type PreparedTrace, type Score } from "./prewarm-evaluate";
import type { Slice } from "./prewarm-splits";

/** A policy as the report shows it. */
export interface ReportedPolicy {
  name: string;
  make: PolicyFactory;
}

/** The policy every waste is relative to. */
export const BASELINE = "fixed-10";

/** The fixed keep-alive policies of every report. */
export const FIXED: ReportedPolicy[] = [5, 10, 20, 60, 120, 240].map((minutes) => ({
  name: `fixed-${minutes}`,
  make: () => new FixedKeepAlive(minutes),
}));

/** A paired comparison: `policy` minus `against`, per resample. */
export interface Comparison {
  policy: string;
  against: string;
  /** Difference of the p75 cold share and of the memory-weighted waste, with intervals. */
  p75: { value: number; interval: Interval };
  weighted: { value: number; interval: Interval };
  /** Cold starts of `policy` minus those of `against`, over all calls. */
  coldStarts: { value: number; interval: Interval };
}

/** A policy's row. */
export interface Row {
  policy: string;
  score: Score;
  p75Interval: Interval;
  weightedInterval: Interval;
}

/** One level of one report. */
export interface LevelReport {
  level: Level;
  units: number;
  rows: Row[];
  comparisons: Comparison[];
}

/** Bootstrap resamples per level. */
const RESAMPLES = 2000;

/**
 * Scores `policies` (which must include the baseline) on `slice` at `level`,
 * and compares each pair in `pairs` ([policy, against]) on the same resamples.
 */
export function reportLevel(
  trace: PreparedTrace,
  slice: Slice,
  level: Level,
  policies: readonly ReportedPolicy[],
  pairs: ReadonlyArray<readonly [string, string]>,
): LevelReport {
  const units = sliceUnits(trace, level, slice);
  const runs = policies.map((policy) => runPolicy(units, slice, policy.make));
  const index = (name: string) => {
    const k = policies.findIndex((policy) => policy.name === name);
    if (k < 0) throw new Error(`the report has no policy named ${name}`);
    return k;
  };
  const scorer = new Scorer(units, runs, runs[index(BASELINE)]);
  const pairIndexes = pairs.map(([a, b]) => [index(a), index(b)] as const);
  const statistics = (multiplicity?: Int32Array) => {
    const scores = policies.map((_, k) => scorer.score(k, multiplicity));
    return [
      ...scores.flatMap((score) => [score.p75, score.weighted]),
      ...pairIndexes.flatMap(([a, b]) => [
        scores[a].p75 - scores[b].p75,
        scores[a].weighted - scores[b].weighted,
        scores[a].coldStarts - scores[b].coldStarts,
      ]),
    ];
  };
  const point = statistics();
  const intervals = clusterBootstrap(slice.apps, statistics, { iterations: RESAMPLES });
  const pairsFrom = 2 * policies.length;
  return {
    level,
    units: units.length,
    rows: policies.map((policy, k) => ({
      policy: policy.name,
      score: scorer.score(k),
      p75Interval: intervals[2 * k],
      weightedInterval: intervals[2 * k + 1],
    })),
    comparisons: pairs.map(([policy, against], p) => {
      const at = pairsFrom + 3 * p;
      return {
        policy,
        against,
        p75: { value: point[at], interval: intervals[at] },
        weighted: { value: point[at + 1], interval: intervals[at + 1] },
        coldStarts: { value: point[at + 2], interval: intervals[at + 2] },
      };
    }),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
/** A difference of shares in percentage points, signed: "+1.2", "−3.4". */
export const signedPoints = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)}`;
const range = ({ low, high }: Interval, format: (x: number) => string) => `[${format(low)}, ${format(high)}]`;
const count = (x: number) => {
  const rounded = Math.round(x);
  return rounded > 0 ? `+${rounded}` : rounded < 0 ? `−${-rounded}` : "0";
};

/** The level's table and paired comparisons, as Markdown lines. */
export function formatLevel(report: LevelReport): string[] {
  const lines = [
    `${report.level} level (${report.units} units)`,
    "",
    "| policy | cold share p50 | p75 [95 % CI] | p90 | overall (cold starts) | wasted warm time vs fixed-10 | memory-weighted [95 % CI] |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...report.rows.map(
      ({ policy, score, p75Interval, weightedInterval }) =>
        `| ${policy} | ${pct(score.p50)} | ${pct(score.p75)} ${range(p75Interval, pct)} | ${pct(score.p90)} | ` +
        `${(score.overall * 100).toFixed(3)} % (${score.coldStarts}) | ${pct(score.wasted)} | ${pct(score.weighted)} ${range(weightedInterval, pct)} |`,
    ),
    "",
  ];
  for (const c of report.comparisons) {
    lines.push(
      `${c.policy} − ${c.against}: p75 ${signedPoints(c.p75.value)} points ${range(c.p75.interval, signedPoints)}, ` +
        `memory-weighted waste ${signedPoints(c.weighted.value)} points ${range(c.weighted.interval, signedPoints)}, ` +
        `cold starts ${count(c.coldStarts.value)} ${range(c.coldStarts.interval, count)}`,
    );
  }
  return lines;
}
