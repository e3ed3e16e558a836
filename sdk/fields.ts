/**
 * The fields each declaration accepts, so that a misspelled one
 * (`memroy: "512 MB"`) is reported with the field the user meant instead of
 * being dropped. Each shape is typed against its declaration interface: a
 * field added to an interface without being added here does not compile.
 */
import {
  Declared,
  type AsyncArgs,
  type FunctionArgs,
  type GpuPoolArgs,
  type ModelArgs,
  type RateLimitArgs,
  type RegionArgs,
  type RolloutArgs,
  type RolloutGateArgs,
  type RouteArgs,
} from "./declarations";
import type { ScalingPolicyArgs, ScheduleArgs, VersionSplit } from "./declarations";
import { closest, type EdgeOffers, type EnvValue, type ObjectiveSpec, type PlacementSpec, type Problem, type TensorSpec } from "./spec";

/** What a value may hold: anything (checked later), an object's fields, a record's values or a list's items. */
export type Shape =
  | { readonly kind: "any" }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Shape>> }
  | { readonly kind: "record"; readonly values: Shape }
  | { readonly kind: "list"; readonly items: Shape };

const any: Shape = { kind: "any" };
/** An object with exactly the fields of `T`. */
const object = <T>(fields: { readonly [K in keyof Required<T>]: Shape }): Shape => ({ kind: "object", fields });
const record = (values: Shape): Shape => ({ kind: "record", values });
const list = (items: Shape): Shape => ({ kind: "list", items });

const OFFERS = object<EdgeOffers>({ instanceTypes: any, spot: any, serverless: any });
const PLACEMENT = object<PlacementSpec>({
  aws: object<NonNullable<PlacementSpec["aws"]>>({ region: any, zone: any, zoneType: any, offers: OFFERS }),
  alicloud: object<NonNullable<PlacementSpec["alicloud"]>>({ region: any, ensRegion: any, offers: OFFERS }),
  kubernetes: object<NonNullable<PlacementSpec["kubernetes"]>>({ labels: any, tolerations: any }),
});
const TENSOR = object<TensorSpec>({ type: any, shape: any });
const OBJECTIVES = list(
  object<ObjectiveSpec>({ errorRate: any, p99: any, coldStartShare: any, queueDepth: any, queueAge: any, window: any, severity: any }),
);
const ASYNC = object<AsyncArgs>({
  retries: any,
  backoff: object<NonNullable<AsyncArgs["backoff"]>>({ strategy: any, delay: any }),
  timeout: any,
  deadLetter: any,
  retention: any,
});

/** The fields of each declaration's arguments. */
export const DECLARATION_FIELDS = {
  region: object<RegionArgs>({ kind: any, localities: any, latencyBudget: any, placement: PLACEMENT }),
  gpuPool: object<GpuPoolArgs>({
    accelerator: any,
    gpusPerInstance: any,
    gpuMemory: any,
    minSize: any,
    maxSize: any,
    capacity: any,
    platform: any,
    regions: any,
  }),
  scalingPolicy: object<ScalingPolicyArgs>({
    minInstances: any,
    maxInstances: any,
    targetConcurrency: any,
    targetUtilization: any,
    scaleToZero: object<NonNullable<ScalingPolicyArgs["scaleToZero"]>>({ idleWindow: any }),
    hold: object<NonNullable<ScalingPolicyArgs["hold"]>>({ maxPending: any, maxWait: any }),
    schedules: list(object<ScheduleArgs>({ cron: any, timezone: any, minInstances: any, duration: any })),
    prewarm: object<NonNullable<ScalingPolicyArgs["prewarm"]>>({ leadTime: any, lookBack: any, history: any }),
  }),
  model: object<ModelArgs>({
    version: any,
    artifact: object<ModelArgs["artifact"]>({ path: any, sha256: any }),
    signature: object<ModelArgs["signature"]>({ inputs: record(TENSOR), outputs: record(TENSOR) }),
    pool: any,
    batching: object<NonNullable<ModelArgs["batching"]>>({ maxBatchSize: any, maxDelay: any, maxQueue: any }),
    regions: any,
    scaling: any,
    coldStart: any,
    memory: any,
    objectives: OBJECTIVES,
  }),
  function: object<FunctionArgs>({
    handler: object<Exclude<FunctionArgs["handler"], string>>({ module: any, export: any }),
    memory: any,
    timeout: any,
    concurrency: any,
    environment: record(object<Exclude<EnvValue, string>>({ secret: any })),
    models: any,
    regions: any,
    scaling: any,
    objectives: OBJECTIVES,
    async: ASYNC,
  }),
  route: object<RouteArgs>({
    target: object<VersionSplit>({
      strategy: any,
      versions: list(object<VersionSplit["versions"][number]>({ model: any, weight: any })),
      sticky: any,
    }),
    auth: any,
    rateLimit: object<RateLimitArgs>({ requests: any, per: any, burst: any, key: any, onStoreFailure: any }),
    cache: object<NonNullable<RouteArgs["cache"]>>({ ttl: any, varyHeaders: any }),
    rollout: object<RolloutArgs>({
      to: any,
      steps: any,
      interval: any,
      gate: object<RolloutGateArgs>({ maxErrorRate: any, maxP99: any, maxErrorRateIncrease: any, maxP99Ratio: any, minRequests: any }),
    }),
    objectives: OBJECTIVES,
    async: ASYNC,
  }),
} as const satisfies Record<string, Shape>;

/** A plain object of fields: not null, an array, or an entry's handle. */
export function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Declared);
}

/**
 * `value` without the fields `shape` does not know, each reported as
 * CL_FIELD_UNKNOWN at its path with the closest known field. Values of the
 * wrong type are returned as they are, for validation to report; handles
 * are kept as they are.
 */
export function knownFields(value: unknown, shape: Shape, path: string, problems: Problem[]): unknown {
  if (shape.kind === "list")
    return Array.isArray(value) ? value.map((item, i) => knownFields(item, shape.items, `${path}.${i}`, problems)) : value;
  if (shape.kind === "any" || !isFields(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (shape.kind === "record") {
      result[key] = knownFields(item, shape.values, `${path}.${key}`, problems);
    } else if (Object.hasOwn(shape.fields, key)) {
      result[key] = knownFields(item, shape.fields[key], `${path}.${key}`, problems);
    } else {
      problems.push(unknownField(path, key, Object.keys(shape.fields)));
    }
  }
  return result;
}

function unknownField(path: string, key: string, known: string[]): Problem {
  const suggestion = closest(key, known);
  return {
    code: "CL_FIELD_UNKNOWN",
    path: `${path}.${key}`,
    message: `"${key}" is not a field of ${path}${suggestion ? `; did you mean "${suggestion}"?` : ""}`,
    fix: suggestion ? `rename "${key}" to "${suggestion}"` : `remove "${key}"; ${path} takes: ${known.join(", ")}`,
  };
}
