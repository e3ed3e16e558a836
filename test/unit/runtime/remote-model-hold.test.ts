/**
 * A function's model client waiting out a model that is starting: a real
 * model stub on 127.0.0.1 that refuses connections (nothing listens on its
 * port yet) or answers 503 until it is ready.
 */
import assert from "node:assert/strict";
import { remoteModelClient } from "../../../runtime/remote-model";
import { ServingError } from "../../../runtime/contract";
import { freePort } from "../../support/redis";
import { until } from "../../support/until";
import { StubUpstream } from "../../support/upstream";

/** A model stub answering `status` (the outputs of the sample it got on 200). */
function modelStub(name: string): StubUpstream {
  const stub = new StubUpstream(name);
  stub.behaviour = {
    status: 200,
    headers: {},
    delayMs: 0,
    body: (_req, body) => ({ outputs: { y: (JSON.parse(body) as { inputs: { x: number[] } }).inputs.x.map((v) => v * 2) } }),
  };
  return stub;
}

const sample = (value: number) => ({ x: Float32Array.from([value]) });
/** A 503 with `code` and Retry-After: a tenth of the wait, at least a second. */
const isHold = (code: string, retryAfter: string) => (error: unknown) =>
  error instanceof ServingError && error.code === code && error.status === 503 && error.headers["retry-after"] === retryAfter;

describe("remote model client: waiting out a model that is starting", function () {
  this.timeout(60_000);
  let stub: StubUpstream | undefined;
  afterEach(async () => {
    await stub?.kill();
    stub = undefined;
  });

  it("retries a refused connection until the model listens (after 2 s), and answers then", async () => {
    const port = await freePort();
    const client = remoteModelClient(`http://127.0.0.1:${port}`, "m@1", "1", { maxPending: 10, maxWaitMs: 45_000 });
    const calls = [1, 2, 3].map((v) => client.predict(sample(v)));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stub = await modelStub("late").start(port);
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((r) => Array.from(r.y)),
      [[2], [4], [6]],
    );
  });

  it("retries while the model answers 503, and answers once it serves", async () => {
    stub = await modelStub("warming").start();
    stub.behaviour = { ...stub.behaviour, status: 503 };
    const client = remoteModelClient(stub.url, "m@1", "1", { maxPending: 10, maxWaitMs: 45_000 });
    const call = client.predict(sample(5));
    await until(() => stub!.received.length >= 3);
    stub.behaviour = { ...stub.behaviour, status: 200 };
    assert.deepEqual(Array.from((await call).y), [10]);
  });

  it("gives up after maxWait with 503 HOLD_TIMEOUT and Retry-After", async () => {
    const port = await freePort();
    const client = remoteModelClient(`http://127.0.0.1:${port}`, "m@1", "1", { maxPending: 10, maxWaitMs: 300 });
    await assert.rejects(client.predict(sample(1)), isHold("HOLD_TIMEOUT", "1"));
  });

  it("refuses a call at once with 503 HOLD_FULL while maxPending calls already wait, and serves those once ready", async () => {
    stub = await modelStub("full").start();
    stub.behaviour = { ...stub.behaviour, status: 503 };
    const client = remoteModelClient(stub.url, "m@1", "1", { maxPending: 2, maxWaitMs: 45_000 });
    const waiting = [7, 8].map((v) => client.predict(sample(v)));
    // Each has been retried (so it is counted as waiting) once its sample reached the stub twice.
    const attempts = (v: number) => stub!.received.filter((r) => r.body.includes(`[${v}]`)).length;
    await until(() => attempts(7) >= 2 && attempts(8) >= 2);
    await assert.rejects(client.predict(sample(9)), isHold("HOLD_FULL", "5"));
    assert.equal(attempts(9), 1, "the refused call tried once and did not wait");
    stub.behaviour = { ...stub.behaviour, status: 200 };
    assert.deepEqual(
      (await Promise.all(waiting)).map((r) => Array.from(r.y)),
      [[14], [16]],
    );
  });

  it("without a hold, fails at once on a 503 or a refused connection, as before", async () => {
    stub = await modelStub("plain").start();
    stub.behaviour = { ...stub.behaviour, status: 503 };
    await assert.rejects(
      remoteModelClient(stub.url, "m@1", "1").predict(sample(1)),
      (error: unknown) => error instanceof ServingError && error.code === "BAD_GATEWAY",
    );
    assert.equal(stub.received.length, 1);
    const port = await freePort();
    await assert.rejects(remoteModelClient(`http://127.0.0.1:${port}`, "m@1", "1").predict(sample(1)), /fetch failed/);
  });
});
