import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { samplerFor, traceExportFrom, TracingConfigError } from "../../../runtime/telemetry";

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };

/** Asserts that `run` throws a TracingConfigError naming `variable`, with a message matching `message`. */
function refuses(run: () => unknown, variable: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TracingConfigError);
    assert.equal(error.code, "CL_TRACING_CONFIG");
    assert.equal(error.variable, variable);
    assert.match(error.message, message);
    return true;
  });
}

describe("trace export configuration (settings over OTEL_* variables)", () => {
  it("is off without an endpoint, and when OTEL_SDK_DISABLED is true", () => {
    assert.equal(traceExportFrom({}, "svc"), undefined);
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_SDK_DISABLED: "TRUE" }, "svc"), undefined);
  });

  it("posts to <endpoint>/v1/traces, or to the traces endpoint itself, or to the settings' endpoint over both", () => {
    assert.equal(traceExportFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, "svc")?.url, "http://collector:4318/v1/traces");
    const env = { ...ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/otlp" };
    assert.equal(traceExportFrom(env, "svc")?.url, "https://traces.example/otlp");
    assert.equal(traceExportFrom(env, "svc", { endpoint: "http://mine:4318/v1/traces" })?.url, "http://mine:4318/v1/traces");
    assert.equal(traceExportFrom({}, "svc", { endpoint: "http://mine:4318/v1/traces" })?.url, "http://mine:4318/v1/traces");
  });

  it("samples every trace, parent-based, unless told otherwise", () => {
    assert.deepEqual(traceExportFrom(ENDPOINT, "svc"), {
      url: "http://collector:4318/v1/traces",
      ratio: 1,
      parentBased: true,
      serviceName: "svc",
      timeoutMs: undefined,
      headers: undefined,
    });
    assert.deepEqual(traceExportFrom({ ...ENDPOINT, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" }, "svc"), {
      url: "http://collector:4318/v1/traces",
      ratio: 0.25,
      parentBased: false,
      serviceName: "svc",
      timeoutMs: undefined,
      headers: undefined,
    });
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_TRACES_SAMPLER: "parentbased_always_off" }, "svc")?.ratio, 0);
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_TRACES_SAMPLER_ARG: "0.5" }, "svc", { sampleRatio: 0.1 })?.ratio, 0.1);
  });

  it("names the service from the settings, else OTEL_SERVICE_NAME, else the default; and reads the export timeout", () => {
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_SERVICE_NAME: "env" }, "svc", { serviceName: "mine" })?.serviceName, "mine");
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_SERVICE_NAME: "env" }, "svc")?.serviceName, "env");
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT: "5000" }, "svc")?.timeoutMs, 5000);
    assert.equal(
      traceExportFrom({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT: "5000", OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "700" }, "svc")?.timeoutMs,
      700,
    );
  });

  it("reads the export headers from the environment given, percent-decoded, the traces-only ones over the general ones", () => {
    const env = {
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=general,x-team=search",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "api-key=s%3Dcr%2Cet%20key",
    };
    assert.deepEqual(traceExportFrom(env, "svc")?.headers, { "api-key": "s=cr,et key", "x-team": "search" });
    // A malformed pair is left out, as the OpenTelemetry SDK leaves it out.
    assert.deepEqual(traceExportFrom({ ...ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: "broken,ok=1,=x" }, "svc")?.headers, { ok: "1" });
    assert.equal(traceExportFrom({ ...ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: " " }, "svc")?.headers, undefined);
  });

  it("refuses values it cannot use, naming the variable and what it takes", () => {
    refuses(() => traceExportFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }, "svc"), "OTEL_EXPORTER_OTLP_ENDPOINT", /is not a URL/);
    refuses(
      () => traceExportFrom({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "grpc://collector:4317" }, "svc"),
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      /http:\/\/ or https:\/\//,
    );
    refuses(() => traceExportFrom({ ...ENDPOINT, OTEL_TRACES_SAMPLER: "jaeger_remote" }, "svc"), "OTEL_TRACES_SAMPLER", /not supported/);
    for (const arg of ["abc", "1.5", "-0.1", "Infinity"])
      refuses(
        () => traceExportFrom({ ...ENDPOINT, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: arg }, "svc"),
        "OTEL_TRACES_SAMPLER_ARG",
        /from 0 to 1/,
      );
    refuses(
      () => traceExportFrom({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT: "soon" }, "svc"),
      "OTEL_EXPORTER_OTLP_TIMEOUT",
      /milliseconds/,
    );
  });
});

describe("samplers", () => {
  const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  /** The decision for a span under a remote parent with `flags`. */
  const decide = (sampler: ReturnType<typeof samplerFor>, flags: TraceFlags) =>
    sampler.shouldSample(
      trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: "00f067aa0ba902b7", traceFlags: flags, isRemote: true }),
      TRACE,
      "span",
      SpanKind.SERVER,
      {},
      [],
    ).decision;

  it("at a gateway, decides by its own ratio whatever a remote parent's sampled flag says", () => {
    assert.equal(decide(samplerFor({ ratio: 0, parentBased: true }, false), TraceFlags.SAMPLED), SamplingDecision.NOT_RECORD);
    assert.equal(decide(samplerFor({ ratio: 1, parentBased: true }, false), TraceFlags.NONE), SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("behind a gateway, follows the remote parent when parent-based, else the ratio", () => {
    assert.equal(decide(samplerFor({ ratio: 0, parentBased: true }, true), TraceFlags.SAMPLED), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(samplerFor({ ratio: 1, parentBased: true }, true), TraceFlags.NONE), SamplingDecision.NOT_RECORD);
    assert.equal(decide(samplerFor({ ratio: 1, parentBased: false }, true), TraceFlags.NONE), SamplingDecision.RECORD_AND_SAMPLED);
  });
});
