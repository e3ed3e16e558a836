import assert from "node:assert/strict";
import { METRIC_NAMES } from "../../../runtime/contract";
import { metricsRegistry, RuntimeMetrics } from "../../../runtime/metrics";
import { LocalRuntime } from "../../../runtime/runtime";
import { App } from "../../../sdk";
import example from "../../../examples/support-desk/app";
import app from "../../fixtures/local-app/app";

const features = () => ({ features: new Array(512).fill(0.01) });

/** The value of the sample of `name` whose labels include every one of `labels`, or undefined. */
async function sample(metrics: RuntimeMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("runtime metrics (real runtime, real onnxruntime)", () => {
  let metrics: RuntimeMetrics;
  let runtime: LocalRuntime;

  beforeEach(() => {
    metrics = new RuntimeMetrics(metricsRegistry());
    // The fixture tampers with intent@2 on purpose: take it as declared, unchecked (the runtime refuses that version).
    runtime = new LocalRuntime(
      app.toDraft(),
      app.root,
      metrics.events(() => undefined),
    );
  });
  afterEach(() => runtime.close());

  it("counts every call by entry, region and start: a call that waited for its instance to start is cold, the next warm", async () => {
    const call = () => runtime.invoke("headers", "central", { method: "POST", path: "/", headers: {}, query: {}, body: undefined }, "r1");
    await call();
    await call();
    assert.equal(await sample(metrics, METRIC_NAMES.invocations, { entry: "headers", region: "central", start: "cold" }), 1);
    assert.equal(await sample(metrics, METRIC_NAMES.invocations, { entry: "headers", region: "central", start: "warm" }), 1);
  });

  it("counts a model's calls per sample, however they were batched", async () => {
    await Promise.all([1, 2, 3].map(() => runtime.predict("intent@1", "central", features())));
    await runtime.predict("intent@1", "central", features());
    const cold = (await sample(metrics, METRIC_NAMES.invocations, { entry: "intent@1", region: "central", start: "cold" })) ?? 0;
    const warm = (await sample(metrics, METRIC_NAMES.invocations, { entry: "intent@1", region: "central", start: "warm" })) ?? 0;
    assert.equal(cold + warm, 4);
    assert.ok(cold >= 1, "the first batch started the session");
  });

  it("times each request's wait in its model's batch queue", async () => {
    await Promise.all([1, 2, 3].map(() => runtime.predict("intent@1", "edge", features())));
    const count = await sample(metrics, `${METRIC_NAMES.modelQueueDuration}_count`, { model: "intent@1", region: "edge" });
    assert.equal(count, 3);
    const sum = (await sample(metrics, `${METRIC_NAMES.modelQueueDuration}_sum`, { model: "intent@1", region: "edge" }))!;
    assert.ok(sum >= 0 && sum < 3 * 60, `waits add up to ${sum} s`);
  });

  it("reads each model queue's depth when scraped: a request waiting for its batch to fill counts, none once it ran", async () => {
    // A batch of two, held up to a minute: the first request waits until the second fills it.
    const held = new App("held", { root: example.root });
    const central = held.region("central", { kind: "central", placement: {} });
    const { artifact, signature } = example.toDraft().models["intent@1"];
    held.model("pair", { version: "1", artifact, signature, regions: [central], batching: { maxBatchSize: 2, maxDelay: "1 minute" } });
    const own = new RuntimeMetrics(metricsRegistry());
    const pairs = new LocalRuntime(
      held.toSpec(),
      held.root,
      own.events(() => undefined),
    );
    try {
      const first = pairs.predict("pair@1", "central", features());
      assert.equal(await sample(own, METRIC_NAMES.modelQueueDepth, { model: "pair@1", region: "central" }), 1);
      await Promise.all([first, pairs.predict("pair@1", "central", features())]);
      assert.equal(await sample(own, METRIC_NAMES.modelQueueDepth, { model: "pair@1", region: "central" }), 0);
    } finally {
      await pairs.close();
    }
  });
});
