/**
 * The gateway's spans (docs/tracing.md). Each request gets a SERVER span,
 * named `<METHOD> <route>`, whose parent is the client's W3C `traceparent`
 * when it sends a well-formed one: the client's trace and span ids are taken
 * as the parent and nothing else (its sampled flag and `tracestate` are not
 * read; the gateway's own sampler decides). Under it: a span for each stage
 * that acts on the request (auth, rate limit, a hold while the target starts,
 * cache), one for the backend call, and under that one CLIENT span per
 * attempt (its region and number), whose context is what the backend
 * receives as `traceparent`. A request queued for an asynchronous route
 * carries the request's context in its job, which the worker continues.
 *
 * With tracing off none of this is in the request path: the pipeline holds
 * no request-span stage and no stage wrapper (`spanned` hands the stage back
 * as it is), `Exchange.trace` stays undefined, and a backend call checks
 * that once.
 */
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import { BrokenCircuitError } from "cockatiel";
import { MAX_TRACEPARENT_LENGTH, ServingError } from "../runtime/contract";
import { FastFailure, type BackendRequest } from "./backends/backend";
import type { Exchange, Stage } from "./exchange";
import type { CompiledTarget } from "./route-table";

/** Span and attribute names of the gateway's spans. */
export const GATEWAY_SPANS = {
  auth: "gateway.auth",
  rateLimit: "gateway.rate_limit",
  hold: "gateway.hold",
  cache: "gateway.cache",
  backend: "gateway.backend",
  attempt: "gateway.backend.attempt",
} as const;

const propagator = new W3CTraceContextPropagator();

/**
 * The parent a client's `traceparent` names (its trace and span ids, as a
 * remote parent; its `tracestate` is not read). A repeated, an oversized or
 * a malformed one names none, nor does one of all-zero ids (the tracer
 * starts a new trace under an invalid parent).
 */
export function clientParent(traceparent: string | string[] | undefined): Context {
  if (typeof traceparent !== "string" || traceparent.length > MAX_TRACEPARENT_LENGTH) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/** What a failed attempt or call is recorded as (`error.type`): the gateway's error code, or the kind of upstream failure. */
function errorType(error: unknown): string {
  if (error instanceof ServingError) return error.code;
  if (error instanceof FastFailure) return "unreachable";
  if (error instanceof BrokenCircuitError) return "circuit_open";
  return (error as Error)?.name || "_OTHER";
}

/** Ends `span` as failed by `error`: ERROR status for a failure of the gateway or upstream (not a client's 4xx). */
function endFailed(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  if (!(error instanceof ServingError) || error.status >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    if (!(error instanceof ServingError)) span.recordException(error as Error);
  }
  span.end();
}

/**
 * One request's spans: the request's own, and the context new spans start
 * under. A request the sampler did not pick has no other span: its stages
 * and backend calls only pass on its (unsampled) context.
 */
export class RequestTrace {
  /** The context spans start under now: the request's, or that of the stage running. */
  current: Context;
  /** Whether the request's trace is recorded (sampled). */
  readonly recording: boolean;

  constructor(
    readonly tracer: Tracer,
    readonly span: Span,
    context: Context,
  ) {
    this.current = context;
    this.recording = span.isRecording();
  }

  /**
   * Adds the current context to `headers` as `traceparent`: a queued job
   * carries it, so the worker that runs the job continues this trace.
   */
  propagate(headers: Record<string, unknown>): void {
    propagator.inject(this.current, headers, defaultTextMapSetter);
  }

  /** Starts the span of a call to `target`'s backend, under the current context. */
  backendCall(target: CompiledTarget): BackendCallTrace {
    // Unrecorded, the request's own span (which records nothing) stands in for the call's and its attempts'.
    if (!this.recording) return new BackendCallTrace(this.tracer, this.span, this.current, false);
    const span = this.tracer.startSpan(
      GATEWAY_SPANS.backend,
      { attributes: { "cloudloom.target.kind": target.kind, "cloudloom.target.entry": target.entry } },
      this.current,
    );
    return new BackendCallTrace(this.tracer, span, trace.setSpan(this.current, span), true);
  }
}

/** The span of one backend call (every attempt and failover of it). */
export class BackendCallTrace {
  private attempts = 0;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly context: Context,
    private readonly recording: boolean,
  ) {}

  /** Starts an attempt in `region`; the request it returns carries the attempt's `traceparent`. */
  attempt(region: string, request: BackendRequest): AttemptTrace {
    const number = ++this.attempts;
    const span = this.recording
      ? this.tracer.startSpan(
          GATEWAY_SPANS.attempt,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              "cloudloom.region": region,
              "cloudloom.attempt": number,
              ...(number > 1 ? { [ATTR_HTTP_REQUEST_RESEND_COUNT]: number - 1 } : {}),
            },
          },
          this.context,
        )
      : this.span;
    const headers = { ...request.headers };
    propagator.inject(trace.setSpan(this.context, span), headers, defaultTextMapSetter);
    return new AttemptTrace(span, { ...request, headers });
  }

  /** Ends the span once `call` settles (with the region that answered), passing its outcome on. */
  async settle<T extends { region: string }>(call: Promise<T>): Promise<T> {
    try {
      const outcome = await call;
      this.span.setAttributes({ "cloudloom.region": outcome.region, "cloudloom.attempts": this.attempts });
      this.span.end();
      return outcome;
    } catch (error) {
      this.span.setAttribute("cloudloom.attempts", this.attempts);
      endFailed(this.span, error);
      throw error;
    }
  }
}

