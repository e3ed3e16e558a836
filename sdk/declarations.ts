/**
 * The arguments a user writes for each concept, and the handles `App`
 * returns. Handles are how entries refer to each other; the spec turns them
 * into names.
 */
import type { Accelerator, Duration, EnvValue, PlacementSpec, Size, TensorSpec } from "./spec";

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
  /** Dynamic batching. @default { maxBatchSize: 16, maxDelay: "5 ms", maxQueue: 256 } */
  batching?: { maxBatchSize?: number; maxDelay?: Duration; maxQueue?: number };
  regions: Region[];
  scaling?: ScalingPolicy;
  /** Measured cold start of this model. */
  coldStart?: Duration;
  /** Memory its server needs, for CPU models. @example "2 GB" */
  memory?: Size;
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

/** An HTTP route of the gateway. */
export interface RouteArgs {
  target: Fn | Model | VersionSplit;
  /** @default "api-key" */
  auth?: "none" | "api-key";
  rateLimit?: RateLimitArgs;
  /** Response cache. `varyHeaders` are added to the server-derived key. */
  cache?: { ttl: Duration; varyHeaders?: string[] };
  /**
   * Answer `202` with an invocation id and run the call from a durable queue
   * (see {@link AsyncArgs}); POST routes only. Batch inference: a model route may be asynchronous too.
   */
  async?: AsyncArgs | true;
}
