/**
 * The runtime: functions in-process and models on onnxruntime-node, each
 * with a pool per region it is placed in. The local target runs the whole
 * app in it, so the routing decision between edge and central stays real
 * and visible; a pod or a serverless function runs one entry of it.
 */
import type { FunctionRequest, ModelClient } from "../sdk/handler";
import { toMilliseconds, type SpecV1 } from "../sdk/spec";
import { ServingError } from "./contract";
import type { PoolEvents } from "./instance-pool";
import { loadVerifiedArtifact } from "./artifacts";
import { FunctionHost, type Invocation } from "./function-host";
import { chooseExecutionProviders } from "./execution-provider";
import { ModelHost, type Prediction } from "./model-host";
import { resolveEnvironment } from "./secrets";
import { remoteModelClient } from "./remote-model";
import { toSample, unsupportedReason } from "./signature";
import { poolSizing } from "./sizing";

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
  /** Base URLs of model servers by model key. */
  remoteModels?: Record<string, string>;
}

/** Hooks the server uses for metrics and logs. */
export interface RuntimeEvents {
  onColdStart?: (entry: string, region: string, ms: number) => void;
  onBatch?: (model: string, size: number) => void;
  /** The keep-alive policy loaded an instance ahead of a predicted call. */
  onPrewarm?: (entry: string, region: string) => void;
  /** An instance spent `seconds` loaded without serving. */
  onWarmIdle?: (entry: string, region: string, seconds: number) => void;
  warn?: (message: string) => void;
}

/** The pool events of one entry in one region. */
function poolEvents(events: RuntimeEvents, entry: string, region: string): PoolEvents {
  return {
    onColdStart: (ms) => events.onColdStart?.(entry, region, ms),
    onPrewarm: () => events.onPrewarm?.(entry, region),
    onWarmIdle: (seconds) => events.onWarmIdle?.(entry, region, seconds),
  };
}

const hostKey = (entry: string, region: string) => `${entry}|${region}`;

/** Functions and models of one app, served in-process. */
export class LocalRuntime {
  private readonly models = new Map<string, ModelHost>();
  private readonly functions = new Map<string, FunctionHost>();
  /** Model versions that cannot be served, with the reason. */
  readonly unavailable = new Map<string, string>();

  constructor(
    readonly spec: SpecV1,
    root: string,
    events: RuntimeEvents = {},
    private readonly scope: RuntimeScope = {},
  ) {
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
      for (const region of model.regions.filter(inScope)) {
        const sizing = poolSizing(model.scaling ? spec.scalingPolicies[model.scaling] : undefined);
        const host = new ModelHost(
          model,
          artifact.bytes,
          sizing,
          batching,
          { ...poolEvents(events, key, region), onBatch: (size) => events.onBatch?.(key, size), warn: events.warn },
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
        const sizing = poolSizing(fn.scaling ? spec.scalingPolicies[fn.scaling] : undefined);
        this.functions.set(hostKey(name, region), new FunctionHost(name, fn, root, sizing, env, clients, poolEvents(events, name, region)));
      }
    }
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

  /** Runs one sample through a model version in a region. */
  predict(key: string, region: string, inputs: unknown): Promise<Prediction> {
    const host = this.placedModel(key, region);
    return host.predict(toSample(inputs, host.spec.signature.inputs));
  }

  /** Runs the sample of a predict request's JSON body (`{"inputs": {...}}`), read in the model's session thread. */
  predictBody(key: string, region: string, body: Uint8Array): Promise<Prediction> {
    return this.placedModel(key, region).predictBody(body);
  }

  /** Calls a function in a region. */
  invoke(name: string, region: string, request: FunctionRequest, requestId: string): Promise<Invocation> {
    const host = this.functions.get(hostKey(name, region));
    if (!host) throw new ServingError("NOT_FOUND", `function ${name} is not placed in region ${region}`);
    return host.invoke(request, region, requestId);
  }

  /** Unloads everything. */
  async close(): Promise<void> {
    await Promise.all([...this.models.values(), ...this.functions.values()].map((host) => host.close()));
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
    if (remote) return remoteModelClient(remote, key, this.spec.models[key].version);
    return {
      version: this.spec.models[key].version,
      predict: async (inputs) => (await this.predict(key, region, inputs)).outputs,
    };
  }
}
