import assert from "node:assert/strict";
import { App, validate, type SpecV1 } from "../../../sdk";
import { DEFAULT_HOLD, holdLimits, holdRetryAfterSeconds } from "../../../sdk/spec";

/** An app with one function under a policy built from `policy`. */
function specWith(policy: Parameters<App["scalingPolicy"]>[1]): SpecV1 {
  const app = new App("held");
  const central = app.region("central", { kind: "central", placement: {} });
  app.function("f", { handler: "f.ts", regions: [central], scaling: app.scalingPolicy("p", policy) });
  return app.toSpec({ root: undefined });
}

describe("a scaling policy's hold", () => {
  it("holds 100 requests for 30 seconds when the policy scales to zero and states no hold, and says so in the spec", () => {
    const spec = specWith({ maxInstances: 2, targetConcurrency: 1, scaleToZero: { idleWindow: "5 minutes" } });
    assert.deepEqual(spec.scalingPolicies.p.hold, DEFAULT_HOLD);
    assert.deepEqual(holdLimits(spec, "function", "f"), { maxPending: 100, maxWaitMs: 30_000 });
  });

  it("keeps a stated hold, also on a policy that never scales to zero", () => {
    const spec = specWith({ minInstances: 1, maxInstances: 2, targetConcurrency: 1, hold: { maxPending: 7, maxWait: "2 seconds" } });
    assert.deepEqual(holdLimits(spec, "function", "f"), { maxPending: 7, maxWaitMs: 2_000 });
  });

  it("holds nothing for a policy that neither scales to zero nor states a hold, nor for entries without a policy", () => {
    const spec = specWith({ minInstances: 1, maxInstances: 2, targetConcurrency: 1 });
    assert.equal(spec.scalingPolicies.p.hold, undefined);
    assert.equal(holdLimits(spec, "function", "f"), undefined);
    assert.equal(holdLimits({ ...spec, functions: { f: { ...spec.functions.f, scaling: undefined } } }, "function", "f"), undefined);
    assert.equal(holdLimits(spec, "model", "absent@1"), undefined);
  });

  it("refuses holds that keep too few or too many requests, or none, too long or not at all, each with CL_HOLD_INVALID", () => {
    const base = specWith({ maxInstances: 2, targetConcurrency: 1, scaleToZero: { idleWindow: "5 minutes" } });
    const bad: Array<[unknown, string]> = [
      [{ maxPending: 0, maxWait: "1 second" }, "maxPending"],
      [{ maxPending: 2.5, maxWait: "1 second" }, "maxPending"],
      [{ maxPending: 10_001, maxWait: "1 second" }, "maxPending"],
      [{ maxPending: 5, maxWait: "0 seconds" }, "maxWait"],
      [{ maxPending: 5, maxWait: "5.5 minutes" }, "maxWait"],
    ];
    for (const [hold, field] of bad) {
      const result = validate({ ...base, scalingPolicies: { p: { ...base.scalingPolicies.p, hold } } });
      assert.equal(result.ok, false, JSON.stringify(hold));
      assert.deepEqual(
        result.problems.map((p) => [p.code, p.path]),
        [["CL_HOLD_INVALID", `scalingPolicies.p.hold.${field}`]],
      );
    }
    for (const hold of [{ maxPending: "5", maxWait: "1 second" }, { maxPending: 5, maxWait: "soon" }, { maxPending: 5 }])
      assert.equal(validate({ ...base, scalingPolicies: { p: { ...base.scalingPolicies.p, hold } } }).ok, false, JSON.stringify(hold));
    assert.ok(
      validate({ ...base, scalingPolicies: { p: { ...base.scalingPolicies.p, hold: { maxPending: 10_000, maxWait: "5 minutes" } } } }).ok,
    );
  });

  it("reports a misspelled hold field with the field it meant", () => {
    const app = new App("typo");
    app.scalingPolicy("p", { maxInstances: 1, targetConcurrency: 1, hold: { maxPending: 3, maxWiat: "1 second" } as never });
    assert.throws(() => app.toSpec({ root: undefined }), /maxWiat[\s\S]*did you mean "maxWait"/);
  });

  it("tells refused clients to come back after a tenth of the wait, at least a second", () => {
    assert.equal(holdRetryAfterSeconds({ maxPending: 1, maxWaitMs: 30_000 }), 3);
    assert.equal(holdRetryAfterSeconds({ maxPending: 1, maxWaitMs: 2_000 }), 1);
    assert.equal(holdRetryAfterSeconds({ maxPending: 1, maxWaitMs: 300_000 }), 30);
  });
});
