/**
 * Gateway configuration: the spec's routes plus how to reach each backend,
 * and the operational settings. Validated once at startup (and on reload),
 * with errors that name the field and say how to fix it.
 */
import { z } from "zod";
import { isIP } from "node:net";
import { asyncEntries, EndpointsSchema, type EndpointsMap, type SpecV1 } from "../sdk/spec";
import { HEALTH_PATHS } from "../runtime/contract";
import { DEFAULT_CACHE_BYTES } from "./response-cache";

/** True for `address/prefix` with a prefix that fits the address family. */
function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  const family = isIP(address);
  const bits = Number(prefix);
  return rest.length === 0 && family !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}
/** True for an IP address, or an address range as isCidr takes it. */
const isAddressOrCidr = (value: string) => (value.includes("/") ? isCidr(value) : isIP(value) !== 0);

/** Operational settings, all with safe defaults. */
export const GatewaySettingsSchema = z
  .object({
    /** API keys accepted on `auth: api-key` routes (also read from CLOUDLOOM_API_KEYS, comma-separated). */
    apiKeys: z.array(z.string().min(16, "API keys must be at least 16 characters")).default([]),
    /**
     * Addresses and ranges of the proxies in front of the gateway. X-Forwarded-For
     * is read only when the connecting peer is one of them, and only as far left
     * as the hops it names are too (express's `trust proxy` with a list).
     */
    trustedProxies: z
      .array(z.string().refine(isAddressOrCidr, "must be an IP address such as 10.0.0.7 or a range such as 10.0.0.0/8"))
      .default([]),
    /** At most this many trusted proxies are skipped from the right of X-Forwarded-For (0 ignores the header); unset, as many as are trusted. */
    trustProxyHops: z.number().int().min(0).max(10).optional(),
    locality: z
      .object({
        /** Trusted header the edge sets with the client's locality. */
        header: z.string().min(1).default("x-cloudloom-locality"),
        /** Client address ranges and the locality they map to. */
        cidrs: z
          .array(
            z
              .object({
                cidr: z.string().refine(isCidr, "must be an address range such as 203.0.113.0/24 or 2001:db8::/32"),
                locality: z.string().min(1),
              })
              .strict(),
          )
          .default([]),
        /**
         * A GeoIP database file the user provides (MaxMind DB format, e.g. GeoLite2-Country.mmdb), read once at
         * start and never fetched: a client no prefix matches gets the value of `field` in its record, lower-cased.
         */
        geoip: z
          .object({
            database: z.string().min(1),
            /** Dotted path of the record's field that names the locality. */
            field: z
              .string()
              .regex(/^[A-Za-z_]+(\.[A-Za-z_]+)*$/, 'must be a dotted field path such as "country.iso_code"')
              .default("country.iso_code"),
          })
          .strict()
          .optional(),
        /**
         * The locality of a request that names none: a gateway deployed in an edge region sets its own
         * region's, so its clients are served from that region's backends first, failing over to central.
         */
        home: z.string().min(1).optional(),
        /** Query parameter a client may use to hint its region. */
        hintQuery: z.string().min(1).default("region"),
      })
      .strict()
      .default({}),
    /** Shared store for rate limits and the L2 cache. Without it, both are per instance. */
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL"),
        /**
         * Bound on every Redis command. A Redis that stops answering (a stalled
         * host keeps its connections open) fails each command after this long,
         * so the route's onStoreFailure applies instead of requests piling up.
         */
        commandTimeoutMs: z.number().int().min(1).max(10_000).default(50),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        bodyBytes: z.number().int().positive().default(1_048_576),
        maxUrlLength: z.number().int().positive().default(2_048),
        perKeyConcurrency: z.number().int().positive().default(64),
        headersTimeoutMs: z.number().int().positive().default(10_000),
        requestTimeoutMs: z.number().int().positive().default(30_000),
        upstreamTimeoutMs: z.number().int().positive().default(15_000),
        /**
         * Wrong API keys (or admin keys) a client address may present per window. Beyond it the
         * address gets 429 for the rest of the window, even with a valid key, so a right guess
         * reveals nothing. Counted in Redis when configured, so the limit holds across instances.
         */
        authFailures: z
          .object({
            perAddress: z.number().int().positive().default(10),
            windowSeconds: z.number().int().positive().max(86_400).default(60),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    health: z
      .object({
        probeIntervalMs: z.number().int().positive().default(2_000),
        probePath: z.string().startsWith("/").default(HEALTH_PATHS.live),
        /**
         * While requests are held for a target that is starting, its backends are probed (a local one:
         * an instance started) this often, so held requests go on soon after it is ready.
         */
        holdProbeIntervalMs: z.number().int().positive().default(250),
        /** Consecutive failures that eject a backend. */
        ejectAfter: z.number().int().positive().default(3),
        ejectForMs: z.number().int().positive().default(10_000),
        /** Below this healthy share, a priority level spills to the next one (Envoy-style). */
        spillBelow: z.number().min(0).max(1).default(0.7),
        /**
         * What counts against a backend's health and its circuit breaker. `gateway-failures` (Envoy's
         * consecutive_gateway_failure): connect errors, resets, timeouts, 502, 503 and 504, so a client
         * whose input makes a function fail (500) cannot take it down for everyone. `all-5xx` adds every 5xx.
         */
        ejectOn: z.enum(["gateway-failures", "all-5xx"]).default("gateway-failures"),
        /**
         * At most this share of a target's regions is ejected at once; past it, ejection is ignored for
         * that target (Envoy's panic routing), so the last backend stays in service.
         */
        maxEjectionPercent: z.number().min(0).max(100).default(50),
      })
      .strict()
      .default({}),
    breaker: z
      .object({ consecutiveFailures: z.number().int().positive().default(5), halfOpenAfterMs: z.number().int().positive().default(5_000) })
      .strict()
      .default({}),
    /** Share of requests that may be retries (fast failures and idempotent methods only). */
    retryBudgetPercent: z.number().min(0).max(100).default(20),
    /** Share of successful requests written to the access log; errors are always logged. */
    logSampleRate: z.number().min(0).max(1).default(0.01),
    cache: z
      .object({
        /** Responses the L1 keeps at most. */
        maxEntries: z.number().int().positive().default(10_000),
        /** Bytes the L1 keeps at most (keys, headers and bodies); one response may take an eighth of it. */
        maxBytes: z.number().int().positive().default(DEFAULT_CACHE_BYTES),
      })
      .strict()
      .default({}),
    /** Key for POST /admin/reload and the rollout endpoints (also read from CLOUDLOOM_ADMIN_KEY). Without it, reload is SIGHUP only. */
    adminKey: z.string().min(16).optional(),
    /**
     * Token function pods' reports of their calls to models carry (PUT /_cloudloom/demand; also read from
     * CLOUDLOOM_DEMAND_TOKEN). Without it every report is refused.
     */
    demandToken: z.string().min(16).optional(),
    /**
     * Token `/metrics` and `/metrics/demand` require as `Authorization: Bearer <token>` (also read from
     * CLOUDLOOM_METRICS_TOKEN); the admin key is accepted too. Without it they are open on the local
     * target only: a gateway in front of remote endpoints then takes the admin key alone.
     */
    metricsToken: z.string().min(16).optional(),
    /**
     * OpenTelemetry tracing (docs/tracing.md): spans of every request, exported over OTLP/HTTP. Each field
     * left out is read from the standard OTEL_* variables; with no endpoint from either, tracing is off.
     */
    tracing: z
      .object({
        /** Where spans are posted, e.g. `http://otel-collector:4318/v1/traces` (else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT). */
        endpoint: z
          .string()
          .url("must be an http(s) URL such as http://otel-collector:4318/v1/traces")
          .regex(/^https?:\/\//i, "must be an http(s) URL such as http://otel-collector:4318/v1/traces")
          .optional(),
        /**
         * Share of requests traced, chosen by trace id (else OTEL_TRACES_SAMPLER_ARG, else 1). A client's
         * traceparent never decides it: the gateway samples its traces itself, and backends follow.
         */
        sampleRatio: z.number().min(0).max(1).optional(),
        /** The `service.name` of the gateway's spans (else OTEL_SERVICE_NAME, else `cloudloom-gateway`). */
        serviceName: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    rollouts: z
      .object({
        /** How often each instance adds its counts to the store, reads every rollout's state, and (the leader) judges the step. */
        syncIntervalMs: z.number().int().min(10).max(60_000).default(1_000),
        /** How long the judge's lease lasts without being extended: when its instance dies, another judges after at most this long. */
        leaseMs: z.number().int().min(100).max(600_000).default(10_000),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((settings, context) => {
    // The leader extends its lease once per sync: a lease shorter than a few syncs would pass between instances at every hiccup.
    if (settings.rollouts.leaseMs < 3 * settings.rollouts.syncIntervalMs)
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["rollouts", "leaseMs"],
        message: `must be at least 3 × rollouts.syncIntervalMs (${3 * settings.rollouts.syncIntervalMs}), so the judge keeps its lease between syncs`,
      });
    // Hops alone trusted X-Forwarded-For from any peer, so a client reaching the gateway directly could name itself.
    if (settings.trustProxyHops && settings.trustedProxies.length === 0)
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["trustProxyHops"],
        message:
          'trusts X-Forwarded-For only from known proxies now: list their addresses or ranges in trustedProxies (e.g. ["10.0.0.0/8"]), and keep trustProxyHops only to cap how many of them a request may pass',
      });
  });

/** Validated settings. */
export type GatewaySettings = z.infer<typeof GatewaySettingsSchema>;

/** A configuration error, naming the field and the fix. */
export class GatewayConfigError extends Error {
  readonly code = "CL_GATEWAY_CONFIG";
  constructor(
    readonly source: string,
    readonly problems: Array<{ path: string; message: string }>,
  ) {
    super(`${source} is not a valid gateway configuration:\n${problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`).join("\n")}`);
    this.name = "GatewayConfigError";
  }
}

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, source: string): T {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new GatewayConfigError(
      source,
      result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  return result.data;
}

/** Validates settings; defaults fill what is absent. */
export function parseSettings(value: unknown, source = "gateway settings"): GatewaySettings {
  return parse(GatewaySettingsSchema, value ?? {}, source);
}

/** Validates an endpoints map, and that it covers every function and model version the routes reach. */
export function parseEndpoints(value: unknown, spec: SpecV1, source = "endpoints file"): EndpointsMap {
  const endpoints = parse(EndpointsSchema, value, source);
  const missing: Array<{ path: string; message: string }> = [];
  for (const route of Object.values(spec.routes)) {
    const keys =
      route.target.kind === "function"
        ? [["functions", route.target.name]]
        : Object.keys(route.target.weights).map((v) => ["models", `${route.target.name}@${v}`]);
    for (const [section, key] of keys) {
      if (!endpoints[section as "functions" | "models"][key])
        missing.push({
          path: `${section}.${key}`,
          message: `no endpoint; add its URL per region (cloudloom gateway config writes this from stack outputs)`,
        });
    }
  }
  for (const key of asyncEntries(spec).keys())
    if (!endpoints.queues?.[key])
      missing.push({
        path: `queues.${key}`,
        message: "no queue for this asynchronous entry; add where its queue is (cloudloom gateway config writes this from stack outputs)",
      });
  for (const route of Object.keys(endpoints.canaries ?? {}))
    if (spec.routes[route]?.target.kind !== "model")
      missing.push({
        path: `canaries.${route}`,
        message: "not a model route of the spec; a backend split belongs to a route that splits a model's versions",
      });
  if (missing.length > 0) throw new GatewayConfigError(source, missing);
  return endpoints;
}
