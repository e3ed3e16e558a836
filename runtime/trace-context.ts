/**
 * What the runtime needs of tracing whether or not it traces: the span a
 * handler gets when it does not, and passing the active trace on to a call
 * that leaves the process. It imports only the OpenTelemetry API, so a
 * serverless function that does not trace loads nothing more; the spans
 * themselves are in tracing.ts, which sets up what these read.
 */
import { context, INVALID_SPAN_CONTEXT, propagation, trace, type Span } from "@opentelemetry/api";

/** The span a handler's `ctx.span` is when tracing is off: it records nothing. */
export const UNTRACED_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Adds the active span's `traceparent` to `headers`, through the propagator
 * a traced runtime registers (W3C Trace Context); untraced, nothing.
 */
export function injectActiveTrace(headers: Record<string, string>): void {
  propagation.inject(context.active(), headers);
}
