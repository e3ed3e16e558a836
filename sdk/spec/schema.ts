/**
 * The shape of Spec v1, as zod schemas. The TypeScript types of the spec are
 * inferred from these schemas, so the document's type and its structural
 * check can never drift apart. Semantic rules (references, ranges, per-target
 * limits) live in `rules/`.
 */
import { z } from "zod";
import type { ProblemCode } from "./problems";
import { isDuration, isPercent, isSize, type Duration, type Percent, type Size } from "./units";

/** The only API version this module reads and writes. */
export const API_VERSION = "cloudloom/v1";

/** Names become resource names on every target, so they follow DNS-label rules. */
export const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;
/** Model versions appear in aliases and labels. */
export const VERSION_PATTERN = /^[a-z0-9]([a-z0-9.-]{0,14}[a-z0-9])?$/;
/** Route keys are `<METHOD> /path`, with `:param` segments allowed. */
export const ROUTE_KEY_PATTERN = /^(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9._~:-]*)+$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Attaches a stable problem code and fix to a zod refinement. */
function coded(code: ProblemCode, message: string, fix: string) {
  return { message, params: { code, fix } };
}

const name = z
  .string()
  .refine(
    (v) => NAME_PATTERN.test(v),
    coded(
      "CL_NAME_INVALID",
      "is not a valid name",
      "use 1-32 lowercase letters, digits and dashes, starting with a letter and not ending with a dash",
    ),
  );
const version = z
  .string()
  .refine(
    (v) => VERSION_PATTERN.test(v),
    coded("CL_NAME_INVALID", "is not a valid model version", 'use lowercase letters, digits, dots and dashes, e.g. "1" or "2.1.0"'),
  );
const size = z
  .string()
  .refine(
    isSize,
    coded("CL_UNIT_MALFORMED", "is not a size", 'write it as "<number> KB|MB|GB", e.g. "512 MB"'),
  ) as unknown as z.ZodType<Size>;
const duration = z
  .string()
  .refine(
    isDuration,
    coded("CL_UNIT_MALFORMED", "is not a duration", 'write it as "<number> <unit>", e.g. "30 seconds" (ms, seconds, minutes, hours, days)'),
  ) as unknown as z.ZodType<Duration>;
const percent = z
  .string()
  .refine(
    isPercent,
    coded("CL_UNIT_MALFORMED", "is not a percent", 'write it as "<number>%", e.g. "1%" or "0.5%"'),
  ) as unknown as z.ZodType<Percent>;
const count = z.number().int().nonnegative();
const modelKey = z
  .string()
  .refine(
    (v) => /^[^@]+@[^@]+$/.test(v),
    coded("CL_NAME_INVALID", "is not a model key", 'models are keyed "<name>@<version>", e.g. "intent@1"'),
  );
const routeKey = z
  .string()
  .refine(
    (v) => ROUTE_KEY_PATTERN.test(v),
    coded("CL_ROUTE_PATH", "is not a route key", 'write routes as "<METHOD> /path", e.g. "POST /v1/classify"'),
  );

/**
 * What an edge site offers, declared in a placement for a site the edge-site
 * table (edge-sites.ts) does not know yet; it overrides the table's row.
 */
export const EdgeOffersSchema = z
  .object({
    /** Instance types sold there, e.g. ["t3.xlarge", "g4dn.2xlarge"]. */
    instanceTypes: z.array(z.string().min(1)).min(1),
    /** Spot (preemptible) capacity is sold there. */
    spot: z.boolean(),
    /** The target's serverless services (Lambda and SageMaker, Function Compute) run there. */
    serverless: z.boolean(),
  })
  .strict();

