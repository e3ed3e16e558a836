/**
 * The runtime: functions in-process and models on onnxruntime-node, each
 * with a pool per region it is placed in. The local target runs the whole
 * app in it, so the routing decision between edge and central stays real
 * and visible; a pod or a serverless function runs one entry of it.
 */
import type { IncomingHttpHeaders } from "node:http";
import { context, type Context, type Tracer } from "@opentelemetry/api";
import type { FunctionRequest, ModelClient } from "../sdk/handler";
import { calledModelRegion, holdLimits, toMegabytes, toMilliseconds, type Endpoint, type SpecV1 } from "../sdk/spec";
import { ServingError } from "./contract";
import type { CallEvents, PoolEvents } from "./instance-pool";
import { loadVerifiedArtifact } from "./artifacts";
import { FunctionHost, type Invocation } from "./function-host";
import { chooseExecutionProviders } from "./execution-provider";
import { ModelHost, type Prediction } from "./model-host";
import { resolveEnvironment } from "./secrets";
import type { ModelCallDemand } from "./model-call-demand";
import { remoteModelClient } from "./remote-model";
import { toSample, unsupportedReason } from "./signature";
import { poolSizing } from "./sizing";
import { RuntimeTracing } from "./tracing";

/**
 * Which part of the app this process serves. A cluster pod serves one entry
 * in one region (`only` + `region`); functions there reach their models over
 * HTTP at `remoteModels` URLs. Empty means the whole app, in-process.
 */
export interface RuntimeScope {
  only?: { kind: "model" | "function"; name: string };
  region?: string;
  /** Path of the one model's artifact (the pod's fetched copy), overriding the spec's. */
  artifact?: string;
  /** Model servers by model key: a base URL, or an endpoint whose JWT the process signs. */
  remoteModels?: Record<string, Endpoint>;
  /** Where calls to remote models that hold are counted, for the gateway (model-call-demand.ts). */
  modelCalls?: ModelCallDemand;
}

/** Hooks the server uses for metrics and logs. */
export interface RuntimeEvents {
  onColdStart?: (entry: string, region: string, ms: number) => void;
  onBatch?: (model: string, size: number) => void;
  /** A call was served, on an instance it had to start (`cold`) or on a warm one. */
  onCall?: (entry: string, region: string, cold: boolean) => void;
  /** The keep-alive policy loaded an instance ahead of a predicted call. */
  onPrewarm?: (entry: string, region: string) => void;
  /** An instance of `memoryMb` spent `seconds` loaded without serving. */
  onWarmIdle?: (entry: string, region: string, seconds: number, memoryMb: number) => void;
  /** `calls` calls got an instance; `cold` when they waited for it to start. */
  onServed?: (entry: string, region: string, calls: number, cold: boolean) => void;
  /** One request waited `ms` in a model's batch queue. */
  onQueueWait?: (model: string, region: string, ms: number) => void;
  /** Called once, with what reads every model queue's depth now (metrics read it when scraped). */
  watchQueues?: (read: () => QueueDepth[]) => void;
  warn?: (message: string) => void;
}

/** How many requests wait in one model version's batch queue in one region. */
export interface QueueDepth {
  model: string;
  region: string;
  depth: number;
}

/** The pool and call events of one entry in one region, whose instances hold `memoryMb` each. */
function poolEvents(events: RuntimeEvents, entry: string, region: string, memoryMb: number): PoolEvents & CallEvents {
  return {
    onColdStart: (ms) => events.onColdStart?.(entry, region, ms),
    onCall: (cold) => events.onCall?.(entry, region, cold),
    onPrewarm: () => events.onPrewarm?.(entry, region),
    onWarmIdle: (seconds) => events.onWarmIdle?.(entry, region, seconds, memoryMb),
    onServed: (calls, cold) => events.onServed?.(entry, region, calls, cold),
  };
}

/** Bytes in a megabyte, as sizes count them ("1 GB" is 1024 MB). */
const BYTES_PER_MB = 1024 * 1024;

const hostKey = (entry: string, region: string) => `${entry}|${region}`;

