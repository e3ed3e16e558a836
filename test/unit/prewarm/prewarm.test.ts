import assert from "node:assert/strict";
import fc from "fast-check";
import { ArrivalPeriod } from "../../../sdk/prewarm/arrival-period";
import { CloudloomPolicy } from "../../../sdk/prewarm/cloudloom";
import { cheapestWindow } from "../../../sdk/prewarm/cost-window";
import { FixedKeepAlive, HISTOGRAM_MINUTES, HybridHistogram, type KeepAlivePolicy } from "../../../sdk/prewarm/policies";
import { RecentIdleTimes } from "../../../sdk/prewarm/recent-idle";
import { replay, toArrivals, type ReplayResult } from "../../../sdk/prewarm/simulate";
import { byApp, parseTrace, TraceError } from "../../../sdk/prewarm/trace";

/** The replay's rules, minute by minute: the reference the call-to-call replay must agree with. */
function replayMinuteByMinute(counts: number[], policy: KeepAlivePolicy, from = 0, to = counts.length): ReplayResult {
  let invocations = 0;
  let coldStarts = 0;
  let wastedMinutes = 0;
  let last: number | undefined;
  let loadedFrom = Infinity;
  let loadedUntil = -Infinity;
  for (let minute = 0; minute < to; minute++) {
    const loaded = minute >= loadedFrom && minute <= loadedUntil;
    const scored = minute >= from;
    if (counts[minute] === 0) {
      if (loaded && scored) wastedMinutes++;
      continue;
    }
    if (scored) {
      invocations += counts[minute];
      if (!loaded) coldStarts++;
    }
    if (last !== undefined) policy.observe(minute - last);
    last = minute;
    const window = policy.decide();
    loadedFrom = minute + (window.prewarm === 0 ? 1 : window.prewarm);
    loadedUntil = minute + window.prewarm + window.keepAlive;
  }
  return { invocations, coldStarts, wastedMinutes };
}

describe("pre-warm replay", () => {
  it("counts the fixed policy's cold starts and idle minutes exactly on a hand-computed fixture", () => {
    //            minute: 0  1  2  3  4  5  6  7  8  9 10 11 12 13 14
    const counts = [2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3];
    // fixed-5: minute 0 cold; 3 is inside 1..5 (warm); loaded 4..8; 14 is cold.
    assert.deepEqual(replay(toArrivals(counts), new FixedKeepAlive(5)), { invocations: 6, coldStarts: 2, wastedMinutes: 7 });
    assert.deepEqual(replay(toArrivals(counts), new FixedKeepAlive(11)), { invocations: 6, coldStarts: 1, wastedMinutes: 12 });
  });

  it("scores only the scored minutes, while the policy learns from the earlier ones", () => {
    //            minute: 0  1  2  3  4  5  6  7  8  9
    const counts = [1, 0, 0, 1, 0, 0, 0, 0, 1, 0];
    // fixed-3, minutes 5..9 scored: loaded 4..6 after minute 3 (5, 6 count), 8 is cold, loaded 9..11 (9 counts).
    assert.deepEqual(replay(toArrivals(counts), new FixedKeepAlive(3), { from: 5, to: 10 }), {
      invocations: 1,
      coldStarts: 1,
      wastedMinutes: 3,
    });
    // Minutes 0..4 only: minute 8 is never seen.
    assert.deepEqual(replay(toArrivals(counts), new FixedKeepAlive(3), { from: 0, to: 5 }), {
      invocations: 2,
      coldStarts: 1,
      wastedMinutes: 3,
    });
  });

  it("agrees with a minute-by-minute replay for every policy, trace and scored window", () => {
    const policies: Array<() => KeepAlivePolicy> = [
      () => new FixedKeepAlive(7),
      () => new HybridHistogram(),
      () => new HybridHistogram({ minSamples: 0 }),
      () => new CloudloomPolicy(),
      () => new CloudloomPolicy({ rule: "percentile", minSamples: 3, unitMb: 300 }),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 })), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.nat(),
        fc.nat(),
        (counts, a, b) => {
          const from = a % counts.length;
          const to = from + 1 + (b % (counts.length - from));
          for (const make of policies)
            assert.deepEqual(replay(toArrivals(counts), make(), { from, to }), replayMinuteByMinute(counts, make(), from, to));
        },
      ),
      { numRuns: 150, seed: 23 },
    );
  });

  it("replays deterministically: the same trace and policy give the same numbers", () => {
    // A synthetic trace in the shared trace's shape; the real one is replayed by `npm run bench:prewarm`.
    const minutes = Array.from({ length: 480 }, (_, i) => i + 480);
    const rows = Array.from({ length: 40 }, (_, unit) => {
      const counts = minutes.map((_, minute) => ((minute * (unit + 3)) % (unit + 7) === 0 ? 1 + (unit % 3) : 0));
      return `owner,app-${unit % 10},fn-${unit},${unit % 2 ? "timer" : "http"},${counts.join(",")}`;
    });
    const apps = byApp(parseTrace(`HashOwner,HashApp,HashFunction,Trigger,${minutes.join(",")}\n${rows.join("\n")}\n`));
    const run = () =>
      apps.map((app) => [replay(toArrivals(app.counts), new HybridHistogram()), replay(toArrivals(app.counts), new CloudloomPolicy())]);
    assert.deepEqual(run(), run());
    assert.equal(apps.length, 10);
  });
});

