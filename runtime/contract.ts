/**
 * The runtime's contract with everything that deploys, checks or calls it:
 * the environment variables it reads, the internal paths it answers on, the
 * JWT it may require, and the arguments its container takes. Providers set
 * these, the policy pack checks them, the gateway calls them and the runtime
 * reads them, all from this one module.
 *
 * It also holds the error contract every cloudloom server answers with (one
 * code-to-status map; the gateway passes the runtime's errors through it)
 * and how every server drains on SIGTERM.
 *
 * It imports nothing (types aside), so planning a stack or evaluating a
 * policy never loads the runtime (onnxruntime, jose, express).
 */

import type { Server } from "node:http";

/** The port every runtime container listens on. */
export const CONTAINER_PORT = 8080;

/** Environment variables the runtime reads. */
export const RUNTIME_ENV = {
  /** Function secrets arrive as `CLOUDLOOM_SECRET_<NAME>` on the local target. */
  secretPrefix: "CLOUDLOOM_SECRET_",
  /**
   * ARN of the Secrets Manager secret holding a Lambda function's declared secrets, as a JSON object of
   * variable name to value: no secret value sits in the function's configuration. The runtime reads it
   * once, at cold start, with the function's own role (which may read exactly that secret), and hands the
   * values to the handler in `ctx.env`.
   */
  secretsArn: "CLOUDLOOM_SECRETS_ARN",
  /**
   * For tests only: the Secrets Manager endpoint (`http://127.0.0.1:<port>`) the runtime reads
   * `CLOUDLOOM_SECRETS_ARN` from, instead of `https://secretsmanager.<region>.amazonaws.com`.
   * Requests are signed for the secret's own region either way.
   */
  secretsEndpoint: "CLOUDLOOM_SECRETS_ENDPOINT",
  /** JSON the stack gives a serverless function: its region, its models' endpoints, its declared variables. */
  serverlessConfig: "CLOUDLOOM_RUNTIME",
  /** The model version a version-agnostic pod serves (`{version}` in its arguments). */
  modelVersion: "CLOUDLOOM_MODEL_VERSION",
  /** `<name>@<version>`: set on a SageMaker model container, which is started with `serve` and no other arguments. */
  sagemakerModel: "CLOUDLOOM_SAGEMAKER_MODEL",
  /** The spec region a SageMaker model container serves. */
  region: "CLOUDLOOM_REGION",
  /** The gateway's Redis URL, password included: set from a Secret, so it never sits in a settings file. */
  redisUrl: "CLOUDLOOM_REDIS_URL",
  /** The Deployment a pod belongs to (from its `cloudloom.dev/workload` label), which labels its in-flight gauge. */
  workload: "CLOUDLOOM_WORKLOAD",
  /**
   * How long a queue worker's lock on a job lasts without renewal, in ms (BullMQ's `lockDuration`, and its
   * stalled-job check interval): how soon a job whose worker died runs again. Default 30000.
   */
  queueLockMs: "CLOUDLOOM_QUEUE_LOCK_MS",
  /** API keys the gateway accepts, comma- or newline-separated. */
  apiKeys: "CLOUDLOOM_API_KEYS",
  /** The gateway's admin key (reload, rollouts), unless its settings set one; also what `cloudloom rollout` sends. */
  adminKey: "CLOUDLOOM_ADMIN_KEY",
  /** The PEM of the private key the gateway (and a function calling JWT-guarded models) signs backend JWTs with. */
  jwtPrivateKey: "CLOUDLOOM_JWT_PRIVATE_KEY",
  /**
   * On Alibaba Cloud: the name of the KMS Secrets Manager secret that holds that PEM. The stack sets it
   * instead of the key itself; the runtime reads the secret once, at cold start, with the function's own
   * RAM role (FC's STS credentials), and sets `CLOUDLOOM_JWT_PRIVATE_KEY` in its own process only.
   */
  jwtPrivateKeySecret: "CLOUDLOOM_JWT_PRIVATE_KEY_SECRET",
  /**
   * On Alibaba Cloud: JSON object of a function's declared secret variable to the name of the KMS
   * Secrets Manager secret holding its value (`{"CRM_TOKEN":"<app>-<region>-secret-crm-token"}`); the
   * runtime reads them at cold start, like the JWT key, and the handler sees them in `ctx.env`.
   */
  kmsSecrets: "CLOUDLOOM_KMS_SECRETS",
  /**
   * The token a function pod's reports of its calls to models (DEMAND_REPORT_PATH) carry, and that the
   * gateway accepts them with: set on both from one Secret. Without it the gateway refuses every report.
   */
  demandToken: "CLOUDLOOM_DEMAND_TOKEN",
  /**
   * The token the gateway's operational reads (`/metrics`, DEMAND_PATH) take as `Authorization: Bearer`:
   * what Prometheus and KEDA present, set on the gateway and on them from one secret. Every deployed
   * gateway has one; without it only a local-target gateway leaves those paths open.
   */
  metricsToken: "CLOUDLOOM_METRICS_TOKEN",
  /** Where a function pod reports its held and in-flight calls to models: the gateway's DEMAND_REPORT_PATH URL. */
  demandReportUrl: "CLOUDLOOM_DEMAND_REPORT_URL",
} as const;

