/**
 * A serverless function's spans: one per invocation, under the `traceparent`
 * the gateway sent (the handler's `ctx.span`), exported before the invocation
 * returns, since the platform may freeze the instance right after; and a
 * model job worker's, one per job attempt, exported before its batch returns. lambda.ts
 * loads this module only when the OTEL_* variables name an endpoint, so a
 * function that does not trace never loads the OpenTelemetry SDK.
 */
import type { Span } from "@opentelemetry/api";
import type { AsyncJob, InvocationResult } from "../contract";
import { tracingFromEnv } from "../telemetry";
import { recordFailure, RuntimeTracing } from "../tracing";

/** The tracing of one function instance's invocations. */
export interface InvocationTracing {
  /** Runs `answer` in the invocation's span, under the traceparent of `headers`; resolves once the span is exported. */
  invoke<T>(
    region: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    answer: (span: Span) => Promise<T>,
  ): Promise<T>;
  /** Records on `span` that the handler failed with `error` (the invocation still answers, with 500). */
  failed(span: Span, error: unknown): void;
  /**
   * Runs `attempt` of queued job `job` in its span, under the traceparent the
   * job carries (RuntimeTracing.job); exported with the next `flush`.
   */
  job(job: AsyncJob, attempt: () => Promise<InvocationResult>): Promise<InvocationResult>;
  /** Exports every span ended so far: a worker awaits it before its batch returns, since the platform may freeze it then. */
  flush(): Promise<void>;
}

/** The tracing of function `name`'s invocations, as the OTEL_* variables of `env` say; undefined when they name no endpoint. */
export function invocationTracing(env: NodeJS.ProcessEnv, name: string): InvocationTracing | undefined {
  const tracing = tracingFromEnv(env, `cloudloom-${name}`, {
    warn: (message) => console.error(JSON.stringify({ level: "warn", message })),
    // Every invocation waits for its spans' export: a collector that is down costs it at most this long.
    exportTimeoutMs: 2_000,
  });
  if (!tracing) return undefined;
  const spans = new RuntimeTracing(tracing.tracer);
  let cold = true;
  return {
    async invoke(region, headers, answer) {
      const wasCold = cold;
      cold = false;
      try {
        return await spans.function(name, region, spans.parentOf(headers), answer, () => wasCold);
      } finally {
        await tracing.flush();
      }
    },
    failed: recordFailure,
    job: (job, attempt) => spans.job(job, attempt),
    flush: () => tracing.flush(),
  };
}