describe("the hybrid histogram policy", () => {
  it("falls back to a 4-hour keep-alive while the histogram has too few idle times", () => {
    const policy = new HybridHistogram();
    policy.observe(10);
    assert.deepEqual([policy.decide().prewarm, policy.decide().keepAlive], [0, HISTOGRAM_MINUTES]);
    assert.match(policy.decide().reason, /not representative/);
  });

  it("without its wait, trusts the histogram from the first idle time", () => {
    const policy = new HybridHistogram({ minSamples: 0 });
    policy.observe(10);
    assert.deepEqual([policy.decide().prewarm, policy.decide().keepAlive], [9, 11 - 9]);
  });

  it("pre-warms at p5 − 10 % and keeps until p99 + 10 % of a representative histogram", () => {
    const policy = new HybridHistogram();
    for (let i = 0; i < 40; i++) policy.observe(30);
    const window = policy.decide();
    assert.deepEqual([window.prewarm, window.keepAlive], [27, 33 - 27]);
    assert.match(window.reason, /p5 30 min, p99 30 min/);
  });

  it("forecasts the next idle time when most exceed 4 hours", () => {
    const policy = new HybridHistogram();
    for (const idle of [300, 320, 310, 20]) policy.observe(idle);
    const window = policy.decide();
    assert.deepEqual([window.prewarm, window.keepAlive], [Math.floor(310 * 0.85), Math.ceil(310 * 0.3)]);
    assert.match(window.reason, /forecast 310 min/);
  });

  it("keeps the bins' coefficient of variation as it counts, equal to computing it from the bins", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: HISTOGRAM_MINUTES - 1 }), { minLength: 1, maxLength: 200 }), (idles) => {
        const policy = new HybridHistogram();
        const bins = new Array<number>(HISTOGRAM_MINUTES).fill(0);
        for (const idle of idles) {
          policy.observe(idle);
          bins[idle]++;
        }
        const mean = bins.reduce((a, b) => a + b, 0) / bins.length;
        const direct = Math.sqrt(bins.reduce((sum, c) => sum + (c - mean) ** 2, 0) / bins.length) / mean;
        assert.ok(Math.abs(policy.variation() - direct) < 1e-9);
      }),
      { numRuns: 100, seed: 23 },
    );
  });
});

describe("trace files", () => {
  const header = "HashOwner,HashApp,HashFunction,Trigger,1,2,3";
  it("reads well-formed rows", () => {
    assert.deepEqual(parseTrace(`${header}\no,a,f,http,0,2,1\n`)[0].counts, [0, 2, 1]);
  });

  it("names the line of wrong columns, negative counts and ragged rows", () => {
    assert.throws(
      () => parseTrace("Owner,App,Fn,Trigger,1\n"),
      (e: TraceError) => e.code === "CL_TRACE_INVALID" && e.line === 1,
    );
    assert.throws(() => parseTrace(`${header}\no,a,f,http,0,2,1\no,a,g,http,0,-1,1\n`), /line 3: minute 2 has "-1"/);
    assert.throws(() => parseTrace(`${header}\no,a,f,http,0,2\n`), /line 2: has 6 columns; the header has 7/);
  });
});