/**
 * How the runtime reaches KMS Secrets Manager on Alibaba Cloud (runtime/serverless/alicloud-secrets.ts).
 * FC sets the credentials of the function's role (STS) and its region in every instance.
 */
export const ALICLOUD_SECRETS_ENV = {
  /** Overrides the KMS endpoint, `http(s)://host[:port]` (a stand-in in tests); default `https://kms.<region>.aliyuncs.com`. */
  kmsEndpoint: "CLOUDLOOM_KMS_ENDPOINT",
  /** The Alibaba Cloud region (e.g. `eu-central-1`) the stack sets beside the secret's name; else FC's own `FC_REGION`. */
  region: "CLOUDLOOM_ALICLOUD_REGION",
  /** The region FC sets in every function instance. */
  fcRegion: "FC_REGION",
  accessKeyId: "ALIBABA_CLOUD_ACCESS_KEY_ID",
  accessKeySecret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
  securityToken: "ALIBABA_CLOUD_SECURITY_TOKEN",
} as const;

/** What makes a pod require the gateway's JWT: the public JWKS, the issuer and the pod's audience. */
export const JWT_ENV = { jwks: "CLOUDLOOM_JWT_JWKS", issuer: "CLOUDLOOM_JWT_ISSUER", audience: "CLOUDLOOM_JWT_AUDIENCE" } as const;

/** The request fields a backend signature covers. */
export interface SignedRequest {
  host: string;
  path: string;
  method: string;
  contentType?: string;
  body: Buffer;
}

/**
 * The headers that authenticate one request to a backend (SigV4, a minted JWT). Asynchronous, since
 * SigV4 credentials may have to be fetched (the container credentials endpoint); rejects with a
 * ServingError (BAD_GATEWAY) when they cannot be had.
 */
export type BackendAuth = (request: SignedRequest) => Promise<Record<string, string>>;

/** The issuer of the JWTs the gateway mints for its backends. */
export const JWT_ISSUER = "cloudloom";

/** The prefix of every internal path. */
export const INTERNAL_PREFIX = "/_cloudloom";

/** Internal path a model server answers predictions on (`key` is `name@version`, or a model name behind a backend split). */
export const modelPredictPath = (key: string): string => `${INTERNAL_PREFIX}/models/${encodeURIComponent(key)}`;

/** The gateway's rollout endpoints: GET for status, POST `<path>/pause|resume|abort`; `?route=` picks one (admin key). */
export const ROLLOUTS_PATH = `${INTERNAL_PREFIX}/rollouts`;

/** Internal path a function server answers invocations on. */
export const functionInvokePath = (name: string): string => `${INTERNAL_PREFIX}/functions/${encodeURIComponent(name)}`;

/**
 * The gauge of requests in flight in a pod, by `deployment`: what the HPA and KEDA scale a workload on.
 * OpenTelemetry's `http.server.active_requests`, in Prometheus form.
 */
export const INFLIGHT_METRIC = "http_server_active_requests";

