/**
 * Tracers that record into memory (OpenTelemetry's InMemorySpanExporter behind
 * a SimpleSpanProcessor, so a span is readable as soon as it ends), sampled as
 * a gateway samples, and helpers to read the span tree they record; and the
 * spans a stub collector received over OTLP/HTTP.
 */
import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { samplerFor } from "../../runtime/telemetry";
import type { StubUpstream } from "./upstream";

/** A tracer recording into memory, and what it recorded. */
export interface MemoryTracing {
  tracer: ReturnType<BasicTracerProvider["getTracer"]>;
  /** Every span ended so far. */
  spans(): ReadableSpan[];
  /** Forgets what was recorded. */
  reset(): void;
}

/**
 * A tracer that records into memory, sampling `ratio` of traces as a process
 * does: a gateway (`trustRemoteParents` false) by trace id whatever a client's
 * flags say, a process behind it following its parent.
 */
export function memoryTracing(ratio = 1, trustRemoteParents = false): MemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: samplerFor({ ratio, parentBased: true }, trustRemoteParents),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer("test"), spans: () => exporter.getFinishedSpans(), reset: () => exporter.reset() };
}

/** The id of a span. */
export const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

/** The spans whose parent is `parent`, in start order. */
export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans
    .filter((span) => span.parentSpanContext?.spanId === idOf(parent) && span.spanContext().traceId === parent.spanContext().traceId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
}

/** The one span named `name` among `spans` (fails the test when there are none or several). */
export function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}: ${spans.map((s) => s.name).join(", ")}`);
  return found[0];
}

/** The gateway's request spans (SERVER spans without a recorded parent in the gateway), newest last. */
export function requestSpans(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return spans.filter((span) => span.kind === SpanKind.SERVER && span.name.includes(" "));
}

/** The tree under `root` as nested names, children in start order: a readable shape to compare. */
export function shape(spans: readonly ReadableSpan[], root: ReadableSpan): unknown {
  const children = childrenOf(spans, root);
  return children.length === 0 ? root.name : { [root.name]: children.map((child) => shape(spans, child)) };
}

/** One span as OTLP/HTTP JSON carries it, with its resource's attributes. */
export interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  status?: { code?: number };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

type KeyValues = Array<{ key: string; value: Record<string, unknown> }>;
const values = (list: KeyValues = []) => Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

/** Every span a stub collector received, decoded from the OTLP/HTTP JSON bodies. */
export function exported(collector: StubUpstream): ExportedSpan[] {
  return collector.received.flatMap(({ path, body }) => {
    assert.equal(path, "/v1/traces");
    const request = JSON.parse(body) as {
      resourceSpans: Array<{
        resource: { attributes: KeyValues };
        scopeSpans: Array<{ spans: Array<ExportedSpan & { attributes: KeyValues }> }>;
      }>;
    };
    return request.resourceSpans.flatMap(({ resource, scopeSpans }) =>
      scopeSpans.flatMap(({ spans }) =>
        spans.map((span) => ({ ...span, attributes: values(span.attributes), resource: values(resource.attributes) })),
      ),
    );
  });
}
