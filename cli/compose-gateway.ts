/**
 * Composes a gateway from its settings and the environment: the API keys
 * (the settings' and CLOUDLOOM_API_KEYS), the admin key (the settings', else
 * CLOUDLOOM_ADMIN_KEY), the Redis client when the settings
 * name one, the tracer when the settings or the OTEL_* variables name an
 * OTLP endpoint, the metrics on a registry, and the logger. The gateway is
 * handed all of them; what is opened here is closed here.
 */
import type { Tracer } from "@opentelemetry/api";
import Redis from "ioredis";
import pino, { type Logger } from "pino";
import type { Registry } from "prom-client";
import { Gateway, GatewayConfigError, GatewayMetrics, type GatewayOptions, type GatewaySettings } from "../gateway";
import { authFor, metricsRegistry, RUNTIME_ENV, startTracing, traceExportFrom, TracingConfigError, type Tracing } from "../runtime";

/**
 * The CLI's logger at LOG_LEVEL (else info): human-readable lines (pino-pretty,
 * synchronous, colored) when stdout is a terminal, JSON lines otherwise, so
 * log shippers get JSON and people get something they can read.
 * LOG_FORMAT=json or LOG_FORMAT=pretty overrides the choice.
 */
export function cliLogger(
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean } = process.stdout,
  destination?: NodeJS.WritableStream,
): Logger {
  const level = env.LOG_LEVEL ?? "info";
  const pretty = env.LOG_FORMAT === "pretty" || (env.LOG_FORMAT !== "json" && Boolean(stdout.isTTY));
  if (!pretty) return destination ? pino({ level }, destination) : pino({ level });
  // Loaded only for a terminal: a container's JSON logger never pays for it.
  const { build } = require("pino-pretty") as typeof import("pino-pretty");
  return pino(
    { level },
    build({
      sync: true,
      colorize: Boolean(stdout.isTTY) && !destination,
      translateTime: "SYS:HH:MM:ss.l",
      ...(destination ? { destination } : {}),
    }),
  );
}

/** Thrown when the environment lacks a credential a backend needs: the CLI prints its one line and exits 2. */
export class MissingCredentialError extends Error {
  readonly code = "CL_MISSING_CREDENTIAL";
}

/** What composeGateway needs besides the gateway's own configuration. */
export interface ComposeGatewayOptions extends Omit<GatewayOptions, "apiKeys" | "redis" | "metrics" | "logger" | "backendAuth"> {
  /** Where CLOUDLOOM_API_KEYS and LOG_LEVEL are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The registry to record into (the local target shares its runtime's). @default a new one */
  registry?: Registry;
  /** The gateway's logger. @default pino at LOG_LEVEL, else info */
  logger?: Logger;
  /** A tracer to use (and leave open) instead of the one the settings and the environment describe. */
  tracer?: Tracer;
}

/** A gateway and what was opened for it. */
export interface ComposedGateway {
  readonly gateway: Gateway;
  /** Resolves once the Redis client (if any) is ready, through any reconnects on the way, so limits and the L2 are shared from the first request. */
  connected(): Promise<void>;
  /** Closes the gateway, then disconnects its Redis client. */
  close(): Promise<void>;
}

/** The settings' API keys and those of CLOUDLOOM_API_KEYS (comma- or newline-separated). */
export function apiKeysFrom(settings: GatewaySettings, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env[RUNTIME_ENV.apiKeys] ?? "")
    .split(/[,\n]/)
    .map((key) => key.trim())
    .filter(Boolean);
  return [...settings.apiKeys, ...fromEnv];
}

/**
 * A client of the settings' Redis, if any. It fails fast while Redis is down
 * (no offline queue), and bounds every command by `commandTimeoutMs` for a
 * Redis that is connected but does not answer, so limits and the L2 fall back
 * within that bound instead of waiting for it.
 */
