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

  it("traces a batched inference: each request's wait in the queue, and one run of the whole batch linked to every wait", async () => {
    const messages = ["refund my double charge", "the app crashes on start", "price for 50 seats", "cannot log in"];
    // The model runs only once four samples wait: one batch of four, however slowly the requests arrive.
    const responses = await Promise.all(
      messages.map((m) => post(base, "/models/fours", { inputs: { features: Array.from(featurize(m)) } })),
    );
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 200, 200, 200],
    );
    await until(() => requestSpans(tracing.spans()).length === 4);
    const spans = tracing.spans();
    const run = only(spans, "model.run");
    assert.equal(run.attributes["cloudloom.batch.size"], 4);
    assert.equal(run.attributes["cloudloom.model"], "fours@1");
    const waits = spans.filter((span) => span.name === "model.queue_wait");
    assert.equal(waits.length, 4);
    assert.deepEqual(
      waits.map((wait) => wait.attributes["cloudloom.batch.size"]),
      [4, 4, 4, 4],
    );
    assert.deepEqual(new Set(run.links.map((link) => link.context.spanId)), new Set(waits.map(idOf)), "the run links to every wait");
    for (const root of requestSpans(spans)) {
      const attempt = only(childrenOf(spans, only(childrenOf(spans, root), "gateway.backend")), "gateway.backend.attempt");
      const [model] = childrenOf(spans, attempt);
      assert.equal(model.name, "runtime.model", "the in-process call continues the attempt's context");
      assert.equal(model.kind, SpanKind.SERVER);
      assert.ok(childrenOf(spans, model).some((span) => span.name === "model.queue_wait"));
    }
    const parent = spans.find((span) => idOf(span) === run.parentSpanContext?.spanId);
    assert.equal(parent?.name, "runtime.model", "the run sits in the first sample's trace, and is linked from the others");
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
