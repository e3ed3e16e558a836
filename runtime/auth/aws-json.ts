/**
 * One call to an AWS service's JSON protocol (Secrets Manager, DynamoDB,
 * SQS): a POST of a JSON body naming its operation in `X-Amz-Target`, signed
 * with SigV4 (aws4) for the service and region, with a time limit. The
 * answer is the parsed body, or an AwsCallError carrying the HTTP status and
 * the AWS error type (`ConditionalCheckFailedException`,
 * `AccessDeniedException`): never the request's body or credentials.
 */
import aws4 from "aws4";
import type { AwsCredentials } from "./sigv4";

/** One JSON-protocol call. */
export interface AwsJsonCall {
  /** The service's signing name: `secretsmanager`, `dynamodb`, `sqs`. */
  service: string;
  region: string;
  /** The endpoint, e.g. `https://dynamodb.eu-west-1.amazonaws.com/`. */
  url: URL;
  /** `X-Amz-Target`, e.g. `DynamoDB_20120810.PutItem`. */
  target: string;
  /** `application/x-amz-json-1.0` (DynamoDB, SQS) or `-1.1` (Secrets Manager). */
  contentType: string;
  body: unknown;
  credentials: AwsCredentials;
  fetch?: typeof fetch;
  /** Time limit. @default 5000 */
  timeoutMs?: number;
}

/** A call that did not succeed: the network failed (status 0), or AWS answered an error. */
export class AwsCallError extends Error {
  constructor(
    readonly operation: string,
    /** HTTP status; 0 when no answer came. */
    readonly status: number,
    /** The AWS error type without its namespace (`ConditionalCheckFailedException`), or the network error's code. */
    readonly type: string,
    options?: { cause?: unknown },
  ) {
    super(status === 0 ? `${operation} failed: ${type}` : `${operation} answered HTTP ${status}${type ? ` ${type}` : ""}`, options);
    this.name = "AwsCallError";
  }
}

/** The default endpoint of `service` in `region` (China's regions have their own domain). */
export function awsEndpoint(service: string, region: string): URL {
  return new URL(`https://${service}.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}/`);
}

/** Makes the call; resolves with the parsed answer (`{}` for an empty one). */
export async function awsJson<T = unknown>(call: AwsJsonCall): Promise<T> {
  const operation = call.target.split(".").pop() ?? call.target;
  const body = JSON.stringify(call.body);
  const request = {
    host: call.url.host,
    path: call.url.pathname + call.url.search,
    method: "POST",
    service: call.service,
    region: call.region,
    body,
    headers: { "content-type": call.contentType, "X-Amz-Target": call.target } as Record<string, string | number>,
  };
  aws4.sign(request, call.credentials);
  const headers = Object.fromEntries(
    Object.entries(request.headers)
      .filter(([name]) => name.toLowerCase() !== "host" && name.toLowerCase() !== "content-length")
      .map(([name, value]) => [name, String(value)]),
  );
  let response: Response;
  try {
    response = await (call.fetch ?? fetch)(call.url, {
      method: "POST",
      headers,
      body,
      redirect: "error",
      signal: AbortSignal.timeout(call.timeoutMs ?? 5_000),
    });
  } catch (error) {
    const cause = error as Error & { cause?: { code?: string; message?: string } };
    throw new AwsCallError(operation, 0, `${cause.cause?.code ?? cause.cause?.message ?? cause.message} at ${call.url.origin}`, {
      cause: error,
    });
  }
  const text = await response.text().catch(() => "");
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const type = String((parsed as { __type?: unknown } | undefined)?.__type ?? "")
      .split("#")
      .pop()!;
    throw new AwsCallError(operation, response.status, type);
  }
  if (parsed === undefined) throw new AwsCallError(operation, response.status, "an answer that is not JSON");
  return parsed as T;
}