function redisClient(settings: GatewaySettings, logger: Logger): Redis | undefined {
  if (!settings.redis) return undefined;
  const redis = new Redis(settings.redis.url, {
    commandTimeout: settings.redis.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Outages are handled per route (onStoreFailure) and counted; the client's own errors are noise.
  redis.on("error", (error) => logger.debug({ err: error.message }, "redis"));
  return redis;
}

/**
 * The settings with `field` from `variable` when they set none (a deployed
 * gateway gets it from a Secret, like its API keys), held to the settings' own
 * rule: one shorter than 16 characters is refused, naming the variable, never
 * its value.
 */
function withSecretFrom(
  settings: GatewaySettings,
  env: NodeJS.ProcessEnv,
  field: "adminKey" | "demandToken" | "metricsToken",
  variable: string,
): GatewaySettings {
  const key = env[variable]?.trim();
  if (settings[field] || !key) return settings;
  if (key.length < 16) throw new GatewayConfigError("the environment", [{ path: variable, message: "must be at least 16 characters" }]);
  return { ...settings, [field]: key };
}

/** The settings with the admin key of CLOUDLOOM_ADMIN_KEY when they set none (see withSecretFrom). */
export function withAdminKeyFrom(settings: GatewaySettings, env: NodeJS.ProcessEnv): GatewaySettings {
  return withSecretFrom(settings, env, "adminKey", RUNTIME_ENV.adminKey);
}

/** The settings with the demand reports' token of CLOUDLOOM_DEMAND_TOKEN when they set none (see withSecretFrom). */
export function withDemandTokenFrom(settings: GatewaySettings, env: NodeJS.ProcessEnv): GatewaySettings {
  return withSecretFrom(settings, env, "demandToken", RUNTIME_ENV.demandToken);
}

/** The settings with the metrics' token of CLOUDLOOM_METRICS_TOKEN when they set none (see withSecretFrom). */
export function withMetricsTokenFrom(settings: GatewaySettings, env: NodeJS.ProcessEnv): GatewaySettings {
  return withSecretFrom(settings, env, "metricsToken", RUNTIME_ENV.metricsToken);
}

/**
 * The gateway's tracing, as its `tracing` settings say over the OTEL_* variables: undefined when
 * neither names an endpoint. Its clients' trace contexts never decide sampling (see samplerFor).
 */
export function gatewayTracing(settings: GatewaySettings, env: NodeJS.ProcessEnv, app: string, logger: Logger): Tracing | undefined {
  let exported;
  try {
    exported = traceExportFrom(env, "cloudloom-gateway", settings.tracing);
  } catch (error) {
    if (!(error instanceof TracingConfigError)) throw error;
    throw new GatewayConfigError("the environment", [{ path: error.variable, message: error.reason }]);
  }
  return exported && startTracing(exported, false, { attributes: { "cloudloom.app": app }, warn: (message) => logger.warn(message) });
}

/** Builds a gateway with everything it is handed. */
export function composeGateway({ env = process.env, registry, logger, tracer, ...options }: ComposeGatewayOptions): ComposedGateway {
  const log = logger ?? cliLogger(env);
  const settings = withMetricsTokenFrom(withDemandTokenFrom(withAdminKeyFrom(options.settings, env), env), env);
  const tracing = tracer ? undefined : gatewayTracing(settings, env, options.spec.app, log);
  const redis = redisClient(settings, log);
  let gateway: Gateway;
  try {
    gateway = new Gateway({
      ...options,
      tracer: tracer ?? tracing?.tracer,
      settings,
      apiKeys: apiKeysFrom(options.settings, env),
      backendAuth: (endpoint) => {
        try {
          return authFor(endpoint, env);
        } catch (error) {
          throw new MissingCredentialError((error as Error).message);
        }
      },
      redis,
      metrics: new GatewayMetrics(registry ?? metricsRegistry()),
      logger: log,
    });
  } catch (error) {
    // A configuration the gateway refuses must not leave a client reconnecting behind it, nor an exporter.
    redis?.disconnect();
    void tracing?.shutdown();
    throw error;
  }
  return {
    gateway,
    // Not `once(redis, "ready")`, which rejects on the first 'error': a ready check slower than the command timeout on a
    // busy machine is such an error, after which the client reconnects and becomes ready.
    connected: () =>
      redis && redis.status !== "ready" ? new Promise<void>((resolve) => void redis.once("ready", () => resolve())) : Promise.resolve(),
    async close() {
      await gateway.close();
      redis?.disconnect();
      await tracing?.shutdown();
    },
  };
}
