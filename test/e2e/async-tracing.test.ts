import assert from "node:assert/strict";
import pino from "pino";
import { LocalTarget } from "../../cli/local-target";
import { parseSettings } from "../../gateway/config";
import app from "../fixtures/async-app/app";
import { KEY_A } from "../support/gateway-app";
import { finalInvocation, submit } from "../support/invocations";
import { idOf, memoryTracing, only, requestSpans, type MemoryTracing } from "../support/tracing";
import { until } from "../support/until";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

describe("asynchronous invocations continue the trace of the request that queued them (local target, in-memory spans)", function () {
  this.timeout(60_000);
  let target: LocalTarget;
  let base: string;
  let tracing: MemoryTracing;

  before(async () => {
    tracing = memoryTracing();
    target = new LocalTarget({
      spec: app.toSpec(),
      root: app.root,
      settings: parseSettings({ apiKeys: [KEY_A] }),
      logger: pino({ level: "silent" }),
      tracer: tracing.tracer,
    });
    base = `http://127.0.0.1:${(await target.listen(0)).port}`;
  });
  after(() => target.close());
  beforeEach(() => tracing.reset());

  for (const { path, span, body } of [
    { path: "/models/intent", span: "runtime.model", body: { inputs: { features: new Array(512).fill(0.01) } } },
    { path: "/work", span: "runtime.function", body: { value: "traced" } },
  ]) {
    it(`runs a job queued on ${path} in a ${span} span under the submitting request's span, in the client's trace`, async () => {
      const { response, id } = await submit(base, path, body, KEY_A, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` });
      assert.equal(response.status, 202);
      const done = await finalInvocation(base, id!, KEY_A);
      assert.equal(done.state, "succeeded");
      await until(() => tracing.spans().some((s) => s.name === span));
      const spans = tracing.spans();
      const request = only(requestSpans(spans), `POST ${path}`);
      const job = only(spans, span);
      assert.equal(request.spanContext().traceId, TRACE_ID, "the request joined the client's trace");
      assert.equal(job.spanContext().traceId, TRACE_ID, "and so did the job's run");
      assert.equal(job.parentSpanContext?.spanId, idOf(request), "its parent is the request that queued it");
    });
  }
});
