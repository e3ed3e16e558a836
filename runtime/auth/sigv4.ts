/**
 * AWS Signature Version 4 for backends behind IAM auth (Lambda Function URLs
 * with AWS_IAM, SageMaker endpoints), with aws4. The credentials come from
 * the standard AWS environment variables or the container credentials
 * endpoint (credentials.ts).
 */
import aws4 from "aws4";
import type { Sigv4Signing } from "../../sdk/spec";

/** AWS credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or undefined. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN };
}

/** The headers that sign one request: Authorization, X-Amz-Date and, with a session, X-Amz-Security-Token. */
export function sigv4Headers(
  signing: Sigv4Signing,
  request: { host: string; path: string; method: string; contentType?: string; body: Buffer },
  credentials: AwsCredentials,
): Record<string, string> {
  const options = {
    host: request.host,
    path: request.path,
    method: request.method,
    service: signing.service,
    region: signing.region,
    body: request.body,
    headers: request.contentType ? { "content-type": request.contentType } : {},
  };
  aws4.sign(options, credentials);
  const signed = options.headers as Record<string, string | number>;
  const out: Record<string, string> = {};
  for (const name of ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"])
    if (signed[name] !== undefined) out[name.toLowerCase()] = String(signed[name]);
  return out;
}
