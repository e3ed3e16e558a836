/**
 * Turns declaration arguments into spec entries: defaults filled in, handles
 * replaced by names. Every reference is checked on the way, so a handle from
 * another app, or a plain string where a handle belongs, becomes a problem
 * instead of a crash. Fields a declaration does not know are reported (with
 * the closest known one) and left out. Pre-warm history files become
 * scheduled floors here.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  Declared,
  Model,
  type AsyncArgs,
  type FunctionArgs,
  type GpuPoolArgs,
  type ModelArgs,
  type RegionArgs,
  type RolloutArgs,
  type RouteArgs,
  type ScalingPolicyArgs,
} from "./declarations";
import { DECLARATION_FIELDS, isFields, knownFields, type Shape } from "./fields";
import { deriveFloors } from "./prewarm/floors";
import { parseHistory } from "./prewarm/history";
import {
  ACCELERATORS,
  holdOf,
  isAccelerator,
  isDuration,
  isPercent,
  toFraction,
  type FunctionSpec,
  type GpuPoolSpec,
  type ModelSpec,
  type ObjectiveSpec,
  type Problem,
  type RegionSpec,
  type RolloutSpec,
  type RouteSpec,
  type RouteTargetSpec,
  type ScalingPolicySpec,
  type ScheduleSpec,
  type AsyncSpec,
  type Duration,
  type Percent,
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

  /**
   * The arguments of `call` with only the fields its declaration knows; a
   * problem for each other field, and for arguments that are not an object.
   */
  private fields<T>(path: string, value: unknown, shape: Shape, call: string): T {
    if (!isFields(value)) {
      this.problems.push({
        code: "CL_FIELD_TYPE",
        path,
        message: `${call} takes an object of fields, not ${describe(value)}`,
        fix: `pass the fields as an object, e.g. ${call.replace("()", `("name", { ... })`)}`,
      });
      return {} as T;
    }
    return knownFields(value, shape, path, this.problems) as T;
  }

  region(path: string, raw: unknown): RegionSpec {
    const args = this.fields<RegionArgs>(path, raw, DECLARATION_FIELDS.region, "app.region()");
    return { kind: args.kind, localities: args.localities ?? [], latencyBudget: args.latencyBudget, placement: args.placement };
  }

  gpuPool(path: string, raw: unknown): GpuPoolSpec {
    const args = this.fields<GpuPoolArgs>(path, raw, DECLARATION_FIELDS.gpuPool, "app.gpuPool()");
    const gpus = args.gpusPerInstance ?? 1;
    // An accelerator outside the catalog has no memory to default to; "0 GB" stands in, so that
    // validation reports the accelerator (CL_UNKNOWN_ACCELERATOR) rather than a missing gpuMemory.
    const memory: Size = isAccelerator(args.accelerator) ? `${ACCELERATORS[args.accelerator].memoryGb * gpus} GB` : "0 GB";
    return {
      accelerator: args.accelerator,
      gpusPerInstance: gpus,
      gpuMemory: args.gpuMemory ?? memory,
      minSize: args.minSize ?? 0,
      maxSize: args.maxSize,
      capacity: args.capacity ?? "on-demand",
      ...(args.platform === undefined ? {} : { platform: args.platform }),
      regions: this.refs(args.regions, "region", `${path}.regions`),
    };
  }

  scalingPolicy(path: string, raw: unknown): ScalingPolicySpec {
    const args = this.fields<ScalingPolicyArgs>(path, raw, DECLARATION_FIELDS.scalingPolicy, "app.scalingPolicy()");
    const derived = isFields(args.prewarm) && args.prewarm.history ? this.floorsFromHistory(path, args) : [];
    const schedules = args.schedules ?? [];
    return {
      minInstances: args.minInstances ?? 0,
      maxInstances: args.maxInstances,
      targetConcurrency: args.targetConcurrency,
      targetUtilization: args.targetUtilization,
      scaleToZero: args.scaleToZero,
      // Stated in the spec, default included, so what a plan shows is what the gateway holds.
      hold: holdOf(args),
      // A non-list is passed on as it is, for validation to report its type.
      schedules: Array.isArray(schedules)
        ? schedules
            .map((s) => ({
              cron: s?.cron,
              timezone: s?.timezone ?? "UTC",
              minInstances: s?.minInstances,
              duration: s?.duration ?? "1 hour",
            }))
            .concat(derived)
        : schedules,
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

  model(name: string, path: string, raw: unknown): ModelSpec {
    const args = this.fields<ModelArgs>(path, raw, DECLARATION_FIELDS.model, "app.model()");
    return {
      name,
      version: args.version,
      artifact: args.artifact,
      signature: args.signature,
      pool: this.optionalRef(args.pool, "gpuPool", `${path}.pool`),
      batching: isFields(args.batching ?? {})
        ? {
            maxBatchSize: args.batching?.maxBatchSize ?? 16,
            maxDelay: args.batching?.maxDelay ?? "5 ms",
            maxQueue: args.batching?.maxQueue ?? 256,
          }
        : (args.batching as ModelSpec["batching"]),
      regions: this.refs(args.regions, "region", `${path}.regions`),
      scaling: this.optionalRef(args.scaling, "scalingPolicy", `${path}.scaling`),
      coldStart: args.coldStart,
      memory: args.memory,
      objectives: objectives(args.objectives),
    };
  }

  function(path: string, raw: unknown): FunctionSpec {
    const args = this.fields<FunctionArgs>(path, raw, DECLARATION_FIELDS.function, "app.function()");
    const handler =
      typeof args.handler === "string"
        ? { module: args.handler, export: "handler" }
        : isFields(args.handler)
          ? { module: args.handler.module, export: args.handler.export ?? "handler" }
          : args.handler;
    return {
      handler: handler as FunctionSpec["handler"],
      memory: args.memory ?? "512 MB",
      timeout: args.timeout ?? "30 seconds",
      concurrency: args.concurrency ?? 10,
      environment: args.environment ?? {},
      models: this.refs(args.models ?? [], "model", `${path}.models`),
      regions: this.refs(args.regions, "region", `${path}.regions`),
      scaling: this.optionalRef(args.scaling, "scalingPolicy", `${path}.scaling`),
      objectives: objectives(args.objectives),
      ...asyncField(args.async, args.timeout ?? "30 seconds"),
    };
  }

  /**
   * A route's entry. `timeoutOf` names a declared function's timeout, which
   * an asynchronous route to it takes as its attempt timeout by default.
   */
  route(path: string, raw: unknown, timeoutOf: (fn: string) => Duration | undefined = () => undefined): RouteSpec {
    const args = this.fields<RouteArgs>(path, raw, DECLARATION_FIELDS.route, "app.route()");
    const { rateLimit: limit, cache } = args;
    const target = this.routeTarget(`${path}.target`, args.target);
    return {
      target,
      auth: args.auth ?? "api-key",
      // Values that are not objects are passed on as they are, for validation to report their type.
      rateLimit: !isFields(limit)
        ? (limit as RouteSpec["rateLimit"])
        : {
            requests: limit.requests,
            per: limit.per,
            burst: limit.burst ?? 0,
            key: limit.key ?? "api-key",
            onStoreFailure: limit.onStoreFailure ?? "local",
          },
      cache: !isFields(cache) ? (cache as RouteSpec["cache"]) : { ttl: cache.ttl, varyHeaders: headerNames(cache.varyHeaders ?? []) },
      ...(args.rollout === undefined ? {} : this.rollout(`${path}.rollout`, args.rollout, target, args.objectives)),
      objectives: objectives(args.objectives),
      ...asyncField(args.async, (target.kind === "function" && timeoutOf(target.name)) || DEFAULT_MODEL_ASYNC_TIMEOUT),
    };
  }

  /**
   * The rollout with its version named (by default the split's last),
   * minRequests defaulted, and the gate's error-rate and p99 thresholds
   * defaulted from the route's strictest objectives; none, with a problem, on
   * a route that calls a function.
   */
  private rollout(path: string, rollout: RolloutArgs, target: RouteTargetSpec, routeObjectives: unknown): { rollout?: RolloutSpec } {
    if (!isFields(rollout)) return { rollout: rollout as RolloutSpec };
    if (target.kind !== "model") {
      this.problems.push({
        code: "CL_ROLLOUT_TARGET",
        path,
        message: `${path} moves traffic between model versions, and this route calls function "${target.name}"`,
        fix: "declare the rollout on a route whose target splits the current version of a model and the new one",
      });
      return {};
    }
    const versions = Object.keys(target.weights);
    const to = rollout.to === undefined ? undefined : this.ref(rollout.to, "model", `${path}.to`) && (rollout.to as Model);
    if (to && to.name !== target.name)
      this.problems.push({
        code: "CL_ROLLOUT_TARGET",
        path: `${path}.to`,
        message: `${path}.to is a version of model "${to.name}", and the route splits model "${target.name}"`,
        fix: "roll out one of the versions the route's target splits",
      });
    const version = rollout.to === undefined ? versions[versions.length - 1] : to && to.version;
    const declared = rollout.gate === undefined ? {} : rollout.gate;
    const gate = isFields(declared)
      ? { ...objectiveGate(routeObjectives), ...withoutUndefined(declared), minRequests: declared.minRequests ?? 100 }
      : declared;
    return { rollout: { version: version || "", steps: rollout.steps, interval: rollout.interval, gate: gate as RolloutSpec["gate"] } };
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

/** The strictest error-rate and p99 objectives of a route, as rollout gate thresholds. */
function objectiveGate(values: unknown): { maxErrorRate?: Percent; maxP99?: Duration } {
  if (!Array.isArray(values)) return {};
  const gate: { maxErrorRate?: Percent; maxP99?: Duration } = {};
  for (const objective of values) {
    if (!isFields(objective)) continue;
    const { errorRate, p99 } = objective as { errorRate?: unknown; p99?: unknown };
    if (isPercent(errorRate) && (gate.maxErrorRate === undefined || toFraction(errorRate) < toFraction(gate.maxErrorRate)))
      gate.maxErrorRate = errorRate;
    if (isDuration(p99) && (gate.maxP99 === undefined || toMilliseconds(p99) < toMilliseconds(gate.maxP99))) gate.maxP99 = p99;
  }
  return gate;
}

/** `record` without the keys whose value is undefined, so they do not hide defaults spread before it. */
function withoutUndefined<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * Objectives with their defaults (a 5-minute window, ticket severity); none
 * stays absent. Values of the wrong type are passed on for validation to report.
 */
function objectives(values: readonly unknown[] | undefined): ObjectiveSpec[] | undefined {
  if (!Array.isArray(values)) return values as undefined;
  return values.map((objective) =>
    isFields(objective) ? { ...objective, window: objective.window ?? "5 minutes", severity: objective.severity ?? "ticket" } : objective,
  ) as ObjectiveSpec[];
}

/** How long one asynchronous model call may run, unless declared. */
const DEFAULT_MODEL_ASYNC_TIMEOUT: Duration = "1 minute";

/**
 * The `async` field of an entry: absent for undefined or false, every default
 * for `true`, defaults under the declared fields otherwise; anything else is
 * passed on as it is, for validation to report its type.
 */
function asyncField(value: AsyncArgs | boolean | undefined, timeout: Duration): { async?: AsyncSpec } {
  if (value === undefined || value === false) return {};
  if (value !== true && !isFields(value)) return { async: value as unknown as AsyncSpec };
  const args: AsyncArgs = value === true ? {} : value;
  const backoff = args.backoff;
  return {
    async: {
      retries: args.retries ?? 3,
      backoff: isFields(backoff)
        ? { strategy: backoff.strategy ?? "exponential", delay: backoff.delay ?? "1 second" }
        : ((backoff ?? { strategy: "exponential", delay: "1 second" }) as AsyncSpec["backoff"]),
      timeout: args.timeout ?? timeout,
      deadLetter: args.deadLetter ?? true,
      retention: args.retention ?? "1 day",
    },
  };
}

/** Header names in lowercase and sorted; a non-list is passed on for validation to report its type. */
function headerNames(names: unknown): string[] {
  return Array.isArray(names) ? names.map((h) => String(h).toLowerCase()).sort() : (names as string[]);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return `the string "${value}"`;
  if (Array.isArray(value)) return "a list";
  return `a ${typeof value}`;
}
