/**
 * The cloudloom runtime inside AWS Lambda: turns a Function URL event into
 * the handler's request, gives the handler its `ctx.models` (SigV4-signed
 * calls to the model endpoints the stack wired in), and turns the handler's
 * result into the Function URL response. Bundled into each function's zip
 * with the handler (providers/shared/bundle.ts); Function Compute uses it through fc.ts.
 *
 * With an OTLP endpoint in the OTEL_* variables, each invocation is a span
 * under the `traceparent` the gateway sent (the handler's `ctx.span`; see
 * tracing.ts).
 */
import type { Span } from "@opentelemetry/api";
import { z } from "zod";
import { isFunctionResponse, type FunctionRequest, type Handler, type HandlerContext, type ModelClient } from "../../sdk/handler";
import { EndpointSchema } from "../../sdk/spec";
import { RUNTIME_ENV, TRACING_ENV } from "../contract";
import { remoteModelClient } from "../remote-model";
import { UNTRACED_SPAN } from "../trace-context";
import type { InvocationTracing } from "./tracing";
import { readFunctionSecrets } from "./aws-secrets";

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

/** The runtime configuration the stack puts in `CLOUDLOOM_RUNTIME`. */
export const LambdaRuntimeConfigSchema = z
  .object({
    /** The spec region this function serves. */
    region: z.string().min(1),
    /** By model name: the version the function calls and where it is served. */
    models: z.record(
      z.string().min(1),
      z.object({ key: z.string().min(1), version: z.string().min(1), endpoint: EndpointSchema }).strict(),
    ),
    /** Names of the variables the function declared (the handler's `ctx.env`). */
    env: z.array(z.string().min(1)),
  })
  .strict();

/** Parsed `CLOUDLOOM_RUNTIME`. */
export type LambdaRuntimeConfig = z.infer<typeof LambdaRuntimeConfigSchema>;

/** Reads the runtime configuration, naming the variable and the field when it is wrong. */
export function runtimeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LambdaRuntimeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(env[RUNTIME_ENV.serverlessConfig] ?? "");
  } catch {
    throw new Error("CLOUDLOOM_RUNTIME is missing or not JSON; the cloudloom stack sets it on every function it deploys");
  }
  const parsed = LambdaRuntimeConfigSchema.safeParse(raw);
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

/**
 * Wraps a cloudloom handler as a Lambda handler for Function URL events.
 *
 * With `CLOUDLOOM_SECRETS_ARN` set, the function's declared secrets live in
 * that Secrets Manager secret, not in its configuration: they are read once,
 * starting at cold start (so provisioned concurrency reads them during init),
 * and cached; the handler sees them in `ctx.env` as if they were plain
 * variables. When they cannot be read, the invocation fails with an error
 * naming the secret's ARN (never a value), and the next invocation tries again.
 */
export function lambdaHandler(
  handler: Handler,
  config: LambdaRuntimeConfig = runtimeConfigFromEnv(),
  env: NodeJS.ProcessEnv = process.env,
): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  const models: Record<string, ModelClient> = Object.fromEntries(
    Object.entries(config.models).map(([name, model]) => [name, remoteModelClient(model.endpoint, model.key, model.version)]),
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
  const secretsArn = env[RUNTIME_ENV.secretsArn];
  let declared: Readonly<Record<string, string>> | undefined = secretsArn ? undefined : environmentOf({});
  let loading: Promise<Record<string, string>> | undefined;
  const load = (arn: string): Promise<Record<string, string>> => {
    const pending = readFunctionSecrets(arn, env);
    pending.catch(() => undefined); // seen (and reported) by the invocation that awaits it
    return pending;
  };
  if (secretsArn) loading = load(secretsArn);
  // The platform names the function: AWS_LAMBDA_FUNCTION_NAME on Lambda, FC_FUNCTION_NAME on Function Compute.
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? env.FC_FUNCTION_NAME ?? "function";
  // The OpenTelemetry SDK is most of the runtime layer (and doubles the time it takes to load): loaded only to trace.
  const traced: InvocationTracing | undefined =
    env[TRACING_ENV.endpoint] || env[TRACING_ENV.tracesEndpoint]
      ? (require("./tracing") as typeof import("./tracing")).invocationTracing(env, functionName)
      : undefined;
  const environment = async (): Promise<Readonly<Record<string, string>>> => {
    if (declared) return declared;
    try {
      declared = environmentOf(await (loading ??= load(secretsArn!)));
      return declared;
    } catch (error) {
      loading = undefined;
      console.error(JSON.stringify({ level: "error", message: (error as Error).message }));
      throw error;
    }
  };
  const answer = async (request: FunctionRequest, requestId: string, span: Span): Promise<FunctionUrlResult> => {
    const context: HandlerContext = { models, region: config.region, requestId, env: await environment(), span };
    try {
      const result = await handler(request, context);
      return isFunctionResponse(result) ? json(result.status, result.body, result.headers) : json(200, result);
    } catch (error) {
      console.error(JSON.stringify({ level: "error", requestId, message: (error as Error)?.message, stack: (error as Error)?.stack }));
      traced?.failed(span, error);
      return json(500, { error: { code: "FUNCTION_FAILED", message: "the function failed; see its logs", requestId } });
    }
  };
  return async (event) => {
    const request = requestOf(event);
    if ("statusCode" in request) return request;
    const requestId = event.headers?.["x-request-id"] ?? event.requestContext.requestId;
    if (!traced) return answer(request, requestId, UNTRACED_SPAN);
    return traced.invoke(config.region, event.headers ?? {}, (span) => answer(request, requestId, span));
  };
}