/**
 * Prometheus names of the metrics that alert rules query. Where OpenTelemetry's
 * semantic conventions name a measurement, the name is the convention's in
 * Prometheus form (dots become underscores, the unit a suffix); the rest are
 * cloudloom's own, prefixed `cloudloom_`.
 */
export const METRIC_NAMES = {
  /** The gateway's request duration histogram (`http.server.request.duration`), labelled {@link HTTP_LABELS}, `region` and `version`. */
  httpServerDuration: "http_server_request_duration_seconds",
  /** Calls a runtime served, by `entry`, `region` and `start` (`cold` when the call waited for an instance to start, else `warm`). */
  invocations: "cloudloom_invocations_total",
  /** Requests waiting in a model's batch queue, by `model` and `region`. */
  modelQueueDepth: "cloudloom_model_queue_depth",
  /** Time requests waited in a model's batch queue, by `model` and `region`. */
  modelQueueDuration: "cloudloom_model_queue_duration_seconds",
} as const;

/** Label names of {@link METRIC_NAMES.httpServerDuration}: OpenTelemetry's HTTP attributes in Prometheus form. */
export const HTTP_LABELS = { method: "http_request_method", route: "http_route", status: "http_response_status_code" } as const;

/**
 * The response header of a request that was held while its target started:
 * how long it waited, in whole milliseconds (`x-cloudloom-held-ms: 1834`).
 */
export const HELD_HEADER = "x-cloudloom-held-ms";

/**
 * The gateway's JSON of requests held (`pending`) and in flight per function
 * or model version and region: all of them, or with `?kind=&entry=&region=`
 * one, whose `demand` (pending plus in flight) a KEDA metrics-api trigger
 * scales that workload on, from zero.
 */
export const DEMAND_PATH = "/metrics/demand";

/** The query of one function's (by name) or model version's (`name@version`) demand in one region, at DEMAND_PATH. */
export function demandQuery(kind: "function" | "model", entry: string, region: string): string {
  return `${DEMAND_PATH}?${new URLSearchParams({ kind, entry, region })}`;
}

/**
 * Where a process that calls models holding requests (a function pod) reports its calls to them, held
 * and in flight, so they count in DEMAND_PATH: `PUT` a {@link DemandReport} with
 * `Authorization: Bearer <CLOUDLOOM_DEMAND_TOKEN>`. Each report restates the source's counts; they
 * expire DEMAND_REPORT.ttlMs after the last one.
 */
export const DEMAND_REPORT_PATH = `${INTERNAL_PREFIX}/demand`;

/** One process's calls to model versions, as it reports them to DEMAND_REPORT_PATH. */
export interface DemandReport {
  /** The reporting process, stable while it runs (`[A-Za-z0-9._-]`, 1-64 characters). */
  source: string;
  /** Its calls per model version (`name@version`) and the region they go to; counts are whole numbers. */
  calls: Array<{ model: string; region: string; pending: number; inFlight: number }>;
}

/** Bounds of demand reports, shared by the reporters and the gateway. */
export const DEMAND_REPORT = {
  /** How often a reporter restates its counts while it has calls (and once after, to clear them). */
  intervalMs: 1_000,
  /** How long the gateway counts a report that is not restated: a reporter that stopped stops counting. */
  ttlMs: 5_000,
  /** The largest report body. */
  maxBytes: 16_384,
  /** Model versions in one report. */
  maxCalls: 64,
  /** The largest in-flight count of one model version in one report (held calls are bounded by its hold's maxPending). */
  maxInFlight: 10_000,
  /** Reporting processes the gateway counts at once; a new one beyond them is refused until others expire. */
  maxSources: 1_024,
} as const;

/** Readiness (503 until every entry of the pod can serve) and liveness paths of a runtime container. */
export const HEALTH_PATHS = { ready: "/readyz", live: "/healthz" } as const;

/** The command that starts the runtime in its image. */
export const RUNTIME_ENTRYPOINT = ["node", "/opt/cloudloom/cli/bin.js"] as const;

