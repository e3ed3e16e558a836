import assert from "node:assert/strict";
import { rolloutPlan } from "../../../../gateway/rollout/plan";
import { Rollout } from "../../../../gateway/rollout/rollout";
import { afterTransition, startState } from "../../../../gateway/rollout/state";
import { pickVersion } from "../../../../gateway/routing/versions";
import type { RouteSpec } from "../../../../sdk/spec";

const route = {
  target: { kind: "model", name: "m", weights: { "1": 100, "2": 0 }, strategy: "canary", sticky: false },
  auth: "none",
  rollout: { version: "2", steps: [10, 100], interval: "1 minute", gate: { maxErrorRate: "1%", minRequests: 10 } },
} as RouteSpec;
const plan = rolloutPlan("POST /m", route)!;
const share = (rollout: Rollout, version: string) => {
  let hits = 0;
  for (let i = 0; i < 1_000; i++) if (pickVersion(rollout.split, `r${i}`, () => i / 1_000) === version) hits++;
  return hits / 10;
};

describe("a rollout in one gateway instance", () => {
  it("serves the declared weights until it knows a state, then the state's", () => {
    const rollout = new Rollout(plan, { "1": 100, "2": 0 }, false);
    assert.equal(share(rollout, "2"), 0);
    const started = startState(plan, 0, "i");
    assert.equal(rollout.apply(started), true);
    assert.equal(share(rollout, "2"), 10);
    assert.equal(rollout.apply(started), false, "the same epoch again changes nothing");
    rollout.apply(afterTransition(started, { at: 1, kind: "succeeded", step: 2, weight: 100, instance: "i" }));
    assert.equal(share(rollout, "2"), 100);
  });

  it("files counts under the epoch they were served in, drops those served before any state, and keeps them when the store failed", () => {
    const rollout = new Rollout(plan, { "1": 100, "2": 0 }, false);
    rollout.observe("1", 200, 5);
    const started = startState(plan, 0, "i");
    rollout.apply(started);
    rollout.observe("2", 500, 5);
    rollout.apply(afterTransition(started, { at: 1, kind: "paused", step: 1, weight: 10, instance: "i" }));
    rollout.observe("2", 200, 5);
    const taken = rollout.take();
    assert.deepEqual(
      taken.map((batch) => [batch.epoch, batch.observations["2"].requests, batch.observations["2"].errors]),
      [
        [1, 1, 1],
        [2, 1, 0],
      ],
    );
    assert.deepEqual(rollout.take(), []);
    rollout.restore(taken);
    rollout.observe("2", 200, 5);
    assert.deepEqual(
      rollout.take().map((batch) => [batch.epoch, batch.observations["2"].requests]),
      [
        [1, 1],
        [2, 2],
      ],
    );
  });
});
