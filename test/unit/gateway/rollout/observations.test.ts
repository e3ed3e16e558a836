import assert from "node:assert/strict";
import { bucketOf, bucketUpperMs, LATENCY_BUCKETS, quantileMs } from "../../../../gateway/rollout/latency";
import { addObservations, summarize, Tally } from "../../../../gateway/rollout/observations";

describe("rollout observations", () => {
  it("buckets latencies so that the p99 of counts added from several instances is within 9 % of the truth", () => {
    const instances = [new Tally(["2"]), new Tally(["2"])];
    for (let ms = 1; ms <= 1_000; ms++) instances[ms % 2].count("2", 200, ms);
    const total = addObservations(addObservations({}, instances[0].drain()), instances[1].drain());
    assert.equal(total["2"].requests, 1_000);
    const p99 = quantileMs(total["2"].latency, 0.99)!;
    assert.ok(Math.abs(p99 - 990) / 990 < 0.09, `p99 ${p99}`);
  });

  it("keeps every latency in range: below the first bucket, and past the last", () => {
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(-1), 0);
    assert.equal(bucketOf(Number.NaN), 0);
    assert.equal(bucketOf(1e12), LATENCY_BUCKETS - 1);
    for (let i = 1; i < 40; i++) assert.equal(bucketOf(bucketUpperMs(i) * 0.999), i);
    assert.equal(quantileMs({}, 0.99), undefined);
  });

  it("counts 5xx as failures, not 4xx, drains to zero, and ignores versions it does not know", () => {
    const tally = new Tally(["1", "2"]);
    for (const status of [200, 404, 499, 500, 503]) tally.count("2", status, 3);
    tally.count("3", 500, 3);
    const drained = tally.drain();
    assert.deepEqual(Object.keys(drained), ["2"]);
    assert.deepEqual(summarize(drained["2"]), { requests: 5, errors: 2, errorRate: 0.4, p99Ms: summarize(drained["2"]).p99Ms });
    assert.deepEqual(tally.drain(), {});
    assert.deepEqual(summarize(undefined), { requests: 0, errors: 0, errorRate: 0 });
  });
});