/** What one runtime container serves: one function or model version of a spec, in one region. */
export interface PodServeArgs<T = string> {
  /** Path of the spec JSON inside the container. */
  spec: string;
  /** `model:<name@version>` (or `model:<name>@{version}`) or `function:<name>`. */
  only: string;
  region: string;
  /** Path of the model artifact, for a model. */
  artifact?: string;
  /** Directory handler modules and artifacts are relative to. */
  root?: string;
  /** `<name@version>=<url>` per model a function calls. */
  modelUrls?: readonly T[];
}

/**
 * The arguments of `cloudloom serve` for one runtime container listening on
 * every interface at CONTAINER_PORT. Elements of `modelUrls` pass through
 * as they are (a provider may hand in values it resolves later).
 */
export function podServeArgs<T = string>(args: PodServeArgs<T>): Array<string | T> {
  return [
    "serve",
    "--spec",
    args.spec,
    "--only",
    args.only,
    "--region",
    args.region,
    "--host",
    "0.0.0.0",
    "--port",
    String(CONTAINER_PORT),
    ...(args.artifact ? ["--artifact", args.artifact] : []),
    ...(args.root ? ["--root", args.root] : []),
    ...(args.modelUrls ?? []).flatMap((url) => ["--model-url", url]),
  ];
}

/** Where SageMaker puts a model container's data (the artifact prefix: `spec.json` and `model.onnx`). */
export const SAGEMAKER_MODEL_DIR = "/opt/ml/model";

/** The status SageMaker's InvokeEndpoint answers a model container's own 4xx or 5xx with (ModelError). */
export const SAGEMAKER_MODEL_ERROR_STATUS = 424;

/**
 * The model container's own answer inside a SageMaker InvokeEndpoint answer:
 * a 424 ModelError is a JSON envelope carrying the container's status
 * (`OriginalStatusCode`) and its body as a string (`OriginalMessage`).
 * Undefined for any other answer, and for a 424 whose body is not that
 * envelope (which is then the answer as it came). Both callers of SageMaker
 * read answers through it: the gateway's synchronous calls and the model job
 * worker.
 */
