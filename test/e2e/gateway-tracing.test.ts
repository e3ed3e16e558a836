import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import { parseSettings } from "../../gateway/config";
import { App, type SpecV1 } from "../../sdk";
import type { EndpointsMap } from "../../sdk/spec";
import { endpointsFor, gatewaySpec, KEY_A, post } from "../support/gateway-app";
import { childrenOf, idOf, memoryTracing, only, requestSpans, shape, type MemoryTracing } from "../support/tracing";
import { freePort } from "../support/redis";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";
import { METRICS_TOKEN, scrape } from "../support/metrics-token";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const DE = { "x-cloudloom-locality": "de" };

/** The traceparent an upstream received: version, trace id, parent span id, flags. */
function received(upstream: StubUpstream, index = upstream.received.length - 1): { traceId: string; spanId: string; flags: string } {
  const header = upstream.received[index].headers.traceparent;
  assert.equal(typeof header, "string", "the upstream received a traceparent");
  const [version, traceId, spanId, flags] = String(header).split("-");
  assert.equal(version, "00");
  return { traceId, spanId, flags };
}

describe("gateway tracing over remote upstreams (real sockets, in-memory exporter)", () => {
  let central: StubUpstream;
  let edge: StubUpstream;
  let gateway: Gateway;
  let base: string;
  let close: () => Promise<void>;
  let tracing: MemoryTracing;

  /** Starts the gateway, tracing into `tracing` unless `traced` is false, over the stubs (or `endpoints`). */
  async function start(
    traced = true,
    spec: SpecV1 = gatewaySpec(),
    endpoints: EndpointsMap = endpointsFor(spec, central, edge),
  ): Promise<void> {
    const tracer = traced ? tracing.tracer : undefined;
    ({ gateway, close } = composeGateway({
      spec,
      settings: parseSettings({ apiKeys: [KEY_A], health: { probeIntervalMs: 60_000 }, metricsToken: METRICS_TOKEN }),
      source: { kind: "remote", endpoints },
      logger: pino({ level: "silent" }),
      tracer,
    }));
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
  }

  /** Waits until the request spans of `count` requests have ended, and returns them in start order. */
  async function requests(count: number): Promise<ReadableSpan[]> {
    await until(() => requestSpans(tracing.spans()).length >= count);
    return requestSpans(tracing.spans()).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  }

  beforeEach(async () => {
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
    tracing = memoryTracing();
  });
  afterEach(async () => {
    await close();
    await central.kill();
    await edge.kill();
  });

  it("traces a cache miss through auth, cache, the backend call and its one attempt, and sends the attempt's context upstream", async () => {
    await start();
    assert.equal((await post(base, "/echo", { n: 1 }, KEY_A)).status, 200);
    const [root] = await requests(1);
    const spans = tracing.spans();
    assert.deepEqual(shape(spans, root), {
      "POST /echo": ["gateway.auth", { "gateway.cache": [{ "gateway.backend": ["gateway.backend.attempt"] }] }],
    });
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(root.parentSpanContext, undefined, "no traceparent from the client: a new trace");
    assert.deepEqual(
      {
        method: root.attributes["http.request.method"],
        route: root.attributes["http.route"],
        path: root.attributes["url.path"],
        status: root.attributes["http.response.status_code"],
        region: root.attributes["cloudloom.region"],
      },
      { method: "POST", route: "/echo", path: "/echo", status: 200, region: "central" },
    );
    assert.equal(only(spans, "gateway.cache").attributes["cloudloom.cache.outcome"], "MISS");
    const attempt = only(spans, "gateway.backend.attempt");
    assert.equal(attempt.kind, SpanKind.CLIENT);
    assert.deepEqual(
      [attempt.attributes["cloudloom.region"], attempt.attributes["cloudloom.attempt"], attempt.attributes["http.response.status_code"]],
      ["central", 1, 200],
    );
    assert.deepEqual(
      [only(spans, "gateway.backend").attributes["cloudloom.target.entry"], only(spans, "gateway.backend").attributes["cloudloom.region"]],
      ["echo", "central"],
    );
    assert.deepEqual(received(central), { traceId: root.spanContext().traceId, spanId: idOf(attempt), flags: "01" });
  });

  it("traces a cache hit as auth and cache only: no backend call", async () => {
    await start();
    await post(base, "/echo", { n: 2 }, KEY_A);
    const hit = await post(base, "/echo", { n: 2 }, KEY_A);
    assert.equal(hit.headers.get("x-cache"), "HIT");
    const [, root] = await requests(2);
    const spans = tracing.spans();
    assert.deepEqual(shape(spans, root), { "POST /echo": ["gateway.auth", "gateway.cache"] });
    assert.equal(childrenOf(spans, root)[1].attributes["cloudloom.cache.outcome"], "HIT");
    assert.equal(central.received.length, 1, "the hit sent nothing upstream");
  });

  it("traces a failover as two attempts under one backend call: the dead edge's, then central's", async () => {
    await start();
    await edge.kill();
    const res = await post(base, "/open", {}, undefined, DE);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-cloudloom-region"), "central");
    const [root] = await requests(1);
    const spans = tracing.spans();
    assert.deepEqual(shape(spans, root), { "POST /open": [{ "gateway.backend": ["gateway.backend.attempt", "gateway.backend.attempt"] }] });
    const [first, second] = childrenOf(spans, only(spans, "gateway.backend"));
    assert.deepEqual(
      [first.attributes["cloudloom.region"], first.attributes["cloudloom.attempt"], first.attributes["error.type"], first.status.code],
      ["edge", 1, "unreachable", SpanStatusCode.ERROR],
    );
    assert.deepEqual(
      [
        second.attributes["cloudloom.region"],
        second.attributes["cloudloom.attempt"],
        second.attributes["http.request.resend_count"],
        second.attributes["http.response.status_code"],
      ],
      ["central", 2, 1, 200],
    );
    assert.equal(only(spans, "gateway.backend").attributes["cloudloom.attempts"], 2);
    assert.equal(received(central).spanId, idOf(second), "central received the second attempt's context");
  });

  it("traces requests held while their target starts: the refused attempt, the hold, and how long each waited", async () => {
    const app = new App("hold");
    const region = app.region("central", { kind: "central", placement: {} });
    const policy = app.scalingPolicy("zero", {
      maxInstances: 1,
      targetConcurrency: 1,
      scaleToZero: { idleWindow: "5 minutes" },
      hold: { maxPending: 10, maxWait: "60 seconds" },
    });
    app.route("POST /cold", { target: app.function("cold", { handler: "cold.ts", regions: [region], scaling: policy }), auth: "none" });
    const port = await freePort();
    await start(true, app.toSpec({ root: undefined }), { functions: { cold: { central: `http://127.0.0.1:${port}` } }, models: {} });
    const pending = async () =>
      ((await (await scrape(`${base}/metrics/demand?kind=function&entry=cold&region=central`)).json()) as { pending: number }).pending;
    const held = async (n: number) => {
      while ((await pending()) !== n) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const first = post(base, "/cold");
    // The first request's refused attempt ejected the backend, and it waits; the second waits in the hold stage.
    await held(1);
    const second = post(base, "/cold");
    await held(2);
    const cold = await new StubUpstream("cold").start(port);
    try {
      assert.deepEqual([(await first).status, (await second).status], [200, 200]);
      const [refused, waited] = await requests(2);
      const spans = tracing.spans();
      assert.deepEqual(shape(spans, refused), {
        "POST /cold": [{ "gateway.backend": ["gateway.backend.attempt", "gateway.backend.attempt"] }],
      });
      assert.deepEqual(shape(spans, waited), { "POST /cold": ["gateway.hold", { "gateway.backend": ["gateway.backend.attempt"] }] });
      assert.equal(childrenOf(spans, waited)[0].attributes["cloudloom.held_ms"], waited.attributes["cloudloom.held_ms"]);
      assert.equal(typeof refused.attributes["cloudloom.held_ms"], "number");
    } finally {
      await cold.kill();
    }
  });

  it("traces a cached route at zero: a hit is the cache span alone, a held miss's hold sits under the cache span", async () => {
    const app = new App("hold-cache");
    const region = app.region("central", { kind: "central", placement: {} });
    const policy = app.scalingPolicy("zero", {
      maxInstances: 1,
      targetConcurrency: 1,
      scaleToZero: { idleWindow: "5 minutes" },
      hold: { maxPending: 10, maxWait: "60 seconds" },
    });
    const fn = app.function("cold", { handler: "cold.ts", regions: [region], scaling: policy });
    app.route("GET /cold", { target: fn, auth: "none", cache: { ttl: "1 minute" } });
    const port = await freePort();
    await start(true, app.toSpec({ root: undefined }), { functions: { cold: { central: `http://127.0.0.1:${port}` } }, models: {} });
    const pending = async () =>
      ((await (await scrape(`${base}/metrics/demand?kind=function&entry=cold&region=central`)).json()) as { pending: number }).pending;
    const held = async (n: number) => {
      while ((await pending()) !== n) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    let cold = await new StubUpstream("cold").start(port);
    assert.equal((await fetch(`${base}/cold?q=a`)).status, 200);
    await cold.kill();
    const refused = fetch(`${base}/cold?q=b`);
    await held(1);
    const waited = fetch(`${base}/cold?q=c`);
    await held(2);
    const hit = await fetch(`${base}/cold?q=a`);
    assert.equal(hit.headers.get("x-cache"), "HIT");
    cold = await new StubUpstream("cold").start(port);
    try {
      assert.deepEqual([(await refused).status, (await waited).status], [200, 200]);
      const [, refusedSpan, waitedSpan, hitSpan] = await requests(4);
      const spans = tracing.spans();
      assert.deepEqual(shape(spans, hitSpan), { "GET /cold": ["gateway.cache"] });
      assert.deepEqual(shape(spans, refusedSpan), {
        "GET /cold": [{ "gateway.cache": [{ "gateway.backend": ["gateway.backend.attempt", "gateway.backend.attempt"] }] }],
      });
      assert.deepEqual(shape(spans, waitedSpan), {
        "GET /cold": [{ "gateway.cache": ["gateway.hold", { "gateway.backend": ["gateway.backend.attempt"] }] }],
      });
      const [holdSpan] = childrenOf(spans, childrenOf(spans, waitedSpan)[0]);
      assert.equal(holdSpan.attributes["cloudloom.held_ms"], waitedSpan.attributes["cloudloom.held_ms"]);
    } finally {
      await cold.kill();
    }
  });

  it("continues the client's trace: the request span's parent is the client's span, and the upstream sees the client's trace id", async () => {
    await start();
    const res = await post(base, "/open", {}, undefined, {
      traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`,
      tracestate: "vendor=secret-from-client",
    });
    assert.equal(res.status, 200);
    const [root] = await requests(1);
    assert.equal(root.spanContext().traceId, TRACE_ID);
    assert.equal(root.parentSpanContext?.spanId, CLIENT_SPAN);
    const upstream = received(central);
    assert.equal(upstream.traceId, TRACE_ID);
    assert.notEqual(upstream.spanId, CLIENT_SPAN, "the upstream's parent is the gateway's attempt, not the client's span");
    assert.equal(central.received[0].headers.tracestate, undefined, "a client's tracestate is never passed on");
  });

  it("ignores a malformed or oversized traceparent: a new trace, never an error", async () => {
    await start();
    const bad = [
      "garbage",
      `00-${TRACE_ID}-${CLIENT_SPAN}`,
      `00-${TRACE_ID.toUpperCase()}-${CLIENT_SPAN}-01`,
      `00-${"0".repeat(32)}-${CLIENT_SPAN}-01`,
      `00-${TRACE_ID}-${"0".repeat(16)}-01`,
      `ff-${TRACE_ID}-${CLIENT_SPAN}-01`,
      `00-${TRACE_ID}-${CLIENT_SPAN}-01-extra`,
      // A future version may carry more fields, but not kilobytes of them.
      `01-${TRACE_ID}-${CLIENT_SPAN}-01-${"a".repeat(4_000)}`,
      `00-${TRACE_ID}-${CLIENT_SPAN}-01, 00-${TRACE_ID}-${CLIENT_SPAN}-01`,
    ];
    for (const traceparent of bad) {
      const res = await post(base, "/open", {}, undefined, { traceparent });
      assert.equal(res.status, 200, traceparent.slice(0, 80));
    }
    const roots = await requests(bad.length);
    for (const root of roots) {
      assert.equal(root.parentSpanContext, undefined, "a new root");
      assert.notEqual(root.spanContext().traceId, TRACE_ID);
    }
    central.received.forEach((_, i) => assert.equal(received(central, i).traceId, roots[i].spanContext().traceId));
  });

  it("samples by its own ratio: a client's sampled flag neither forces a trace nor hides one", async () => {
    tracing = memoryTracing(0);
    await start();
    await post(base, "/open", {}, undefined, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` });
    assert.deepEqual(tracing.spans(), [], "ratio 0 records nothing, whatever the client asks");
    assert.equal(received(central).flags, "00", "and tells the backend the trace is not sampled");
    assert.equal(received(central).traceId, TRACE_ID);
    await close();
    tracing = memoryTracing(1);
    await start();
    await post(base, "/open", {}, undefined, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-00` });
    const [root] = await requests(1);
    assert.equal(root.spanContext().traceId, TRACE_ID, "ratio 1 records a trace the client marked unsampled");
  });

  it("records a refused request: a wrong key's auth span and the request's status", async () => {
    await start();
    assert.equal((await post(base, "/echo", {}, "wrong-key-0123456789")).status, 401);
    const [root] = await requests(1);
    const auth = only(tracing.spans(), "gateway.auth");
    assert.equal(auth.attributes["error.type"], "UNAUTHORIZED");
    assert.equal(auth.status.code, SpanStatusCode.UNSET, "a client's 4xx is not the gateway's error");
    assert.equal(root.attributes["http.response.status_code"], 401);
    assert.equal(central.received.length, 0);
  });

  it("with tracing off, records nothing and sends no traceparent, not even the client's", async () => {
    await start(false);
    const res = await post(base, "/open", {}, undefined, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`, tracestate: "a=b" });
    assert.equal(res.status, 200);
    assert.equal(central.received[0].headers.traceparent, undefined);
    assert.equal(central.received[0].headers.tracestate, undefined);
    assert.deepEqual(tracing.spans(), []);
  });
});
