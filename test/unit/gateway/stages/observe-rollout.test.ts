import assert from "node:assert/strict";
import { rolloutPlan } from "../../../../gateway/rollout/plan";
import { Rollout } from "../../../../gateway/rollout/rollout";
import { startState } from "../../../../gateway/rollout/state";
import { observeRollout } from "../../../../gateway/stages/observe-rollout";
import type { RouteSpec } from "../../../../sdk/spec";
import { exchange, route } from "./exchange-fixture";

describe("observe-rollout stage", () => {
  const spec = {
    target: { kind: "model", name: "m", weights: { "1": 100, "2": 0 }, strategy: "canary", sticky: false },
    auth: "none",
    rollout: { version: "2", steps: [10, 100], interval: "1 minute", gate: { maxErrorRate: "1%", minRequests: 10 } },
  } as RouteSpec;
  const plan = rolloutPlan("POST /m", spec)!;

  function finished(rollout: Rollout | undefined, record: { version?: string; cache?: string; status: number; ms: number }) {
    const x = exchange(undefined, route("POST /m", spec, new Map(), { rollout }));
    Object.assign(x.record, record);
    observeRollout().finish!(x);
  }

  it("counts a finished request for the version that served it, and leaves out cache hits and requests no version served", () => {
    const rollout = new Rollout(plan, { "1": 100, "2": 0 }, false);
    rollout.apply(startState(plan, 0, "i"));
    finished(rollout, { version: "2", status: 500, ms: 12 });
    finished(rollout, { version: "2", status: 200, ms: 3, cache: "MISS" });
    finished(rollout, { version: "2", status: 200, ms: 0.1, cache: "HIT" });
    finished(rollout, { status: 401, ms: 0.2 });
    const [batch] = rollout.take();
    assert.deepEqual([batch.observations["2"].requests, batch.observations["2"].errors], [2, 1]);
  });

  it("does nothing on routes without a rollout, or on requests that matched no route", () => {
    assert.doesNotThrow(() => finished(undefined, { version: "1", status: 200, ms: 1 }));
    const unmatched = exchange();
    assert.doesNotThrow(() => observeRollout().finish!(unmatched));
  });
});