describe("recent idle times", () => {
  it("keeps the last N in order and sorted, as a naive list would", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 80 }),
        (capacity, idles) => {
          const recent = new RecentIdleTimes(capacity);
          const naive: number[] = [];
          for (const idle of idles) {
            const before = recent.version;
            const evicted = naive.length === capacity ? naive[0] : undefined;
            recent.push(idle);
            naive.push(idle);
            if (naive.length > capacity) naive.shift();
            assert.equal(recent.version === before, evicted === idle, "the version moves exactly when the multiset changes");
          }
          const sorted = [...naive].sort((a, b) => a - b);
          assert.equal(recent.size, naive.length);
          sorted.forEach((value, rank) => assert.equal(recent.ranked(rank), value));
          assert.equal(recent.quantile(0.75), sorted[Math.floor(0.75 * (sorted.length - 1))]);
          assert.equal(recent.latest(0), naive[naive.length - 1]);
        },
      ),
      { numRuns: 150, seed: 23 },
    );
  });

  it("refuses a capacity that is not a whole number of 1 or more", () => {
    assert.throws(() => new RecentIdleTimes(0), RangeError);
    assert.throws(() => new RecentIdleTimes(2.5), RangeError);
  });
});

describe("the window of least expected cost", () => {
  const recentOf = (idles: number[]) => {
    const recent = new RecentIdleTimes(idles.length);
    idles.forEach((idle) => recent.push(idle));
    return recent;
  };

  it("covers the common idle time and lets the outlier start cold", () => {
    // [5, 5]: the four 5s are warm with no idle minute; the 100 is cold after 1 idle minute: (1 + 20) / 5.
    assert.deepEqual(cheapestWindow(recentOf([5, 5, 5, 5, 100]), 1, 20), { start: 5, end: 5, cost: 21 / 5 });
  });

  it("when idle minutes are dear, catches only the call it can catch without one", () => {
    // [100, 100]: the four 5s start cold, the 100 is warm with no idle minute: 4 × 0.5 / 5.
    assert.deepEqual(cheapestWindow(recentOf([5, 5, 5, 5, 100]), 10, 0.5), { start: 100, end: 100, cost: 0.4 });
  });

  it("finds the cheapest of all windows, as trying every one would", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        fc.double({ min: 0.5, max: 200, noNaN: true }),
        (idles, minuteCost, coldCost) => {
          let best = Infinity;
          for (let start = 1; start <= 40; start++) {
            for (let end = start; end <= 40; end++) {
              const costs = idles.map((t) =>
                t < start ? coldCost : t <= end ? minuteCost * (t - start) : minuteCost * (end - start + 1) + coldCost,
              );
              best = Math.min(best, costs.reduce((a, b) => a + b, 0) / idles.length);
            }
          }
          assert.ok(Math.abs(cheapestWindow(recentOf(idles), minuteCost, coldCost).cost - best) < 1e-9);
        },
      ),
      { numRuns: 200, seed: 23 },
    );
  });
});

