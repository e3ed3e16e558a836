import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { featurize } from "../../examples/support-desk/model/featurize";
import { parseSettings } from "../../gateway/config";
import app from "../fixtures/tracing/app";
import { childrenOf, idOf, memoryTracing, only, requestSpans, shape, type MemoryTracing } from "../support/tracing";
import { until } from "../support/until";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN = "b7ad6b7169203331";

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

describe("local target tracing: the gateway, the handler and the model's batcher in one trace (real onnxruntime)", () => {
  let target: LocalTarget;
  let base: string;
  let tracing: MemoryTracing;

  before(async () => {
    tracing = memoryTracing();
    target = new LocalTarget({
      spec: app.toDraft(),
      root: app.root,
      settings: parseSettings({}),
      logger: pino({ level: "silent" }),
      tracer: tracing.tracer,
    });
    base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  });
  after(() => target.close());
  beforeEach(() => tracing.reset());

  it("traces a batched inference: each request's wait in the queue, and each run linked to the waits of its batch", async () => {
    const messages = ["refund my double charge", "the app crashes on start", "price for 50 seats", "cannot log in"];
    // The batcher runs at once when the model is idle and batches what arrives meanwhile: how the four requests
    // split into runs depends on when they arrive, so the test checks the links, not a split.
    const responses = await Promise.all(
      messages.map((m) => post(base, "/models/fours", { inputs: { features: Array.from(featurize(m)) } })),
    );
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 200, 200, 200],
    );
    await until(() => requestSpans(tracing.spans()).length === 4);
    const spans = tracing.spans();
    const runs = spans.filter((span) => span.name === "model.run");
    const waits = spans.filter((span) => span.name === "model.queue_wait");
    assert.equal(waits.length, 4);
    assert.ok(runs.length >= 1 && runs.length <= 4, `${runs.length} runs`);
    const linked = runs.flatMap((run) => run.links.map((link) => link.context.spanId));
    assert.deepEqual(new Set(linked), new Set(waits.map(idOf)), "every wait is linked from a run");
    assert.equal(linked.length, 4, "and from exactly one");
    for (const run of runs) {
      assert.equal(run.attributes["cloudloom.model"], "fours@1");
      assert.equal(run.attributes["cloudloom.batch.size"], run.links.length, "a run's batch size is the waits it links");
      const parent = spans.find((span) => idOf(span) === run.parentSpanContext?.spanId);
      assert.equal(parent?.name, "runtime.model", "a run sits in its first sample's trace, and is linked from the others");
    }
    for (const wait of waits) {
      const run = runs.find((r) => r.links.some((link) => link.context.spanId === idOf(wait)))!;
      assert.equal(wait.attributes["cloudloom.batch.size"], run.attributes["cloudloom.batch.size"], "a wait knows the size of its batch");
    }
    for (const root of requestSpans(spans)) {
      const attempt = only(childrenOf(spans, only(childrenOf(spans, root), "gateway.backend")), "gateway.backend.attempt");
      const [model] = childrenOf(spans, attempt);
      assert.equal(model.name, "runtime.model", "the in-process call continues the attempt's context");
      assert.equal(model.kind, SpanKind.SERVER);
      assert.ok(childrenOf(spans, model).some((span) => span.name === "model.queue_wait"));
    }
  });

  it("traces a function call into its handler and the model it calls in-process, under the client's trace", async () => {
    const res = await post(
      base,
      "/classify",
      { message: "I was charged twice for my pro plan" },
      { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
    );
    assert.equal(res.status, 200);
    await until(() => requestSpans(tracing.spans()).length === 1);
    const spans = tracing.spans();
    const [root] = requestSpans(spans);
    assert.equal(root.spanContext().traceId, TRACE_ID);
    assert.deepEqual(shape(spans, root), {
      "POST /classify": [
        {
          "gateway.backend": [
            { "gateway.backend.attempt": [{ "runtime.function": [{ "runtime.model": ["model.queue_wait", "model.run"] }] }] },
          ],
        },
      ],
    });
    const fn = only(spans, "runtime.function");
    assert.equal(fn.attributes["cloudloom.function"], "classify");
    assert.equal(typeof fn.attributes["cloudloom.cold"], "boolean");
    assert.deepEqual(
      [fn.attributes["support.intent"], fn.attributes["support.queue"]],
      ["billing", "finance"],
      "the handler's own attributes, set on ctx.span",
    );
    assert.equal(only(spans, "model.run").attributes["cloudloom.batch.size"], 1);
  });

  it("gives the handler its span as ctx.span, active while it runs", async () => {
    const res = await post(base, "/active-span", {});
    const seen = await res.json();
    await until(() => requestSpans(tracing.spans()).length === 1);
    const fn = only(tracing.spans(), "runtime.function");
    assert.deepEqual(seen, { traceId: fn.spanContext().traceId, spanId: idOf(fn), recording: true, active: true });
    assert.equal(fn.attributes["fixture.handled"], true);
  });
});

describe("local target with tracing off", () => {
  it("hands the handler a span that records nothing, even under a client's traceparent", async () => {
    const target = new LocalTarget({ spec: app.toDraft(), root: app.root, settings: parseSettings({}), logger: pino({ level: "silent" }) });
    try {
      const base = `http://127.0.0.1:${(await target.listen(0)).port}`;
      const seen = await (await post(base, "/active-span", {}, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` })).json();
      assert.deepEqual(seen, { traceId: "0".repeat(32), spanId: "0".repeat(16), recording: false, active: false });
    } finally {
      await target.close();
    }
  });
});
