/**
 * Where a process's spans go: an OpenTelemetry tracer provider that exports
 * over OTLP/HTTP in batches, sampled by trace id, set up from the standard
 * OTEL_* variables (TRACING_ENV) and, for a gateway, its settings over them.
 * With no endpoint, tracing is off: there is no provider, and the request
 * path holds no tracing at all.
 *
 * The export headers (OTEL_EXPORTER_OTLP_HEADERS) are read from the
 * environment given, which on a serverless function includes its secrets.
 * The variables the batch processor reads itself from the process's
 * environment (OTEL_BSP_*) and OTEL_RESOURCE_ATTRIBUTES apply as the
 * OpenTelemetry SDK documents them.
 */
import type { Tracer } from "@opentelemetry/api";
import { parseKeyPairsIntoRecord, setGlobalErrorHandler } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { TRACING_ENV } from "./contract";

/** How a process exports its spans. */
export interface TraceExport {
  /** The URL spans are posted to (OTLP/HTTP). */
  url: string;
  /** The share of traces recorded, chosen by trace id. */
  ratio: number;
  /** Whether a span with a parent follows its parent's decision (else the ratio decides every span's trace). */
  parentBased: boolean;
  serviceName: string;
  /** How long one export may take, retries included (ms), when the environment says. */
  timeoutMs?: number;
  /** Headers of every export (a collector's API key), when the environment names any. */
  headers?: Record<string, string>;
}

/** What a gateway's settings set over the environment. */
export interface TraceExportSettings {
  endpoint?: string;
  sampleRatio?: number;
  serviceName?: string;
}

/** An OTEL_* variable that cannot be used; the message names it and says what it takes. */
export class TracingConfigError extends Error {
  readonly code = "CL_TRACING_CONFIG";
  constructor(
    readonly variable: string,
    /** What is wrong with it and what it takes, without its name. */
    readonly reason: string,
  ) {
    super(`${variable} ${reason}`);
    this.name = "TracingConfigError";
  }
}

/** The samplers OTEL_TRACES_SAMPLER may name, as a ratio (null: OTEL_TRACES_SAMPLER_ARG's) and whether parents decide. */
const SAMPLERS: Record<string, { ratio: number | null; parentBased: boolean }> = {
  always_on: { ratio: 1, parentBased: false },
  always_off: { ratio: 0, parentBased: false },
  traceidratio: { ratio: null, parentBased: false },
  parentbased_always_on: { ratio: 1, parentBased: true },
  parentbased_always_off: { ratio: 0, parentBased: true },
  parentbased_traceidratio: { ratio: null, parentBased: true },
};

function httpUrl(variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TracingConfigError(variable, `is not a URL; set it to the collector's OTLP/HTTP address, such as http://otel-collector:4318`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new TracingConfigError(variable, `must be an http:// or https:// URL (OTLP/HTTP), not ${url.protocol}`);
  return value;
}

/** The traces URL of the environment: the signal's own endpoint, else the base endpoint plus `v1/traces` (as the OTLP spec says). */
function tracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const own = env[TRACING_ENV.tracesEndpoint]?.trim();
  if (own) return httpUrl(TRACING_ENV.tracesEndpoint, own);
  const base = env[TRACING_ENV.endpoint]?.trim();
  if (!base) return undefined;
  return httpUrl(TRACING_ENV.endpoint, `${base.replace(/\/+$/, "")}/v1/traces`);
}

/**
 * The export headers of the environment: OTEL_EXPORTER_OTLP_HEADERS with OTEL_EXPORTER_OTLP_TRACES_HEADERS
 * over it, each `name=value` (percent-encoded) comma-separated, parsed as the OpenTelemetry SDK parses them.
 */
function headersOf(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const headers = {
    ...parseKeyPairsIntoRecord(env[TRACING_ENV.headers]?.trim()),
    ...parseKeyPairsIntoRecord(env[TRACING_ENV.tracesHeaders]?.trim()),
  };
  return Object.keys(headers).length > 0 ? headers : undefined;
}

/** The export timeout the environment sets (the traces one over the general one), in ms. */
function timeoutOf(env: NodeJS.ProcessEnv): number | undefined {
  for (const variable of [TRACING_ENV.tracesTimeout, TRACING_ENV.timeout]) {
    const value = env[variable]?.trim();
    if (!value) continue;
    const ms = Number(value);
    if (!Number.isInteger(ms) || ms <= 0)
      throw new TracingConfigError(variable, `must be a whole number of milliseconds above 0, not "${value}"`);
    return ms;
  }
  return undefined;
}

