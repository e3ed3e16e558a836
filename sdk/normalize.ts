/**
 * Turns declaration arguments into spec entries: defaults filled in, handles
 * replaced by names. Every reference is checked on the way, so a handle from
 * another app, or a plain string where a handle belongs, becomes a problem
 * instead of a crash. Pre-warm history files become scheduled floors here.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  Declared,
  Model,
  type FunctionArgs,
  type GpuPoolArgs,
  type ModelArgs,
  type RegionArgs,
  type RouteArgs,
  type ScalingPolicyArgs,
} from "./declarations";
import { deriveFloors } from "./prewarm/floors";
import { parseHistory } from "./prewarm/history";
import {
  ACCELERATORS,
  isAccelerator,
  type FunctionSpec,
  type GpuPoolSpec,
  type ModelSpec,
  type Problem,
  type RegionSpec,
  type RouteSpec,
  type RouteTargetSpec,
  type ScalingPolicySpec,
  type ScheduleSpec,
  type Size,
  toMilliseconds,
} from "./spec";

/** Collects problems found while normalizing one app's declarations. */
export class Normalizer {
  readonly problems: Problem[] = [];
  constructor(private readonly app: { readonly root: string }) {}

  /** The name of a handle of `kind`, or undefined (with a problem) when it is not one. */
  ref(value: unknown, kind: string, path: string): string | undefined {
    if (!(value instanceof Declared) || value.kind !== kind) {
      this.problems.push({
        code: "CL_FIELD_TYPE",
        path,
        message: `${path} must be a ${kind} declared with app.${kind}()`,
        fix: `pass the object app.${kind}(...) returned, not ${describe(value)}`,
      });
      return undefined;
    }
    if (value.app !== this.app) {
      this.problems.push({
        code: "CL_FOREIGN_REFERENCE",
        path,
        message: `${path} refers to ${kind} "${value.name}" of another App`,
        fix: `declare ${kind} "${value.name}" in this app and refer to that`,
      });
      return undefined;
    }
    return kind === "model" ? (value as Model).key : value.name;
  }

  /** Names of a list of handles, skipping (and reporting) the bad ones. */
  refs(values: unknown, kind: string, path: string): string[] {
    if (!Array.isArray(values)) {
      this.problems.push({
        code: "CL_FIELD_TYPE",
        path,
        message: `${path} must be a list of ${kind}s`,
        fix: `pass an array, e.g. [${kind}A, ${kind}B]`,
      });
      return [];
    }
    return values.flatMap((value, index) => this.ref(value, kind, `${path}.${index}`) ?? []);
  }

  optionalRef(value: unknown, kind: string, path: string): string | undefined {
    return value === undefined ? undefined : this.ref(value, kind, path);
  }

  region(args: RegionArgs): RegionSpec {
    return { kind: args.kind, localities: args.localities ?? [], latencyBudget: args.latencyBudget, placement: args.placement };
  }

  gpuPool(path: string, args: GpuPoolArgs): GpuPoolSpec {
    const gpus = args.gpusPerInstance ?? 1;
    const memory: Size | undefined = isAccelerator(args.accelerator) ? `${ACCELERATORS[args.accelerator].memoryGb * gpus} GB` : undefined;
    return {
      accelerator: args.accelerator,
      gpusPerInstance: gpus,
      gpuMemory: (args.gpuMemory ?? memory)!,
      minSize: args.minSize ?? 0,
      maxSize: args.maxSize,
      capacity: args.capacity ?? "on-demand",
      ...(args.platform === undefined ? {} : { platform: args.platform }),
      regions: this.refs(args.regions, "region", `${path}.regions`),
    };
  }

  scalingPolicy(path: string, args: ScalingPolicyArgs): ScalingPolicySpec {
    const derived = args.prewarm?.history ? this.floorsFromHistory(path, args) : [];
    return {
      minInstances: args.minInstances ?? 0,
      maxInstances: args.maxInstances,
      targetConcurrency: args.targetConcurrency,
      targetUtilization: args.targetUtilization,
      scaleToZero: args.scaleToZero,
      schedules: (args.schedules ?? [])
        .map((s) => ({
          cron: s?.cron,
          timezone: s?.timezone ?? "UTC",
          minInstances: s?.minInstances,
          duration: s?.duration ?? "1 hour",
        }))
        .concat(derived),
      prewarm: args.prewarm,
    };
  }

