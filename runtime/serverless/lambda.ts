/**
 * The cloudloom runtime inside AWS Lambda: turns a Function URL event into
 * the handler's request, gives the handler its `ctx.models` (SigV4-signed
 * calls to the model endpoints the stack wired in), and turns the handler's
 * result into the Function URL response. Bundled into each function's zip
 * with the handler (providers/shared/bundle.ts); Function Compute uses it through fc.ts.
 *
 * With an OTLP endpoint in the OTEL_* variables, each invocation is a span
 * under the `traceparent` the gateway sent (the handler's `ctx.span`; see
 * tracing.ts). The export headers may be among the function's secrets.
 *
 * A model whose policy holds requests (its `hold` in `CLOUDLOOM_RUNTIME`)
 * may be at zero: calls to it wait out its start (remote-model.ts), and,
 * where the stack says so, count in its demand at the gateway (demand-reports.ts).
 */
import type { Span } from "@opentelemetry/api";
import { z } from "zod";
import { isFunctionResponse, type FunctionRequest, type Handler, type HandlerContext, type ModelClient } from "../../sdk/handler";
import { AsyncSchema, EndpointSchema } from "../../sdk/spec";
import { RUNTIME_ENV, ServingError, TRACING_ENV, type AsyncJob, type InvocationResult } from "../contract";
import { credentialSourceFromEnv } from "../auth/credentials";
import { InvocationTable } from "../queue/invocation-table";
import { remoteModelClient } from "../remote-model";
import { UNTRACED_SPAN } from "../trace-context";
import type { InvocationTracing } from "./tracing";
import { readFunctionSecrets } from "./aws-secrets";
import { invocationDemandFrom, type InvocationDemandOptions } from "./demand-reports";
import { isSqsEvent, sqsJobs, type SqsBatchResponse, type SqsEvent } from "./sqs-jobs";

/** A Lambda Function URL event (payload format 2.0): the fields the adapter reads. */
export interface FunctionUrlEvent {
  rawPath: string;
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { requestId: string; http: { method: string } };
}

/** What a Function URL expects back. */
export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * What a Lambda function that works an asynchronous entry's SQS queue is told:
 * the entry's settings and the DynamoDB table its invocations are recorded in
 * (the endpoints are for tests, and VPC endpoints without private DNS).
 */
export const QueueWorkSchema = z
  .object({
    settings: AsyncSchema,
    table: z.string().min(1),
    dynamodbEndpoint: z.string().url().optional(),
    sqsEndpoint: z.string().url().optional(),
  })
  .strict();

/** The runtime configuration the stack puts in `CLOUDLOOM_RUNTIME`. */
export const LambdaRuntimeConfigSchema = z
  .object({
    /** The spec region this function serves. */
    region: z.string().min(1),
    /** By model name: the version the function calls and where it is served. */
    models: z.record(
      z.string().min(1),
      z
        .object({
          key: z.string().min(1),
          version: z.string().min(1),
          endpoint: EndpointSchema,
          /** Set when the model's policy holds requests: calls wait out its start within these bounds, and count in its demand. */
          hold: z.object({ maxPending: z.number().int().positive(), maxWaitMs: z.number().int().positive() }).strict().optional(),
          /** The spec region serving this function's calls, whose demand they count in. @default the function's region */
          region: z.string().min(1).optional(),
        })
        .strict(),
    ),
    /** Names of the variables the function declared (the handler's `ctx.env`). */
    env: z.array(z.string().min(1)),
    /** Set when the function works an asynchronous entry's SQS queue (QueueWorkSchema). */
    async: QueueWorkSchema.optional(),
  })
  .strict();

/** Parsed `CLOUDLOOM_RUNTIME`. */
export type LambdaRuntimeConfig = z.infer<typeof LambdaRuntimeConfigSchema>;

/** Reads the runtime configuration, naming the variable and the field when it is wrong. */
export function runtimeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LambdaRuntimeConfig {
  return parsedRuntimeConfig(LambdaRuntimeConfigSchema, env);
}

/** Parses `CLOUDLOOM_RUNTIME` with `schema`, naming the variable and the field when it is wrong. */
export function parsedRuntimeConfig<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(env[RUNTIME_ENV.serverlessConfig] ?? "");
  } catch {
    throw new Error("CLOUDLOOM_RUNTIME is missing or not JSON; the cloudloom stack sets it on every function it deploys");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`CLOUDLOOM_RUNTIME.${issue.path.join(".")}: ${issue.message}; redeploy the stack to rewrite it`);
  }
  return parsed.data;
}

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): FunctionUrlResult => ({
  statusCode,
  headers: { "content-type": "application/json; charset=utf-8", ...headers },
  body: JSON.stringify(body ?? null),
});

function requestOf(event: FunctionUrlEvent): FunctionRequest | FunctionUrlResult {
  const text = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body) : "";
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return json(400, { error: { code: "BAD_JSON", message: "the request body is not valid JSON" } });
  }
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers: event.headers ?? {},
    query: event.queryStringParameters ?? {},
    body,
  };
}

