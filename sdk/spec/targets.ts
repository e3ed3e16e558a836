/**
 * The deployment targets and the documented limits that validation checks
 * before anything is created. Keeping the limits here, next to the spec,
 * means a declaration fails at `validate()` rather than halfway through a
 * deploy.
 */

/** Every target cloudloom deploys to. `local` is the embedded runtime. */
export const TARGETS = ["aws", "alicloud", "kubernetes"] as const;
/** A cloud target that Pulumi materializes. */
export type Target = (typeof TARGETS)[number];

/** Inclusive numeric range. */
export interface Range {
  min: number;
  max: number;
}

/** Limits a target places on a function. */
export interface FunctionLimits {
  /** Memory in MB. */
  memoryMb: Range;
  /** Timeout in seconds. */
  timeoutSeconds: Range;
  /** Where the numbers come from, quoted in error messages. */
  source: string;
}

/** Documented per-function limits of each target. */
export const FUNCTION_LIMITS: Record<Target, FunctionLimits> = {
  aws: {
    memoryMb: { min: 128, max: 10_240 },
    timeoutSeconds: { min: 1, max: 900 },
    source: "AWS Lambda quotas",
  },
  alicloud: {
    memoryMb: { min: 128, max: 32_768 },
    timeoutSeconds: { min: 1, max: 86_400 },
    source: "Function Compute 3.0 limits",
  },
  kubernetes: {
    memoryMb: { min: 64, max: 1_048_576 },
    timeoutSeconds: { min: 1, max: 86_400 },
    source: "cloudloom's Kubernetes runtime",
  },
};

/**
 * The timeout (seconds) of the Lambda function that works a model version's
 * queue on AWS: the attempt's own, plus time to record its outcome after the
 * attempt timed out.
 */
export function awsModelWorkerTimeoutSeconds(attemptSeconds: number): number {
  return Math.ceil(attemptSeconds) + 10;
}

/** Where GPU pools run: the cloud's serverless GPUs, or Kubernetes node pools. */
export type PoolPlatform = "serverless" | "kubernetes";

/** Where a GPU pool's models run on `target`: its declared platform, else the target's own choice (serverless GPUs exist only on alicloud). */
export function poolPlatform(pool: { platform?: PoolPlatform }, target: Target): PoolPlatform {
  return pool.platform ?? (target === "alicloud" ? "serverless" : "kubernetes");
}

/** True when `value` names a known target. */
export function isTarget(value: unknown): value is Target {
  return typeof value === "string" && (TARGETS as readonly string[]).includes(value);
}

/** SageMaker Serverless limits, which CPU models on AWS must fit: memory in 1 GB steps, and concurrency. */
export const SAGEMAKER_SERVERLESS = { memoryMb: { min: 1024, max: 6144, step: 1024 }, maxConcurrency: 200 } as const;

/** Function Compute 3.0 limits beyond memory and timeout ranges: steps and per-instance caps. */
export const FC_LIMITS = {
  memoryStepMb: 64,
  gpuMemoryStepMb: 1024,
  maxInstanceConcurrency: 200,
  source: "Function Compute 3.0 limits",
} as const;

/**
 * Node.js runtimes each target's functions may run on. AWS Lambda deprecated
 * nodejs20.x (end of life April 2026) and older; `newest` is the newest
 * `nodejs*` value of @pulumi/aws's `lambda.Runtime`, which functions and the
 * runtime layer use. A policy refuses any other runtime.
 */
export const FUNCTION_RUNTIMES = {
  aws: { newest: "nodejs24.x", supported: ["nodejs22.x", "nodejs24.x"], source: "AWS Lambda runtime deprecation policy" },
} as const;

/** Limits a target's queue places on asynchronous entries. */
export interface AsyncLimits {
  /** Retries after the first attempt. */
  retries: Range;
  /** How long an invocation may stay readable (and wait), in seconds. */
  retentionSeconds: Range;
  /** The wait before a retry, in seconds. */
  backoffSeconds: Range;
  /** Where the numbers come from, quoted in error messages. */
  source: string;
}

/**
 * Documented limits of each target's queue: SQS's maxReceiveCount (1–1,000
 * receives), message retention (1 minute to 14 days) and visibility timeout
 * (up to 12 hours, which carries the backoff); Function Compute's
 * maxAsyncRetryAttempts (0–8) and maxAsyncEventAgeInSeconds (up to 7 days,
 * also how long it answers GetAsyncTask); on Kubernetes, BullMQ on the app's
 * Redis, bounded by what a Redis volume sensibly keeps.
 */
export const ASYNC_LIMITS: Record<Target, AsyncLimits> = {
  aws: {
    retries: { min: 0, max: 999 },
    retentionSeconds: { min: 60, max: 1_209_600 },
    backoffSeconds: { min: 0.001, max: 43_200 },
    source: "Amazon SQS quotas",
  },
  alicloud: {
    retries: { min: 0, max: 8 },
    retentionSeconds: { min: 60, max: 604_800 },
    backoffSeconds: { min: 0.001, max: 43_200 },
    source: "Function Compute 3.0 asynchronous invocation limits",
  },
  kubernetes: {
    retries: { min: 0, max: 100 },
    retentionSeconds: { min: 60, max: 2_592_000 },
    backoffSeconds: { min: 0.001, max: 43_200 },
    source: "cloudloom's BullMQ queues",
  },
};
