/**
 * Secrets on Alibaba Cloud, read at cold start. The stack never puts a secret
 * value in a function's configuration: it sets the names of KMS Secrets
 * Manager secrets (`CLOUDLOOM_JWT_PRIVATE_KEY_SECRET` for the JWT key,
 * `CLOUDLOOM_KMS_SECRETS` for a function's declared secrets), and gives the
 * function a RAM role that may call `kms:GetSecretValue` on exactly those
 * secrets. This module calls KMS `GetSecretValue` (RPC style, 2016-01-20) with
 * the credentials FC puts in the instance (the role's STS token), and hands
 * back an environment in which the variables hold the values, for this
 * process only.
 *
 * Dependency-free (node:crypto and fetch): it is bundled into the FC runtime
 * layer, and the gateway container calls it before composing its gateway.
 */
import { createHmac, randomUUID } from "node:crypto";
import { ALICLOUD_SECRETS_ENV, RUNTIME_ENV } from "../contract";

/** The credentials that sign a KMS call: FC's STS credentials of the function's role. */
export interface AlicloudCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** Where and how to call KMS. */
export interface KmsClientOptions {
  /** `https://kms.<region>.aliyuncs.com`, or a stand-in (`http://127.0.0.1:port`). */
  endpoint: string;
  credentials: AlicloudCredentials;
  /** Bound on one call. @default 5000 */
  timeoutMs?: number;
  /** For tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** For tests. @default new Date() */
  now?: () => Date;
}

/** Percent-encoding of Alibaba Cloud's RPC signature (RFC 3986, `~` unescaped). */
export function rpcEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The RPC signature (HMAC-SHA1, version 1.0) of `params` for `method`. */
export function rpcSignature(params: Record<string, string>, method: string, accessKeySecret: string): string {
  const canonical = Object.keys(params)
    .sort()
    .map((key) => `${rpcEncode(key)}=${rpcEncode(params[key])}`)
    .join("&");
  const stringToSign = `${method}&${rpcEncode("/")}&${rpcEncode(canonical)}`;
  return createHmac("sha1", `${accessKeySecret}&`).update(stringToSign).digest("base64");
}

/** The credentials FC sets in the instance, or undefined when they are missing. */
export function alicloudCredentialsFromEnv(env: NodeJS.ProcessEnv): AlicloudCredentials | undefined {
  const accessKeyId = env[ALICLOUD_SECRETS_ENV.accessKeyId];
  const accessKeySecret = env[ALICLOUD_SECRETS_ENV.accessKeySecret];
  if (!accessKeyId || !accessKeySecret) return undefined;
  const securityToken = env[ALICLOUD_SECRETS_ENV.securityToken];
  return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

/** The KMS endpoint: `CLOUDLOOM_KMS_ENDPOINT`, else the public endpoint of `CLOUDLOOM_ALICLOUD_REGION` (or FC's `FC_REGION`). */
export function kmsEndpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const override = env[ALICLOUD_SECRETS_ENV.kmsEndpoint];
  if (override) return override.replace(/\/+$/, "");
  const region = env[ALICLOUD_SECRETS_ENV.region] ?? env[ALICLOUD_SECRETS_ENV.fcRegion];
  return region ? `https://kms.${region}.aliyuncs.com` : undefined;
}

