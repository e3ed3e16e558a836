import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import pino from "pino";
import { composeGateway } from "../../../cli/compose-gateway";
import { GatewayConfigError, parseSettings } from "../../../gateway/config";
import type { Stage } from "../../../gateway/exchange";
import { GatewayMetrics } from "../../../gateway/metrics";
import { requestPipeline } from "../../../gateway/pipeline";
import { clientParent, requestSpan, spanned } from "../../../gateway/tracing";
import { ServingError } from "../../../runtime/contract";
import { metricsRegistry } from "../../../runtime/metrics";
import { gatewaySpec } from "../../support/gateway-app";
import { memoryTracing, only } from "../../support/tracing";
import { exchange, request, route } from "./stages/exchange-fixture";

const parts = () => ({
  settings: parseSettings({}),
  apiKeys: [],
  metrics: new GatewayMetrics(metricsRegistry()),
  logger: pino({ level: "silent" }),
});

describe("gateway tracing", () => {
  it("with no tracer, leaves the pipeline as it is: no request-span stage, every stage itself", () => {
    const stage: Stage = { run: () => undefined };
    assert.equal(
      spanned(undefined, "gateway.auth", stage, () => true),
      stage,
    );
    const { tracer } = memoryTracing();
    assert.equal(requestPipeline({ ...parts(), tracer }).length, requestPipeline(parts()).length + 1);
  });

  it("runs a stage in a span only when it acts, and records a refusal (4xx) without marking the span an error", () => {
    const recorded = memoryTracing();
    let runs = 0;
    const refusing = spanned(
      recorded.tracer,
      "gateway.auth",
      {
        run: () => {
          runs++;
          throw new ServingError("UNAUTHORIZED", "no key");
        },
      },
      (x) => x.route.spec.auth === "api-key",
    );
    const keyed = exchange(request(), route("POST /x", { auth: "api-key" }));
    requestSpan(recorded.tracer).run!(keyed);
    const before = keyed.trace!.current;
    assert.throws(() => refusing.run!(keyed), /no key/);
    assert.equal(keyed.trace!.current, before, "the request's context is restored after the stage");
    const open = exchange(request(), route("POST /y"));
    requestSpan(recorded.tracer).run!(open);
    assert.throws(() => refusing.run!(open), /no key/);
    assert.equal(runs, 2, "the stage ran both times");
    const auth = only(recorded.spans(), "gateway.auth");
    assert.deepEqual([auth.attributes["error.type"], auth.status.code], ["UNAUTHORIZED", SpanStatusCode.UNSET]);
  });

  it("marks a stage that fails for the gateway's own reasons as an error, after it settles", async () => {
    const recorded = memoryTracing();
    const failing = spanned(recorded.tracer, "gateway.cache", { run: () => Promise.reject(new Error("store broke")) }, () => true);
    const x = exchange(request(), route("POST /x"));
    requestSpan(recorded.tracer).run!(x);
    const before = x.trace!.current;
    await assert.rejects(Promise.resolve(failing.run!(x)), /store broke/);
    assert.equal(x.trace!.current, before, "the request's context is restored after the stage");
    const cache = only(recorded.spans(), "gateway.cache");
    assert.equal(cache.status.code, SpanStatusCode.ERROR);
    assert.equal(cache.events[0]?.name, "exception");
  });

  it("takes a client's traceparent as a parent only when well formed and of a sane length", () => {
    const parent = trace.getSpanContext(clientParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert.deepEqual([parent?.traceId, parent?.spanId, parent?.isRemote], ["4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true]);
    for (const bad of [undefined, "x", ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], "0".repeat(300)])
      assert.equal(clientParent(bad), ROOT_CONTEXT);
  });
});

describe("gateway tracing settings", () => {
  it("refuses an endpoint that is not an http(s) URL", () => {
    assert.throws(
      () => parseSettings({ tracing: { endpoint: "grpc://collector:4317" } }),
      (error: unknown) => error instanceof GatewayConfigError && error.problems.some((p) => p.path === "tracing.endpoint"),
    );
    assert.throws(() => parseSettings({ tracing: { sampleRatio: 2 } }), GatewayConfigError);
    assert.throws(() => parseSettings({ tracing: { exporter: "zipkin" } }), GatewayConfigError);
  });

  it("refuses an OTEL_* variable it cannot use at startup, naming it as a configuration error", () => {
    const spec = gatewaySpec();
    assert.throws(
      () =>
        composeGateway({
          spec,
          settings: parseSettings({}),
          source: { kind: "remote", endpoints: { functions: {}, models: {} } },
          logger: pino({ level: "silent" }),
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_SAMPLER_ARG: "most" },
        }),
      (error: unknown) =>
        error instanceof GatewayConfigError &&
        error.source === "the environment" &&
        error.problems[0].path === "OTEL_TRACES_SAMPLER_ARG" &&
        /from 0 to 1/.test(error.problems[0].message),
    );
  });
});