export function sageMakerContainerAnswer(status: number, body: Buffer): { status: number; body: Buffer } | undefined {
  if (status !== SAGEMAKER_MODEL_ERROR_STATUS) return undefined;
  let envelope: { OriginalStatusCode?: unknown; OriginalMessage?: unknown } | null;
  try {
    envelope = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  const original = envelope?.OriginalStatusCode;
  // SageMaker wraps only a container's 4xx and 5xx: an envelope claiming anything else is not one, and unwrapped it
  // would turn an error into a success the cache keeps and a job settles with, or a 204/304 that cannot carry the body.
  if (typeof original !== "number" || !Number.isInteger(original) || original < 400 || original > 599) return undefined;
  const message = envelope?.OriginalMessage;
  return { status: original, body: Buffer.from(typeof message === "string" ? message : "", "utf8") };
}

/**
 * The arguments of `cloudloom serve` for a gateway container: the spec and
 * the endpoints map (both files in `configDir`), listening on every interface
 * (`--host 0.0.0.0`, so probes and Services reach it) at CONTAINER_PORT; with
 * `settings`, the gateway settings file `settings.json` in `configDir` too.
 * API keys come from `RUNTIME_ENV.apiKeys`.
 */
export function gatewayServeArgs(configDir: string, options: { settings?: boolean } = {}): string[] {
  return [
    "serve",
    "--spec",
    `${configDir}/spec.json`,
    "--endpoints",
    `${configDir}/endpoints.json`,
    ...(options.settings ? ["--config", `${configDir}/settings.json`] : []),
    "--host",
    "0.0.0.0",
    "--port",
    String(CONTAINER_PORT),
  ];
}

/** The module a serverless runtime layer provides (found on NODE_PATH under `/opt/nodejs/node_modules`). */
export const SERVERLESS_RUNTIME_MODULE = "cloudloom-runtime";

/** The wrapper each serverless platform's functions call, exported by the runtime module. */
export const SERVERLESS_ADAPTERS = { lambda: "lambdaHandler", fc: "fcHandler" } as const;

/** The runtime module's handler of a model version's asynchronous jobs on Lambda (a job worker's whole package calls it). */
export const MODEL_JOBS_ADAPTER = "modelJobsHandler";

/*
 * Errors. Every error a client sees is `{"error":{"code","message"}}`; 5xx
 * messages are fixed texts, so internals never reach a client.
 */

/** Status of every error code a cloudloom server (gateway, pod, function) sends. */
export const ERROR_STATUS = {
  INVALID_INPUT: 400,
  BAD_JSON: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  /** The request conflicts with the state of what it acts on (a rollout that already finished). */
  CONFLICT: 409,
  EXPECTATION_FAILED: 417,
  /** An Idempotency-Key submission whose first request with that key is still being enqueued. */
  IDEMPOTENCY_KEY_IN_USE: 409,
  /** An Idempotency-Key reused with another payload (the IETF draft's 422). */
  IDEMPOTENCY_KEY_MISMATCH: 422,
  RATE_LIMITED: 429,
  CONCURRENCY_LIMIT: 429,
  /** The client closed the connection before its response: recorded and counted, never sent. */
  CLIENT_CLOSED: 499,
  FUNCTION_FAILED: 500,
  /** A model version's session failed while running a batch (the cause goes to the log). */
  MODEL_FAILED: 500,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  QUEUE_FULL: 503,
  /** The target is starting and already holds as many requests as its policy's `hold.maxPending`. */
  HOLD_FULL: 503,
  /** The target did not become ready within its policy's `hold.maxWait`. */
  HOLD_TIMEOUT: 503,
  /** The queue of an asynchronous route cannot take or report a job right now (its store is unreachable). */
  QUEUE_UNAVAILABLE: 503,
  NO_HEALTHY_BACKEND: 503,
  LIMITER_UNAVAILABLE: 503,
  MODEL_UNAVAILABLE: 503,
  /** The store of shared state (a rollout's, in Redis) cannot be read or written now. */
  STORE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  /** An asynchronous attempt ran past its `async.timeout` (recorded on the invocation, never an HTTP answer). */
  INVOCATION_TIMEOUT: 504,
  /** An asynchronous job waited in its queue past its `async.retention` and was not run (recorded on the invocation). */
  INVOCATION_EXPIRED: 410,
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error meant for a client: a code, a safe message, and optional headers. */
export class ServingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ServingError";
  }

  /** HTTP status from the one map. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** The 503 a queue answers when its store (Redis, SQS and DynamoDB, FC) cannot be reached, with the store's error as its cause. */
export function queueUnavailable(cause: unknown): ServingError {
  return Object.assign(
    new ServingError("QUEUE_UNAVAILABLE", "the queue cannot be reached right now; retry shortly", { "retry-after": "1" }),
    { cause },
  );
}

/** Runs a queue operation; any failure but a ServingError becomes {@link queueUnavailable}. */
export async function queueOperation<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ServingError) throw error;
    throw queueUnavailable(error);
  }
}

/*
 * Asynchronous invocations. The gateway submits a job to the queue of the
 * entry an asynchronous route reaches and answers 202 with its id; workers
 * (the runtime in-process or in the entry's pods, a Lambda behind SQS,
 * Function Compute itself) run it; GET INVOCATIONS_PATH/{id} reads it back.
 */

/** Where a client reads an invocation: `GET /v1/invocations/{id}`. */
export const INVOCATIONS_PATH = "/v1/invocations";

/** Every state an invocation reports, in the order it moves through them. */
export const INVOCATION_STATES = ["queued", "running", "succeeded", "failed", "dead-lettered"] as const;

/** The state of an asynchronous invocation. */
export type InvocationState = (typeof INVOCATION_STATES)[number];

/** The call a job carries: the request as the entry would have received it, the body base64-encoded. */
export interface JobRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  /** The body's bytes, base64. */
  body: string;
}

/** One asynchronous job: which entry runs it, for whom, and the call. */
export interface AsyncJob {
  id: string;
  /** The tenant that submitted it; only that tenant may read it. */
  tenant: string;
  /** The route key it was submitted to. */
  route: string;
  kind: "function" | "model";
  /** Function name or model version key. */
  entry: string;
  /** The region whose worker runs it. */
  region: string;
  request: JobRequest;
  /** When the gateway took it (epoch ms). */
  submittedAt: number;
}