/** Where a region lives on each target. */
export const PlacementSchema = z
  .object({
    aws: z
      .object({
        region: z.string().min(1),
        /** A Local Zone or Wavelength zone, for edge regions. */
        zone: z.string().min(1).optional(),
        zoneType: z.enum(["local-zone", "wavelength"]).optional(),
        /** What the zone offers, for a zone the edge-site table does not know. */
        offers: EdgeOffersSchema.optional(),
      })
      .strict()
      .optional(),
    alicloud: z
      .object({
        region: z.string().min(1),
        /** An ENS (Edge Node Service) region, for edge regions. */
        ensRegion: z.string().min(1).optional(),
        /** What the ENS region offers, for one the edge-site table does not know. */
        offers: EdgeOffersSchema.optional(),
      })
      .strict()
      .optional(),
    kubernetes: z
      .object({
        /** Node labels that pin this region's workloads, e.g. topology.kubernetes.io/region. */
        labels: z.record(z.string().min(1), z.string()),
        /** Taints edge nodes carry, tolerated by this region's workloads. */
        tolerations: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A region: central, or an edge close to clients, and where it lives on each target. */
export const RegionSchema = z
  .object({
    kind: z.enum(["central", "edge"]),
    /** Locality keys (country codes, cell ids) whose clients this region serves first. */
    localities: z.array(z.string().min(1)),
    latencyBudget: duration.optional(),
    placement: PlacementSchema,
  })
  .strict();

/** A pool of GPU instances that models run on. */
export const GpuPoolSchema = z
  .object({
    accelerator: z.string(),
    gpusPerInstance: z.number().int().positive(),
    gpuMemory: size,
    minSize: count,
    maxSize: count,
    capacity: z.enum(["spot", "on-demand"]),
    /**
     * Where the pool's models run: the cloud's serverless GPUs (Function
     * Compute on alicloud) or Kubernetes node pools (EKS, ACK, your cluster).
     * Absent: the target's own choice (alicloud serverless, the others Kubernetes).
     */
    platform: z.enum(["serverless", "kubernetes"]).optional(),
    regions: z.array(name),
  })
  .strict();

/** A scheduled floor: at least `minInstances` from each `cron` start, for `duration`. */
export const ScheduleSchema = z
  .object({
    cron: z.string(),
    timezone: z.string(),
    minInstances: count,
    /** How long the floor holds after each start. */
    duration,
    /** Why the floor exists, for floors derived from history. */
    reason: z.string().optional(),
  })
  .strict();

/** Requests held while an entry starts: how many at once, and for how long each. */
export const HoldSchema = z
  .object({
    maxPending: z.number(),
    maxWait: duration,
  })
  .strict();

/** How a function or model scales: bounds, a target, scale-to-zero, held requests, floors and pre-warm. */
export const ScalingPolicySchema = z
  .object({
    minInstances: count,
    maxInstances: count,
    targetConcurrency: z.number().int().positive().optional(),
    /** Percent of CPU (or GPU) utilization to hold. */
    targetUtilization: z.number().positive().max(100).optional(),
    scaleToZero: z.object({ idleWindow: duration }).strict().optional(),
    /**
     * While the entry has no ready instance (at zero, or starting), the gateway
     * holds up to `maxPending` requests for it, each at most `maxWait`, and
     * lets them through once an instance is ready (see hold.ts for defaults).
     */
    hold: HoldSchema.optional(),
    schedules: z.array(ScheduleSchema),
    prewarm: z
      .object({
        leadTime: duration,
        lookBack: duration.optional(),
        /** An invocation history (trace CSV or Prometheus export), relative to the app's root, turned into scheduled floors. */
        history: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const TensorSchema = z
  .object({
    type: z.enum(["float32", "float64", "int32", "int64", "bool", "string"]),
    /** Dimensions; -1 marks a dynamic one (the batch axis). */
    shape: z.array(z.number().int().min(-1)),
  })
  .strict();

/**
 * One objective: a threshold on exactly one measure (which measures suit
 * which entries is `objectives.ts`'s MEASURES), judged over `window`, and
 * how urgent its alert is. Providers turn objectives into alert rules.
 */
export const ObjectiveSchema = z
  .object({
    /** Highest share of requests answered with a 5xx. */
    errorRate: percent.optional(),
    /** Highest 99th-percentile latency. */
    p99: duration.optional(),
    /** Highest share of calls that waited for an instance to start. */
    coldStartShare: percent.optional(),
    /** Highest average number of requests waiting in a model's batch queue. */
    queueDepth: z.number().optional(),
    /** Highest 99th-percentile time a request waits in a model's batch queue. */
    queueAge: duration.optional(),
    /** The span the measure is computed over. */
    window: duration,
    /** `page` wakes someone; `ticket` waits for working hours. */
    severity: z.enum(["page", "ticket"]),
  })
  .strict();

/** One immutable version of an ONNX model. */
export const ModelSchema = z
  .object({
    name,
    version,
    artifact: z
      .object({
        /** Path of the ONNX file, relative to the app's root. */
        path: z.string().min(1),
        sha256: z.string().regex(/^[a-f0-9]{64}$/, "must be 64 lowercase hex digits"),
      })
      .strict(),
    signature: z
      .object({
        inputs: z.record(z.string().min(1), TensorSchema),
        outputs: z.record(z.string().min(1), TensorSchema),
      })
      .strict(),
    /** GPU pool name; absent means the model runs on CPU. */
    pool: name.optional(),
    batching: z.object({ maxBatchSize: z.number(), maxDelay: duration, maxQueue: z.number() }).strict(),
    regions: z.array(name),
    scaling: name.optional(),
    /** Measured cold start, used by policies that weigh scale-to-zero against latency. */
    coldStart: duration.optional(),
    /** Memory a CPU model's server needs (SageMaker Serverless, pod requests). */
    memory: size.optional(),
    objectives: z.array(ObjectiveSchema).optional(),
  })
  .strict();

/**
 * An asynchronous entry's job settings: how often a failed invocation is
 * retried and how long it waits between attempts, how long one attempt may
 * run, whether invocations that fail every attempt are kept in a dead-letter
 * store, and how long an invocation and its result stay readable.
 */
export const AsyncSchema = z
  .object({
    /** Attempts after the first one that failed. */
    retries: z.number(),
    /** The wait before each retry: `delay` every time (`fixed`), or doubling from it (`exponential`). */
    backoff: z.object({ strategy: z.enum(["fixed", "exponential"]), delay: duration }).strict(),
    /** How long one attempt may run before it counts as failed. */
    timeout: duration,
    /** Keep invocations that failed every attempt in a dead-letter store (state `dead-lettered`) instead of only marking them `failed`. */
    deadLetter: z.boolean(),
    /** How long an invocation, its result or its error stay readable, and the longest a job waits in its queue. */
    retention: duration,
  })
  .strict();

const EnvValueSchema = z.union([z.string(), z.object({ secret: z.string().min(1) }).strict()]);

/** A function: its handler module, limits, environment, models and placement. */
export const FunctionSchema = z
  .object({
    handler: z.object({ module: z.string().min(1), export: z.string().min(1) }).strict(),
    memory: size,
    timeout: duration,
    /** Requests one instance serves at once. */
    concurrency: z.number().int().positive(),
    environment: z.record(
      z.string().regex(ENV_NAME_PATTERN, "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"),
      EnvValueSchema,
    ),
    models: z.array(modelKey),
    regions: z.array(name),
    scaling: name.optional(),
    objectives: z.array(ObjectiveSchema).optional(),
    /** Every route to this function is asynchronous, with these settings. */
    async: AsyncSchema.optional(),
  })
  .strict();

/** What a route calls: a function, or versions of one model with their weights. */
export const RouteTargetSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("function"), name }).strict(),
  z
    .object({
      kind: z.literal("model"),
      name,
      /** Percent of traffic per model version; they add up to 100. */
      weights: z.record(version, z.number().min(0).max(100)),
      strategy: z.enum(["single", "canary", "blue-green"]),
      /** Pick the version from the request id, so retries land on the same one. */
      sticky: z.boolean(),
    })
    .strict(),
]);

/** A route's rate limit. */
export const RateLimitSchema = z
  .object({
    requests: z.number(),
    per: duration,
    burst: z.number(),
    key: z.enum(["api-key", "ip", "route"]),
    /** What happens when the shared store (Redis) is unreachable. */
    onStoreFailure: z.enum(["open", "closed", "local"]),
  })
  .strict();

/**
 * What a rollout step must meet before the next one: each threshold is
 * judged on the rolled-out version's own requests in the step, absolute or
 * against the other version's (the baseline) in the same step.
 */
export const RolloutGateSchema = z
  .object({
    /** Highest share of the version's requests that may fail (5xx). */
    maxErrorRate: percent.optional(),
    /** Highest p99 latency of the version's requests. */
    maxP99: duration.optional(),
    /** Percentage points the version's error rate may exceed the baseline's by. */
    maxErrorRateIncrease: percent.optional(),
    /** Highest ratio of the version's p99 to the baseline's, e.g. 1.5. */
    maxP99Ratio: z.number().optional(),
    /** Requests the version must have served in a step before the step is judged. */
    minRequests: z.number(),
  })
  .strict();

/**
 * A progressive rollout of one of a route's two model versions: the gateway
 * moves the version's weight through `steps` (percent), one per `interval`,
 * while the step meets `gate`, and back to 0 when it does not.
 */
export const RolloutSchema = z
  .object({
    /** The version being rolled out; the route declares it at weight 0 and the other at 100. */
    version,
    /** The version's percent at each step, rising to 100. */
    steps: z.array(z.number()),
    /** How long each step lasts before it is judged and the next begins. */
    interval: duration,
    gate: RolloutGateSchema,
  })
  .strict();

/** An HTTP route of the gateway. */
export const RouteSchema = z
  .object({
    target: RouteTargetSchema,
    auth: z.enum(["none", "api-key"]),
    rateLimit: RateLimitSchema.optional(),
    cache: z
      .object({ ttl: duration, varyHeaders: z.array(z.string().min(1)) })
      .strict()
      .optional(),
    rollout: RolloutSchema.optional(),
    objectives: z.array(ObjectiveSchema).optional(),
    /** Answer `202 Accepted` with an invocation id and run the call from a durable queue, with these settings. */
    async: AsyncSchema.optional(),
  })
  .strict();

/** A whole Spec v1 document. */
export const SpecSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    app: name,
    regions: z.record(name, RegionSchema),
    gpuPools: z.record(name, GpuPoolSchema),
    scalingPolicies: z.record(name, ScalingPolicySchema),
    models: z.record(modelKey, ModelSchema),
    functions: z.record(name, FunctionSchema),
    routes: z.record(routeKey, RouteSchema),
  })
  .strict();

/** A validated cloudloom Spec v1 document. */
export type SpecV1 = z.infer<typeof SpecSchema>;
/** A region of a spec. */
export type RegionSpec = z.infer<typeof RegionSchema>;
/** Where a region lives on each target. */
export type PlacementSpec = z.infer<typeof PlacementSchema>;
/** A GPU pool of a spec. */
export type GpuPoolSpec = z.infer<typeof GpuPoolSchema>;
/** A scaling policy of a spec. */
export type ScalingPolicySpec = z.infer<typeof ScalingPolicySchema>;
/** What a scaling policy holds while its entry starts. */
export type HoldSpec = z.infer<typeof HoldSchema>;
/** A scheduled floor of a scaling policy. */
export type ScheduleSpec = z.infer<typeof ScheduleSchema>;
/** A model version of a spec. */
export type ModelSpec = z.infer<typeof ModelSchema>;
/** A tensor of a model's signature: its element type and shape (-1 for a dynamic dimension). */
export type TensorSpec = z.infer<typeof TensorSchema>;
/** A function of a spec. */
export type FunctionSpec = z.infer<typeof FunctionSchema>;
/** A route of a spec. */
export type RouteSpec = z.infer<typeof RouteSchema>;
/** What a route of a spec calls. */
export type RouteTargetSpec = z.infer<typeof RouteTargetSchema>;
/** A route's progressive rollout in a spec. */
export type RolloutSpec = z.infer<typeof RolloutSchema>;
/** What each step of a rollout must meet. */
export type RolloutGateSpec = z.infer<typeof RolloutGateSchema>;
/** A route's rate limit in a spec. */
export type RateLimitSpec = z.infer<typeof RateLimitSchema>;
/** An objective of a route, function or model in a spec. */
export type ObjectiveSpec = z.infer<typeof ObjectiveSchema>;
/** The asynchronous settings of a route or function. */
export type AsyncSpec = z.infer<typeof AsyncSchema>;
/** An environment value: a literal, or `{ secret: "NAME" }` read from the target's secret store. */
export type EnvValue = z.infer<typeof EnvValueSchema>;
