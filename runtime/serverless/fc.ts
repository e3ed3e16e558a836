/**
 * The cloudloom runtime inside Alibaba Cloud Function Compute 3.0 (nodejs20,
 * HTTP trigger): FC hands the handler its HTTP event as a Buffer of JSON;
 * this turns it into the Function URL event `lambdaHandler` (lambda.ts) serves.
 *
 * Secrets are not in the function's configuration: at cold start (the first
 * event an instance gets) the adapter reads the KMS secrets the stack named
 * (alicloud-secrets.ts) into the instance's environment, then builds the
 * handler, so its model clients mint JWTs with the key read from KMS, and
 * its calls to models that hold are reported with the demand token read
 * from KMS the same way (`CLOUDLOOM_DEMAND_TOKEN`, see lambda.ts).
 */
import type { Handler } from "../../sdk/handler";
import { INVOCATION_HEADER } from "../contract";
import { resolveAlicloudSecrets, type KmsClientOptions } from "./alicloud-secrets";
import {
  lambdaHandler,
  runtimeConfigFromEnv,
  type FunctionUrlEvent,
  type FunctionUrlResult,
  type LambdaHandlerOptions,
  type LambdaRuntimeConfig,
} from "./lambda";

/** An FC 3.0 HTTP trigger event: the fields the adapter reads. */
export interface FcHttpEvent {
  rawPath: string;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { requestId: string; http: { method: string } };
}

/**
 * Wraps a cloudloom handler as an FC 3.0 handler for HTTP trigger events, the
 * asynchronous invocations the gateway queues included (their 5xx answers
 * fail the attempt, so FC retries them). The
 * first event reads the named KMS secrets into `env` (the process's own
 * environment by default, where the model clients look for the JWT key); a
 * failed read answers 500, is logged, and is retried by the next event.
 */
export function fcHandler(
  handler: Handler,
  config: LambdaRuntimeConfig = runtimeConfigFromEnv(),
  env: NodeJS.ProcessEnv = process.env,
  kms: Pick<KmsClientOptions, "fetch" | "timeoutMs"> = {},
  options: LambdaHandlerOptions = {},
): (event: Buffer | string) => Promise<FunctionUrlResult> {
  let serving: Promise<(event: FunctionUrlEvent) => Promise<FunctionUrlResult>> | undefined;
  const coldStart = async () => {
    const resolved = await resolveAlicloudSecrets(env, kms);
    if (resolved !== env) Object.assign(env, resolved);
    return lambdaHandler(handler, config, env, options);
  };
  return async (event) => {
    const fc = JSON.parse(event.toString()) as FcHttpEvent;
    serving ??= coldStart();
    let serve: (event: FunctionUrlEvent) => Promise<FunctionUrlResult>;
    try {
      serve = await serving;
    } catch (error) {
      serving = undefined;
      const requestId = fc.headers?.["x-request-id"] ?? fc.requestContext?.requestId;
      console.error(JSON.stringify({ level: "error", requestId, message: (error as Error)?.message }));
      return {
        statusCode: 500,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({
          error: { code: "FUNCTION_FAILED", message: "the function could not read its secrets; see its logs", requestId },
        }),
      };
    }
    const shared: FunctionUrlEvent = { ...fc, queryStringParameters: fc.queryParameters };
    const result = await serve(shared);
    // An asynchronous invocation (the gateway marks it) fails its attempt on a 5xx, so FC retries it and,
    // after its last attempt, sends it to the dead-letter destination; an answer below 500 is its result.
    const invocation = fc.headers?.[INVOCATION_HEADER];
    if (invocation && result.statusCode >= 500)
      throw new Error(`invocation ${invocation} failed: the function answered ${result.statusCode}`);
    return result;
  };
}