describe("periods in arrival times", () => {
  const observeAll = (idles: number[]) => {
    const arrivals = new ArrivalPeriod(HISTOGRAM_MINUTES);
    idles.forEach((idle) => arrivals.observe(idle));
    return arrivals;
  };

  it("finds two timers of one period superposed, and which of them fires next", () => {
    // Calls at 0, 28, 30, 58, 60: every 30 minutes, 2 minutes apart.
    assert.deepEqual(observeAll([28, 2, 28, 2]).predict(), { period: 30, nextIn: 28 });
    assert.deepEqual(observeAll([28, 2, 28]).predict(), { period: 30, nextIn: 2 });
  });

  it("finds nothing in irregular calls", () => {
    assert.equal(observeAll([3, 17, 8, 41, 5, 12]).predict(), undefined);
  });

  it("a policy acts on a superposed period once its predictions came true in a row", () => {
    const policy = new CloudloomPolicy({ periodStreak: 2 });
    const windows = [28, 2, 28, 2, 28, 2].map((idle) => {
      policy.observe(idle);
      return policy.decide();
    });
    // Predictions start after the third idle time; the ones after the 4th and 5th come true.
    assert.doesNotMatch(windows[3].reason, /^periodic/);
    assert.match(
      windows[4].reason,
      /^periodic: calls repeat every 30 min \(2 predictions in a row came true\); the next is due in 2 min, stay loaded/,
    );
    assert.deepEqual([windows[4].prewarm, windows[4].keepAlive], [0, 4]);
    assert.match(windows[5].reason, /the next is due in 28 min, pre-warm 2 min ahead$/);
    assert.deepEqual([windows[5].prewarm, windows[5].keepAlive], [26, 4]);
  });
});

describe("cloudloom's pre-warm policy", () => {
  it("learns a 30-minute period and then pre-warms just before each call, with no cold start", () => {
    const counts = new Array(240).fill(0);
    for (let minute = 0; minute < 240; minute += 30) counts[minute] = 1;
    const result = replay(toArrivals(counts), new CloudloomPolicy());
    // Minute 0 is the only cold start: the 110-minute fallback covers minutes 30 and 60 (29 idle minutes each);
    // from two equal idle times on it pre-warms 2 minutes ahead, wasting 2 minutes per period (6 periods).
    assert.deepEqual(result, { invocations: 8, coldStarts: 1, wastedMinutes: 29 + 29 + 2 * 6 });
    const policy = new CloudloomPolicy();
    policy.observe(30);
    policy.observe(30);
    assert.match(policy.decide().reason, /^periodic: the last 2 idle times are 30 ± 1 min/);
    assert.deepEqual([policy.decide().prewarm, policy.decide().keepAlive], [28, 4]);
  });

  it("explains a window bounded by percentiles of recent idle times", () => {
    const policy = new CloudloomPolicy({ rule: "percentile", lower: 0.1, upper: 0.75, margin: 0.05, minSamples: 11 });
    for (const idle of [2, 9, 4, 15, 3, 6, 8, 5, 7, 12, 10]) policy.observe(idle);
    const window = policy.decide();
    assert.match(window.reason, /^idle times p10 3 min, p75 9 min over the last 11/);
    assert.deepEqual([window.prewarm, window.keepAlive], [2, 8]);
  });

  it("explains the window of least cost, and prices a heavy unit's idle minutes higher", () => {
    const idles = [2, 9, 4, 15, 3, 6, 8, 5, 7, 12, 10];
    const decide = (unitMb: number) => {
      const policy = new CloudloomPolicy({ rule: "cost", coldCost: 20, margin: 0, minSamples: 11, referenceMb: 100, unitMb });
      idles.forEach((idle) => policy.observe(idle));
      return policy.decide();
    };
    assert.match(
      decide(100).reason,
      /^cheapest to be loaded from minute \d+ to \d+ after the call over the last 11 idle times, at 1\.00 per idle minute/,
    );
    const light = decide(25);
    const heavy = decide(1600);
    assert.ok(light.prewarm + light.keepAlive >= heavy.prewarm + heavy.keepAlive, "a heavy unit's window ends no later");
    assert.match(heavy.reason, /at 4\.00 per idle minute/);
  });

  it("keeps a heavy unit warm for less, and a light one for longer, while it learns", () => {
    const keep = (unitMb: number) => {
      const policy = new CloudloomPolicy({ unitMb, referenceMb: 256, fallbackKeepAlive: 110, memoryExponent: 0.5 });
      policy.observe(40);
      return policy.decide().keepAlive;
    };
    assert.equal(keep(256), 110);
    assert.equal(keep(1024), 55, "four times the memory: half the fallback");
    assert.equal(keep(64), 220);
    assert.equal(keep(1_000_000), 10, "never below 10 minutes");
  });
});
