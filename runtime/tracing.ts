/**
 * The runtime's spans (docs/tracing.md): one per call of a function or a
 * model prediction, whose parent is the `traceparent` the call came with
 * (the gateway's attempt span, over HTTP or in-process) or, for a model a
 * function calls in-process, the function's span; and, for each prediction,
 * its wait in the model's queue and the batch's `session.run`.
 *
 * A function's span is active while its handler runs (the handler's
 * `ctx.span`, and what `trace.getActiveSpan()` returns there), so the model
 * calls it makes are its children, in-process or over HTTP (their requests
 * carry its `traceparent`).
 *
 * A serverless worker that runs a queued job by calling its entry's endpoint
 * (AWS's model job worker) runs each attempt in a span under the
 * `traceparent` the job carries (the request that queued it), and the call
 * carries that span's.
 *
 * The batcher is traced through two calls, `ModelTracing.queued` around a
 * submit and `ModelTracing.run` around a batch's run, keyed by the sample
 * object, so the batcher itself holds nothing of tracing. With tracing off,
 * the runtime has no RuntimeTracing and none of this runs (nor loads: what
 * an untraced runtime needs is in trace-context.ts).
 */
import type { IncomingHttpHeaders } from "node:http";
import {
  context,
  defaultTextMapGetter,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from "@opentelemetry/semantic-conventions";
import { MAX_TRACEPARENT_LENGTH, ServingError, type AsyncJob, type InvocationResult } from "./contract";

/** Span names of the runtime. */
const RUNTIME_SPANS = {
  job: "runtime.job",
  function: "runtime.function",
  model: "runtime.model",
  queueWait: "model.queue_wait",
  run: "model.run",
} as const;

const propagator = new W3CTraceContextPropagator();

let registered = false;

/**
 * Makes the active context follow async calls (AsyncLocalStorage) and calls
 * leaving the process carry it as W3C Trace Context (trace-context.ts), once
 * per process, unless something else (an OpenTelemetry setup of the app's
 * own) registered its own already.
 */
function trackActiveContext(): void {
  if (registered) return;
  registered = true;
  const manager = new AsyncLocalStorageContextManager();
  if (context.setGlobalContextManager(manager)) manager.enable();
  propagation.setGlobalPropagator(propagator);
}

/**
 * Records on `span` that its work failed with `error`: its `error.type`, and for
 * a failure of the server (not a client's 4xx) ERROR status and the exception
 * (a ServingError's cause, such as a handler's own exception).
 */
export function recordFailure(span: Span, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, error instanceof ServingError ? error.code : (error as Error)?.name || "_OTHER");
  if (error instanceof ServingError && error.status < 500) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  span.recordException((error as { cause?: Error }).cause ?? (error as Error));
}

