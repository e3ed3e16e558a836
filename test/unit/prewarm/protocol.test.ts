import assert from "node:assert/strict";
import { clusterBootstrap, sortedQuantile } from "../../../bench/support/bootstrap";
import { prepareTrace, runPolicy, Scorer, sliceUnits } from "../../../bench/support/prewarm-evaluate";
import { memoryWeights } from "../../../bench/support/prewarm-memory";
import { sideOf, splits } from "../../../bench/support/prewarm-splits";
import { grid, objective, sweep, type Tunable } from "../../../bench/support/prewarm-sweep";
import { FixedKeepAlive } from "../../../sdk/prewarm/policies";
import type { TraceUnit } from "../../../sdk/prewarm/trace";

const MEMORY_HEADER = "HashFunction,HashOwner,HashApp,SampleCount,AverageAllocatedMb";

describe("pre-warm benchmark: memory weights", () => {
  it("weighs an app once even when the trace repeats its memory on each of its functions' rows", () => {
    const csv = [MEMORY_HEADER, "f1,o,two-fn-app,10,100", "f2,o,two-fn-app,10,100", "f3,o,one-fn-app,10,50"].join("\n");
    const weights = memoryWeights(csv);
    assert.equal(weights.byApp.get("two-fn-app"), 100, "not 200: the rows repeat the app's memory");
    assert.equal(weights.byApp.get("one-fn-app"), 50);
    assert.deepEqual([weights.byFunction.get("f1"), weights.byFunction.get("f2")], [100, 100]);
  });

  it("skips rows without a usable memory and refuses a file without the columns it needs", () => {
    const weights = memoryWeights([MEMORY_HEADER, "f1,o,a,10,", "f2,o,b,10,-3", "f3,o,c,10,abc", "f4,o,d,10,64"].join("\r\n"));
    assert.deepEqual([...weights.byApp.keys()], ["d"]);
    assert.throws(() => memoryWeights("HashFunction,HashApp\nf,a\n"), /AverageAllocatedMb/);
  });
});

describe("pre-warm benchmark: the split by app", () => {
  it("puts an app on the side SHA-256 of its id says, the same on every run", () => {
    // Anchors: the first byte of SHA-256("app-0") is 82 (even: A), of "app-3" 251 (odd: B).
    assert.deepEqual(["app-0", "app-1", "app-2", "app-3"].map(sideOf), ["A", "A", "A", "B"]);
  });

  it("splits many apps about evenly, whatever their order", () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `app-${i}`);
    const share = ids.filter((id) => sideOf(id) === "A").length / ids.length;
    assert.ok(share > 0.46 && share < 0.54, `side A holds ${(share * 100).toFixed(1)} %`);
    const reversed = [...ids].reverse();
    const sides = (list: string[]) => new Map(splits(list, 480)[1].tuning.apps.map((i) => [list[i], true]));
    assert.deepEqual([...sides(ids).keys()].sort(), [...sides(reversed).keys()].sort());
  });

  it("tunes and tests on disjoint apps in both directions, and on disjoint minutes in the time split", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `app-${i}`);
    const [time, aToB, bToA] = splits(ids, 480);
    assert.deepEqual(
      [time.tuning.scored, time.test.scored],
      [
        { from: 0, to: 240 },
        { from: 240, to: 480 },
      ],
    );
    assert.equal(time.tuning.apps.length, 200);
    const inA = new Set(aToB.tuning.apps);
    assert.ok(aToB.test.apps.every((app) => !inA.has(app)));
    assert.equal(aToB.tuning.apps.length + aToB.test.apps.length, 200);
    assert.deepEqual([bToA.tuning.apps, bToA.test.apps], [aToB.test.apps, aToB.tuning.apps]);
  });
});

describe("pre-warm benchmark: the bootstrap over apps", () => {
  const mean = (values: number[]) => (multiplicity: Int32Array) => {
    let sum = 0;
    let n = 0;
    values.forEach((value, i) => {
      sum += value * multiplicity[i];
      n += multiplicity[i];
    });
    return [sum / n];
  };

  it("gives the same intervals for the same seed, and resamples as many apps as there are", () => {
    const values = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);
    const ids = values.map((_, i) => i);
    const drawn: number[] = [];
    const statistic = (multiplicity: Int32Array) => {
      drawn.push(multiplicity.reduce((a, b) => a + b, 0));
      return mean(values)(multiplicity);
    };
    const first = clusterBootstrap(ids, statistic, { iterations: 300, seed: 7 });
    assert.deepEqual(clusterBootstrap(ids, mean(values), { iterations: 300, seed: 7 }), first);
    assert.notDeepEqual(clusterBootstrap(ids, mean(values), { iterations: 300, seed: 8 }), first);
    assert.ok(drawn.every((n) => n === 50));
  });

  it("brackets a mean as wide as the normal approximation says", () => {
    // 0..99 twice over: mean 49.5, standard error sd / sqrt(n).
    const values = Array.from({ length: 200 }, (_, i) => i % 100);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const se = Math.sqrt(values.reduce((s, x) => s + (x - m) ** 2, 0) / values.length / values.length);
    const [interval] = clusterBootstrap(
      values.map((_, i) => i),
      mean(values),
      { iterations: 4000, seed: 23 },
    );
    assert.ok(interval.low < m && m < interval.high);
    const width = interval.high - interval.low;
    assert.ok(Math.abs(width - 2 * 1.96 * se) < 0.15 * 2 * 1.96 * se, `width ${width.toFixed(2)} against ${(2 * 1.96 * se).toFixed(2)}`);
  });

  it("collapses to a point when every app gives the same value", () => {
    assert.deepEqual(
      clusterBootstrap([0, 1, 2, 3], () => [0.25], { iterations: 50 }),
      [{ low: 0.25, high: 0.25 }],
    );
  });

  it("refuses no clusters, a confidence outside (0, 1) and a fractional number of resamples", () => {
    assert.throws(() => clusterBootstrap([], () => [0]), RangeError);
    assert.throws(() => clusterBootstrap([0], () => [0], { confidence: 1 }), RangeError);
    assert.throws(() => clusterBootstrap([0], () => [0], { iterations: 2.5 }), RangeError);
  });

  it("interpolates quantiles between neighbours", () => {
    assert.equal(sortedQuantile([0, 10], 0.25), 2.5);
    assert.equal(sortedQuantile([1, 2, 3], 1), 3);
  });
});