/** What the entry answered: its status and JSON body. */
export interface InvocationResult {
  status: number;
  body: unknown;
}

/** An invocation as its queue reports it. */
export interface InvocationRecord {
  id: string;
  tenant: string;
  state: InvocationState;
  /** Attempts begun so far. */
  attempts: number;
  /** Epoch ms. */
  submittedAt: number;
  /** When the latest attempt began (epoch ms). */
  startedAt?: number;
  /** When it reached its final state (epoch ms). */
  finishedAt?: number;
  /** The entry's answer, once it answered (2xx and 3xx: `succeeded`; 4xx: `failed`, never retried). */
  result?: InvocationResult;
  /** Why the last attempt failed: a stable code and a safe message (internals go to the worker's log). */
  error?: { code: string; message: string };
}

/**
 * One entry's queue, as the gateway uses it: submit a job, read an
 * invocation back. Implementations: BullMQ on Redis and an in-process queue
 * (runtime/queue), SQS with a DynamoDB state table, Function Compute's
 * asynchronous invocation.
 */
export interface InvocationQueue {
  /** Whether a job survives the process that submitted it (false for the in-process queue). */
  readonly durable: boolean;
  /** Enqueues `job`; rejects with QUEUE_UNAVAILABLE when the queue cannot take it. */
  submit(job: AsyncJob): Promise<void>;
  /** The invocation `id`, or undefined when the queue does not know it (never submitted, or past its retention). */
  read(id: string): Promise<InvocationRecord | undefined>;
}

/**
 * The largest body Function Compute takes in an asynchronous call of an HTTP
 * trigger (128 KB; a synchronous call takes 32 MB).
 */
export const FC_ASYNC_MAX_BODY_BYTES = 131_072;

/**
 * The header the gateway marks each asynchronous call to Function Compute
 * with (the invocation id): an answer to a marked call that is a 5xx must
 * fail FC's attempt, so FC retries it and, after the last, dead-letters it.
 */
export const INVOCATION_HEADER = "x-cloudloom-invocation";

/**
 * How a custom container tells Function Compute that an invocation failed:
 * this response header with FC_FAILED_STATUS. An answer without it counts as
 * a success, whatever its HTTP status.
 */
export const FC_STATUS_HEADER = "x-fc-status";

/** The value of FC_STATUS_HEADER that fails the invocation. */
export const FC_FAILED_STATUS = "404";

/** The largest SQS message cloudloom's queues take (their `maxMessageSize`): a job's JSON, its body base64-encoded inside. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;

/** The BullMQ key prefix of every cloudloom queue. */
export const QUEUE_PREFIX = "cl";

/** The BullMQ queue name of an asynchronous entry (`kind` function or model, `entry` its name or key). */
export const queueName = (app: string, kind: "function" | "model", entry: string): string => `${app}.${kind}.${entry}`;

/**
 * The Redis lists of a BullMQ queue that hold its waiting and running jobs:
 * what a KEDA redis trigger measures (a retry waiting out its backoff sits in
 * the delayed set, which the worker that failed it promotes itself).
 */
export const queueListKeys = (name: string): { wait: string; active: string } => ({
  wait: `${QUEUE_PREFIX}:${name}:wait`,
  active: `${QUEUE_PREFIX}:${name}:active`,
});

const SAFE_5XX: Partial<Record<ErrorCode, string>> = {
  FUNCTION_FAILED: "the function failed; see the server log for this request id",
  MODEL_FAILED: "the model failed to run; see the server log for this request id",
  INTERNAL: "internal error; see the server log for this request id",
};

/** The status, headers and JSON body to send for any thrown value. */
export function toErrorResponse(error: unknown): {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: ErrorCode; message: string } };
} {
  const known = error instanceof ServingError ? error : new ServingError("INTERNAL", "internal error");
  const message = SAFE_5XX[known.code] ?? known.message;
  return { status: known.status, headers: known.headers, body: { error: { code: known.code, message } } };
}

/**
 * Starts `server` listening; rejects (instead of crashing the process with an
 * unhandled 'error' event) when the port is in use or may not be bound.
 */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

