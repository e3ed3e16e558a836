import assert from "node:assert/strict";
import { DynamicBatcher } from "../../../runtime/batcher";
import { ServingError } from "../../../runtime/contract";

describe("DynamicBatcher", () => {
  it("runs up to maxBatchSize samples at once and returns each caller its own result", async () => {
    const batches: number[][] = [];
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 4, maxDelayMs: 5, maxQueue: 100 }, async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => batcher.submit(x)));
    assert.deepEqual(results, [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(batches, [
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it("flushes a partial batch after maxDelayMs", async () => {
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 100, maxDelayMs: 20, maxQueue: 100 }, async (xs) => xs);
    const started = performance.now();
    assert.equal(await batcher.submit(7), 7);
    assert.ok(performance.now() - started >= 15);
  });

  it("fails only the requests of a failing batch", async () => {
    let call = 0;
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 2, maxDelayMs: 1, maxQueue: 100 }, async (xs) => {
      if (call++ === 0) throw new Error("first batch fails");
      return xs;
    });
    const settled = await Promise.allSettled([1, 2, 3, 4].map((x) => batcher.submit(x)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ["rejected", "rejected", "fulfilled", "fulfilled"],
    );
  });

  it("refuses work beyond maxQueue with QUEUE_FULL and a Retry-After", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxDelayMs: 1, maxQueue: 2 }, async (xs) => {
      await gate;
      return xs;
    });
    const running = batcher.submit(1);
    await new Promise((r) => setTimeout(r, 5));
    const queued = [batcher.submit(2), batcher.submit(3)];
    await assert.rejects(
      batcher.submit(4),
      (error: ServingError) => error.code === "QUEUE_FULL" && error.status === 503 && error.headers["retry-after"] === "1",
    );
    release();
    assert.deepEqual(await Promise.all([running, ...queued]), [1, 2, 3]);
  });

  it("reports, for each request a batch takes, how long it waited in the queue", async () => {
    const waits: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new DynamicBatcher<number, number>(
      { maxBatchSize: 2, maxDelayMs: 1, maxQueue: 10, onDequeue: (ms) => waits.push(ms) },
      async (xs) => {
        await gate;
        return xs;
      },
    );
    const first = batcher.submit(1);
    await new Promise((r) => setTimeout(r, 5));
    // The first batch holds the only runner: these two wait in the queue until it is released.
    const queued = [batcher.submit(2), batcher.submit(3)];
    assert.equal(waits.length, 1);
    release();
    assert.deepEqual(await Promise.all([first, ...queued]), [1, 2, 3]);
    assert.equal(waits.length, 3, "one wait per request");
    assert.ok(waits.every((ms) => ms >= 0));
  });
});
