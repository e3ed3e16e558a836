import assert from "node:assert/strict";
import { decide } from "../../../../gateway/rollout/judge";
import { bucketOf } from "../../../../gateway/rollout/latency";
import type { Observations, VersionCounts } from "../../../../gateway/rollout/observations";
import { rolloutPlan, type RolloutPlan } from "../../../../gateway/rollout/plan";
import { startState, type RolloutState } from "../../../../gateway/rollout/state";
import type { RolloutGateSpec, RouteSpec } from "../../../../sdk/spec";

const MINUTE = 60_000;

function plan(gate: Partial<RolloutGateSpec> = {}, steps = [5, 25, 50, 100]): RolloutPlan {
  const route = {
    target: { kind: "model", name: "m", weights: { "1": 100, "2": 0 }, strategy: "canary", sticky: false },
    auth: "none",
    rollout: { version: "2", steps, interval: "5 minutes", gate: { minRequests: 100, ...gate } },
  } as RouteSpec;
  return rolloutPlan("POST /m", route)!;
}

/** `requests` requests of which `errors` failed, every one taking `ms`. */
const counts = (requests: number, errors: number, ms: number): VersionCounts => ({
  requests,
  errors,
  latency: { [bucketOf(ms)]: requests },
});
const at = (p: RolloutPlan, step: number, weight: number): RolloutState => ({ ...startState(p, 0, "i"), step, weight });

describe("judging a rollout step", () => {
  const gate = plan({ maxErrorRate: "1%", maxP99: "500 ms" });

  it("waits until the new version has served minRequests, whatever its numbers so far", () => {
    const decision = decide(gate, at(gate, 1, 5), { "2": counts(99, 99, 5_000) }, 10 * MINUTE);
    assert.equal(decision.kind, "wait");
    assert.match(decision.reason, /version 2 has served 99 of the 100 requests/);
  });

  it("rolls back at once on a breach, before the step's interval is over, naming the numbers", () => {
    const decision = decide(gate, at(gate, 2, 25), { "2": counts(100, 5, 20), "1": counts(300, 0, 20) }, 1);
    assert.equal(decision.kind, "rolled-back");
    assert.deepEqual(decision.kind === "rolled-back" && [decision.step, decision.weight], [2, 0]);
    assert.equal(decision.reason, "version 2: error rate 5.00% is over maxErrorRate 1.00%");
    assert.deepEqual(decision.evidence["2"], { requests: 100, errors: 5, errorRate: 0.05, p99Ms: decision.evidence["2"].p99Ms });
  });

  it("rolls back on a p99 over maxP99", () => {
    const decision = decide(gate, at(gate, 1, 5), { "2": counts(200, 0, 800) }, 10 * MINUTE);
    assert.equal(decision.kind, "rolled-back");
    assert.match(decision.reason, /p99 [\d.]+ ms is over maxP99 500 ms/);
  });

  it("waits out the interval of a step that meets its gate, then advances to the next step", () => {
    const healthy: Observations = { "2": counts(150, 1, 40), "1": counts(3_000, 3, 40) };
    const early = decide(gate, at(gate, 1, 5), healthy, 4 * MINUTE);
    assert.equal(early.kind, "wait");
    assert.match(early.reason, /meets its gate so far; it lasts 60 s more/);
    const due = decide(gate, at(gate, 1, 5), healthy, 5 * MINUTE);
    assert.deepEqual(due.kind === "advanced" && [due.step, due.weight], [2, 25]);
    assert.match(due.reason, /step 1 \(5%\) met its gate over 150 requests: error rate 0\.67%/);
  });

  it("completes the rollout when the next step is 100 %", () => {
    const decision = decide(gate, at(gate, 3, 50), { "2": counts(500, 0, 40), "1": counts(500, 0, 40) }, 5 * MINUTE);
    assert.deepEqual(decision.kind === "succeeded" && [decision.step, decision.weight], [4, 100]);
  });

  it("follows the steps as they are now when a reload changed them mid-rollout", () => {
    const changed = plan({ maxErrorRate: "1%" }, [10, 30, 100]);
    const decision = decide(changed, at(changed, 2, 25), { "2": counts(500, 0, 40) }, 5 * MINUTE);
    assert.deepEqual(decision.kind === "advanced" && [decision.step, decision.weight], [2, 30]);
  });

  it("compares with the baseline: an error rate too far above the old version's, or a p99 too many times its", () => {
    const relative = plan({ maxErrorRateIncrease: "0.5%", maxP99Ratio: 1.5 });
    const worse = decide(relative, at(relative, 1, 5), { "2": counts(200, 2, 100), "1": counts(2_000, 0, 40) }, 5 * MINUTE);
    assert.equal(worse.kind, "rolled-back");
    assert.match(worse.reason, /error rate 1\.00% exceeds the baseline's 0\.00% by more than maxErrorRateIncrease 0\.50%/);
    assert.match(worse.reason, /p99 [\d.]+ ms is over maxP99Ratio 1\.5 × the baseline's [\d.]+ ms/);
    const alike = decide(relative, at(relative, 1, 5), { "2": counts(200, 2, 40), "1": counts(2_000, 15, 40) }, 5 * MINUTE);
    assert.equal(alike.kind, "advanced", "as bad as the baseline is not worse than it");
  });

  it("does not compare with a baseline that served fewer than minRequests in the step", () => {
    const relative = plan({ maxErrorRateIncrease: "0.5%" });
    const decision = decide(relative, at(relative, 1, 5), { "2": counts(200, 10, 40), "1": counts(50, 0, 40) }, 5 * MINUTE);
    assert.equal(decision.kind, "advanced");
  });
});
