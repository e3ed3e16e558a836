/**
 * The arguments a user writes for each concept, and the handles `App`
 * returns. Handles are how entries refer to each other; the spec turns them
 * into names.
 */
import type { Accelerator, Duration, EnvValue, Percent, PlacementSpec, Severity, Size, TensorSpec } from "./spec";

/** A declared entry of an app. Pass it wherever another entry refers to it. */
export class Declared<K extends string> {
  constructor(
    /** The app that declared this entry; entries of other apps are refused. */
    readonly app: object,
    /** What kind of entry this is. */
    readonly kind: K,
    /** The entry's name, unique within its kind. */
    readonly name: string,
  ) {}
}

/** A region handle, returned by `app.region()`. */
export type Region = Declared<"region">;
/** A GPU pool handle, returned by `app.gpuPool()`. */
export type GpuPool = Declared<"gpuPool">;
/** A scaling policy handle, returned by `app.scalingPolicy()`. */
export type ScalingPolicy = Declared<"scalingPolicy">;
/** A function handle, returned by `app.function()`. */
export type Fn = Declared<"function">;

/** A model version handle, returned by `app.model()`. */
export class Model extends Declared<"model"> {
  constructor(
    app: object,
    name: string,
    /** This entry's immutable version. */
    readonly version: string,
  ) {
    super(app, "model", name);
  }

  /** The spec key of this version: `<name>@<version>`. */
  get key(): string {
    return `${this.name}@${this.version}`;
  }
}

/** What a route promises: at most this share of errors, at most this p99 latency. */
export interface RouteMeasures {
  /** Highest share of requests answered with a 5xx. @example "1%" */
  errorRate: Percent;
  /** Highest 99th-percentile latency. @example "800 ms" */
  p99: Duration;
}

/** What a function promises: a route's measures, and its share of cold starts. */
export interface FunctionMeasures extends RouteMeasures {
  /** Highest share of calls that waited for an instance to start. @example "5%" */
  coldStartShare: Percent;
}

/** What a model version promises: a function's measures, and how its batch queue behaves. */
export interface ModelMeasures extends FunctionMeasures {
  /** Highest average number of requests waiting in the batch queue (below `batching.maxQueue`). @example 64 */
  queueDepth: number;
  /** Highest 99th-percentile time a request waits in the batch queue. @example "50 ms" */
  queueAge: Duration;
}

/** Exactly one of the measures of `M`. */
type OneMeasure<M> = { [K in keyof M]: Pick<M, K> & { [Other in Exclude<keyof M, K>]?: never } }[keyof M];

/** When an objective is judged, and how urgent its alert is. */
export interface ObjectiveTerms {
  /** The span the measure is computed over: whole minutes, from 1 minute to 1 day. @default "5 minutes" */
  window?: Duration;
  /** `page` wakes someone; `ticket` waits for working hours. @default "ticket" */
  severity?: Severity;
}

/**
 * An objective of a route: one measure's threshold, its window and severity.
 * Each becomes alert rules on every target.
 * @example { errorRate: "1%", window: "5 minutes", severity: "page" }
 */
export type RouteObjective = OneMeasure<RouteMeasures> & ObjectiveTerms;
/** An objective of a function. @example { coldStartShare: "5%", window: "1 hour" } */
export type FunctionObjective = OneMeasure<FunctionMeasures> & ObjectiveTerms;
/** An objective of a model version. @example { queueAge: "50 ms", severity: "page" } */
export type ModelObjective = OneMeasure<ModelMeasures> & ObjectiveTerms;

/** A region: central, or an edge site (5G / Local Zone / ENS) close to clients. */
export interface RegionArgs {
  kind: "central" | "edge";
  /**
   * Locality keys whose clients this region serves first (edge regions).
   * @default []
   * @example ["de", "cell-fra-1"]
   */
  localities?: string[];
  /** Latency the region promises its clients, e.g. `"20 ms"`. */
  latencyBudget?: Duration;
  /** Where the region lives on each target; a target without one cannot host the app. */
  placement: PlacementSpec;
}

