/**
 * Model sessions in worker threads, on real onnxruntime-node in real worker
 * threads: the same results as an in-process session, batches that cross as
 * transferred buffers, a thread killed mid-batch (its requests fail with
 * MODEL_FAILED, the thread is replaced, the process carries on), a graph that
 * does not match its declared signature, and a drain on shutdown.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import example from "../../../examples/support-desk/app";
import { ServingError } from "../../../runtime/contract";
import { ModelHost, type ModelHostEvents } from "../../../runtime/model-host";
import { SESSION_THREAD_NICE } from "../../../runtime/session-protocol";
import { SessionThread } from "../../../runtime/session-thread";
import { sessionThreadSizing } from "../../../runtime/sizing";
import type { ModelSpec } from "../../../sdk/spec";
import { until } from "../../support/until";

const intent = example.toSpec().models["intent@1"];
const artifact = readFileSync(join(example.root, intent.artifact.path));
const single = { min: 1, max: 1, idleWindowMs: 60_000, memoryMb: 16 };
const cpu = ["cpu" as const];

/** `count` distinct samples of the intent model's 512 features. */
const samples = (count: number) =>
  Array.from({ length: count }, (_, k) => ({ features: Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * (k + 1)) * 0.5) }));

describe("model sessions in worker threads (real onnxruntime-node)", () => {
  const hosts: ModelHost[] = [];
  const host = (
    spec: ModelSpec,
    bytes: Uint8Array,
    batching = { maxBatchSize: 64, maxDelayMs: 2, maxQueue: 1024 },
    events: ModelHostEvents = {},
  ) => {
    const created = new ModelHost(spec, bytes, single, batching, { warn: () => {}, ...events }, cpu, 2);
    hosts.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.close()));
  });

  it("answers exactly what an in-process session answers for the same batch, from a thread that is not the event loop's", async () => {
    const batch = samples(12);
    const threaded = host(intent, artifact);
    await threaded.warm();
    assert.notEqual(threaded.threads[0].threadId, threadId);
    const predictions = await Promise.all(batch.map((sample) => threaded.predict(sample)));
    assert.equal(threaded.batchesRun, 1, "submitted in one turn, the samples ran as one batch");

    const session = await ort.InferenceSession.create(artifact, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const data = new Float32Array(batch.length * 512);
    batch.forEach((sample, i) => data.set(sample.features, i * 512));
    const expected = (await session.run({ features: new ort.Tensor("float32", data, [batch.length, 512]) })).probabilities
      .data as Float32Array;
    await session.release();
    predictions.forEach((prediction, i) => assert.deepEqual(prediction.outputs.probabilities, expected.subarray(i * 5, (i + 1) * 5)));
  });

  it("reads JSON request bodies in the thread: the same answers as samples read here, and a bad body fails alone", async () => {
    const served = host(intent, artifact);
    await served.warm();
    const [a, b] = samples(2);
    const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const [fromSample, fromBody, badJson, wrongShape, noInputs] = await Promise.allSettled([
      served.predict(a),
      served.predictBody(body({ inputs: { features: Array.from(b.features) } })),
      served.predictBody(new TextEncoder().encode('{"inputs": {"features": [1, 2,')),
      served.predictBody(body({ inputs: { features: [1, 2, 3] } })),
      served.predictBody(new Uint8Array(0)),
    ]);
    assert.equal(served.batchesRun, 1, "one batch held them all");
    const expected = await Promise.all([a, b].map((sample) => served.predict(sample)));
    assert.deepEqual(fromSample.status === "fulfilled" && fromSample.value.outputs, expected[0].outputs);
    assert.deepEqual(fromBody.status === "fulfilled" && fromBody.value.outputs, expected[1].outputs);
    const refusal = (settled: PromiseSettledResult<unknown>) =>
      settled.status === "rejected" && settled.reason instanceof ServingError
        ? [settled.reason.code, settled.reason.message]
        : settled.status;
    assert.deepEqual(refusal(badJson), ["BAD_JSON", "the request body is not valid JSON"]);
    assert.deepEqual(refusal(wrongShape), ["INVALID_INPUT", "inputs.features has 3 values; shape [512] needs 512"]);
    assert.deepEqual(refusal(noInputs), ["INVALID_INPUT", 'inputs must be an object with "features"']);
  });

  it("refuses a body nested 100,000 deep or a megabyte of one number alone, and the thread keeps serving", async () => {
    const served = host(intent, artifact);
    await served.warm();
    const [thread] = served.threads;
    const nested = new TextEncoder().encode(`{"inputs":{"features":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`);
    const huge = new TextEncoder().encode(`{"inputs":{"features":[${"9".repeat(1_000_000)}]}}`);
    for (const body of [nested, huge])
      await assert.rejects(served.predictBody(body), (error: ServingError) => error.code === "INVALID_INPUT" || error.code === "BAD_JSON");
    assert.equal((await served.predict(samples(1)[0])).outputs.probabilities.length, 5);
    assert.equal(served.threads[0], thread, "the same thread answered");
  });

  it("moves a batch's buffers to the thread and back instead of copying them", async () => {
    const thread = await SessionThread.start(
      { artifact, options: { executionProviders: ["cpu"] }, inputs: intent.signature.inputs },
      "model intent@1",
    );
    try {
      const data = new Float32Array(3 * 512).fill(0.25);
      const bytes = new TextEncoder().encode(JSON.stringify({ inputs: { features: new Array(512).fill(0.5) } }));
      const answer = thread.run({ features: { data, dims: [3, 512] } }, { bytes, rows: [{ row: 2, start: 0, end: bytes.length }] });
      assert.equal(data.byteLength, 0, "the input buffer was transferred (detached here)");
      assert.equal(bytes.byteLength, 0, "so were the JSON bodies");
      const { outputs, rejected } = await answer;
      assert.deepEqual(rejected, []);
      assert.deepEqual(outputs.probabilities.dims, [3, 5]);
      assert.equal(outputs.probabilities.data.buffer.byteLength, 3 * 5 * 4, "the output arrives in a buffer of its own");
    } finally {
      await thread.close();
    }
  });

  it("runs the session at a lower priority than the event loop's thread (Linux: per-thread nice)", async () => {
    /** The nice value (field 19 of /proc/<pid>/task/<tid>/stat) of each of this process's threads. */
    const niceByThread = () =>
      new Map(
        readdirSync("/proc/self/task").map((tid) => {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
          return [tid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])] as const;
        }),
      );
    const before = niceByThread();
    const thread = await SessionThread.start(
      { artifact, options: { executionProviders: ["cpu"] }, inputs: intent.signature.inputs },
      "model intent@1",
    );
    try {
      const lowered = [...niceByThread()].filter(([tid, nice]) => !before.has(tid) && nice === SESSION_THREAD_NICE);
      assert.ok(lowered.length >= 1, "the session's thread runs at the session nice value");
      assert.equal(niceByThread().get(String(process.pid)), before.get(String(process.pid)), "the event loop's thread keeps its priority");
    } finally {
      await thread.close();
    }
  });

  it("refuses to start a thread on an artifact onnxruntime cannot load, with onnxruntime's error", async () => {
    await assert.rejects(
      SessionThread.start({ artifact: new Uint8Array([1, 2, 3]), options: { executionProviders: ["cpu"] }, inputs: {} }, "model bad@1"),
      /protobuf|parse|model/i,
    );
  });

  it("fails the batch of a thread killed mid-batch with MODEL_FAILED, replaces the thread, and keeps serving", async () => {
    const killed: number[] = [];
    const served = host(intent, artifact, undefined, {
      // Killed from outside (the pool did not ask) in the turn the batch is handed over, before the thread could
      // start it: the moment a thread can die with a batch in flight. (A thread killed inside session.run takes the
      // process with it, in onnxruntime-node's native code; which is why nothing in the runtime ever does that.)
      onBatch: () => {
        if (killed.length > 0) return;
        const [thread] = served.threads;
        killed.push(thread.threadId);
        void thread["worker"].terminate();
      },
    });
    await served.warm();
    const settled = await Promise.allSettled(samples(8).map((sample) => served.predict(sample)));
    assert.deepEqual(
      settled.map((s) => (s.status === "rejected" && s.reason instanceof ServingError ? s.reason.code : s.status)),
      Array(8).fill("MODEL_FAILED"),
      "every request of the killed batch fails with MODEL_FAILED",
    );
    const reason = (settled[0] as PromiseRejectedResult).reason as ServingError & { cause: Error };
    assert.match(reason.cause.message, new RegExp(`session thread ${killed[0]} exited`));
    await until(() => served.instances === 1);
    assert.notEqual(served.threads[0].threadId, killed[0], "a new thread replaced the dead one");
    const after = await Promise.all(samples(3).map((sample) => served.predict(sample)));
    assert.deepEqual(
      after.map((p) => p.outputs.probabilities.length),
      [5, 5, 5],
    );
  });

  it("answers MODEL_FAILED, not garbage, when the graph's outputs are not the declared ones", async () => {
    const lying: ModelSpec = {
      ...intent,
      signature: { ...intent.signature, outputs: { probabilities: { type: "float32", shape: [-1, 7] } } },
    };
    const served = host(lying, artifact);
    await assert.rejects(served.predict(samples(1)[0]), (error: ServingError & { cause: Error }) => {
      assert.equal(error.code, "MODEL_FAILED");
      assert.match(error.cause.message, /output probabilities is not 1×7 float32 values/);
      return true;
    });
  });

  it("drains on close: requests already accepted are answered, later ones refused, then the threads end", async () => {
    const served = host(intent, artifact, { maxBatchSize: 4, maxDelayMs: 2, maxQueue: 1024 });
    await served.warm();
    const accepted = samples(10).map((sample) => served.predict(sample));
    const closing = served.close();
    await assert.rejects(served.predict(samples(1)[0]), (error: ServingError) => error.code === "MODEL_UNAVAILABLE");
    const answers = await Promise.all(accepted);
    assert.equal(answers.length, 10);
    await closing;
    assert.equal(served.instances, 0);
  });
});

describe("session thread sizing", () => {
  it("caps the threads at the cores and gives each session the cores left beside the event loop, at least one", () => {
    assert.deepEqual(sessionThreadSizing({ min: 1, max: 1 }, 2), { min: 1, max: 1, intraOpNumThreads: 1 });
    assert.deepEqual(sessionThreadSizing({ min: 4, max: 20 }, 2), { min: 2, max: 2, intraOpNumThreads: 1 });
    assert.deepEqual(sessionThreadSizing({ min: 0, max: 1 }, 8), { min: 0, max: 1, intraOpNumThreads: 7 });
    assert.deepEqual(sessionThreadSizing({ min: 1, max: 2 }, 8), { min: 1, max: 2, intraOpNumThreads: 3 });
    assert.deepEqual(sessionThreadSizing({ min: 0, max: 0 }, 1), { min: 0, max: 1, intraOpNumThreads: 1 });
  });
});
