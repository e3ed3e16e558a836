import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { ServingError } from "../../../runtime/contract";
import { RuntimeTracing } from "../../../runtime/tracing";
import { memoryTracing } from "../../support/tracing";

describe("runtime spans", () => {
  it("reads a call's traceparent only when it is well formed and of a sane length", () => {
    const spans = new RuntimeTracing(memoryTracing().tracer);
    const good = spans.parentOf({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
    assert.equal(trace.getSpanContext(good)?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    for (const traceparent of ["nonsense", `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-${"x".repeat(300)}`, undefined])
      assert.equal(spans.parentOf({ traceparent }), ROOT_CONTEXT);
  });

  it("ends a sample's queue wait when the queue refuses it, with the refusal's code", async () => {
    const recorded = memoryTracing();
    const model = new RuntimeTracing(recorded.tracer).forModel("m@1", "central");
    const sample = {};
    const full = new ServingError("QUEUE_FULL", "the model queue is full");
    await assert.rejects(
      model.queued(sample, ROOT_CONTEXT, () => Promise.reject(full)),
      full,
    );
    const [wait] = recorded.spans();
    assert.deepEqual(
      [wait.name, wait.attributes["error.type"], wait.attributes["cloudloom.model"]],
      ["model.queue_wait", "QUEUE_FULL", "m@1"],
    );
    assert.equal(await model.run([sample], async () => "ran"), "ran", "a batch of untraced samples runs with no span");
    assert.equal(recorded.spans().length, 1);
  });

  it("records a failed batch run as an error on the run span, and still ends every wait", async () => {
    const recorded = memoryTracing();
    const model = new RuntimeTracing(recorded.tracer).forModel("m@1", "central");
    const samples = [{}, {}];
    await Promise.all(samples.map((sample) => model.queued(sample, ROOT_CONTEXT, async () => "queued")));
    await assert.rejects(
      model.run(samples, () => Promise.reject(new Error("bad shape"))),
      /bad shape/,
    );
    const runSpan = recorded.spans().find((span) => span.name === "model.run")!;
    assert.equal(runSpan.status.code, 2);
    assert.equal(runSpan.attributes["cloudloom.batch.size"], 2);
    assert.equal(recorded.spans().filter((span) => span.name === "model.queue_wait").length, 2);
  });
});
