/**
 * Validation problems: every problem has a stable code, the path of the field
 * at fault, a message and a fix. `docs/errors.md` documents every code in
 * {@link PROBLEM_CODES}; a test keeps the two in step.
 */

/** Every stable problem code, with what it means. */
export const PROBLEM_CODES = {
  CL_FIELD_REQUIRED: "A required field is missing.",
  CL_FIELD_TYPE: "A field has the wrong type (for example a string where a number belongs).",
  CL_FIELD_UNKNOWN: "A field is not part of Spec v1 (often a typo).",
  CL_FIELD_VALUE: "A field's value is outside what it accepts (an enum, a pattern, or a number range).",
  CL_API_VERSION: "The document is not `apiVersion: cloudloom/v1`.",
  CL_NAME_INVALID: "A name cannot be used as a resource name on every target.",
  CL_DUPLICATE_NAME: "Two entries of one kind share a name (for models: a name and version).",
  CL_DANGLING_REFERENCE: "An entry refers to another entry that is not declared in this app.",
  CL_FOREIGN_REFERENCE: "An entry refers to an object declared in a different App.",
  CL_UNIT_MALFORMED: 'A size or duration is not written as "<number> <unit>", or a percent as "<number>%".',
  CL_MIN_GT_MAX: "A minimum is larger than its maximum.",
  CL_SCALE_TO_ZERO_CONFLICT: "Scale-to-zero is combined with a minimum or scheduled floor above zero.",
  CL_SCALING_TARGET: "A scaling policy states neither or both of target concurrency and utilization.",
  CL_HOLD_INVALID:
    "A scaling policy's hold keeps fewer than 1 or more than 10,000 pending requests, or holds each for zero time or longer than 5 minutes.",
  CL_BATCHING_LIMIT: "A batching limit (max batch, max delay, queue depth) is zero or negative.",
  CL_UNKNOWN_ACCELERATOR: "A GPU pool names an accelerator that is not in the catalog.",
  CL_ACCELERATOR_UNMAPPED: "A GPU pool's accelerator is not offered on the chosen target.",
  CL_GPU_MEMORY: "A GPU pool asks for more GPU memory than its accelerator has.",
  CL_POOL_REGION: "A model is placed in a region its GPU pool does not cover.",
  CL_ARTIFACT_MISSING: "A model's ONNX file does not exist.",
  CL_ARTIFACT_SHA256_MISMATCH: "A model's ONNX file does not match its declared sha256.",
  CL_ARTIFACT_INVALID: "A model's artifact file is not an ONNX model.",
  CL_SIGNATURE_MISMATCH:
    "A model's signature disagrees with its ONNX file: an input or output name, element type, rank or fixed dimension.",
  CL_HANDLER_MISSING: "A function's handler module does not exist.",
  CL_HANDLER_LOAD: "A function's handler module fails to load (a syntax error, or an error thrown while loading).",
  CL_HANDLER_EXPORT: "A function's handler module does not export a function under the handler's export name.",
  CL_PLACEMENT_MISSING: "A region used by the app has no placement for the chosen target.",
  CL_EDGE_LOCALITY: "An edge region declares no locality keys, so no client could ever be routed to it.",
  CL_RATE_LIMIT_INVALID: "A rate limit has a zero or negative rate, period or burst.",
  CL_CRON_INVALID: "A scheduled floor's cron expression does not parse.",
  CL_TIMEZONE_INVALID: "A scheduled floor's timezone is not an IANA zone.",
  CL_WEIGHTS_SUM: "A route's version weights do not add up to 100.",
  CL_WEIGHTS_MIXED_MODELS: "A route splits traffic between versions of different models.",
  CL_MEMORY_OUT_OF_RANGE: "A function's memory is outside the chosen target's limits.",
  CL_TIMEOUT_OUT_OF_RANGE: "A function's timeout is outside the chosen target's limits.",
  CL_TARGET_UNKNOWN: "The chosen target is not aws, alicloud or kubernetes.",
  CL_FC_LIMIT:
    "A function, model or GPU pool breaks a Function Compute 3.0 limit: memory in 64 MB steps, GPU memory in 1,024 MB steps, one GPU per instance, instance concurrency up to 200, an accelerator FC offers.",
  CL_SERVERLESS_LIMIT: "A CPU model exceeds SageMaker Serverless memory (6,144 MB) or concurrency (200) on AWS.",
  CL_PREWARM_HISTORY: "A scaling policy's pre-warm history file is missing or malformed.",
  CL_POOL_PLATFORM: "A GPU pool asks for a platform the chosen target cannot give it (serverless GPUs exist only on alicloud).",
  CL_ROUTE_PATH: "A route's key is not `<METHOD> /path`.",
  CL_ROLLOUT_TARGET:
    "A rollout is declared on a route that does not split exactly two versions of one model, or names a version the route does not split.",
  CL_ROLLOUT_WEIGHTS:
    "A rollout's route does not declare the rolled-out version at weight 0 and the other at 100, the weights it starts from.",
  CL_ROLLOUT_STEPS: "A rollout's steps are not percents rising to 100, or its interval is not above zero.",
  CL_ROLLOUT_GATE: "A rollout's gate has no threshold, a threshold out of range, or minRequests below 1.",
  CL_OBJECTIVE_MEASURE: "An objective states no measure, or more than one.",
  CL_OBJECTIVE_SCOPE: "An objective states a measure its entry does not have (a queue on a route, a cold start on a route).",
  CL_OBJECTIVE_THRESHOLD:
    "An objective's threshold can never be crossed (0% or 100%, a p99 at the function's timeout, a queue depth at maxQueue).",
  CL_OBJECTIVE_WINDOW: "An objective's window is not whole minutes between 1 minute and 1 day.",
  CL_OBJECTIVE_DUPLICATE: "An entry states the same measure twice at the same severity.",
  CL_EDGE_SITE_UNKNOWN:
    "An edge placement names an AWS zone or Alibaba ENS region that the edge-site table does not know, and does not declare what it offers.",
  CL_EDGE_SITE_PLACEMENT:
    "An edge placement disagrees with the edge-site table (the zone's type or parent region), or leaves out the zone type of a site the table does not know.",
  CL_EDGE_ACCELERATOR: "A GPU pool asks an edge site for an accelerator, or a GPU count per instance, that the site does not sell.",
  CL_EDGE_SPOT: "A GPU pool asks for Spot capacity in an edge site that sells none (Wavelength Zones are On-Demand only).",
  CL_ASYNC_RETRIES: "An asynchronous entry's retries are not a whole number within the target queue's limits.",
  CL_ASYNC_BACKOFF: "An asynchronous entry's backoff delay is zero, negative or longer than the target queue can wait.",
  CL_ASYNC_TIMEOUT: "An asynchronous entry's attempt timeout is zero, or longer than its function's own timeout.",
  CL_ASYNC_RETENTION: "An asynchronous entry keeps invocations for less or longer than the target's queue can.",
  CL_ASYNC_METHOD: "An asynchronous route is not a POST route.",
  CL_ASYNC_CACHE: "An asynchronous route also has a response cache.",
  CL_ASYNC_CONFLICT: "Two declarations queue one function or model version with different asynchronous settings.",
  CL_ASYNC_MODEL_HOST:
    "An asynchronous route queues a model version whose home region serves it where the target has no queue for it (ACK, a Wavelength Zone, an ENS node).",
  CL_ASYNC_FUNCTION_HOST:
    "An asynchronous function's home region runs it where the target has no queue for it (a Wavelength Zone, an ENS node).",
} as const;

/** A stable problem code. */
export type ProblemCode = keyof typeof PROBLEM_CODES;

/** One thing wrong with a declaration. */
export interface Problem {
  /** Stable code, listed in docs/errors.md. */
  code: ProblemCode;
  /** Dotted path of the field at fault, e.g. `functions.classify.scaling`. */
  path: string;
  /** What is wrong, quoting the offending value. */
  message: string;
  /** How to fix it. */
  fix: string;
}

/** Formats problems one per line: `CODE at path: message (fix: ...)`. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  ${p.code} at ${p.path || "(root)"}: ${p.message}\n    fix: ${p.fix}`).join("\n");
}

/**
 * Thrown when an app is built with problems. It lists all of them, so one run
 * shows everything there is to fix.
 */
export class SpecError extends Error {
  /** Stable code of this error class. */
  readonly code = "CL_INVALID_SPEC";
  constructor(
    /** The app whose declaration failed. */
    readonly app: string,
    /** Every problem found. */
    readonly problems: readonly Problem[],
  ) {
    super(`app "${app}" has ${problems.length} problem(s):\n${formatProblems(problems)}`);
    this.name = "SpecError";
  }
}