/** One pool's load: a function or model version (`name@version`) in one region. */
export interface PoolOccupancy {
  entry: string;
  region: string;
  /** Instances loaded now. */
  instances: number;
}

/** Functions and models of one app, served in-process. */
export class LocalRuntime {
  private readonly models = new Map<string, ModelHost>();
  private readonly functions = new Map<string, FunctionHost>();
  /** Model versions that cannot be served, with the reason. */
  readonly unavailable = new Map<string, string>();
  /** The runtime's spans (tracing.ts), when it has a tracer. */
  private readonly tracing: RuntimeTracing | undefined;

  constructor(
    readonly spec: SpecV1,
    root: string,
    events: RuntimeEvents = {},
    private readonly scope: RuntimeScope = {},
    /** Where its spans go; none, no spans. */
    tracer?: Tracer,
  ) {
    this.tracing = tracer && new RuntimeTracing(tracer);
    const serves = (kind: "model" | "function", name: string) => !scope.only || (scope.only.kind === kind && scope.only.name === name);
    const inScope = (region: string) => !scope.region || scope.region === region;
    for (const [key, model] of Object.entries(spec.models)) {
      if (!serves("model", key)) continue;
      const tensors = { ...model.signature.inputs, ...model.signature.outputs };
      const unsupported = Object.entries(tensors)
        .map(([name, tensor]) => unsupportedReason(name, tensor))
        .find(Boolean);
      const artifact = unsupported
        ? { ok: false as const, reason: `model ${key}: ${unsupported}` }
        : loadVerifiedArtifact(root, scope.artifact ? { ...model, artifact: { ...model.artifact, path: scope.artifact } } : model);
      if (!artifact.ok) {
        this.unavailable.set(key, artifact.reason);
        events.warn?.(artifact.reason);
        continue;
      }
      const batching = {
        maxBatchSize: model.batching.maxBatchSize,
        maxDelayMs: toMilliseconds(model.batching.maxDelay),
        maxQueue: model.batching.maxQueue,
      };
      // A model's instance holds its declared memory, or at least its weights.
      const memoryMb = model.memory ? toMegabytes(model.memory) : artifact.bytes.byteLength / BYTES_PER_MB;
      for (const region of model.regions.filter(inScope)) {
        const sizing = poolSizing(model.scaling ? spec.scalingPolicies[model.scaling] : undefined, memoryMb);
        const host = new ModelHost(
          model,
          artifact.bytes,
          sizing,
          batching,
          {
            ...poolEvents(events, key, region, memoryMb),
            onBatch: (size) => events.onBatch?.(key, size),
            onQueueWait: (ms) => events.onQueueWait?.(key, region, ms),
            warn: events.warn,
            trace: this.tracing?.forModel(key, region),
          },
          // A pod on a GPU pool asks for CUDA; the local target runs the whole app on this machine's CPU.
          chooseExecutionProviders(scope.only ? model : { pool: undefined }),
        );
        this.models.set(hostKey(key, region), host);
      }
    }
    for (const [name, fn] of Object.entries(spec.functions)) {
      if (!serves("function", name)) continue;
      const { env, missing } = resolveEnvironment(fn.environment);
      if (missing.length > 0) events.warn?.(`function ${name}: secrets not set locally: ${missing.join(", ")}`);
      for (const region of fn.regions.filter(inScope)) {
        const clients = Object.fromEntries(fn.models.map((key) => [spec.models[key].name, this.modelClient(key, region)]));
        const sizing = poolSizing(fn.scaling ? spec.scalingPolicies[fn.scaling] : undefined, toMegabytes(fn.memory));
        this.functions.set(
          hostKey(name, region),
          new FunctionHost(name, fn, root, sizing, env, clients, poolEvents(events, name, region, sizing.memoryMb)),
        );
      }
    }
    events.watchQueues?.(() => this.queueDepths());
  }

  /** Requests waiting in each model version's batch queue, per region. */
  queueDepths(): QueueDepth[] {
    return [...this.models].map(([key, host]) => {
      const at = key.lastIndexOf("|");
      return { model: key.slice(0, at), region: key.slice(at + 1), depth: host.queueDepth };
    });
  }

