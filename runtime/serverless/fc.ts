/**
 * The cloudloom runtime inside Alibaba Cloud Function Compute 3.0 (nodejs20,
 * HTTP trigger): FC hands the handler its HTTP event as a Buffer of JSON;
 * this turns it into the Function URL event `lambdaHandler` (lambda.ts) serves.
 */
import type { Handler } from "../../sdk/handler";
import { lambdaHandler, runtimeConfigFromEnv, type FunctionUrlEvent, type FunctionUrlResult, type LambdaRuntimeConfig } from "./lambda";

/** An FC 3.0 HTTP trigger event: the fields the adapter reads. */
export interface FcHttpEvent {
  rawPath: string;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { requestId: string; http: { method: string } };
}

/** Wraps a cloudloom handler as an FC 3.0 handler for HTTP trigger events. */
export function fcHandler(
  handler: Handler,
  config: LambdaRuntimeConfig = runtimeConfigFromEnv(),
  env: NodeJS.ProcessEnv = process.env,
): (event: Buffer | string) => Promise<FunctionUrlResult> {
  const serve = lambdaHandler(handler, config, env);
  return (event) => {
    const fc = JSON.parse(event.toString()) as FcHttpEvent;
    const shared: FunctionUrlEvent = { ...fc, queryStringParameters: fc.queryParameters };
    return serve(shared);
  };
}