/** Graceful HTTP shutdown, as every cloudloom server drains within its termination grace period. */
/**
 * Stops accepting connections and resolves once every request in flight has
 * finished. Keep-alive connections go idle as their last response ends and
 * are closed as they do.
 */
export async function closeGracefully(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  clearInterval(sweep);
}

/*
 * The runtime image. One definition of where things live in it: the
 * Dockerfile builds exactly this, and test/unit/runtime/image-layout.test.ts
 * builds it in a directory and parses the Dockerfile against it.
 */

/** The file layout of the runtime image (`ghcr.io/cloudloom/runtime`). */
export const IMAGE_LAYOUT = {
  /** Where cloudloom is installed; the image's WORKDIR. RUNTIME_ENTRYPOINT runs `cli/bin.js` from here. */
  home: "/opt/cloudloom",
  /** What is copied into `home`, as it is in the repository (`serve` loads commands lazily, so no providers). */
  files: ["package.json", "package-lock.json", "tsconfig.json"],
  dirs: ["sdk", "runtime", "gateway", "cli"],
  /** Where an app's image puts its handlers and artifacts (`--root` of a function pod). */
  app: "/app",
  /** Node's extra module directory: handlers under `app` resolve `cloudloom` and its dependencies here. */
  nodePath: "/opt/cloudloom/node_modules",
  /** `import … from "cloudloom"` in a handler: this link in `nodePath` points at the SDK's sources. */
  packageLink: { path: "/opt/cloudloom/node_modules/cloudloom", target: "/opt/cloudloom/sdk" },
} as const;

/**
 * Which onnxruntime execution providers a model server tries, in order
 * (comma-separated, e.g. `cuda,cpu` or `cpu`), overriding the choice made
 * from the model's GPU pool. See runtime/execution-provider.ts.
 */
export const EXECUTION_PROVIDERS_ENV = "CLOUDLOOM_EXECUTION_PROVIDERS";

/**
 * The OpenTelemetry variables every cloudloom process (gateway, pod, serverless function) reads to
 * export its spans over OTLP/HTTP (runtime/telemetry.ts). With no endpoint, tracing is off. A provider
 * passes them through to what it deploys; the gateway's settings (`tracing`) win over them.
 */
export const TRACING_ENV = {
  /** Base URL of an OTLP/HTTP collector; spans go to `<url>/v1/traces`. */
  endpoint: "OTEL_EXPORTER_OTLP_ENDPOINT",
  /** Full URL spans go to, over `endpoint`. */
  tracesEndpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  /** Headers of every export, `key=value` comma-separated (a collector's API key); read by the exporter itself. */
  headers: "OTEL_EXPORTER_OTLP_HEADERS",
  /** The same for traces only, over `headers` (a header named in both takes this one's value). */
  tracesHeaders: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  /** How long one export may take, retries included, in milliseconds. @default 10000 (2000 in a serverless function, which waits for it) */
  timeout: "OTEL_EXPORTER_OTLP_TIMEOUT",
  /** The same for traces only, over `timeout`. */
  tracesTimeout: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
  /** `parentbased_traceidratio` (the default), `traceidratio`, `parentbased_always_on`, `always_on`, `parentbased_always_off`, `always_off`. */
  sampler: "OTEL_TRACES_SAMPLER",
  /** The ratio of the ratio samplers, 0 to 1. @default 1 */
  samplerArg: "OTEL_TRACES_SAMPLER_ARG",
  /** The `service.name` of the process's spans. */
  serviceName: "OTEL_SERVICE_NAME",
  /** `true` turns tracing off whatever else is set. */
  disabled: "OTEL_SDK_DISABLED",
  /** More resource attributes of the process's spans, `key=value` comma-separated (`service.namespace=support-desk`). */
  resourceAttributes: "OTEL_RESOURCE_ATTRIBUTES",
} as const;

/**
 * The longest W3C `traceparent` any cloudloom server reads (version 00 is 55 characters); a longer one,
 * like a malformed one, is ignored and the request starts a new trace.
 */
export const MAX_TRACEPARENT_LENGTH = 256;
