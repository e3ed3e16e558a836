/**
 * Where SigV4 credentials come from, in the order the AWS SDKs use: the
 * static keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN), else the container credentials endpoint that ECS (a
 * Fargate task role) or EKS Pod Identity provide:
 *
 * - AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: GET http://169.254.170.2 + the path;
 * - AWS_CONTAINER_CREDENTIALS_FULL_URI: GET that URL, with the Authorization
 *   header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch,
 *   since it rotates) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
 *
 * Container credentials are fetched before the first signed call, kept until
 * shortly before their `Expiration`, and refreshed in the background ahead of
 * it while calls keep signing with the still-valid ones. A fetch that fails
 * says which variable and which URL (never the token).
 *
 * No AWS SDK credential provider is installed, so this is a small fetcher on
 * node's fetch.
 */
import { readFile } from "node:fs/promises";
import { credentialsFromEnv, type AwsCredentials } from "./sigv4";

/** The variables of the container credentials endpoint. */
export const CONTAINER_ENV = {
  relativeUri: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  fullUri: "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  token: "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  tokenFile: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
} as const;

/** The ECS agent's credentials host, which AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a path on. */
export const ECS_CREDENTIALS_HOST = "http://169.254.170.2";

/** Hosts a FULL_URI may name over plain http (as the AWS SDKs allow): loopback, the ECS and EKS Pod Identity agents. */
const PLAIN_HTTP_HOSTS = new Set(["localhost", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "[::1]"]);
const isLoopbackV4 = (host: string) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** Something that hands out credentials for one signature. */
export interface CredentialSource {
  /** Credentials valid now; rejects with an error naming the source when none can be had. */
  get(): Promise<AwsCredentials>;
}

/** Credentials that never change (the static environment keys). */
export class StaticCredentials implements CredentialSource {
  private readonly value: Promise<AwsCredentials>;
  constructor(credentials: AwsCredentials) {
    this.value = Promise.resolve(credentials);
  }
  get(): Promise<AwsCredentials> {
    return this.value;
  }
}

/** Where and how to reach the container credentials endpoint. */
export interface ContainerEndpoint {
  url: string;
  /** The variable the URL came from, for messages. */
  variable: (typeof CONTAINER_ENV)["relativeUri" | "fullUri"];
  /** The Authorization header's source, if any. */
  token?: { value: string } | { file: string };
}

/**
 * The container credentials endpoint the environment configures, or
 * undefined. Throws (naming the variable) when it is set but unusable.
 */
