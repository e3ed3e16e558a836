/** Prometheus metrics of one gateway, on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The gateway's metric families. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "cloudloom_requests_total",
    help: "Requests by route, region, version and status.",
    labelNames: ["route", "region", "version", "status"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "cloudloom_request_duration_seconds",
    help: "Request latency by route and region.",
    labelNames: ["route", "region"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly coldStarts = new Histogram({
    name: "cloudloom_cold_start_seconds",
    help: "Cold start duration by entry and region.",
    labelNames: ["entry", "region"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly prewarms = new Counter({
    name: "cloudloom_prewarms_total",
    help: "Instances the keep-alive policy loaded ahead of a predicted call, by entry and region.",
    labelNames: ["entry", "region"] as const,
    registers: [this.registry],
  });
  readonly warmIdleSeconds = new Counter({
    name: "cloudloom_warm_idle_seconds_total",
    help: "Seconds instances stayed loaded without serving (wasted warm time), by entry and region.",
    labelNames: ["entry", "region"] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "cloudloom_model_batch_size",
    help: "Samples per model batch.",
    labelNames: ["model"] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  readonly limiter = new Counter({
    name: "cloudloom_rate_limit_decisions_total",
    help: "Rate limiter decisions by route (allowed, limited, store-failed-open|closed|local).",
    labelNames: ["route", "decision"] as const,
    registers: [this.registry],
  });
  readonly cache = new Counter({
    name: "cloudloom_cache_total",
    help: "Cache results by route (HIT, MISS, BYPASS).",
    labelNames: ["route", "result"] as const,
    registers: [this.registry],
  });
  readonly breaker = new Gauge({
    name: "cloudloom_breaker_state",
    help: "Circuit breaker state by route and region: 0 closed, 1 half-open, 2 open.",
    labelNames: ["route", "region"] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: "cloudloom_upstream_errors_total",
    help: "Upstream failures by route, region and kind.",
    labelNames: ["route", "region", "kind"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "cloudloom_" });
  }
}