function samplerOf(env: NodeJS.ProcessEnv): { ratio: number; parentBased: boolean } {
  const name = env[TRACING_ENV.sampler]?.trim().toLowerCase() || "parentbased_traceidratio";
  const sampler = SAMPLERS[name];
  if (!sampler)
    throw new TracingConfigError(TRACING_ENV.sampler, `"${name}" is not supported; use one of ${Object.keys(SAMPLERS).join(", ")}`);
  if (sampler.ratio !== null) return { ratio: sampler.ratio, parentBased: sampler.parentBased };
  const arg = env[TRACING_ENV.samplerArg]?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
    throw new TracingConfigError(TRACING_ENV.samplerArg, `must be a number from 0 to 1 (the share of traces recorded), not "${arg}"`);
  return { ratio, parentBased: sampler.parentBased };
}

/**
 * How this process exports spans, from `settings` over the OTEL_* variables
 * of `env`: undefined (tracing off) when neither names an endpoint or
 * OTEL_SDK_DISABLED is true. Throws TracingConfigError, naming the variable,
 * for a value that cannot be used.
 */
export function traceExportFrom(
  env: NodeJS.ProcessEnv,
  defaultServiceName: string,
  settings: TraceExportSettings = {},
): TraceExport | undefined {
  if (env[TRACING_ENV.disabled]?.trim().toLowerCase() === "true") return undefined;
  const url = settings.endpoint ?? tracesUrl(env);
  if (!url) return undefined;
  const sampler = samplerOf(env);
  return {
    url,
    ratio: settings.sampleRatio ?? sampler.ratio,
    parentBased: sampler.parentBased,
    serviceName: settings.serviceName ?? (env[TRACING_ENV.serviceName]?.trim() || defaultServiceName),
    timeoutMs: timeoutOf(env),
    headers: headersOf(env),
  };
}

/** A process's tracer, and what ends it. Neither call rejects: spans that cannot be exported are dropped, and said so in `warn`. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Exports every span ended so far (a serverless function does before its instance is frozen). */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

/** How a process's tracing is labelled and where it reports spans it cannot export. */
export interface TracingOptions {
  /** Resource attributes besides `service.name` (e.g. `cloudloom.app`). */
  attributes?: Record<string, string>;
  /** Where a failed export is reported: at most one line a minute, with the count of failures in between. */
  warn?: (message: string) => void;
  /** How long one export may take, retries included, unless the environment says (ms). @default 10000 */
  exportTimeoutMs?: number;
}

/** How often a collector that keeps failing is reported. */
const WARN_EVERY_MS = 60_000;

/** Reports export failures to `warn`, at most once per WARN_EVERY_MS. */
function exportFailures(url: string, warn: (message: string) => void): (error: unknown) => void {
  let last = -Infinity;
  let since = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < WARN_EVERY_MS) {
      since++;
      return;
    }
    const more = since > 0 ? ` (and ${since} more since the last report)` : "";
    warn(`spans could not be exported to ${url} and were dropped: ${(error as Error)?.message ?? error}${more}`);
    last = now;
    since = 0;
  };
}

/**
 * The sampler of a process. Where callers' trace contexts are not to be
 * trusted (a gateway's clients), a remote parent gives the trace id only:
 * the ratio decides, by that id, whatever the parent's sampled flag says, so
 * a client can neither force its requests to be recorded nor hide them.
 * Behind a gateway, a parent-based sampler follows the gateway's decision.
 */
export function samplerFor(exported: Pick<TraceExport, "ratio" | "parentBased">, trustRemoteParents: boolean): Sampler {
  const ratio = new TraceIdRatioBasedSampler(exported.ratio);
  if (!trustRemoteParents) return new ParentBasedSampler({ root: ratio, remoteParentSampled: ratio, remoteParentNotSampled: ratio });
  return exported.parentBased ? new ParentBasedSampler({ root: ratio }) : ratio;
}

/**
 * The tracing of a process behind a gateway (a pod, a serverless function), from the OTEL_* variables
 * of `env`: undefined when they name no endpoint. Remote parents (the gateway's) decide sampling.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv, defaultServiceName: string, options?: TracingOptions): Tracing | undefined {
  const exported = traceExportFrom(env, defaultServiceName);
  return exported && startTracing(exported, true, options);
}

/** Starts exporting spans as `exported` says; `trustRemoteParents` as samplerFor takes it. */
export function startTracing(exported: TraceExport, trustRemoteParents: boolean, options: TracingOptions = {}): Tracing {
  const provider = new BasicTracerProvider({
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ ...options.attributes, [ATTR_SERVICE_NAME]: exported.serviceName })),
    sampler: samplerFor(exported, trustRemoteParents),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({
          url: exported.url,
          timeoutMillis: exported.timeoutMs ?? options.exportTimeoutMs ?? 10_000,
          headers: exported.headers,
        }),
      ),
    ],
  });
  const failed = exportFailures(exported.url, options.warn ?? (() => undefined));
  // Batches exported on the processor's own schedule report their failures here (one handler per process).
  setGlobalErrorHandler(failed);
  return {
    tracer: provider.getTracer("cloudloom"),
    flush: () => provider.forceFlush().catch(failed),
    shutdown: () => provider.shutdown().catch(failed),
  };
}
