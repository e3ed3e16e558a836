/**
 * Pre-warm replay: the shared Azure Functions 2019 excerpt (500 functions,
 * 8 hours, per-minute counts; CC BY 4.0, Shahrad et al., USENIX ATC 2020)
 * through fixed keep-alives, the hybrid histogram policy and cloudloom's,
 * measured out of sample:
 *
 * 1. a sweep (bench/support/prewarm-sweep.ts) tunes the hybrid (with and
 *    without its wait for enough idle times) and cloudloom's policy on each
 *    split's tuning data only;
 * 2. every policy is reported on each split's test data (time split; the
 *    function split in both directions) at app and function level, with
 *    bootstrap intervals over apps;
 * 3. the whole trace with the shipped defaults (in-sample);
 * 4. the goals, each ✓ or ✗.
 *
 * Writes the app-level chart of the test splits to docs/prewarm-tradeoff.svg.
 *
 *   npm run bench:prewarm            (TRACE=path/to/invocations.csv to use another copy)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { CLOUDLOOM_DEFAULTS, type CloudloomPolicyOptions } from "../sdk/prewarm/cloudloom";
import { HYBRID_PAPER, HybridHistogram } from "../sdk/prewarm/policies";
import { parseTrace } from "../sdk/prewarm/trace";
import { prepareTrace } from "./support/prewarm-evaluate";
import { memoryWeights } from "./support/prewarm-memory";
import { BASELINE, FIXED, formatLevel, reportLevel, signedPoints, type LevelReport, type ReportedPolicy } from "./support/prewarm-report";
import { splits, type Slice } from "./support/prewarm-splits";
import { CLOUDLOOM, GOAL, HYBRID, HYBRID_NO_WAIT, sweep, type SweepResult, type Tunable } from "./support/prewarm-sweep";
import { tradeoffSvg, type TradeoffSeries } from "./support/tradeoff-svg";

const TRACE = process.env.TRACE ?? join(__dirname, "../../shared/traces/azure2019-500fn-8h/invocations.csv");
const MEMORY = join(TRACE, "../memory.csv");
const began = performance.now();

const trace = prepareTrace(parseTrace(readFileSync(TRACE, "utf8")), memoryWeights(readFileSync(MEMORY, "utf8")));
console.log(
  `# Pre-warm replay: ${trace.units.function.length} functions in ${trace.appIds.length} apps over ${trace.minutes} minutes (${TRACE})`,
);

/** What the sweep chose for each tunable policy on one split's tuning data. */
interface Tuned {
  hybrid: SweepResult<unknown>;
  noWait: SweepResult<unknown>;
  cloudloom: SweepResult<CloudloomPolicyOptions>;
}

const TUNABLES = [HYBRID, HYBRID_NO_WAIT, CLOUDLOOM] as const;
const describe = (options: object) =>
  Object.entries(options)
    .map(([key, value]) => `${key} ${typeof value === "number" ? Number(value.toFixed(2)) : value}`)
    .join(", ");
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

console.log("\n## The sweep: each split's tuning data only, app level\n");
console.log(
  `Grids: hybrid ${HYBRID.grid(0).length} points, hybrid-no-wait ${HYBRID_NO_WAIT.grid(0).length}, cloudloom ${CLOUDLOOM.grid(0).length}. ` +
    `Objective: the larger of p75 / ${pct(GOAL.p75)} and memory-weighted waste / ${pct(GOAL.weighted)} (lower is better).\n`,
);
console.log("| split | tuning data | policy | p75 | memory-weighted | objective | seconds | choice |");
console.log("|---|---|---|---:|---:|---:|---:|---|");
const sweepBegan = performance.now();
const allSplits = splits(trace.appIds, trace.minutes);
const whole: Slice = {
  label: `all ${trace.minutes} minutes, all apps`,
  apps: trace.appIds.map((_, i) => i),
  scored: { from: 0, to: trace.minutes },
};
const IN_SAMPLE = "in sample";

/** Sweeps every tunable policy on `tuning` and prints the choices. */
function tune(name: string, tuning: Slice): Tuned {
  const [hybrid, noWait, cloudloom] = TUNABLES.map((tunable) => sweep(tunable as Tunable<unknown>, trace, tuning));
  for (const result of [hybrid, noWait, cloudloom]) {
    console.log(
      `| ${name} | ${tuning.label} | ${result.policy} | ${pct(result.score.p75)} | ${pct(result.score.weighted)} | ` +
        `${result.objective.toFixed(3)} | ${(result.ms / 1000).toFixed(1)} | ${describe(result.options as object)} |`,
    );
  }
  return { hybrid, noWait, cloudloom: cloudloom as SweepResult<CloudloomPolicyOptions> };
}
const tuned = new Map<string, Tuned>([
  ...allSplits.map((split): [string, Tuned] => [split.name, tune(split.name, split.tuning)]),
  [IN_SAMPLE, tune(IN_SAMPLE, whole)],
]);
console.log(`\nThe sweep took ${((performance.now() - sweepBegan) / 1000).toFixed(0)} s.`);

const shippedSplit = allSplits[0];
const shippedChoice = tuned.get(shippedSplit.name)!.cloudloom.options;
const shippedMatches = isDeepStrictEqual({ ...CLOUDLOOM_DEFAULTS }, { ...shippedChoice });
console.log(
  `\nShipped defaults (sdk/prewarm/cloudloom.ts CLOUDLOOM_DEFAULTS) are the ${shippedSplit.name}'s choice: ` +
    `${shippedMatches ? "yes" : `NO; the sweep chose ${JSON.stringify(shippedChoice)}`}`,
);

