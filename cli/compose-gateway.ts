/**
 * Composes a gateway from its settings and the environment: the API keys
 * (the settings' and CLOUDLOOM_API_KEYS), the Redis client when the settings
 * name one, the metrics on a registry, and the logger. The gateway is handed
 * all of them; what is opened here is closed here.
 */
import { once } from "node:events";
import Redis from "ioredis";
import pino, { type Logger } from "pino";
import type { Registry } from "prom-client";
import { Gateway, GatewayMetrics, type GatewayOptions, type GatewaySettings } from "../gateway";
import { authFor, metricsRegistry, RUNTIME_ENV } from "../runtime";

/** What composeGateway needs besides the gateway's own configuration. */
export interface ComposeGatewayOptions extends Omit<GatewayOptions, "apiKeys" | "redis" | "metrics" | "logger" | "backendAuth"> {
  /** Where CLOUDLOOM_API_KEYS and LOG_LEVEL are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The registry to record into (the local target shares its runtime's). @default a new one */
  registry?: Registry;
  /** The gateway's logger. @default pino at LOG_LEVEL, else info */
  logger?: Logger;
}

/** A gateway and what was opened for it. */
export interface ComposedGateway {
  readonly gateway: Gateway;
  /** Resolves once the Redis client (if any) is connected, so limits and the L2 are shared from the first request. */
  connected(): Promise<void>;
  /** Closes the gateway, then disconnects its Redis client. */
  close(): Promise<void>;
}

/** The settings' API keys and those of CLOUDLOOM_API_KEYS (comma- or newline-separated). */
function apiKeysFrom(settings: GatewaySettings, env: NodeJS.ProcessEnv): string[] {
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

/** Builds a gateway with everything it is handed. */
export function composeGateway({ env = process.env, registry, logger, ...options }: ComposeGatewayOptions): ComposedGateway {
  const log = logger ?? pino({ level: env.LOG_LEVEL ?? "info" });
  const redis = redisClient(options.settings, log);
  let gateway: Gateway;
  try {
    gateway = new Gateway({
      ...options,
      apiKeys: apiKeysFrom(options.settings, env),
      backendAuth: (endpoint) => authFor(endpoint, env),
      redis,
      metrics: new GatewayMetrics(registry ?? metricsRegistry()),
      logger: log,
    });
  } catch (error) {
    // A configuration the gateway refuses must not leave a client reconnecting behind it.
    redis?.disconnect();
    throw error;
  }
  return {
    gateway,
    connected: () => (redis && redis.status !== "ready" ? once(redis, "ready").then(() => undefined) : Promise.resolve()),
    async close() {
      await gateway.close();
      redis?.disconnect();
    },
  };
}