/** A pool of GPU instances that models run on. */
export interface GpuPoolArgs {
  /** @example "nvidia-t4" */
  accelerator: Accelerator;
  /** @default 1 */
  gpusPerInstance?: number;
  /** GPU memory needed per instance. @default the accelerator's memory × gpusPerInstance */
  gpuMemory?: Size;
  /** @default 0 */
  minSize?: number;
  maxSize: number;
  /** @default "on-demand" */
  capacity?: "spot" | "on-demand";
  /**
   * `"kubernetes"` runs the pool's models on Kubernetes node pools (ACK on
   * alicloud); `"serverless"` on the cloud's serverless GPUs (Function
   * Compute GPU functions). @default the target's choice: serverless on
   * alicloud, Kubernetes on aws and kubernetes
   */
  platform?: "serverless" | "kubernetes";
  regions: Region[];
}

/** One scheduled floor: at least `minInstances` from `cron` on, in `timezone`. */
export interface ScheduleArgs {
  /** Five-field cron, e.g. `"0 8 * * 1-5"`. */
  cron: string;
  /** @default "UTC" */
  timezone?: string;
  minInstances: number;
  /** How long the floor holds after each start. @default "1 hour" */
  duration?: Duration;
}

/** How a function or model scales. One policy can serve several entries. */
export interface ScalingPolicyArgs {
  /** @default 0 */
  minInstances?: number;
  maxInstances: number;
  /** Concurrent requests per instance to hold. State this or targetUtilization. */
  targetConcurrency?: number;
  /** Utilization percent to hold. State this or targetConcurrency. */
  targetUtilization?: number;
  /** Unload every instance after this long without a request. */
  scaleToZero?: { idleWindow: Duration };
  /**
   * While no instance is ready (at zero, or starting), the gateway holds up
   * to `maxPending` requests for the entry, each at most `maxWait`, and sends
   * them on once one is; beyond either it answers 503 with Retry-After.
   * Functions calling a model under this policy wait the same way.
   * @default { maxPending: 100, maxWait: "30 seconds" } with scaleToZero, else none
   * @example { maxPending: 200, maxWait: "45 seconds" }
   */
  hold?: { maxPending: number; maxWait: Duration };
  /** Scheduled floors. @default [] */
  schedules?: ScheduleArgs[];
  /**
   * Predictive pre-warm: warm `leadTime` before predicted calls. Locally the
   * runtime learns from the calls it sees; with `history` (a trace CSV or a
   * Prometheus range export of the gateway's request counter, relative to the
   * app's root), the plan adds scheduled floors ahead of the busy hours.
   */
  prewarm?: { leadTime: Duration; lookBack?: Duration; history?: string };
}

/** One immutable version of an ONNX model. */
export interface ModelArgs {
  /** @example "1" */
  version: string;
  /** The ONNX file, relative to the app's root, and its sha256. */
  artifact: { path: string; sha256: string };
  signature: { inputs: Record<string, TensorSpec>; outputs: Record<string, TensorSpec> };
  /** The GPU pool to run on. @default CPU */
  pool?: GpuPool;
  /**
   * Dynamic batching: a request that finds the model idle runs at once, requests that arrive while it runs form
   * the next batch (up to `maxBatchSize`), and `maxDelay` bounds how long a request waits for a batch to fill.
   * @default { maxBatchSize: 16, maxDelay: "5 ms", maxQueue: 256 }
   */
  batching?: { maxBatchSize?: number; maxDelay?: Duration; maxQueue?: number };
  regions: Region[];
  scaling?: ScalingPolicy;
  /** Measured cold start of this model. */
  coldStart?: Duration;
  /** Memory its server needs, for CPU models. @example "2 GB" */
  memory?: Size;
  /** What this version promises; each becomes alert rules. @default [] */
  objectives?: ModelObjective[];
}

/**
 * Makes calls asynchronous: the gateway answers `202 Accepted` with an
 * invocation id, the call runs from a durable queue, and
 * `GET /v1/invocations/{id}` reads its state and result. `true` takes every default.
 *
 * @example { retries: 5, backoff: { strategy: "exponential", delay: "2 seconds" }, retention: "3 days" }
 */
export interface AsyncArgs {
  /** Attempts after the first one that failed. @default 3 */
  retries?: number;
  /** The wait before each retry. @default { strategy: "exponential", delay: "1 second" } */
  backoff?: { strategy?: "fixed" | "exponential"; delay?: Duration };
  /** How long one attempt may run. @default the function's timeout; "1 minute" for a model */
  timeout?: Duration;
  /** Keep invocations that failed every attempt in a dead-letter store. @default true */
  deadLetter?: boolean;
  /** How long an invocation and its result stay readable (and the longest it waits). @default "1 day" */
  retention?: Duration;
}

