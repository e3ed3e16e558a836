/**
 * A Lambda function's declared secrets, read from AWS Secrets Manager at cold
 * start: one `GetSecretValue` call (the JSON protocol, SigV4 for service
 * `secretsmanager` with the function's own credentials), whose `SecretString`
 * is a JSON object of variable name to value. The stack keeps the values in
 * that secret and gives the function only its ARN (`CLOUDLOOM_SECRETS_ARN`);
 * the function's role may read exactly that secret.
 *
 * Errors name the secret's ARN and what failed, never a value.
 */
import { RUNTIME_ENV } from "../contract";
import { awsJson, AwsCallError } from "../auth/aws-json";
import { CONTAINER_ENV, credentialSourceFromEnv } from "../auth/credentials";

/** Seams and tuning for readFunctionSecrets. */
export interface ReadSecretsOptions {
  fetch?: typeof fetch;
  /** Time limit of the call. Default 5 s. */
  timeoutMs?: number;
}

/** The region of a Secrets Manager ARN (`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`), else undefined. */
export function secretRegion(arn: string): string | undefined {
  const match = /^arn:[a-z-]+:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/.exec(arn);
  return match?.[1];
}

/** Where GetSecretValue goes: CLOUDLOOM_SECRETS_ENDPOINT (tests), else the region's Secrets Manager. */
export function secretsManagerUrl(region: string, env: NodeJS.ProcessEnv = process.env): URL {
  const override = env[RUNTIME_ENV.secretsEndpoint];
  if (override) return new URL(override);
  return new URL(`https://secretsmanager.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}/`);
}

/**
 * Reads the secret `arn` and returns its variables. Rejects with an error that
 * names the ARN (and the variable it came from) when it cannot be read or is
 * not a JSON object of strings.
 */
export async function readFunctionSecrets(
  arn: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ReadSecretsOptions = {},
): Promise<Record<string, string>> {
  const fail = (why: string, cause?: unknown): Error =>
    Object.assign(
      new Error(`cloudloom could not read the function's secrets from Secrets Manager secret ${arn} (${RUNTIME_ENV.secretsArn}): ${why}`),
      cause === undefined ? {} : { cause },
    );
  const region = secretRegion(arn) ?? env.AWS_REGION;
  if (!region) throw fail("it is not a Secrets Manager ARN and AWS_REGION is not set");
  let url: URL;
  try {
    url = secretsManagerUrl(region, env);
  } catch {
    throw fail(`${RUNTIME_ENV.secretsEndpoint} is not a URL`);
  }
  const source = credentialSourceFromEnv(env);
  if (!source)
    throw fail(
      `no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role) or ${CONTAINER_ENV.relativeUri}`,
    );
  let credentials;
  try {
    credentials = await source.get();
  } catch (error) {
    throw fail(`no AWS credentials: ${(error as Error).message}`, error);
  }
  let answer: { SecretString?: unknown };
  try {
    answer = await awsJson({
      service: "secretsmanager",
      region,
      url,
      target: "secretsmanager.GetSecretValue",
      contentType: "application/x-amz-json-1.1",
      body: { SecretId: arn },
      credentials,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    if (error.status === 0) throw fail(`GetSecretValue at ${url.origin} failed: ${error.type.replace(/ at \S+$/, "")}`, error);
    // AWS errors carry a type (AccessDeniedException, ResourceNotFoundException); their messages hold no secret value.
    const hint = /AccessDenied/.test(error.type)
      ? "; the function's role must allow secretsmanager:GetSecretValue on exactly this secret"
      : "";
    throw fail(`GetSecretValue answered HTTP ${error.status}${error.type && error.status ? ` ${error.type}` : ""}${hint}`);
  }
  const secretString = answer.SecretString;
  if (typeof secretString !== "string") throw fail("GetSecretValue answered without a SecretString");
  let values: unknown;
  try {
    values = JSON.parse(secretString);
  } catch {
    throw fail("its SecretString is not JSON; the cloudloom stack writes a JSON object of variable name to value");
  }
  if (typeof values !== "object" || values === null || Array.isArray(values))
    throw fail("its SecretString is not a JSON object of variable name to value");
  const wrong = Object.entries(values)
    .filter(([, value]) => typeof value !== "string")
    .map(([name]) => name);
  if (wrong.length > 0) throw fail(`its variable ${wrong.join(", ")} is not a string`);
  return values as Record<string, string>;
}