  /** Starts every pool's floor of instances. */
  async warm(): Promise<void> {
    await Promise.all([...this.models.values(), ...this.functions.values()].map((host) => host.warm()));
  }

  /** The host of a model version in a region (for inspection and tests). */
  modelHost(key: string, region: string): ModelHost | undefined {
    return this.models.get(hostKey(key, region));
  }

  /** The host of a function in a region (for inspection and tests). */
  functionHost(name: string, region: string): FunctionHost | undefined {
    return this.functions.get(hostKey(name, region));
  }

  /** Every pool now: warm instances per function and model version in each region. */
  *occupancy(): Iterable<PoolOccupancy> {
    for (const [key, host] of this.models) {
      const [entry, region] = key.split("|");
      yield { entry, region, instances: host.instances };
    }
    for (const [key, host] of this.functions) {
      const [entry, region] = key.split("|");
      yield { entry, region, instances: host.instances };
    }
  }

  /**
   * The trace context a call's headers carry (its `traceparent`), for `predict` and `invoke`;
   * undefined when the runtime does not trace.
   */
  traceParent(headers: IncomingHttpHeaders): Context | undefined {
    return this.tracing?.parentOf(headers);
  }

  /** Runs one sample through a model version in a region; traced, in a span under `parent` (else the active context). */
  predict(key: string, region: string, inputs: unknown, parent?: Context): Promise<Prediction> {
    return this.traceModel(key, region, parent, (host, within) => host.predict(toSample(inputs, host.spec.signature.inputs), within));
  }

  /**
   * Runs the sample of a predict request's JSON body (`{"inputs": {...}}`), read in the model's session thread;
   * traced like predict.
   */
  predictBody(key: string, region: string, body: Uint8Array, parent?: Context): Promise<Prediction> {
    return this.traceModel(key, region, parent, (host, within) => host.predictBody(body, within));
  }

  /** Calls a function in a region; traced, in a span under `parent` (else the active context), active while the handler runs. */
  invoke(name: string, region: string, request: FunctionRequest, requestId: string, parent?: Context): Promise<Invocation> {
    const host = this.functions.get(hostKey(name, region));
    if (!host) throw new ServingError("NOT_FOUND", `function ${name} is not placed in region ${region}`);
    if (!this.tracing) return host.invoke(request, region, requestId);
    return this.tracing.function(
      name,
      region,
      parent ?? context.active(),
      (span) => host.invoke(request, region, requestId, span),
      (invocation) => invocation.cold,
    );
  }

  /** Unloads everything. */
  async close(): Promise<void> {
    await Promise.all([...this.models.values(), ...this.functions.values()].map((host) => host.close()));
  }

  /** Calls `predict` on the model version's host in `region`, in a model span under `parent` when the runtime traces. */
  private traceModel(
    key: string,
    region: string,
    parent: Context | undefined,
    predict: (host: ModelHost, within: Context | undefined) => Promise<Prediction>,
  ): Promise<Prediction> {
    if (!this.tracing) return predict(this.placedModel(key, region), undefined);
    return this.tracing.model(key, region, parent ?? context.active(), (within) => predict(this.placedModel(key, region), within));
  }

  private placedModel(key: string, region: string): ModelHost {
    if (this.unavailable.has(key))
      throw new ServingError("MODEL_UNAVAILABLE", `model version ${key} is unavailable: its artifact failed verification`);
    const host = this.models.get(hostKey(key, region));
    if (!host) throw new ServingError("NOT_FOUND", `model version ${key} is not placed in region ${region}`);
    return host;
  }

  private modelClient(key: string, region: string): ModelClient {
    const remote = this.scope.remoteModels?.[key];
    if (remote) {
      const model = this.spec.models[key];
      const hold = holdLimits(this.spec, "model", key);
      // Calls to a model that holds count toward its demand in the region they go to (model-call-demand.ts).
      const calls = hold && this.scope.modelCalls?.of(key, calledModelRegion(model, region));
      return remoteModelClient(remote, key, model.version, hold, calls);
    }
    return {
      version: this.spec.models[key].version,
      predict: async (inputs) => (await this.predict(key, region, inputs)).outputs,
    };
  }
}