/** A function whose handler is a TypeScript module. */
export interface FunctionArgs {
  /**
   * The handler module, relative to the app's root, and its export.
   * @example "functions/classify.ts" or { module: "functions/classify.ts", export: "handler" }
   */
  handler: string | { module: string; export?: string };
  /** @default "512 MB" */
  memory?: Size;
  /** @default "30 seconds" */
  timeout?: Duration;
  /** Requests one instance serves at once. @default 10 */
  concurrency?: number;
  /** Literal values, or `{ secret: "NAME" }` read from the target's secret store. @default {} */
  environment?: Record<string, EnvValue>;
  /** Models the handler calls through `ctx.models`. @default [] */
  models?: Model[];
  regions: Region[];
  scaling?: ScalingPolicy;
  /** What this function promises; each becomes alert rules. @default [] */
  objectives?: FunctionObjective[];
  /** Every route to this function answers `202` and runs the call from a queue (see {@link AsyncArgs}). */
  async?: AsyncArgs | true;
}

/** A traffic split between versions of one model. */
export interface VersionSplit {
  /** `canary` shifts a share; `blue-green` switches all traffic at once. */
  strategy: "canary" | "blue-green";
  versions: Array<{ model: Model; weight: number }>;
  /** Choose the version from the request id so retries stay on it. @default false */
  sticky?: boolean;
}

/** A rate limit; `requests` per `per`, with `burst` extra. */
export interface RateLimitArgs {
  requests: number;
  per: Duration;
  /** @default 0 */
  burst?: number;
  /** @default "api-key" */
  key?: "api-key" | "ip" | "route";
  /** When Redis is unreachable. @default "local" (a per-instance limiter) */
  onStoreFailure?: "open" | "closed" | "local";
}

/**
 * What each rollout step must meet before the next begins. Give at least one
 * threshold; each is judged on the rolled-out version's own requests in the
 * step, alone or against the other version's (the baseline) in that step.
 */
export interface RolloutGateArgs {
  /** Highest share of the version's requests that may fail (5xx). @example "1%" */
  maxErrorRate?: Percent;
  /** Highest p99 latency of the version's requests. @example "500 ms" */
  maxP99?: Duration;
  /** Percentage points the version's error rate may exceed the baseline's by. @example "0.5%" */
  maxErrorRateIncrease?: Percent;
  /** Highest ratio of the version's p99 to the baseline's. @example 1.5 */
  maxP99Ratio?: number;
  /** Requests the version must serve in a step before the step is judged; until then it waits. @default 100 */
  minRequests?: number;
}

/**
 * A progressive rollout: the gateway moves `to` through `steps` (its percent
 * of the route's traffic), one step per `interval` while each step meets
 * `gate`, and back to 0 % on a breach. Declare the split with the current
 * version at weight 100 and `to` at 0.
 * @example { to: v2, steps: [5, 25, 50, 100], interval: "5 minutes", gate: { maxErrorRate: "1%", maxP99: "500 ms" } }
 */
export interface RolloutArgs {
  /** The version to roll out. @default the split's last version */
  to?: Model;
  /** Its percent at each step, rising to 100. @example [5, 25, 50, 100] */
  steps: number[];
  /** How long each step lasts before it is judged. @example "5 minutes" */
  interval: Duration;
  /**
   * What a step must meet. A threshold left out takes the route's strictest
   * objective of that measure (`errorRate` becomes `maxErrorRate`, `p99`
   * becomes `maxP99`), so a route's objectives gate its rollouts.
   * @default from the route's objectives
   */
  gate?: RolloutGateArgs;
}

/** An HTTP route of the gateway. */
export interface RouteArgs {
  target: Fn | Model | VersionSplit;
  /** @default "api-key" */
  auth?: "none" | "api-key";
  rateLimit?: RateLimitArgs;
  /** Response cache. `varyHeaders` are added to the server-derived key. */
  cache?: { ttl: Duration; varyHeaders?: string[] };
  /** Roll a split's new version out in steps gated on its error rate and latency (docs/rollouts.md). */
  rollout?: RolloutArgs;
  /**
   * What this route promises; each becomes alert rules on every target.
   * A production stack needs at least one on every route (policy
   * `cloudloom-objectives-on-routes`). @default []
   */
  objectives?: RouteObjective[];
  /**
   * Answer `202` with an invocation id and run the call from a durable queue
   * (see {@link AsyncArgs}); POST routes only. Batch inference: a model route may be asynchronous too.
   */
  async?: AsyncArgs | true;
}