/** Every reported policy, with a split's tuned parameters (and any `extra` ones). */
function policies(choice: Tuned, extra: ReportedPolicy[] = []): ReportedPolicy[] {
  return [
    ...FIXED,
    { name: "hybrid (paper)", make: () => new HybridHistogram(HYBRID_PAPER) },
    { name: "hybrid", make: HYBRID.make(choice.hybrid.options as never) },
    { name: "hybrid-no-wait", make: HYBRID_NO_WAIT.make(choice.noWait.options as never) },
    { name: "cloudloom", make: CLOUDLOOM.make(choice.cloudloom.options) },
    ...extra,
  ];
}

const PAIRS = [
  ["cloudloom", "hybrid"],
  ["cloudloom", "hybrid-no-wait"],
  ["cloudloom", BASELINE],
] as const;

/** Reports a slice at both levels and prints it. */
function report(title: string, slice: Slice, reported: ReportedPolicy[]): Record<"app" | "function", LevelReport> {
  console.log(`\n## ${title}\n`);
  const levels = {
    app: reportLevel(trace, slice, "app", reported, PAIRS),
    function: reportLevel(trace, slice, "function", reported, PAIRS),
  };
  for (const level of [levels.app, levels.function]) console.log([...formatLevel(level), ""].join("\n"));
  return levels;
}

const tests = allSplits.map((split) => ({
  split,
  levels: report(
    `Out of sample: ${split.name}, tested on ${split.test.label} (tuned on ${split.tuning.label})`,
    split.test,
    policies(tuned.get(split.name)!),
  ),
}));
const SHIPPED = "cloudloom (shipped)";
const inSample = report(
  `In sample: tuned and scored on the whole trace; "${SHIPPED}" is the shipped defaults (tuned on ${shippedSplit.tuning.label})`,
  whole,
  policies(tuned.get(IN_SAMPLE)!, [{ name: SHIPPED, make: CLOUDLOOM.make(CLOUDLOOM_DEFAULTS) }]),
);

console.log("\n## Goals\n");
const mark = (ok: boolean) => (ok ? "✓" : "✗");
const goals: Array<[boolean, string]> = [];
for (const { split, levels } of tests) {
  for (const c of levels.app.comparisons.filter((comparison) => comparison.against !== BASELINE)) {
    const better = c.p75.interval.high < 0 && c.weighted.interval.high < 0;
    goals.push([
      better,
      `${split.name}: cloudloom below the tuned ${c.against} on both axes, outside the paired 95 % intervals ` +
        `(p75 ${signedPoints(c.p75.value)} points, interval up to ${signedPoints(c.p75.interval.high)}; ` +
        `memory-weighted waste ${signedPoints(c.weighted.value)} points, interval up to ${signedPoints(c.weighted.interval.high)})`,
    ]);
  }
  const fixed = levels.app.comparisons.find((comparison) => comparison.against === BASELINE)!;
  const row = (name: string) => levels.app.rows.find((r) => r.policy === name)!.score;
  goals.push([
    fixed.coldStarts.value < 0,
    `${split.name}: fewer cold starts overall than ${BASELINE} (${row("cloudloom").coldStarts} against ${row(BASELINE).coldStarts}; ` +
      `${(row("cloudloom").overall * 100).toFixed(3)} % against ${(row(BASELINE).overall * 100).toFixed(3)} % of all calls)`,
  ]);
}
const own = inSample.app.rows.find((r) => r.policy === "cloudloom")!.score;
const shipped = inSample.app.rows.find((r) => r.policy === SHIPPED)!.score;
goals.push([
  own.p75 <= GOAL.p75 && own.weighted <= GOAL.weighted,
  `in sample: p75 ${pct(own.p75)} ≤ ${pct(GOAL.p75)} at memory-weighted waste ${pct(own.weighted)} ≤ ${pct(GOAL.weighted)} ` +
    `(the shipped defaults, tuned on the first half: ${pct(shipped.p75)} at ${pct(shipped.weighted)})`,
]);
goals.push([shippedMatches, `the shipped defaults are the sweep's choice on the ${shippedSplit.name}'s tuning data`]);
for (const [ok, text] of goals) console.log(`${mark(ok)} ${text}`);

// Fixed-10 is the waste axis's unit (always 100 %), so the chart leaves it out; whiskers only where policies are compared.
const chartPolicies = new Set(["fixed-60", "fixed-240", "hybrid (paper)", "hybrid", "hybrid-no-wait", "cloudloom"]);
const compared = new Set(["hybrid", "hybrid-no-wait", "cloudloom"]);
const series: TradeoffSeries[] = tests.map(({ split, levels }) => ({
  label: `${split.name} (test)`,
  points: levels.app.rows
    .filter((row) => chartPolicies.has(row.policy))
    .map((row) => ({
      policy: row.policy,
      wasted: row.score.weighted,
      coldP75: row.score.p75,
      ...(compared.has(row.policy) ? { wastedInterval: row.weightedInterval, coldInterval: row.p75Interval } : {}),
    })),
}));
const chart = join(__dirname, "../docs/prewarm-tradeoff.svg");
writeFileSync(
  chart,
  tradeoffSvg(
    series,
    { wasted: GOAL.weighted, coldP75: GOAL.p75 },
    "Pre-warm policies on the test splits of the Azure 2019 excerpt (app level)",
  ),
);
console.log(`\nwrote ${chart}; the benchmark took ${((performance.now() - began) / 1000).toFixed(0)} s`);
