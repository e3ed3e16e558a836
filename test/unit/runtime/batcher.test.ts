/**
 * The batcher's dispatch rules, by event order on frozen timers (node:test's
 * mock timers): nothing here waits for real time, so a request that resolves
 * did so without any timer firing.
 */
import assert from "node:assert/strict";
import { mock } from "node:test";
import { DynamicBatcher } from "../../../runtime/batcher";
import { ServingError } from "../../../runtime/contract";

/** Lets the end-of-turn dispatch and the promise chains after it run (setImmediate stays real). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A runner whose batches finish only when the test says so. */
function gatedRunner() {
  const batches: number[][] = [];
  const gates: Array<() => void> = [];
  const run = (xs: number[]) => {
    batches.push(xs);
    return new Promise<number[]>((resolve) => gates.push(() => resolve(xs.map((x) => x * 10))));
  };
  return { batches, run, finish: (index: number) => gates[index]() };
}

describe("DynamicBatcher", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
  afterEach(() => mock.timers.reset());

  it("runs a request that finds the model idle at once, never waiting for maxDelayMs", async () => {
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 32, maxDelayMs: 60_000, maxQueue: 100 }, async (xs) => xs);
    // The timers are frozen: only a dispatch that waits for no timer can answer.
    assert.equal(await batcher.submit(7), 7);
    assert.equal(await batcher.submit(8), 8);
  });

  it("puts samples submitted in the same turn in one batch, up to maxBatchSize, and returns each caller its own result", async () => {
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

  it("collects requests that arrive during a run into the next batch, which starts as soon as the run ends", async () => {
    const runner = gatedRunner();
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 32, maxDelayMs: 2, maxQueue: 100 }, runner.run);
    const first = batcher.submit(1);
    await turn();
    assert.deepEqual(runner.batches, [[1]]);
    const next = [2, 3, 4].map((x) => batcher.submit(x));
    await turn();
    mock.timers.tick(1_000); // far past maxDelayMs: the only runner is busy, so nothing can start
    await turn();
    assert.deepEqual(runner.batches, [[1]]);
    assert.equal(batcher.depth, 3);
    runner.finish(0);
    assert.equal(await first, 10);
    await turn();
    assert.deepEqual(runner.batches, [[1], [2, 3, 4]]);
    runner.finish(1);
    assert.deepEqual(await Promise.all(next), [20, 30, 40]);
  });

  it("with a runner free while another is busy, waits for a fuller batch no longer than maxDelayMs after the oldest request", async () => {
    const runner = gatedRunner();
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 8, maxDelayMs: 10, maxQueue: 100, concurrency: 2 }, runner.run);
    void batcher.submit(1);
    await turn();
    assert.deepEqual(runner.batches, [[1]], "the idle model runs the first request at once");
    const second = batcher.submit(2);
    await turn();
    mock.timers.tick(9);
    await turn();
    assert.deepEqual(runner.batches, [[1]], "request 2 waits for company while runner 1 is busy");
    const third = batcher.submit(3);
    await turn();
    mock.timers.tick(1); // 10 ms after request 2 arrived: the bound, whatever request 3's own wait
    await turn();
    assert.deepEqual(runner.batches, [[1], [2, 3]]);
    runner.finish(1);
    assert.deepEqual(await Promise.all([second, third]), [20, 30]);
    runner.finish(0);
  });

  it("starts a full batch on a free runner at once, without waiting for maxDelayMs", async () => {
    const runner = gatedRunner();
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 2, maxDelayMs: 60_000, maxQueue: 100, concurrency: 2 }, runner.run);
    void batcher.submit(1);
    await turn();
    void batcher.submit(2);
    void batcher.submit(3);
    await turn();
    assert.deepEqual(runner.batches, [[1], [2, 3]]);
    runner.finish(0);
    runner.finish(1);
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
    const runner = gatedRunner();
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxDelayMs: 1, maxQueue: 2 }, runner.run);
    const running = batcher.submit(1);
    await turn();
    const queued = [batcher.submit(2), batcher.submit(3)];
    await assert.rejects(
      batcher.submit(4),
      (error: ServingError) => error.code === "QUEUE_FULL" && error.status === 503 && error.headers["retry-after"] === "1",
    );
    runner.finish(0);
    await turn();
    runner.finish(1);
    await turn();
    runner.finish(2);
    assert.deepEqual(await Promise.all([running, ...queued]), [10, 20, 30]);
  });

  it("drains: refuses new samples with the given error and resolves once queued and running batches are done", async () => {
    const runner = gatedRunner();
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 1, maxDelayMs: 1, maxQueue: 10 }, runner.run);
    const accepted = [batcher.submit(1), batcher.submit(2)];
    await turn();
    let drained = false;
    const draining = batcher.drain(new ServingError("MODEL_UNAVAILABLE", "shutting down")).then(() => (drained = true));
    await assert.rejects(batcher.submit(3), (error: ServingError) => error.code === "MODEL_UNAVAILABLE");
    runner.finish(0);
    await turn();
    assert.equal(drained, false, "request 2 is still queued");
    runner.finish(1);
    await draining;
    assert.deepEqual(await Promise.all(accepted), [10, 20]);
  });

  it("reports, for each request a batch takes, how long it waited in the queue", async () => {
    const waits: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const batcher = new DynamicBatcher<number, number>(
      { maxBatchSize: 2, maxDelayMs: 1, maxQueue: 10, onDequeue: (ms) => waits.push(ms) },
      async (xs) => {
        if (runs++ === 0) await gate;
        return xs;
      },
    );
    const first = batcher.submit(1);
    // The idle model takes the first request at the end of this turn.
    await new Promise((r) => setImmediate(r));
    assert.equal(waits.length, 1);
    // The first batch holds the only runner: these two wait in the queue until it is released.
    const queued = [batcher.submit(2), batcher.submit(3)];
    await new Promise((r) => setImmediate(r));
    assert.equal(waits.length, 1, "nothing more is taken while the runner is busy");
    release();
    assert.deepEqual(await Promise.all([first, ...queued]), [1, 2, 3]);
    assert.equal(waits.length, 3, "one wait per request");
    assert.ok(waits.every((ms) => ms >= 0));
  });
});