export function containerEndpointFromEnv(env: NodeJS.ProcessEnv = process.env): ContainerEndpoint | undefined {
  const relative = env[CONTAINER_ENV.relativeUri];
  const full = env[CONTAINER_ENV.fullUri];
  let endpoint: ContainerEndpoint;
  if (relative) {
    const path = relative.startsWith("/") ? relative : `/${relative}`;
    endpoint = { url: `${ECS_CREDENTIALS_HOST}${path}`, variable: CONTAINER_ENV.relativeUri };
  } else if (full) {
    let url: URL;
    try {
      url = new URL(full);
    } catch {
      throw new Error(`${CONTAINER_ENV.fullUri} is not a URL: ${full}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new Error(`${CONTAINER_ENV.fullUri} must be an http(s) URL, not ${url.protocol}`);
    if (url.protocol === "http:" && !PLAIN_HTTP_HOSTS.has(url.hostname) && !isLoopbackV4(url.hostname))
      throw new Error(
        `${CONTAINER_ENV.fullUri} (${url.origin}) must use https unless it names a loopback address or the ECS/EKS credentials agent`,
      );
    endpoint = { url: url.href, variable: CONTAINER_ENV.fullUri };
  } else return undefined;
  // The file wins over the literal token, as in the AWS SDKs.
  const file = env[CONTAINER_ENV.tokenFile];
  const token = env[CONTAINER_ENV.token];
  if (file) endpoint.token = { file };
  else if (token) endpoint.token = { value: token };
  return endpoint;
}

/** Tuning and seams (a clock, fetch, a file reader) for ContainerCredentials. */
export interface ContainerCredentialsOptions {
  now?: () => number;
  fetch?: typeof fetch;
  readFile?: (path: string) => Promise<string>;
  /** Credentials are refreshed (in the background) this long before they expire. Default 5 minutes. */
  refreshBeforeMs?: number;
  /** Credentials are no longer used this close to their expiry: a call waits for fresh ones. Default 1 minute. */
  minValidityMs?: number;
  /** Time limit of one fetch. Default 5 s. */
  timeoutMs?: number;
  /** After a failed background refresh, the next is not tried before this. Default 10 s. */
  retryAfterMs?: number;
  /** Lifetime assumed for credentials without an Expiration. Default 15 minutes. */
  defaultLifetimeMs?: number;
}

interface Held {
  credentials: AwsCredentials;
  expiresAt: number;
}

/** Credentials from the container credentials endpoint, cached and refreshed ahead of their expiry. */
export class ContainerCredentials implements CredentialSource {
  private held?: Held;
  private pending?: Promise<Held>;
  private notBefore = 0;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly readFile: (path: string) => Promise<string>;
  private readonly refreshBeforeMs: number;
  private readonly minValidityMs: number;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private readonly defaultLifetimeMs: number;

  constructor(
    readonly endpoint: ContainerEndpoint,
    options: ContainerCredentialsOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.readFile = options.readFile ?? ((path) => readFile(path, "utf8"));
    this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.minValidityMs = options.minValidityMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.retryAfterMs = options.retryAfterMs ?? 10_000;
    this.defaultLifetimeMs = options.defaultLifetimeMs ?? 15 * 60_000;
  }

  get(): Promise<AwsCredentials> {
    const now = this.now();
    const held = this.held;
    if (held && now < held.expiresAt - this.minValidityMs) {
      // Still good: refresh in the background once expiry approaches, without making this call wait.
      if (now >= held.expiresAt - this.refreshBeforeMs && !this.pending && now >= this.notBefore)
        void this.refresh().catch(() => undefined);
      return Promise.resolve(held.credentials);
    }
    // None yet, or too close to expiry to sign with: wait for fresh ones (one fetch shared by all waiting calls).
    return this.refresh().then((fresh) => fresh.credentials);
  }

  /** Starts fetching now (e.g. at startup), so the first call finds credentials; failures are left for that call to see. */
  prefetch(): void {
    if (!this.held && !this.pending) void this.refresh().catch(() => undefined);
  }

  private refresh(): Promise<Held> {
    if (!this.pending) {
      this.pending = this.load().then(
        (held) => {
          this.held = held;
          this.pending = undefined;
          return held;
        },
        (error: unknown) => {
          this.notBefore = this.now() + this.retryAfterMs;
          this.pending = undefined;
          throw error;
        },
      );
    }
    return this.pending;
  }

  private async load(): Promise<Held> {
    const { url, variable, token } = this.endpoint;
    const where = `AWS container credentials from ${url} (${variable})`;
    const headers: Record<string, string> = { accept: "application/json" };
    let secret: string | undefined;
    if (token && "file" in token) {
      try {
        secret = (await this.readFile(token.file)).trim();
      } catch (error) {
        throw new Error(`could not read the token for ${where}: ${CONTAINER_ENV.tokenFile} (${token.file}): ${(error as Error).message}`);
      }
    } else if (token) secret = token.value.trim();
    if (secret !== undefined) {
      if (/[\r\n]/.test(secret)) throw new Error(`the authorization token for ${where} contains a line break`);
      headers.authorization = secret;
    }
    const redact = (text: string) => (secret ? text.split(secret).join("<token>") : text);

    let response: Response;
    try {
      response = await this.fetch(url, { method: "GET", headers, redirect: "error", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = error as Error & { cause?: { code?: string; message?: string } };
      const reason =
        cause.name === "TimeoutError"
          ? `no answer within ${this.timeoutMs} ms`
          : (cause.cause?.code ?? cause.cause?.message ?? cause.message);
      throw new Error(`could not fetch ${where}: ${redact(String(reason))}`);
    }
    const text = await response.text().catch(() => "");
    if (!response.ok) {
      const detail = text.trim() ? `: ${redact(text.trim().slice(0, 200))}` : "";
      throw new Error(`could not fetch ${where}: the endpoint answered ${response.status}${detail}`);
    }
    let body: { AccessKeyId?: unknown; SecretAccessKey?: unknown; Token?: unknown; Expiration?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`could not fetch ${where}: the answer is not JSON`);
    }
    if (typeof body?.AccessKeyId !== "string" || typeof body.SecretAccessKey !== "string" || !body.AccessKeyId || !body.SecretAccessKey)
      throw new Error(`could not fetch ${where}: the answer has no AccessKeyId and SecretAccessKey`);
    let expiresAt = this.now() + this.defaultLifetimeMs;
    if (body.Expiration !== undefined) {
      const parsed = typeof body.Expiration === "string" ? Date.parse(body.Expiration) : NaN;
      if (Number.isNaN(parsed)) throw new Error(`could not fetch ${where}: its Expiration is not an ISO time`);
      expiresAt = parsed;
    }
    return {
      credentials: {
        accessKeyId: body.AccessKeyId,
        secretAccessKey: body.SecretAccessKey,
        sessionToken: typeof body.Token === "string" && body.Token ? body.Token : undefined,
      },
      expiresAt,
    };
  }
}

/** One ContainerCredentials per endpoint configuration, shared by every signed endpoint (and every route table). */
const shared = new Map<string, ContainerCredentials>();

/**
 * The credentials the environment provides, static keys first, then the
 * container credentials endpoint; undefined when neither is configured.
 */
export function credentialSourceFromEnv(env: NodeJS.ProcessEnv = process.env): CredentialSource | undefined {
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return new StaticCredentials(fromEnv);
  const endpoint = containerEndpointFromEnv(env);
  if (!endpoint) return undefined;
  const key = JSON.stringify(endpoint);
  let source = shared.get(key);
  if (!source) shared.set(key, (source = new ContainerCredentials(endpoint)));
  source.prefetch();
  return source;
}