/** A small trace: `apps` apps of one function each, calls every `period(i)` minutes over 480 minutes. */
function syntheticTrace(apps: number, period: (app: number, minute: number) => number) {
  const units: TraceUnit[] = Array.from({ length: apps }, (_, i) => ({
    owner: "o",
    app: `app-${i}`,
    fn: `fn-${i}`,
    trigger: "timer",
    counts: Array.from({ length: 480 }, (_, minute) => (minute % period(i, minute) === 0 ? 1 : 0)),
  }));
  const memory = [MEMORY_HEADER, ...units.map((u, i) => `${u.fn},o,${u.app},1,${32 * (1 + (i % 4))}`)].join("\n");
  return prepareTrace(units, memoryWeights(memory));
}

describe("pre-warm benchmark: scores and the sweep", () => {
  it("scores an app drawn twice exactly as if it were listed twice", () => {
    const trace = syntheticTrace(6, (i) => 7 + 5 * i);
    const slice = { label: "all", apps: [0, 1, 2, 3, 4, 5], scored: { from: 0, to: 480 } };
    const units = sliceUnits(trace, "app", slice);
    const runs = [runPolicy(units, slice, () => new FixedKeepAlive(20))];
    const baseline = runPolicy(units, slice, () => new FixedKeepAlive(10));
    const multiplicity = Int32Array.from([2, 0, 1, 1, 3, 1]);
    const listed = [0, 0, 2, 3, 4, 4, 4, 5];
    const pick = <T extends Int32Array>(array: T) => Int32Array.from(listed, (i) => array[i]);
    const duplicated = new Scorer(
      listed.map((i) => units[i]),
      runs.map((run) => ({ invocations: pick(run.invocations), coldStarts: pick(run.coldStarts), wasted: pick(run.wasted) })),
      { invocations: pick(baseline.invocations), coldStarts: pick(baseline.coldStarts), wasted: pick(baseline.wasted) },
    );
    assert.deepEqual(new Scorer(units, runs, baseline).score(0, multiplicity), duplicated.score(0));
  });

  it("chooses on tuning data only: changing the test half or the test apps changes nothing", () => {
    const fixed: Tunable<{ minutes: number }> = {
      name: "fixed",
      grid: () => grid({ minutes: [3, 15, 45, 120] }),
      make: (options) => () => new FixedKeepAlive(options.minutes),
    };
    const base = syntheticTrace(12, (i) => 5 + 9 * i);
    // Same first half; in the second half every app is called every 200 minutes instead.
    const changedLater = syntheticTrace(12, (i, minute) => (minute < 240 ? 5 + 9 * i : 200));
    const [time, aToB] = splits(base.appIds, 480);
    const a = sweep(fixed, base, time.tuning);
    const b = sweep(fixed, changedLater, time.tuning);
    assert.deepEqual([b.options, b.score, b.objective], [a.options, a.score, a.objective]);
    // Same side-A apps; the side-B apps are called every minute instead.
    const onA = new Set(aToB.tuning.apps);
    const changedB = syntheticTrace(12, (i) => (onA.has(i) ? 5 + 9 * i : 1));
    const c = sweep(fixed, base, aToB.tuning);
    const d = sweep(fixed, changedB, aToB.tuning);
    assert.deepEqual([d.options, d.score, d.objective], [c.options, c.score, c.objective]);
    assert.equal(c.points, 4);
  });

  it("minimizes the larger of the two axes over their goals, so a point lower on both always wins", () => {
    assert.ok(objective({ p75: 0.12, weighted: 0.8 }) < objective({ p75: 0.14, weighted: 0.85 }));
    assert.ok(objective({ p75: 0.15, weighted: 0.5 }) < objective({ p75: 0.3, weighted: 0.5 }));
    assert.ok(Math.abs(objective({ p75: 0.15, weighted: 0.9 }) - 1.002) < 1e-12);
  });

  it("grids every combination of the values of each field", () => {
    assert.deepEqual(grid({ a: [1, 2], b: ["x", "y"] }), [
      { a: 1, b: "x" },
      { a: 1, b: "y" },
      { a: 2, b: "x" },
      { a: 2, b: "y" },
    ]);
  });
});
