import assert from "node:assert/strict";
import { CloudloomPolicy, FixedKeepAlive, HISTOGRAM_MINUTES, HybridHistogram } from "../../../sdk/prewarm/policies";
import { replay } from "../../../sdk/prewarm/simulate";
import { byApp, parseTrace, TraceError } from "../../../sdk/prewarm/trace";

describe("pre-warm policies", () => {
  it("counts the fixed policy's cold starts and idle minutes exactly on a hand-computed fixture", () => {
    //            minute: 0  1  2  3  4  5  6  7  8  9 10 11 12 13 14
    const counts = [2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3];
    // fixed-5: minute 0 cold; 3 is inside 1..5 (warm); loaded 4..8; 14 is cold.
    assert.deepEqual(replay(counts, new FixedKeepAlive(5)), { invocations: 6, coldStarts: 2, wastedMinutes: 7 });
    assert.deepEqual(replay(counts, new FixedKeepAlive(11)), { invocations: 6, coldStarts: 1, wastedMinutes: 12 });
  });

  it("hybrid: a histogram with too few idle times falls back to a 4-hour keep-alive", () => {
    const policy = new HybridHistogram();
    policy.observe(10);
    assert.deepEqual([policy.decide().prewarm, policy.decide().keepAlive], [0, HISTOGRAM_MINUTES]);
    assert.match(policy.decide().reason, /not representative/);
  });

  it("hybrid: a representative histogram pre-warms at p5 − 10 % and keeps until p99 + 10 %", () => {
    const policy = new HybridHistogram();
    for (let i = 0; i < 40; i++) policy.observe(30);
    const window = policy.decide();
    assert.deepEqual([window.prewarm, window.keepAlive], [27, 33 - 27]);
    assert.match(window.reason, /p5 30 min, p99 30 min/);
  });

  it("hybrid: when most idle times exceed 4 hours it forecasts the next one", () => {
    const policy = new HybridHistogram();
    for (const idle of [300, 320, 310, 20]) policy.observe(idle);
    const window = policy.decide();
    assert.deepEqual([window.prewarm, window.keepAlive], [Math.floor(310 * 0.85), Math.ceil(310 * 0.3)]);
    assert.match(window.reason, /forecast 310 min/);
  });

  it("replays deterministically: the same trace and policy give the same numbers", () => {
    // A synthetic trace in the shared trace's shape; the real one is replayed by `npm run bench:prewarm`.
    const minutes = Array.from({ length: 480 }, (_, i) => i + 480);
    const rows = Array.from({ length: 40 }, (_, unit) => {
      const counts = minutes.map((_, minute) => ((minute * (unit + 3)) % (unit + 7) === 0 ? 1 + (unit % 3) : 0));
      return `owner,app-${unit % 10},fn-${unit},${unit % 2 ? "timer" : "http"},${counts.join(",")}`;
    });
    const apps = byApp(parseTrace(`HashOwner,HashApp,HashFunction,Trigger,${minutes.join(",")}\n${rows.join("\n")}\n`));
    const run = () => apps.map((app) => [replay(app.counts, new HybridHistogram()), replay(app.counts, new CloudloomPolicy())]);
    assert.deepEqual(run(), run());
    assert.equal(apps.length, 10);
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

describe("cloudloom's pre-warm policy", () => {
  it("learns a 30-minute period and then pre-warms just before each call, with no cold start", () => {
    const counts = new Array(240).fill(0);
    for (let minute = 0; minute < 240; minute += 30) counts[minute] = 1;
    const result = replay(counts, new CloudloomPolicy());
    // Minute 0 is the only cold start: the 110-minute fallback covers minutes 30 and 60 (29 idle minutes each);
    // from two equal idle times on it pre-warms 2 minutes ahead, wasting 2 minutes per period (6 periods).
    assert.deepEqual(result, { invocations: 8, coldStarts: 1, wastedMinutes: 29 + 29 + 2 * 6 });
    const policy = new CloudloomPolicy();
    policy.observe(30);
    policy.observe(30);
    assert.match(policy.decide().reason, /^periodic: the last 2 idle times are 30 ± 1 min/);
    assert.deepEqual([policy.decide().prewarm, policy.decide().keepAlive], [28, 4]);
  });

  it("explains a window bounded by recent idle times", () => {
    const policy = new CloudloomPolicy();
    for (const idle of [2, 9, 4, 15, 3, 6, 8, 5, 7, 12, 10]) policy.observe(idle);
    const window = policy.decide();
    assert.match(window.reason, /^idle times p10 3 min, p75 9 min over the last 11/);
    assert.deepEqual([window.prewarm, window.keepAlive], [2, 8]);
  });

  it("keeps a heavy unit warm for less, and a light one for longer, while it learns", () => {
    const keep = (unitMb: number) => {
      const policy = new CloudloomPolicy({ memory: { unitMb, referenceMb: 256 } });
      policy.observe(40);
      return policy.decide().keepAlive;
    };
    assert.equal(keep(256), 110);
    assert.equal(keep(1024), 55, "four times the memory: half the fallback");
    assert.equal(keep(64), 220);
    assert.equal(keep(1_000_000), 10, "never below 10 minutes");
  });
});