  /** Scheduled floors ahead of the busy hours of the policy's history file; a problem when it cannot be read. */
  private floorsFromHistory(path: string, args: ScalingPolicyArgs): ScheduleSpec[] {
    const file = args.prewarm!.history!;
    try {
      const history = parseHistory(readFileSync(resolve(this.app.root, file), "utf8"));
      const leadMinutes = Math.round(toMilliseconds(args.prewarm!.leadTime) / 60_000);
      return deriveFloors(history, { leadMinutes, maxInstances: args.maxInstances }) as ScheduleSpec[];
    } catch (error) {
      this.problems.push({
        code: "CL_PREWARM_HISTORY",
        path: `${path}.prewarm.history`,
        message: `${file} cannot be used as invocation history: ${(error as Error).message}`,
        fix: "give a trace CSV (HashOwner,HashApp,HashFunction,Trigger,1..N) or a Prometheus query_range JSON export, relative to the app's root",
      });
      return [];
    }
  }

  model(name: string, path: string, args: ModelArgs): ModelSpec {
    return {
      name,
      version: args.version,
      artifact: args.artifact,
      signature: args.signature,
      pool: this.optionalRef(args.pool, "gpuPool", `${path}.pool`),
      batching: {
        maxBatchSize: args.batching?.maxBatchSize ?? 16,
        maxDelay: args.batching?.maxDelay ?? "5 ms",
        maxQueue: args.batching?.maxQueue ?? 256,
      },
      regions: this.refs(args.regions, "region", `${path}.regions`),
      scaling: this.optionalRef(args.scaling, "scalingPolicy", `${path}.scaling`),
      coldStart: args.coldStart,
      memory: args.memory,
    };
  }

  function(path: string, args: FunctionArgs): FunctionSpec {
    const handler =
      typeof args.handler === "string"
        ? { module: args.handler, export: "handler" }
        : { module: args.handler?.module, export: args.handler?.export ?? "handler" };
    return {
      handler: handler as FunctionSpec["handler"],
      memory: args.memory ?? "512 MB",
      timeout: args.timeout ?? "30 seconds",
      concurrency: args.concurrency ?? 10,
      environment: args.environment ?? {},
      models: this.refs(args.models ?? [], "model", `${path}.models`),
      regions: this.refs(args.regions, "region", `${path}.regions`),
      scaling: this.optionalRef(args.scaling, "scalingPolicy", `${path}.scaling`),
    };
  }

  route(path: string, args: RouteArgs): RouteSpec {
    const limit = args.rateLimit;
    return {
      target: this.routeTarget(`${path}.target`, args.target),
      auth: args.auth ?? "api-key",
      rateLimit: limit && {
        requests: limit.requests,
        per: limit.per,
        burst: limit.burst ?? 0,
        key: limit.key ?? "api-key",
        onStoreFailure: limit.onStoreFailure ?? "local",
      },
      cache: args.cache && { ttl: args.cache.ttl, varyHeaders: (args.cache.varyHeaders ?? []).map((h) => String(h).toLowerCase()).sort() },
    };
  }

  private routeTarget(path: string, target: RouteArgs["target"]): RouteTargetSpec {
    if (target instanceof Model) {
      this.ref(target, "model", path);
      return { kind: "model", name: target.name, weights: { [target.version]: 100 }, strategy: "single", sticky: false };
    }
    if (target instanceof Declared) return { kind: "function", name: this.ref(target, "function", path) ?? target.name };
    const versions = Array.isArray(target?.versions) ? target.versions : [];
    const names = new Set(versions.map((v) => v?.model?.name));
    if (names.size > 1) {
      this.problems.push({
        code: "CL_WEIGHTS_MIXED_MODELS",
        path,
        message: `${path} splits between different models: ${[...names].join(", ")}`,
        fix: "split only between versions of one model",
      });
    }
    const name = versions[0]?.model?.name ?? "";
    const weights: Record<string, number> = {};
    versions.forEach((entry, index) => {
      const key = this.ref(entry?.model, "model", `${path}.versions.${index}.model`);
      if (key && entry.model.name === name) weights[entry.model.version] = entry.weight;
    });
    return { kind: "model", name, weights, strategy: target?.strategy, sticky: target?.sticky ?? false };
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return `the string "${value}"`;
  return `a ${typeof value}`;
}