/** Runs `work` and ends `span` once it settles, recording a failure; passes the outcome on. */
async function endWith<T>(span: Span, work: () => Promise<T>, annotate?: (result: T) => void): Promise<T> {
  try {
    const result = await work();
    annotate?.(result);
    return result;
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The spans of one runtime (a local target's, a pod's, a serverless function's). */
export class RuntimeTracing {
  constructor(readonly tracer: Tracer) {
    trackActiveContext();
  }

  /**
   * The parent a call's `traceparent` header names, as a remote parent; none,
   * a repeated, an oversized or a malformed one names none (a new trace).
   */
  parentOf(headers: IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>): Context {
    const traceparent = headers.traceparent;
    if (typeof traceparent !== "string" || traceparent.length > MAX_TRACEPARENT_LENGTH) return ROOT_CONTEXT;
    return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
  }

  /**
   * Runs `invoke` (a call of function `name` in `region`) in its span under
   * `parent`, the span active throughout (the handler's `ctx.span`); the
   * span says whether the call was a cold start (`coldOf` its outcome).
   */
  function<T>(
    name: string,
    region: string,
    parent: Context,
    invoke: (span: Span) => Promise<T>,
    coldOf: (result: T) => boolean,
  ): Promise<T> {
    const span = this.tracer.startSpan(
      RUNTIME_SPANS.function,
      { kind: SpanKind.SERVER, attributes: { "cloudloom.function": name, "cloudloom.region": region } },
      parent,
    );
    return context.with(trace.setSpan(parent, span), () =>
      endWith(
        span,
        () => invoke(span),
        (result) => span.setAttribute("cloudloom.cold", coldOf(result)),
      ),
    );
  }

  /**
   * Runs `attempt` (one attempt of asynchronous job `job` by a worker that
   * calls its entry's endpoint) in a CONSUMER span under the `traceparent`
   * the job carries: the request that queued it. The span is active
   * throughout, so the call the attempt makes carries it (trace-context.ts),
   * and it records the status the entry answered.
   */
  job(job: AsyncJob, attempt: () => Promise<InvocationResult>): Promise<InvocationResult> {
    const parent = this.parentOf(job.request.headers);
    const span = this.tracer.startSpan(
      RUNTIME_SPANS.job,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "cloudloom.invocation.id": job.id,
          "cloudloom.target.kind": job.kind,
          "cloudloom.target.entry": job.entry,
          "cloudloom.region": job.region,
        },
      },
      parent,
    );
    return context.with(trace.setSpan(parent, span), () =>
      endWith(span, attempt, (result) => span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status)),
    );
  }

  /** Runs `predict` (a prediction of model version `key` in `region`) in its span under `parent`; `predict` gets the span's context. */
  model<T extends { cold: boolean }>(key: string, region: string, parent: Context, predict: (within: Context) => Promise<T>): Promise<T> {
    const span = this.tracer.startSpan(
      RUNTIME_SPANS.model,
      { kind: SpanKind.SERVER, attributes: { "cloudloom.model": key, "cloudloom.region": region } },
      parent,
    );
    return endWith(
      span,
      () => predict(trace.setSpan(parent, span)),
      (result) => span.setAttribute("cloudloom.cold", result.cold),
    );
  }

  /** The queue-wait and run spans of model version `key`'s batcher in `region`. */
  forModel(key: string, region: string): ModelTracing {
    return new ModelTracing(this.tracer, { "cloudloom.model": key, "cloudloom.region": region });
  }
}

/** A sample's wait in its model's queue: its span, and the context of the prediction it belongs to. */
interface QueueWait {
  span: Span;
  within: Context;
}

/**
 * The spans of one model version's batcher: each sample's wait from submit
 * until its batch runs, and each batch's run, with the batch size. A run
 * belongs to many traces: its parent is the first sample's prediction, and
 * it links to every sample's wait.
 */
export class ModelTracing {
  private readonly waits = new WeakMap<object, QueueWait>();

  constructor(
    private readonly tracer: Tracer,
    private readonly attributes: Attributes,
  ) {}

  /** Submits `sample` (`submit`), its wait in the queue in a span under `within` (the prediction's context). */
  queued<T>(sample: object, within: Context, submit: () => Promise<T>): Promise<T> {
    const span = this.tracer.startSpan(RUNTIME_SPANS.queueWait, { attributes: this.attributes }, within);
    this.waits.set(sample, { span, within });
    return submit().catch((error: unknown) => {
      // Refused before any batch took it (a full queue): the wait ends here.
      if (this.waits.delete(sample)) {
        span.setAttribute(ATTR_ERROR_TYPE, error instanceof ServingError ? error.code : "_OTHER");
        span.end();
      }
      throw error;
    });
  }

  /** Runs one batch of `samples` (`session.run`) in a span, ending each sample's wait as it starts. */
  run<T>(samples: readonly object[], run: () => Promise<T>): Promise<T> {
    const waits: QueueWait[] = [];
    for (const sample of samples) {
      const wait = this.waits.get(sample);
      if (!wait) continue;
      this.waits.delete(sample);
      wait.span.setAttribute("cloudloom.batch.size", samples.length);
      wait.span.end();
      waits.push(wait);
    }
    if (waits.length === 0) return run();
    const span = this.tracer.startSpan(
      RUNTIME_SPANS.run,
      {
        attributes: { ...this.attributes, "cloudloom.batch.size": samples.length },
        links: waits.map((wait) => ({ context: wait.span.spanContext() })),
      },
      waits[0].within,
    );
    return endWith(span, run);
  }
}