/** One attempt of a backend call, in one region. */
export class AttemptTrace {
  constructor(
    private readonly span: Span,
    /** The request to send, with this attempt's `traceparent`. */
    readonly request: BackendRequest,
  ) {}

  /** The backend answered `status` (the call may still go on to another region after a 5xx). */
  answered(status: number): void {
    this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) {
      this.span.setAttribute(ATTR_ERROR_TYPE, String(status));
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.span.end();
  }

  /** The attempt failed: `status` when the backend answered a 5xx counted as a failure, else the error. */
  failed(error: unknown, status?: number): void {
    if (status !== undefined) this.answered(status);
    else endFailed(this.span, error);
  }
}

/** The first stage of a traced pipeline: opens each request's span, and ends it once the response is out. */
export function requestSpan(tracer: Tracer): Stage {
  return {
    run(exchange) {
      const { req, record } = exchange;
      const span = tracer.startSpan(
        record.method,
        {
          kind: SpanKind.SERVER,
          startTime: performance.timeOrigin + exchange.started,
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: record.method,
            [ATTR_URL_PATH]: pathOf(req.url ?? "/"),
            "cloudloom.request.id": record.id,
          },
        },
        clientParent(req.headers.traceparent),
      );
      exchange.trace = new RequestTrace(tracer, span, trace.setSpan(ROOT_CONTEXT, span));
      // The access log names the trace its line belongs to, when the trace is recorded.
      if (span.isRecording()) record.trace = span.spanContext().traceId;
    },
    finish(exchange) {
      const span = exchange.trace?.span;
      if (!span) return;
      const { record } = exchange;
      const status = exchange.res.statusCode;
      if (record.route !== "unmatched") {
        span.updateName(record.route);
        span.setAttribute(ATTR_HTTP_ROUTE, record.route.slice(record.route.indexOf(" ") + 1));
      }
      span.setAttributes({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: status, "cloudloom.tenant": record.tenant });
      if (record.region) span.setAttribute("cloudloom.region", record.region);
      if (record.version) span.setAttribute("cloudloom.version", record.version);
      if (exchange.heldMs > 0) span.setAttribute("cloudloom.held_ms", Math.round(exchange.heldMs));
      if (status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, record.code ?? String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

const pathOf = (url: string) => {
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
};

/**
 * `stage`, run in a span named `name` under the request's whenever `acts`
 * says it acts on the exchange (`annotate` adds what it found out); with no
 * tracer, `stage` itself.
 */
export function spanned(
  tracer: Tracer | undefined,
  name: string,
  stage: Stage,
  acts: (exchange: Exchange) => boolean,
  annotate?: (span: Span, exchange: Exchange) => void,
): Stage {
  if (!tracer || !stage.run) return stage;
  const run = stage.run.bind(stage);
  const ended = (requestTrace: RequestTrace, outer: Context, span: Span, exchange: Exchange) => {
    requestTrace.current = outer;
    annotate?.(span, exchange);
    span.end();
  };
  const failed = (requestTrace: RequestTrace, outer: Context, span: Span, exchange: Exchange, error: unknown): never => {
    requestTrace.current = outer;
    annotate?.(span, exchange);
    endFailed(span, error);
    throw error;
  };
  return {
    ...stage,
    run(exchange) {
      const requestTrace = exchange.trace;
      if (!requestTrace?.recording || !acts(exchange)) return run(exchange);
      const outer = requestTrace.current;
      const span = tracer.startSpan(name, undefined, outer);
      requestTrace.current = trace.setSpan(outer, span);
      let pending: void | Promise<void>;
      try {
        pending = run(exchange);
      } catch (error) {
        return failed(requestTrace, outer, span, exchange, error);
      }
      if (!pending) return ended(requestTrace, outer, span, exchange);
      return pending.then(
        () => ended(requestTrace, outer, span, exchange),
        (error: unknown) => failed(requestTrace, outer, span, exchange, error),
      );
    },
  };
}