/** The request a job carries, as the handler takes it; a 400 result when its body is not JSON. */
function jobRequest(job: AsyncJob): FunctionRequest | InvocationResult {
  const text = Buffer.from(job.request.body, "base64").toString("utf8");
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return { status: 400, body: { error: { code: "BAD_JSON", message: "the request body is not valid JSON" } } };
  }
  return { method: job.request.method, path: job.request.path, headers: job.request.headers, query: job.request.query, body };
}

/**
 * Wraps a cloudloom handler as a Lambda handler for Function URL events and,
 * when the function works an asynchronous entry's queue, for the SQS batches
 * its event source mapping delivers (sqs-jobs.ts).
 *
 * With `CLOUDLOOM_SECRETS_ARN` set, the function's declared secrets live in
 * that Secrets Manager secret, not in its configuration: they are read once,
 * starting at cold start (so provisioned concurrency reads them during init),
 * and cached; the handler sees them in `ctx.env` as if they were plain
 * variables. When they cannot be read, the invocation fails with an error
 * naming the secret's ARN (never a value), and the next invocation tries again.
 *
 * With `CLOUDLOOM_DEMAND_REPORT_URL` set (and `CLOUDLOOM_DEMAND_TOKEN` among
 * its secrets or variables), the function counts its calls to models that
 * hold and reports them to its region's gateway (demand-reports.ts), so a
 * model at zero that only functions call wakes on them; before an invocation
 * answers, its last counts are sent, waiting a second at most.
 */