/** Reads one secret's current value (`ACSCurrent`) with KMS `GetSecretValue`; rejects naming the secret and KMS's error code. */
export async function getSecretValue(secretName: string, options: KmsClientOptions): Promise<string> {
  const { credentials } = options;
  const params: Record<string, string> = {
    Action: "GetSecretValue",
    Version: "2016-01-20",
    Format: "JSON",
    SecretName: secretName,
    AccessKeyId: credentials.accessKeyId,
    SignatureMethod: "HMAC-SHA1",
    SignatureVersion: "1.0",
    SignatureNonce: randomUUID(),
    Timestamp: (options.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    ...(credentials.securityToken ? { SecurityToken: credentials.securityToken } : {}),
  };
  params.Signature = rpcSignature(params, "GET", credentials.accessKeySecret);
  const query = Object.entries(params)
    .map(([key, value]) => `${rpcEncode(key)}=${rpcEncode(value)}`)
    .join("&");
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(`${options.endpoint}/?${query}`, { method: "GET", signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
  } catch (error) {
    throw new Error(`KMS GetSecretValue ${secretName} at ${options.endpoint}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: { SecretData?: unknown; Code?: string; Message?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Reported below with the status.
  }
  if (!response.ok || typeof body.SecretData !== "string")
    throw new Error(
      `KMS GetSecretValue ${secretName} at ${options.endpoint} failed (HTTP ${response.status}${body.Code ? ` ${body.Code}` : ""}` +
        `${body.Message ? `: ${body.Message}` : ""}); the function's RAM role must allow kms:GetSecretValue on that secret`,
    );
  return body.SecretData;
}

/** Variable → KMS secret name, for every variable the stack named a secret for and `env` does not already set. */
export function namedSecrets(env: NodeJS.ProcessEnv): Record<string, string> {
  const named: Record<string, string> = {};
  const map = env[RUNTIME_ENV.kmsSecrets];
  if (map) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(map);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string"))
      throw new Error(`${RUNTIME_ENV.kmsSecrets} is not a JSON object of variable to KMS secret name; redeploy the stack to rewrite it`);
    Object.assign(named, parsed);
  }
  const jwt = env[RUNTIME_ENV.jwtPrivateKeySecret];
  if (jwt) named[RUNTIME_ENV.jwtPrivateKey] = jwt;
  for (const variable of Object.keys(named)) if (env[variable] !== undefined) delete named[variable];
  return named;
}

/**
 * The environment with every secret the stack named filled in: the JWT key
 * when `CLOUDLOOM_JWT_PRIVATE_KEY_SECRET` is set, each variable of
 * `CLOUDLOOM_KMS_SECRETS`, unless `env` already sets it. Returns a copy of
 * `env` with the values set, or `env` itself when it names nothing to read.
 * Rejects, naming the variables, when the credentials or the region are
 * missing or KMS refuses.
 */
export async function resolveAlicloudSecrets(
  env: NodeJS.ProcessEnv = process.env,
  options: Pick<KmsClientOptions, "fetch" | "timeoutMs" | "now"> = {},
): Promise<NodeJS.ProcessEnv> {
  const named = namedSecrets(env);
  const secretNames = Object.values(named);
  if (secretNames.length === 0) return env;
  const what = `the stack names KMS secret ${secretNames.join(", ")}`;
  const credentials = alicloudCredentialsFromEnv(env);
  if (!credentials)
    throw new Error(
      `${what}, but ${ALICLOUD_SECRETS_ENV.accessKeyId} and ` +
        `${ALICLOUD_SECRETS_ENV.accessKeySecret} are not set: give the function a RAM role (FC sets its STS credentials)`,
    );
  const endpoint = kmsEndpointFromEnv(env);
  if (!endpoint)
    throw new Error(`${what}, but no region is known: set ` + `${ALICLOUD_SECRETS_ENV.region} (or ${ALICLOUD_SECRETS_ENV.kmsEndpoint})`);
  const values = await Promise.all(
    Object.entries(named).map(async ([variable, secretName]) => [
      variable,
      await getSecretValue(secretName, { ...options, endpoint, credentials }),
    ]),
  );
  return { ...env, ...Object.fromEntries(values) };
}

/**
 * For a long-running process (the gateway container's `cloudloom serve`):
 * resolves the secrets into `env` itself (process.env by default), once, before
 * anything reads `CLOUDLOOM_JWT_PRIVATE_KEY`.
 */
export async function loadAlicloudSecrets(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const resolved = await resolveAlicloudSecrets(env);
  if (resolved !== env) Object.assign(env, resolved);
}