export function lambdaHandler(
  handler: Handler,
  config: LambdaRuntimeConfig = runtimeConfigFromEnv(),
  env: NodeJS.ProcessEnv = process.env,
  options: LambdaHandlerOptions = {},
): LambdaEntry {
  // Calls to models that hold are counted when the stack named where to report them (demand-reports.ts).
  const demand = invocationDemandFrom(env, options.demandReports);
  const models: Record<string, ModelClient> = Object.fromEntries(
    Object.entries(config.models).map(([name, model]) => [
      name,
      remoteModelClient(
        model.endpoint,
        model.key,
        model.version,
        model.hold,
        model.hold && demand?.of(model.key, model.region ?? config.region),
      ),
    ]),
  );
  const environmentOf = (secrets: Record<string, string>): Readonly<Record<string, string>> =>
    Object.freeze(
      Object.fromEntries(
        config.env.flatMap((name) => {
          const value = Object.hasOwn(secrets, name) ? secrets[name] : env[name];
          return value === undefined ? [] : [[name, value]];
        }),
      ),
    );
  const readSecrets = secretsOnce(env);
  let declared: Readonly<Record<string, string>> | undefined;
  const environment = async (): Promise<Readonly<Record<string, string>>> => (declared ??= environmentOf(await readSecrets()));
  // The platform names the function: AWS_LAMBDA_FUNCTION_NAME on Lambda, FC_FUNCTION_NAME on Function Compute.
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? env.FC_FUNCTION_NAME ?? "function";
  const tracing = tracingOnce(env, functionName, readSecrets);
  /** Runs the handler: its response, or the error a throw becomes (logged with its stack, recorded on `span`). */
  const invoke = async (
    request: FunctionRequest,
    requestId: string,
    span: Span,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> => {
    const context: HandlerContext = { models, region: config.region, requestId, env: await environment(), span };
    // The token is among the function's secrets on AWS, in the environment once FC read it from KMS.
    demand?.reportWith((await readSecrets())[RUNTIME_ENV.demandToken] ?? env[RUNTIME_ENV.demandToken]);
    try {
      const result = demand ? await demand.around(async () => handler(request, context)) : await handler(request, context);
      return isFunctionResponse(result) ? result : { status: 200, body: result };
    } catch (error) {
      console.error(JSON.stringify({ level: "error", requestId, message: (error as Error)?.message, stack: (error as Error)?.stack }));
      (await tracing())?.failed(span, error);
      throw Object.assign(new ServingError("FUNCTION_FAILED", "the function failed"), { cause: error });
    }
  };
  /** Answers a Function URL call: the handler's response, or its failure as 500 FUNCTION_FAILED. */
  const answer = async (request: FunctionRequest, requestId: string, span: Span): Promise<FunctionUrlResult> => {
    try {
      const result = await invoke(request, requestId, span);
      return json(result.status, result.body, result.headers);
    } catch (error) {
      // Only the handler's own failure is answered here; one of reading the secrets fails the invocation, as before.
      if (!(error instanceof ServingError)) throw error;
      return json(500, { error: { code: "FUNCTION_FAILED", message: "the function failed; see its logs", requestId } });
    }
  };
  const jobs =
    config.async &&
    jobsHandler(config.async, env, async (job) => {
      const request = jobRequest(job);
      if ("status" in request) return request;
      // Traced, the job's call continues the trace of the request that queued it (the traceparent the job carries).
      const tracer = await tracing();
      const run = (span: Span) => invoke(request, job.id, span);
      const { status, body } = tracer ? await tracer.invoke(config.region, job.request.headers, run) : await run(UNTRACED_SPAN);
      return { status, body: body ?? null };
    });
  return (async (event: FunctionUrlEvent | SqsEvent) => {
    if (isSqsEvent(event)) {
      if (!jobs) throw new Error("this function works no queue (CLOUDLOOM_RUNTIME has no async), yet it received an SQS batch");
      return jobs(event);
    }
    const request = requestOf(event);
    if ("statusCode" in request) return request;
    const requestId = event.headers?.["x-request-id"] ?? event.requestContext.requestId;
    const tracer = await tracing();
    if (!tracer) return answer(request, requestId, UNTRACED_SPAN);
    return tracer.invoke(config.region, event.headers ?? {}, (span) => answer(request, requestId, span));
  }) as LambdaEntry;
}

/**
 * A Lambda function's secrets: with `CLOUDLOOM_SECRETS_ARN` set, that Secrets
 * Manager secret's, read once, starting now (at cold start, so provisioned
 * concurrency reads them during init), and cached; else none. A failed read
 * is logged and rejects the call that awaited it, and the next call tries again.
 */
export function secretsOnce(env: NodeJS.ProcessEnv): () => Promise<Record<string, string>> {
  const secretsArn = env[RUNTIME_ENV.secretsArn];
  let secretValues: Record<string, string> | undefined = secretsArn ? undefined : {};
  let loading: Promise<Record<string, string>> | undefined;
  const load = (arn: string): Promise<Record<string, string>> => {
    const pending = readFunctionSecrets(arn, env);
    pending.catch(() => undefined); // seen (and reported) by the call that awaits it
    return pending;
  };
  if (secretsArn) loading = load(secretsArn);
  return async () => {
    if (secretValues) return secretValues;
    try {
      secretValues = await (loading ??= load(secretsArn!));
      return secretValues;
    } catch (error) {
      loading = undefined;
      console.error(JSON.stringify({ level: "error", message: (error as Error).message }));
      throw error;
    }
  };
}

/**
 * The tracing of Lambda function `name`, as its OTEL_* variables say
 * (undefined when they name no endpoint): started once, after `readSecrets`,
 * since the export headers (a collector's API key) are kept with the
 * function's secrets. Rejects while the secrets cannot be read; the next call
 * tries again. The OpenTelemetry SDK is most of the runtime layer (and
 * doubles the time it takes to load): it is loaded only to trace.
 */
export function tracingOnce(
  env: NodeJS.ProcessEnv,
  name: string,
  readSecrets: () => Promise<Record<string, string>>,
): () => Promise<InvocationTracing | undefined> {
  const traces = Boolean(env[TRACING_ENV.endpoint] || env[TRACING_ENV.tracesEndpoint]);
  const start = (read: Record<string, string>): InvocationTracing | undefined =>
    (require("./tracing") as typeof import("./tracing")).invocationTracing(withExportHeaders(env, read), name);
  const kept = Boolean(env[RUNTIME_ENV.secretsArn]);
  const traced: InvocationTracing | undefined = traces && !kept ? start({}) : undefined;
  let starting: Promise<InvocationTracing | undefined> | undefined;
  return async () => {
    if (!traces || !kept) return traced;
    starting ??= readSecrets().then(start);
    try {
      return await starting;
    } catch (error) {
      starting = undefined;
      throw error;
    }
  };
}

/** `env` with the export headers the function's secrets hold (and nothing else of them: the handler's secrets stay in `ctx.env`). */
function withExportHeaders(env: NodeJS.ProcessEnv, secrets: Record<string, string>): NodeJS.ProcessEnv {
  const headers = [TRACING_ENV.headers, TRACING_ENV.tracesHeaders].filter((variable) => Object.hasOwn(secrets, variable));
  return headers.length === 0 ? env : { ...env, ...Object.fromEntries(headers.map((variable) => [variable, secrets[variable]])) };
}

/** Tuning of lambdaHandler (tests shorten it). */
export interface LambdaHandlerOptions {
  /** How the function reports its calls to models that hold. */
  demandReports?: InvocationDemandOptions;
}

/** What the Lambda runtime calls: a Function URL event answers its response; an SQS batch, its partial batch response. */
export type LambdaEntry = ((event: FunctionUrlEvent) => Promise<FunctionUrlResult>) & ((event: SqsEvent) => Promise<SqsBatchResponse>);

/**
 * The SQS batch handler of an asynchronous entry's Lambda function (the
 * entry's own function, or a model version's job worker), its table and SQS
 * calls signed with the function's own credentials.
 */
export function jobsHandler(
  settings: z.infer<typeof QueueWorkSchema>,
  env: NodeJS.ProcessEnv,
  run: (job: AsyncJob) => Promise<InvocationResult>,
): (event: SqsEvent) => Promise<SqsBatchResponse> {
  const credentials = credentialSourceFromEnv(env);
  const region = env.AWS_REGION;
  if (!credentials || !region) throw new Error("a queue's worker needs AWS credentials and AWS_REGION, which Lambda sets");
  return sqsJobs(run, {
    settings: settings.settings,
    table: new InvocationTable({ name: settings.table, region, endpoint: settings.dynamodbEndpoint }, credentials),
    credentials,
    sqsEndpoint: settings.sqsEndpoint,
    log: (entry) => console.log(JSON.stringify(entry)),
  });
}
